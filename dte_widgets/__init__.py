"""Core module of DTE Hub: ipywidgets for twin notebooks and dashboards (issue 5)."""
