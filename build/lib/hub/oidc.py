"""OpenID Connect login (for example EGI Check-in) with oauthenticator's GenericOAuthenticator.

Selected with ``[auth] kind = "oidc"``. The client secret is never a setting: it is read from the
environment variable ``DTE_OIDC_CLIENT_SECRET`` so it stays out of files and the repository.
"""

from __future__ import annotations

import os

from hub.landing import DEVELOPERS_GROUP, USERS_GROUP
from hub.settings import AuthSettings, SettingsError

__all__ = ["configure_oidc"]

_REQUIRED = ("oidc_authorize_url", "oidc_token_url", "oidc_userdata_url", "oidc_client_id")


def configure_oidc(c, auth: AuthSettings, environ=None) -> None:
    """Wire GenericOAuthenticator into the JupyterHub config ``c`` from the [auth] settings."""
    environ = os.environ if environ is None else environ
    missing = [key for key in _REQUIRED if not getattr(auth, key)]
    if missing:
        raise SettingsError(
            f"auth.kind = 'oidc' needs {', '.join('auth.' + k for k in missing)}: "
            "set them in the settings file."
        )
    secret = environ.get("DTE_OIDC_CLIENT_SECRET", "")
    if not secret:
        raise SettingsError(
            "auth.kind = 'oidc' needs the environment variable DTE_OIDC_CLIENT_SECRET."
        )
    c.JupyterHub.authenticator_class = "generic-oauth"
    c.GenericOAuthenticator.authorize_url = auth.oidc_authorize_url
    c.GenericOAuthenticator.token_url = auth.oidc_token_url
    c.GenericOAuthenticator.userdata_url = auth.oidc_userdata_url
    c.GenericOAuthenticator.client_id = auth.oidc_client_id
    c.GenericOAuthenticator.client_secret = secret
    c.GenericOAuthenticator.scope = list(auth.oidc_scope)
    c.GenericOAuthenticator.username_claim = auth.oidc_username_claim
    c.GenericOAuthenticator.enable_auth_state = True
    if auth.oidc_groups_claim:
        # The identity provider decides who is a DT developer or a DT user.
        c.GenericOAuthenticator.manage_groups = True
        c.GenericOAuthenticator.auth_state_groups_key = f"oauth_user.{auth.oidc_groups_claim}"
        c.GenericOAuthenticator.allowed_groups = {DEVELOPERS_GROUP, USERS_GROUP}
    else:
        # Anyone the provider authenticates may log in; groups are managed in the hub.
        c.GenericOAuthenticator.allow_all = True
