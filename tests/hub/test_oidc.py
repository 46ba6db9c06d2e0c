"""OIDC settings wire GenericOAuthenticator, and refuse to start half-configured."""

import pytest
from traitlets.config import Config

from hub.oidc import configure_oidc
from hub.settings import AuthSettings, SettingsError

EGI = dict(
    kind="oidc",
    oidc_authorize_url="https://aai.egi.eu/auth/realms/egi/protocol/openid-connect/auth",
    oidc_token_url="https://aai.egi.eu/auth/realms/egi/protocol/openid-connect/token",
    oidc_userdata_url="https://aai.egi.eu/auth/realms/egi/protocol/openid-connect/userinfo",
    oidc_client_id="dte-hub",
)


def test_oidc_settings_configure_generic_oauthenticator():
    c = Config()
    configure_oidc(
        c, AuthSettings(**EGI, oidc_groups_claim="groups"), {"DTE_OIDC_CLIENT_SECRET": "s3"}
    )
    assert c.JupyterHub.authenticator_class == "generic-oauth"
    assert c.GenericOAuthenticator.client_secret == "s3"
    assert c.GenericOAuthenticator.manage_groups is True
    assert c.GenericOAuthenticator.allowed_groups == {"dt-developers", "dt-users"}


def test_missing_endpoint_is_named():
    with pytest.raises(SettingsError, match="auth.oidc_token_url"):
        configure_oidc(
            Config(), AuthSettings(**{**EGI, "oidc_token_url": ""}), {"DTE_OIDC_CLIENT_SECRET": "x"}
        )


def test_the_client_secret_comes_from_the_environment_only():
    with pytest.raises(SettingsError, match="DTE_OIDC_CLIENT_SECRET"):
        configure_oidc(Config(), AuthSettings(**EGI), {})
