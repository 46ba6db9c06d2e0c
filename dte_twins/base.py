"""The ``Twin`` base: what every thematic twin of DTE Hub declares and gets.

A twin *declares* its parameters with ``param`` (type, bounds, units, doc), its inputs (named as
catalog entries) and its science in ``simulate``. It *gets*:

- ``run(**parameters)``: validated parameters, one ``xarray.Dataset`` with provenance attributes,
  the run recorded in the user's run registry;
- ``ensemble(n, client=None)``: members spread over a Dask client, each with its own random
  stream spawned from the seed (so results are identical wherever members run), returned with
  mean, quantiles and exceedance probabilities;
- ``alerts(result)`` and ``assimilate(observations)``, which subclasses fill in.

Bad parameters raise ``ParameterError`` naming the parameter, the value and what is allowed.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import numpy as np
import param
import xarray as xr

from dte_twins.errors import InputError, ParameterError
from dte_twins.parameters import describe_allowed
from dte_twins.provenance import RunRecord, RunRegistry, code_version, content_hash
from dte_twins.statistics import summarise_members

__all__ = ["Twin", "Alert", "ALERT_LEVELS"]

ALERT_LEVELS = ("info", "watch", "warning", "danger")


@dataclass(frozen=True)
class Alert:
    """A structured warning: how serious, what, where and when."""

    level: str  # one of ALERT_LEVELS
    message: str
    where: str
    when: str  # ISO date or date range

    def __post_init__(self):
        if self.level not in ALERT_LEVELS:
            raise ValueError(f"alert level must be one of {ALERT_LEVELS}, not {self.level!r}")


def _member(
    seed: np.random.SeedSequence, twin_class, settings: dict, inputs: dict, state, prepared
):
    """One ensemble member; a module-level function so Dask can ship it to a worker."""
    twin = twin_class(registry=False, **settings)
    # The inputs were checked and hashed, and the shared work done, once by the twin that
    # started the ensemble.
    twin._input_values = dict(inputs)
    twin._state = state
    twin.prepared = prepared
    return twin.simulate(dict(settings), np.random.default_rng(seed), member=True)


def _follow(futures: list, progress: Callable[[int, int], None], every: float = 0.2) -> None:
    """Report members done until all are, or one failed (gather then raises its error)."""
    total = len(futures)
    while True:
        done = sum(future.done() for future in futures)
        progress(done, total)
        if done == total or any(future.status == "error" for future in futures):
            return
        time.sleep(every)


class Twin(param.Parameterized):
    """Base of every twin. Subclasses set ``twin_version``, ``inputs`` and ``simulate``."""

    twin_version: ClassVar[str] = "0.1.0"
    #: input name -> catalog entry it is read from
    inputs: ClassVar[dict[str, str]] = {}
    #: result variables an application shows first (dashboards, reports), most important first
    headline_variables: ClassVar[tuple[str, ...]] = ()

    seed = param.Integer(
        default=0, bounds=(0, 2**32 - 1), doc="Seed of all randomness: same seed, same result."
    )

    def __init__(self, registry: RunRegistry | None | bool = None, catalog=None, **parameters):
        """``catalog``: any mapping of entry name to an Intake reader (``open_catalog()``); the
        inputs not passed as arrays are read from their entries in it."""
        input_values = {
            name: parameters.pop(name) for name in list(parameters) if name in self.inputs
        }
        self._check_values(parameters)
        super().__init__(**parameters)
        self._registry = registry
        #: whose runs these are, if not the process's (``RunRecord.user``): the viewer of a
        #: dashboard session in a process that serves many (``panel serve``)
        self.run_user: str | None = None
        # What the twin has learnt from observations (assimilate); members start from it too.
        self._state = None
        # What ``prepare`` computed for the run under way; simulate reads it.
        self.prepared = None
        self._input_values: dict[str, Any] = {}
        self._input_hashes: dict[str, str] = {}
        self._input_sources: dict[str, str] = {}
        for name, value in input_values.items():
            self.set_input(name, value)
        if catalog is not None:
            for name in self.inputs:
                if name not in input_values:
                    self.read_input(name, catalog)

    def read_input(self, name: str, catalog) -> None:
        """Read input ``name`` from its entry in ``catalog`` (duck-typed: this layer never
        imports the catalog's code)."""
        entry = self.inputs[name]
        try:
            reader = catalog[entry]
        except KeyError:
            raise InputError(
                f"{type(self).__name__} reads its input {name!r} from the catalog entry "
                f"{entry!r}, which this catalog does not have."
            ) from None
        self.set_input(name, reader.read())
        self._input_sources[name] = entry

    # --- parameters ------------------------------------------------------------------------------
    @classmethod
    def parameter_names(cls) -> list[str]:
        return [name for name in cls.param if name != "name"]

    def _check_values(self, parameters: dict) -> None:
        """Each value against its own declaration, so the error names the parameter."""
        for name, value in parameters.items():
            if name not in self.parameter_names():
                raise ParameterError(
                    f"{type(self).__name__} has no parameter {name!r}; its parameters are "
                    f"{', '.join(self.parameter_names())}."
                )
            try:
                self.param[name]._validate(value)
            except ValueError:
                raise ParameterError(
                    f"{type(self).__name__} parameter {name} = {value!r} is not allowed: "
                    f"it must be {describe_allowed(self.param[name])}."
                ) from None

    def settings(self) -> dict:
        """Current parameter values (JSON-friendly)."""
        return {name: getattr(self, name) for name in self.parameter_names()}

    def validated(self, updates: dict) -> dict:
        """The settings with ``updates`` applied, after every check; the twin is unchanged."""
        self._check_values(updates)
        merged = {**self.settings(), **updates}
        self.check_consistency(merged)
        return merged

    def check_consistency(self, settings: dict) -> None:
        """Checks across parameters; raise ParameterError naming them. Subclasses extend."""

    # --- inputs ----------------------------------------------------------------------------------
    def set_input(self, name: str, value) -> None:
        if name not in self.inputs:
            raise ParameterError(
                f"{type(self).__name__} has no input {name!r}; its inputs are "
                f"{', '.join(self.inputs) or 'none'}."
            )
        self._input_values[name] = self.check_input(name, value)
        self._input_hashes[name] = content_hash(self._input_values[name])
        self._input_sources.pop(name, None)

    def check_input(self, name: str, value):
        """Validate (and normalise) an input; raise InputError. Subclasses extend."""
        return value

    def input_value(self, name: str):
        try:
            return self._input_values[name]
        except KeyError:
            raise ParameterError(
                f"{type(self).__name__} needs its input {name!r} (catalog entry "
                f"{self.inputs[name]!r}): pass {name}=... or catalog=open_catalog() when creating "
                "the twin."
            ) from None

    def result_settings(self, result: xr.Dataset) -> dict:
        """The settings a result was made with (its provenance), else the twin's own."""
        raw = result.attrs.get("parameters")
        return json.loads(raw) if raw else self.settings()

    def has_input(self, name: str) -> bool:
        return name in self._input_values

    def input_versions(self) -> dict[str, str]:
        """Content hash of each input, prefixed by the catalog entry it was read from."""
        return {
            name: f"{self._input_sources[name]}@{digest}" if name in self._input_sources else digest
            for name, digest in self._input_hashes.items()
        }

    # --- science, for subclasses ---------------------------------------------------------------
    def simulate(
        self, settings: dict, rng: np.random.Generator, member: bool = False
    ) -> xr.Dataset:
        """The twin's science for one set of parameters; ``member`` is True inside an ensemble."""
        raise NotImplementedError

    def prepare(self, settings: dict):
        """Work every member of a run shares: deterministic, without randomness (the past
        record, fitted models, filters). Done once per run or ensemble, before ``simulate``,
        which finds it in ``self.prepared``; ensemble members receive it rather than redo it."""
        return None

    def alerts(self, result: xr.Dataset) -> list[Alert]:
        """Warnings a result calls for. The base twin has none."""
        return []

    def assimilate(self, observations) -> None:
        """Update the twin's state from observations of its physical counterpart."""
        raise NotImplementedError(f"{type(self).__name__} does not assimilate observations yet")

    # --- running ---------------------------------------------------------------------------------
    def run(self, **parameters) -> xr.Dataset:
        """One scenario with the given parameter changes; the twin's own settings stay."""
        settings = self.validated(parameters)
        started, clock = datetime.now(UTC), time.perf_counter()
        rng = np.random.default_rng(np.random.SeedSequence(settings["seed"]))
        try:
            self.prepared = self.prepare(settings)
            result = self.simulate(settings, rng)
        except Exception as e:
            self._record("run", settings, started, time.perf_counter() - clock, 1, error=e)
            raise
        duration = time.perf_counter() - clock
        run_id = self._record("run", settings, started, duration, 1)
        return self._with_provenance(result, settings, started, duration, run_id)

    def ensemble(
        self,
        n: int,
        client=None,
        quantiles=(0.05, 0.5, 0.95),
        thresholds: dict[str, list[float]] | None = None,
        progress: Callable[[int, int], None] | None = None,
        **parameters,
    ) -> xr.Dataset:
        """``n`` members over a Dask client; members along ``member``, plus summary statistics.

        ``progress(done, total)``, if given, is called about every 0.2 s while members run (so
        an interface can show a bar and an estimate of the time left); raising ``RunCancelled``
        from it cancels the members still running and records the ensemble as failed.
        """
        if not isinstance(n, int | np.integer) or n < 1:
            raise ParameterError(
                f"ensemble size n = {n!r} is not allowed: it must be a whole number ≥ 1."
            )
        settings = self.validated(parameters)
        seeds = np.random.SeedSequence(settings["seed"]).spawn(int(n))
        started, clock = datetime.now(UTC), time.perf_counter()
        if client is None:
            from dte_twins.compute import find_client

            client = find_client()
        # Scattered as a list with unique keys: a scattered dict takes its keys ("forcing") as
        # Dask keys, which a second ensemble would reuse while the scheduler is still releasing
        # them from the first ("lost dependencies").
        names = list(self._input_values)
        scattered = (
            client.scatter([self._input_values[k] for k in names], broadcast=True, hash=False)
            if names
            else []
        )
        inputs = dict(zip(names, scattered, strict=True))
        futures = []
        try:
            prepared = self.prepare(settings)
            if prepared is not None:
                [prepared] = client.scatter([prepared], broadcast=True, hash=False)
            futures = client.map(
                _member,
                seeds,
                twin_class=type(self),
                settings=settings,
                inputs=inputs,
                state=self._state,
                prepared=prepared,
                pure=False,
            )
            if progress is not None:
                _follow(futures, progress)
            gathered = client.gather(futures)
        except Exception as e:
            if futures:  # members still queued or running (cancelled, or another failed)
                client.cancel(futures)
            self._record("ensemble", settings, started, time.perf_counter() - clock, n, error=e)
            raise
        # Variables every member shares (forcing, observations) keep no member dimension.
        members = xr.concat(
            gathered, dim="member", data_vars="different", coords="minimal", compat="equals"
        )
        members = members.assign_coords(member=np.arange(n))
        duration = time.perf_counter() - clock
        thresholds = thresholds or self.default_thresholds(settings)
        result = xr.merge([members, summarise_members(members, quantiles, thresholds)])
        run_id = self._record("ensemble", settings, started, duration, n)
        result = self._with_provenance(result, settings, started, duration, run_id, members=n)
        result.attrs.update(
            quantiles=json.dumps(list(map(float, quantiles))),
            thresholds=json.dumps(thresholds, sort_keys=True),
        )
        return result

    def default_thresholds(self, settings: dict) -> dict[str, list[float]]:
        """Thresholds whose exceedance probabilities an ensemble reports by default."""
        return {}

    # --- provenance ------------------------------------------------------------------------------
    def _record(self, kind, settings, started, duration, members, error=None) -> str:
        if self._registry is False:
            return ""
        registry = self._registry or RunRegistry.default()
        record = RunRecord(
            twin=type(self).__name__,
            twin_version=self.twin_version,
            kind=kind,
            parameters=settings,
            seed=settings["seed"],
            inputs=self.input_versions(),
            code_version=code_version(),
            started=started.isoformat(timespec="milliseconds"),
            duration_s=duration,
            status="failed" if error else "ok",
            error=str(error) if error else "",
            members=members,
            **({"user": self.run_user} if self.run_user else {}),
        )
        return registry.record(record)

    def _with_provenance(self, result, settings, started, duration, run_id, members=1):
        result.attrs.update(
            twin=type(self).__name__,
            twin_version=self.twin_version,
            parameters=json.dumps(settings, sort_keys=True),
            seed=settings["seed"],
            input_versions=json.dumps(self.input_versions(), sort_keys=True),
            code_version=code_version(),
            started=started.isoformat(timespec="milliseconds"),
            duration_s=round(duration, 6),
            members=members,
            run_id=run_id,
            # what the twin had learnt from observations before this run ("" if nothing)
            state_version=self.state_version(),
        )
        return result

    def state_version(self) -> str:
        """A hash of the assimilated state, so two runs tell whether they started alike."""
        if self._state is None:
            return ""
        return "sha256:" + hashlib.sha256(pickle.dumps(self._state, protocol=5)).hexdigest()
