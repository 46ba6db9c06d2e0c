"""Core module of DTE Hub: what it adds to Jupyter servers and Voila.

- ``dte_server``: the Jupyter server extension (the catalog's REST API, publishing dashboards);
- ``jupyter_server_config.d``: its switch and the offline settings of JupyterLab;
- ``voila``: Voila's ``dte`` template (nothing from a CDN) and settings.
"""
