"""Fixtures that start the real platform once per test module and create people on it."""

import itertools

import pytest

from tests.hub.platform import HubUser, running_platform, shared_temp_folder

_names = itertools.count(1)


@pytest.fixture(scope="module")
def platform_root():
    with shared_temp_folder() as folder:
        yield folder


@pytest.fixture
def root():
    """A fresh folder for a test that starts its own platform."""
    with shared_temp_folder() as folder:
        yield folder


@pytest.fixture(scope="module")
def platform(platform_root):
    with running_platform(platform_root / "state", settings=FAST_LOCKOUT) as running:
        yield running


# Small lockout numbers so the lockout test runs in seconds.
FAST_LOCKOUT = {"auth": {"allowed_failed_logins": 3, "seconds_before_next_try": 5}}


@pytest.fixture(scope="module")
def admin(platform):
    person = HubUser(platform, "admin", platform.admin_password)
    assert person.login().status_code == 302
    person.create_token()
    return person


def new_account(platform, admin, *, developer=True, prefix="user") -> HubUser:
    """Sign up through the form, approved by the admin, optionally made a DT developer."""
    person = HubUser(platform, f"{prefix}{next(_names)}", "correct-horse-battery-9")
    assert person.signup().status_code == 200
    approval = admin.session.get(f"{platform.url}/hub/authorize/{person.name}")
    assert approval.status_code == 200, approval.text
    assert person.login().status_code == 302
    assert person.logged_in()
    if developer:
        response = admin.api(
            "POST", "/hub/api/groups/dt-developers/users", json={"users": [person.name]}
        )
        assert response.status_code == 200, response.text
    person.create_token()
    return person


@pytest.fixture
def developer(platform, admin):
    return new_account(platform, admin, developer=True, prefix="dev")
