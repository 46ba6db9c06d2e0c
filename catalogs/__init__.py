"""Core module of DTE Hub: the Intake catalog, data builders and live feeds (issue 4)."""
