"""Platform settings: one declared, validated source for every process of DTE Hub.

Settings come, in order of precedence, from:

1. environment variables ``DTE_IP``, ``DTE_PORT``, ``DTE_STATE``, ``DTE_MODE``;
2. a TOML file named by ``DTE_SETTINGS`` (default: ``dte.toml`` in the current folder, if present);
3. the defaults declared below.

The TOML file has one table per settings class (``[hub]``, ``[auth]``, ``[servers]``,
``[compute]``, ``[live]``, ``[catalog]``, ``[dashboards]``). Every key must be a declared trait:
a typo is an error that names the key and the keys that exist, never a silently ignored value.
``jupyterhub_config.py`` and the dask-gateway config both read the same settings, so the two
processes cannot disagree.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from traitlets import (
    Bool,
    Dict,
    Enum,
    Float,
    HasTraits,
    Integer,
    List,
    TraitError,
    Unicode,
    default,
    validate,
)

__all__ = ["SettingsError", "Settings", "load_settings"]


class SettingsError(ValueError):
    """A setting is unknown or invalid; the message says which and what to do."""


class HubSettings(HasTraits):
    """Where the hub listens, where it keeps its state, how users are isolated."""

    ip = Unicode("127.0.0.1", config=True, help="Address the public proxy binds (env DTE_IP).")
    port = Integer(8000, config=True, help="Public port of the platform (env DTE_PORT).")
    state = Unicode(
        ".dte",
        config=True,
        help="State folder: hub database, secrets, homes, gateway state (env DTE_STATE).",
    )
    mode = Enum(
        ["single-user", "system-users"],
        "single-user",
        config=True,
        help=(
            "single-user: every hub user runs as the OS user that started the hub (no root"
            " needed; users are separated by the hub, not by the OS). system-users: root"
            " only; one Unix account per hub user, real file isolation (env DTE_MODE)."
        ),
    )
    admin = Unicode("admin", config=True, help="Name of the bootstrap admin account.")
    run_as = Unicode(
        "dte-user",
        config=True,
        help=(
            "single-user mode started as root: the unprivileged Unix account that runs user"
            " servers and Dask clusters, so user code never runs as root (created if missing)."
            " Unused when the hub runs as a normal account."
        ),
    )
    developers = List(
        Unicode(),
        config=True,
        help="Extra usernames put into the dt-developers group at every start.",
    )

    @validate("port")
    def _check_port(self, proposal):
        port = proposal.value
        if not 1 <= port <= 65535:
            raise TraitError(f"port must be between 1 and 65535, got {port}")
        return port


class AuthSettings(HasTraits):
    """How people log in."""

    kind = Enum(
        ["native", "oidc"],
        "native",
        config=True,
        help="native: hashed passwords with sign-up and admin approval; oidc: an OpenID"
        " Connect provider such as EGI Check-in.",
    )
    minimum_password_length = Integer(
        10, config=True, help="Shortest password accepted at sign-up (characters)."
    )
    allowed_failed_logins = Integer(
        5, config=True, help="Failed logins in a row before an account is locked."
    )
    seconds_before_next_try = Integer(
        120, config=True, help="How long a locked account stays locked (seconds)."
    )
    oidc_authorize_url = Unicode("", config=True, help="OIDC authorization endpoint.")
    oidc_token_url = Unicode("", config=True, help="OIDC token endpoint.")
    oidc_userdata_url = Unicode("", config=True, help="OIDC userinfo endpoint.")
    oidc_client_id = Unicode("", config=True, help="OIDC client id.")
    oidc_scope = List(
        Unicode(), ["openid", "profile", "email"], config=True, help="OIDC scopes requested."
    )
    oidc_username_claim = Unicode(
        "preferred_username", config=True, help="Userinfo claim used as the hub username."
    )
    oidc_groups_claim = Unicode(
        "", config=True, help="Userinfo claim listing groups (empty: groups managed in the hub)."
    )


class ServerSettings(HasTraits):
    """User servers: what they run and when idle ones are stopped."""

    default_url = Unicode("/lab", config=True, help="Page a user server opens on.")
    idle_timeout = Integer(
        3600, config=True, help="Stop user servers idle for this long (seconds; 0: never)."
    )
    cull_every = Integer(300, config=True, help="How often the idle culler looks (seconds).")
    start_timeout = Integer(60, config=True, help="Give up on a server start after (seconds).")


class ComputeSettings(HasTraits):
    """Per-user Dask clusters on the platform's dask-gateway."""

    worker_cores = Integer(1, config=True, help="Default cores per Dask worker.")
    worker_cores_max = Integer(2, config=True, help="Most cores a user may ask per worker.")
    worker_memory = Float(2.0, config=True, help="Default memory per Dask worker (GiB).")
    worker_memory_max = Float(8.0, config=True, help="Most memory a user may ask per worker (GiB).")
    workers = Integer(0, config=True, help="Workers a new cluster starts with.")
    cluster_max_workers = Integer(4, config=True, help="Most workers in one cluster.")
    cluster_max_cores = Float(4.0, config=True, help="Most cores in one cluster (all workers).")
    cluster_max_memory = Float(16.0, config=True, help="Most memory in one cluster (GiB).")
    idle_timeout = Float(
        1800.0,
        config=True,
        help="Stop a cluster with no client activity after (seconds; 0: never).",
    )
    stop_with_server = Bool(
        True, config=True, help="Stop a user's clusters when the user's server stops."
    )


