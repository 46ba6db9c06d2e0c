"""`dte up` refuses bad input with one clear line, before anything starts."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hub import cli
from hub.settings import SettingsError, load_settings
from tests.hub.platform import free_port

DTE = Path(sys.executable).parent / "dte"


def run_dte(tmp_path, env_extra, *args, timeout=30):
    env = {
        "PATH": "/usr/bin:/bin",
        "DTE_STATE": str(tmp_path / "state"),
        "DTE_PORT": str(free_port()),
        **env_extra,
    }
    return subprocess.run(
        [str(DTE), *(args or ["up"])],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_unknown_settings_key_names_the_key_and_the_known_ones(tmp_path):
    (tmp_path / "dte.toml").write_text("[hub]\nprot = 8001\n")
    result = run_dte(tmp_path, {})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "unknown setting 'hub.prot'" in result.stderr and "port" in result.stderr
    assert not (tmp_path / "state").exists()


def test_unknown_section_is_refused(tmp_path):
    (tmp_path / "site.toml").write_text("[hubb]\nport = 8001\n")
    result = run_dte(tmp_path, {"DTE_SETTINGS": str(tmp_path / "site.toml")})
    assert result.returncode == 2 and "unknown section [hubb]" in result.stderr


@pytest.mark.parametrize("port", ["eighty", "70000", "0"])
def test_bad_port_is_refused(tmp_path, port):
    result = run_dte(tmp_path, {"DTE_PORT": port})
    assert result.returncode == 2
    assert "DTE_PORT" in result.stderr or "port" in result.stderr
    assert not (tmp_path / "state").exists()


def test_occupied_port_is_refused_before_anything_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_dte(tmp_path, {"DTE_PORT": str(port)})
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert not (tmp_path / "state").exists()


def test_unwritable_state_folder_is_refused(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_dte(tmp_path, {"DTE_STATE": str(blocker / "state")})
    assert result.returncode == 2
    assert "is not writable" in result.stderr and "DTE_STATE" in result.stderr


def test_missing_proxy_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "PROXY", tmp_path / "no-such-proxy")
    monkeypatch.setenv("DTE_STATE", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["up"]) == 2
    err = capsys.readouterr().err
    assert "configurable-http-proxy is missing" in err and "make install" in err
    assert not (tmp_path / "state").exists()


def test_bad_mode_is_refused(tmp_path):
    result = run_dte(tmp_path, {"DTE_MODE": "kubernetes"})
    assert result.returncode == 2 and "hub.mode" in result.stderr


def test_reset_needs_confirmation(tmp_path):
    (tmp_path / "state").mkdir()
    result = run_dte(tmp_path, {}, "reset")
    assert result.returncode == 2 and (tmp_path / "state").exists()
    assert run_dte(tmp_path, {}, "reset", "--yes").returncode == 0
    assert not (tmp_path / "state").exists()


def test_environment_overrides_the_settings_file(tmp_path, monkeypatch):
    (tmp_path / "site.toml").write_text('[hub]\nport = 9000\nip = "0.0.0.0"\n')
    settings = load_settings({"DTE_SETTINGS": str(tmp_path / "site.toml"), "DTE_PORT": "9100"})
    assert settings.hub.port == 9100 and settings.hub.ip == "0.0.0.0"


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    (tmp_path / "broken.toml").write_text("[hub\nport=")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings({"DTE_SETTINGS": str(tmp_path / "broken.toml")})


def test_half_configured_oidc_is_refused_before_start(tmp_path):
    (tmp_path / "dte.toml").write_text('[auth]\nkind = "oidc"\noidc_client_id = "dte"\n')
    result = run_dte(tmp_path, {})
    assert result.returncode == 2 and "auth.oidc_authorize_url" in result.stderr
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize(
    ("pools", "reason"),
    [
        ("{ flood = 200 }", "pools.flood must be from 0 to 64 kernels, got 200"),
        ('{ "Flood Demo" = 2 }', "'Flood Demo' is not a dashboard name"),
        ('{ flood = "many" }', "dashboards.pools"),
    ],
)
def test_bad_dashboard_pools_are_refused(tmp_path, pools, reason):
    (tmp_path / "dte.toml").write_text(f"[dashboards]\npools = {pools}\n")
    result = run_dte(tmp_path, {})
    assert result.returncode == 2 and reason in result.stderr, result.stderr
    assert not (tmp_path / "state").exists()


def test_dashboard_pools_are_read_from_the_settings_file(tmp_path, monkeypatch):
    (tmp_path / "dte.toml").write_text("[dashboards]\npools = { flood = 20, drought = 0 }\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings({}).dashboards.pools == {"flood": 20, "drought": 0}


def test_panel_processes_default_to_one_per_two_cores_and_are_bounded(tmp_path, monkeypatch):
    import os

    monkeypatch.chdir(tmp_path)
    cores = len(os.sched_getaffinity(0))
    assert load_settings({}).dashboards.panel_processes == max(1, cores // 2)
    (tmp_path / "dte.toml").write_text("[dashboards]\npanel_processes = 3\n")
    assert load_settings({}).dashboards.panel_processes == 3
    (tmp_path / "dte.toml").write_text("[dashboards]\npanel_processes = 0\n")
    result = run_dte(tmp_path, {})
    assert result.returncode == 2, result.stderr
    assert "panel_processes must be from 1 to 32, got 0" in result.stderr
