"""Simulated physical twins that the ``live`` service plays: one observation per tick.

A feed is a pure step function: ``advance(state) -> (observation, next_state)``. The state is a
JSON-able dict holding everything the simulation carries from one tick to the next (stores,
filter memories, the last sequence number), and every random draw of a tick comes from a
generator seeded by ``(seed, seq)``. So a feed is deterministic from its seed, and a feed
resumed from a saved state continues exactly as if it had never stopped: the archive saves the
state with each observation, and a restarted service picks up where it left off.

Every observation is a JSON-able dict with ``seq`` (1, 2, 3, ... without gaps) and ``time``
(model time, ISO 8601, UTC); the other keys are the feed's fields, in the units its
``fields`` declare.

``river_gauge``
    One model day per tick at a gauge with the Fulda's catchment (2976 km², 50.6° N), so
    ``FloodTwin``'s defaults apply to it. Wet days from a two-state Markov chain with a
    seasonal cycle, wet-day rain Gamma(k = 0.80, θ = 8.9 mm) (Richardson 1981) and storms of
    40–120 mm/d lasting 1–3 days; temperature as a seasonal cycle plus AR(1) anomalies; Oudin
    PET; GR4J runoff (Perrin et al. 2003) in m³/s with 5 % lognormal measurement error; stage
    from a Manning rating curve.
``detector``
    One second of two channels per tick, sampled at 128 Hz: ground velocity from a seismometer
    (microseism near 0.15 Hz and 0.3 Hz plus AR(1) noise, µm/s) and detector strain (AR(2)
    coloured noise, a 60 Hz power line, a little seismic coupling, and now and then a
    sine-Gaussian glitch; in units of 1e-21).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy.signal import lfilter, lfiltic

from dte_twins.environment import gr4j
from dte_twins.environment.evapotranspiration import oudin_pet
from dte_twins.environment.hydraulics import (
    manning_coefficient,
    mm_per_day_to_m3s,
    stage_from_discharge,
)

__all__ = ["Feed", "RiverGauge", "DetectorChannels", "FEEDS", "play"]

_ISO = "%Y-%m-%dT%H:%M:%S"


class Feed:
    """A simulated physical twin: declared fields and a pure, seeded step."""

    name: str
    description: str
    kind: str  # "scalar": one value per field and observation; "chunked": arrays of samples
    fields: dict[str, str]  # field -> units
    seed: int

    def initial_state(self) -> dict:
        raise NotImplementedError

    def advance(self, state: dict) -> tuple[dict, dict]:
        """The next observation and the state after it; ``state`` is left unchanged."""
        raise NotImplementedError

    def describe(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "kind": self.kind,
            "fields": dict(self.fields),
            "seed": self.seed,
        }

    def _rng(self, seq: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, seq])


@dataclass(frozen=True)
class RiverGauge(Feed):
    """A river gauge: rain, temperature, PET, discharge and stage, one model day per tick."""

    name: str = "river_gauge"
    seed: int = 20260401
    start: str = "2020-01-01T00:00:00"
    area_km2: float = 2976.41
    latitude: float = 50.6
    x1: float = 350.0
    x2: float = 0.0
    x3: float = 90.0
    x4: float = 1.7
    channel_width: float = 50.0
    bed_slope: float = 0.001
    manning_n: float = 0.035
    storm_chance: float = 0.003  # per day; about one storm every 6 minutes at a tick a second

    description = (
        "Simulated river gauge (Fulda-like catchment, 2976 km²): one model day per tick; "
        "rain from a Markov-chain/Gamma weather generator, GR4J discharge, stage."
    )
    kind = "scalar"
    fields = {
        "precipitation": "mm/d",
        "temperature": "°C",
        "pet": "mm/d",
        "discharge": "m³/s",
        "stage": "m",
    }

    def initial_state(self) -> dict:
        store = gr4j.GR4JState.initial(1, self.x1, self.x3, self.x4)
        return {
            "seq": 0,
            "wet": False,
            "storm_days": 0,
            "storm_rain": 0.0,
            "anomaly": 0.0,
            "gr4j": _gr4j_to_json(store),
        }

    def advance(self, state: dict) -> tuple[dict, dict]:
        seq = state["seq"] + 1
        rng = self._rng(seq)
        day = datetime.strptime(self.start, _ISO) + timedelta(days=seq - 1)
        day_of_year = day.timetuple().tm_yday
        season = np.cos(2 * np.pi * (day_of_year - 15) / 365.25)  # +1 in winter
        p01, p11 = 0.244 + 0.06 * season, 0.673 + 0.08 * season
        wet = bool(rng.random() < (p11 if state["wet"] else p01))
        rain = float(rng.gamma(0.80, 8.9)) if wet else 0.0
        storm_days, storm_rain = state["storm_days"], state["storm_rain"]
        if storm_days == 0 and rng.random() < self.storm_chance:
            storm_days, storm_rain = int(rng.integers(1, 4)), float(rng.uniform(40, 120))
        if storm_days > 0:
            rain += storm_rain
            storm_days -= 1
        anomaly = 0.7 * state["anomaly"] + float(rng.normal(0, 2.0))
        temperature = 9.0 - 8.0 * season + anomaly
        pet = float(oudin_pet(temperature, self.latitude, day_of_year))
        fluxes, store = gr4j.simulate(
            [rain],
            [pet],
            self.x1,
            self.x2,
            self.x3,
            self.x4,
            state=_gr4j_from_json(state["gr4j"]),
        )
        error = float(rng.lognormal(-(0.05**2) / 2, 0.05))
        discharge = float(mm_per_day_to_m3s(fluxes["discharge"][0, 0], self.area_km2)) * error
        rating = manning_coefficient(self.channel_width, self.bed_slope, self.manning_n)
        stage = float(stage_from_discharge(discharge, rating))
        observation = {
            "seq": seq,
            "time": day.strftime(_ISO),
            "precipitation": round(rain, 2),
            "temperature": round(temperature, 2),
            "pet": round(pet, 3),
            "discharge": round(discharge, 3),
            "stage": round(stage, 3),
        }
        next_state = {
            "seq": seq,
            "wet": wet,
            "storm_days": storm_days,
            "storm_rain": storm_rain,
            "anomaly": anomaly,
            "gr4j": _gr4j_to_json(store),
        }
        return observation, next_state


def _gr4j_to_json(store: gr4j.GR4JState) -> dict:
    # Python floats survive JSON exactly (shortest repr round-trips), so a resumed gauge
    # continues bit for bit.
    return {
        "production": store.production.tolist(),
        "routing": store.routing.tolist(),
        "queue1": store.queue1.tolist(),
        "queue2": store.queue2.tolist(),
    }


def _gr4j_from_json(saved: dict) -> gr4j.GR4JState:
    return gr4j.GR4JState(
        *(np.array(saved[key], float) for key in ("production", "routing", "queue1", "queue2"))
    )


@dataclass(frozen=True)
class DetectorChannels(Feed):
    """A seismometer and a detector's strain channel, one second of samples per tick."""

    name: str = "detector"
    seed: int = 20260402
    start: str = "2025-01-01T00:00:00"
    sample_rate: int = 128  # Hz
    chunk_seconds: int = 1
    glitch_chance: float = 0.1  # per chunk
    line_frequency: float = 60.0  # Hz, the power mains
    seismic_coupling: float = 0.05  # strain (1e-21) per µm/s of ground velocity

    description = (
        "Simulated detector channels: one second per tick at 128 Hz of ground velocity "
        "(seismometer) and strain with occasional glitches."
    )
    kind = "chunked"
    fields = {"seismic": "µm/s", "strain": "1e-21", "glitch": ""}

    def describe(self) -> dict:
        return {**super().describe(), "sample_rate": self.sample_rate}

    def initial_state(self) -> dict:
        return {"seq": 0, "seismic_noise": 0.0, "strain_noise": [0.0, 0.0]}

    def advance(self, state: dict) -> tuple[dict, dict]:
        seq = state["seq"] + 1
        rng = self._rng(seq)
        count = self.sample_rate * self.chunk_seconds
        offset = (seq - 1) * self.chunk_seconds
        t = offset + np.arange(count) / self.sample_rate  # seconds since start

        # Ground velocity: the two microseism peaks with a slow beat, plus AR(1) noise.
        envelope = 1.0 + 0.3 * np.sin(2 * np.pi * t / 600.0)
        microseism = envelope * (
            0.8 * np.sin(2 * np.pi * 0.15 * t) + 0.4 * np.sin(2 * np.pi * 0.31 * t + 1.0)
        )
        seismic_noise = _ar1(state["seismic_noise"], 0.9, 0.05 * rng.standard_normal(count))
        seismic = microseism + seismic_noise

        # Strain: AR(2) coloured noise (a resonance near 15 Hz), the mains line, coupling.
        strain_noise = _ar2(state["strain_noise"], 1.6, -0.8, rng.standard_normal(count))
        strain = (
            strain_noise
            + 0.5 * np.sin(2 * np.pi * self.line_frequency * t)
            + self.seismic_coupling * seismic
        )
        glitch = bool(rng.random() < self.glitch_chance)
        if glitch:
            centre, frequency = rng.uniform(0.1, 0.9), rng.uniform(20, 50)
            quality, amplitude = rng.uniform(5, 12), rng.uniform(5, 20)
            width = quality / (np.sqrt(2) * np.pi * frequency)
            local = t - offset - centre * self.chunk_seconds
            strain = strain + amplitude * np.exp(-((local / width) ** 2)) * np.sin(
                2 * np.pi * frequency * local
            )
        begins = datetime.strptime(self.start, _ISO) + timedelta(seconds=offset)
        observation = {
            "seq": seq,
            "time": begins.strftime(_ISO),
            "sample_rate": self.sample_rate,
            "seismic": np.round(seismic, 4).tolist(),
            "strain": np.round(strain, 3).tolist(),
            "glitch": glitch,
        }
        next_state = {
            "seq": seq,
            "seismic_noise": float(seismic_noise[-1]),
            "strain_noise": [float(strain_noise[-2]), float(strain_noise[-1])],
        }
        return observation, next_state


def _ar1(previous: float, a: float, innovations: np.ndarray) -> np.ndarray:
    """x[i] = a·x[i−1] + e[i], continuing from the previous chunk's last value."""
    denominator = [1.0, -a]
    return lfilter([1.0], denominator, innovations, zi=lfiltic([1.0], denominator, [previous]))[0]


def _ar2(previous: list[float], a1: float, a2: float, innovations: np.ndarray) -> np.ndarray:
    """x[i] = a1·x[i−1] + a2·x[i−2] + e[i], continuing from the previous chunk's last two."""
    denominator = [1.0, -a1, -a2]
    before, last = previous
    initial = lfiltic([1.0], denominator, [last, before])
    return lfilter([1.0], denominator, innovations, zi=initial)[0]


FEEDS: dict[str, Feed] = {feed.name: feed for feed in (RiverGauge(), DetectorChannels())}


def play(feed: Feed, count: int, state: dict | None = None) -> tuple[list[dict], dict]:
    """``count`` observations from ``state`` (default: the start) and the state after them."""
    state = feed.initial_state() if state is None else state
    observations = []
    for _ in range(count):
        observation, state = feed.advance(state)
        observations.append(observation)
    return observations, state