class LiveSettings(HasTraits):
    """The ``live`` service: simulated physical twins publishing observations."""

    tick = Float(
        1.0,
        config=True,
        help="Seconds between two observations of a feed (a model day of the river gauge, a "
        "second of detector samples).",
    )
    retention_days = Float(
        1.0,
        config=True,
        help="Days of history the live archive keeps (0: everything). A day at one tick a "
        "second is about 200 MB, mostly detector samples.",
    )

    @validate("tick")
    def _check_tick(self, proposal):
        if proposal.value <= 0:
            raise TraitError(f"tick must be a positive number of seconds, got {proposal.value}")
        return proposal.value


class CatalogSettings(HasTraits):
    """The data catalog's cache shared by every user server (``<state>/catalog``)."""

    prebuild = Bool(
        True,
        config=True,
        help="Build the catalog's entries into the shared cache at every start, in the "
        "background (about 5 s at the default size, once: built entries are kept). Users read "
        "from it; a size not prebuilt is built on first use into the user's own cache.",
    )
    size = Unicode(
        "default",
        config=True,
        help="Size the shared cache is prebuilt at: small, default, large, huge or a factor.",
    )

    @validate("size")
    def _check_size(self, proposal):
        from catalogs.errors import CatalogError
        from catalogs.sizes import scale_of

        try:
            scale_of(proposal.value)
        except CatalogError as error:
            raise TraitError(str(error)) from None
        return proposal.value


class DashboardsSettings(HasTraits):
    """The ``dashboards`` service: twin applications served by Voila and Panel."""

    pool_size = Integer(
        1,
        config=True,
        help="Preheated kernels kept ready per dashboard: a viewer who finds one waiting sees "
        "the dashboard in about a second; more viewers at once start kernels on demand. Each "
        "kernel holds about 300 MB (bench/dashboards.py reports it).",
    )

    pools = Dict(
        value_trait=Integer(),
        default_value={},
        config=True,
        help="Preheated kernels of particular dashboards, by name, instead of pool_size: "
        "{ flood = 20 } for a dashboard 20 people open at once (a class, a demonstration).",
    )

    viewer_max_workers = Integer(
        2,
        config=True,
        help="Most Dask workers (one core each) in the cluster of one dashboard viewer.",
    )

    panel_processes = Integer(
        config=True,
        help="panel serve processes for the Panel apps (one per two cores by default, at most "
        "32): each viewer's sessions run in one of them, so a slow dashboard holds up only the "
        "viewers of its process. Each process holds about 300 MB more.",
    )

    @default("panel_processes")
    def _one_per_two_cores(self):
        from hub.state import one_per_two_cores

        return min(32, one_per_two_cores())

    @validate("panel_processes")
    def _check_panel_processes(self, proposal):
        if not 1 <= proposal.value <= 32:
            raise TraitError(f"panel_processes must be from 1 to 32, got {proposal.value}")
        return proposal.value

    @validate("viewer_max_workers")
    def _check_viewer_workers(self, proposal):
        if not 1 <= proposal.value <= 64:
            raise TraitError(f"viewer_max_workers must be from 1 to 64, got {proposal.value}")
        return proposal.value

    @validate("pool_size")
    def _check_pool(self, proposal):
        _check_pool_size("pool_size", proposal.value)
        return proposal.value

    @validate("pools")
    def _check_pools(self, proposal):
        from hub.dashboards.registry import SLUG

        for name, size in proposal.value.items():
            if not SLUG.match(name):
                raise TraitError(f"pools: {name!r} is not a dashboard name (like 'flood')")
            _check_pool_size(f"pools.{name}", size)
        return proposal.value


