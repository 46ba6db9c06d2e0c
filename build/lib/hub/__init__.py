"""Infrastructure of DTE Hub: settings, state, the `dte` command and the hub's wiring.

It starts and wires processes; it imports none of dte_twins, dte_widgets or catalogs.
"""
