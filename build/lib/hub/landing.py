"""Where a person lands after logging in, by what they may do on the platform."""

from jupyterhub.utils import url_path_join

from hub.wiring import DASHBOARDS_PREFIX

__all__ = ["landing_page", "DEVELOPERS_GROUP", "USERS_GROUP"]

DEVELOPERS_GROUP = "dt-developers"
USERS_GROUP = "dt-users"


def landing_page(handler) -> str:
    """DT developers go to their JupyterLab (started if needed); DT users to the gallery of twin
    applications (the ``dashboards`` service), since they may not start a server of their own."""
    user = handler.current_user
    base = handler.hub.base_url
    if user is None:
        # No `next`: once logged in, this function is asked again and knows who it is.
        return url_path_join(base, "login")
    if user.admin or any(g.name == DEVELOPERS_GROUP for g in user.groups):
        return url_path_join(base, "spawn")
    return url_path_join(handler.base_url, DASHBOARDS_PREFIX.lstrip("/")) + "/"
