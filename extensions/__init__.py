"""Core module of DTE Hub: what it adds to Jupyter servers and Voila.

- ``dte_server``: the Jupyter server extension (the catalog's REST API, publishing dashboards);
- ``jupyter_server_config.d``: its switch (jupyter_server reads only switches there);
- ``jupyter_server_config.json``: the offline settings of JupyterLab, the DTE kernel by default;
- ``lab_settings``: JupyterLab settings (a notebook without a kernel starts the default one);
- ``voila``: Voila's ``dte`` template (nothing from a CDN) and settings.
"""
