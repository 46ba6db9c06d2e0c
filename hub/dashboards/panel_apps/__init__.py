"""Apps of the dashboards service's ``panel serve``: a file per app, its name in the URL."""
