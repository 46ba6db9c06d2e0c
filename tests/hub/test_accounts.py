"""Accounts through the real login and sign-up forms: passwords, approval, lockout, groups."""

import time

from tests.hub.conftest import FAST_LOCKOUT, new_account
from tests.hub.platform import HubUser

pytestmark = __import__("pytest").mark.slow


def test_admin_logs_in_through_the_form_and_out_again(platform):
    admin = HubUser(platform, "admin", platform.admin_password)
    answer = admin.login()
    assert answer.status_code == 302
    # A DT developer lands on their JupyterLab, started for them.
    assert answer.headers["Location"].endswith("/hub/spawn")
    assert admin.logged_in()
    admin.logout()
    assert not admin.logged_in()


def test_wrong_password_is_refused_with_a_clear_message(platform):
    intruder = HubUser(platform, "admin", "not-the-password")
    page = intruder.login()
    assert "Invalid username or password" in page.text
    assert not intruder.logged_in()


def test_unknown_user_is_refused(platform):
    nobody = HubUser(platform, "nosuchuser", "whatever-password-1")
    assert "Invalid username or password" in nobody.login().text
    assert not nobody.logged_in()


def test_sign_up_needs_approval_by_an_admin(platform, admin):
    person = HubUser(platform, "newcomer", "correct-horse-battery-9")
    assert "sent to the admin" in person.signup().text
    refused = person.login()
    assert "has not been authorized by an administrator yet" in refused.text
    assert not person.logged_in()

    assert admin.session.get(f"{platform.url}/hub/authorize/newcomer").status_code == 200
    assert person.login().status_code == 302
    assert person.logged_in()


def test_someone_else_cannot_approve_a_sign_up(platform, admin):
    user = new_account(platform, admin, developer=True)
    waiting = HubUser(platform, "waiting", "correct-horse-battery-9")
    waiting.signup()
    assert user.session.get(f"{platform.url}/hub/authorize/waiting").status_code == 403
    assert "not been authorized" in waiting.login().text


def test_weak_or_common_passwords_are_refused_at_sign_up(platform):
    short = HubUser(platform, "shorty", "abc12")
    assert "sent to the admin" not in short.signup().text
    common = HubUser(platform, "commoner", "qwertyuiop")
    assert "sent to the admin" not in common.signup().text


def test_repeated_failures_lock_the_account_for_a_while(platform, admin):
    person = new_account(platform, admin, developer=False)
    person.logout()
    guesser = HubUser(platform, person.name, "wrong-guess-123")
    for _ in range(FAST_LOCKOUT["auth"]["allowed_failed_logins"]):
        guesser.login()
    locked = HubUser(platform, person.name, person.password).login()
    assert locked.status_code == 429
    assert "locked" in locked.text
    time.sleep(FAST_LOCKOUT["auth"]["seconds_before_next_try"] + 1.5)
    assert HubUser(platform, person.name, person.password).login().status_code == 302


def test_dt_users_get_no_server_until_made_developers(platform, admin):
    person = new_account(platform, admin, developer=False)
    person.logout()
    assert person.login().headers["Location"].endswith("/services/dashboards/")
    refused = person.api("POST", f"/hub/api/users/{person.name}/server")
    assert refused.status_code == 403
    made_developer = admin.api(
        "POST", "/hub/api/groups/dt-developers/users", json={"users": [person.name]}
    )
    assert made_developer.status_code == 200
    groups = admin.api("GET", f"/hub/api/users/{person.name}").json()["groups"]
    assert groups == ["dt-developers"]
    # A token made while the user was a DT user keeps its scopes: make a new one.
    person.create_token()
    person.start_server()
    person.stop_server()
