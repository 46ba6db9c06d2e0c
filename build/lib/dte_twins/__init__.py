"""Thematic modules of DTE Hub: the Twin base and the environment and physics twins (issue 3)."""
