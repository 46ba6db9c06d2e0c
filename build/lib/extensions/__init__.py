"""Core module of DTE Hub: Jupyter server extensions (catalog and publishing API; issue 7)."""