def _check_pool_size(name: str, size: int) -> None:
    if not 0 <= size <= 64:
        raise TraitError(f"{name} must be from 0 to 64 kernels, got {size}")


_SECTIONS: dict[str, type[HasTraits]] = {
    "hub": HubSettings,
    "auth": AuthSettings,
    "servers": ServerSettings,
    "compute": ComputeSettings,
    "live": LiveSettings,
    "catalog": CatalogSettings,
    "dashboards": DashboardsSettings,
}

_ENVIRONMENT = {
    "DTE_IP": ("hub", "ip"),
    "DTE_PORT": ("hub", "port"),
    "DTE_STATE": ("hub", "state"),
    "DTE_MODE": ("hub", "mode"),
}


class Settings:
    """All settings of one platform, grouped as in the TOML file."""

    hub: HubSettings
    auth: AuthSettings
    servers: ServerSettings
    compute: ComputeSettings
    live: LiveSettings
    catalog: CatalogSettings
    dashboards: DashboardsSettings

    def __init__(self, source: str, **sections: HasTraits):
        for name in _SECTIONS:
            setattr(self, name, sections[name])
        self.source: str = source

    @property
    def state_dir(self) -> Path:
        """The state folder as an absolute path."""
        return Path(self.hub.state).expanduser().resolve()

    def as_dict(self) -> dict:
        return {
            name: {key: getattr(section, key) for key in section.trait_names(config=True)}
            for name, section in ((name, getattr(self, name)) for name in _SECTIONS)
        }


def _settings_file(environ) -> Path | None:
    named = environ.get("DTE_SETTINGS")
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise SettingsError(f"DTE_SETTINGS names {path}, which is not a file: fix the path.")
        return path
    default = Path("dte.toml")
    return default if default.is_file() else None


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{path} is not valid TOML ({e}): fix the file.") from None


def _coerce(section: HasTraits, key: str, raw: str):
    """Turn an environment string into the trait's type."""
    trait = section.traits()[key]
    if isinstance(trait, Integer):
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{key} must be a whole number, got {raw!r}.") from None
    return raw


def _apply(section_name: str, section: HasTraits, values: dict, origin: str):
    known = set(section.trait_names(config=True))
    for key, value in values.items():
        if key not in known:
            raise SettingsError(
                f"unknown setting '{section_name}.{key}' in {origin}; "
                f"known keys of [{section_name}]: {', '.join(sorted(known))}."
            )
        try:
            setattr(section, key, value)
        except TraitError as e:
            detail = str(e).splitlines()[0]
            raise SettingsError(
                f"invalid setting '{section_name}.{key}' = {value!r} in {origin}: {detail}"
            ) from None


def load_settings(environ=None) -> Settings:
    """Read defaults, then the TOML file, then the environment; raise SettingsError on any fault."""
    environ = os.environ if environ is None else environ
    sections = {name: cls() for name, cls in _SECTIONS.items()}
    path = _settings_file(environ)
    source = "defaults"
    if path is not None:
        source = str(path)
        data = _read_toml(path)
        for name, values in data.items():
            if name not in sections:
                raise SettingsError(
                    f"unknown section [{name}] in {path}; known: "
                    f"{', '.join('[' + s + ']' for s in _SECTIONS)}."
                )
            if not isinstance(values, dict):
                raise SettingsError(f"'{name}' in {path} must be a table like [{name}].")
            _apply(name, sections[name], values, str(path))
    for variable, (name, key) in _ENVIRONMENT.items():
        if variable in environ and environ[variable] != "":
            value = _coerce(sections[name], key, environ[variable])
            _apply(name, sections[name], {key: value}, f"environment variable {variable}")
    return Settings(source=source, **sections)
