"""Benchmarks of DTE Hub; each prints one JSON document (see the README)."""
