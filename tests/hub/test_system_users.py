"""System-users mode: one Unix account per hub user, and the kernel keeps their files apart."""

import os
import pwd
import secrets
import subprocess

import pytest

from tests.hub.conftest import new_account
from tests.hub.platform import HubUser, running_platform

pytestmark = [
    pytest.mark.slow,
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="system-users mode needs root"),
]


@pytest.fixture
def system_platform(root):
    with running_platform(root / "state", settings={"hub": {"mode": "system-users"}}) as p:
        yield p


def _remove_account(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    subprocess.run(["userdel", name], check=False, capture_output=True)


def test_user_a_cannot_read_user_bs_home(system_platform):
    root_folder_owner = os.stat("/").st_uid
    admin = HubUser(system_platform, "admin", system_platform.admin_password)
    assert admin.login().status_code == 302
    admin.create_token()
    tag = secrets.token_hex(3)
    alice = new_account(system_platform, admin, prefix=f"sysa{tag}x")
    bob = new_account(system_platform, admin, prefix=f"sysb{tag}x")
    try:
        alice.start_server()
        bob.start_server()
        alice.run_code("open('secret.txt', 'w').write('only for alice')")
        home_a = system_platform.state / "home" / alice.name
        owner = pwd.getpwuid((home_a / "secret.txt").stat().st_uid).pw_name
        assert owner == alice.name
        attempt = bob.run_code(
            "import os\n"
            f"for probe in (lambda: open({str(home_a / 'secret.txt')!r}).read(),\n"
            f"              lambda: os.listdir({str(home_a)!r})):\n"
            "    try:\n"
            "        print('READ', probe())\n"
            "    except PermissionError:\n"
            "        print('DENIED')\n"
            "print(os.getuid() == os.stat(os.path.expanduser('~')).st_uid)\n"
        )
        assert attempt.split() == ["DENIED", "DENIED", "True"]
        cluster_owner = alice.run_code(
            "from dask_gateway import Gateway\n"
            "cluster = Gateway().new_cluster(workers=1)\n"
            "client = cluster.get_client()\n"
            "import getpass\n"
            "print(client.submit(getpass.getuser).result())\n"
            "cluster.shutdown()\n"
        )
        assert cluster_owner.strip() == alice.name
    finally:
        for person in (alice, bob):
            person.stop_server()
            _remove_account(person.name)
    # dask-gateway's own LocalBackend gives "/" to the cluster's user (see hub.gateway_backend).
    assert os.stat("/").st_uid == root_folder_owner
