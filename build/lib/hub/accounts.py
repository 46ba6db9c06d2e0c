"""Unix accounts the platform creates when it runs as root: the unprivileged account that runs
user code in single-user mode, and one account per hub user in system-users mode."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

__all__ = ["ensure_unix_account", "private_home"]


def ensure_unix_account(
    name: str, *, home: str | None = None, login_shell: bool = True, system: bool = False
) -> pwd.struct_passwd:
    """The account ``name``, created (with its own group, no home folder made) if missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    command = ["useradd", "--no-create-home", "--user-group"]
    command += ["--shell", "/bin/bash" if login_shell else "/usr/sbin/nologin"]
    if home:
        command += ["--home-dir", home]
    if system:
        command.append("--system")
    subprocess.run([*command, name], check=True, capture_output=True)
    return pwd.getpwnam(name)


def private_home(path: str | Path, account: pwd.struct_passwd | None = None) -> Path:
    """Create ``path`` (mode 0700) and, when ``account`` is given, give it to that account."""
    home = Path(path)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    if account is not None:
        os.chown(home, account.pw_uid, account.pw_gid)
    os.chmod(home, 0o700)
    return home
