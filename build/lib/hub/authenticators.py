"""Authenticators of DTE Hub.

``PlatformNativeAuthenticator`` is NativeAuthenticator (hashed passwords, sign-up, approval by an
admin) with two things a platform needs:

- the bootstrap admin account exists, approved, with the generated password from the state
  folder, *before* the hub accepts a request: otherwise anyone could sign up first under the
  admin's name, and NativeAuthenticator pre-approves sign-ups for admin names;
- a locked account is told so on the login form (HTTP 429, with the time to wait), instead
  of the same "invalid username or password" that a typo gets.
"""

from __future__ import annotations

import bcrypt
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import LoginHandler as NativeLoginHandler
from nativeauthenticator.orm import UserInfo
from traitlets import Unicode

__all__ = ["PlatformNativeAuthenticator", "USERNAME_PATTERN"]

# Valid as a hub name, a path component and a Unix account name (system-users mode).
USERNAME_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"


class PlatformNativeAuthenticator(NativeAuthenticator):
    """NativeAuthenticator with a safe bootstrap admin and a clear lockout message."""

    bootstrap_admin = Unicode("", config=True, help="Name of the bootstrap admin account.")
    bootstrap_password_file = Unicode(
        "", config=True, help="File (mode 0600) holding the bootstrap admin's password."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.bootstrap_admin and self.bootstrap_password_file:
            self._ensure_bootstrap_admin()

    def _ensure_bootstrap_admin(self) -> None:
        name = self.normalize_username(self.bootstrap_admin)
        if UserInfo.find(self.db, name) is not None:
            return
        with open(self.bootstrap_password_file) as f:
            password = f.read().strip()
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
        self.db.add(UserInfo(username=name, password=hashed, is_authorized=True))
        self.db.commit()
        self.log.info("Created the bootstrap admin account %r", name)

    def get_handlers(self, app):
        return [
            (path, LockoutAwareLoginHandler if path == r"/login" else handler)
            for path, handler in super().get_handlers(app)
        ]


class LockoutAwareLoginHandler(NativeLoginHandler):
    """The login form, saying so when an account is locked after repeated failures."""

    async def post(self):
        authenticator = self.authenticator
        username = authenticator.normalize_username(self.get_argument("username", ""))
        if authenticator.allowed_failed_logins and authenticator.is_blocked(username):
            self.set_status(429)
            message = (
                f"Too many failed logins for {username}: the account is locked for "
                f"{authenticator.seconds_before_next_try} seconds. Wait, or ask an admin "
                "to reset the password."
            )
            self.finish(await self._render(login_error=message, username=username))
            return
        await super().post()
