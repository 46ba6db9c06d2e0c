"""Every dataset of the catalog, declared once: what it is, its schema, where it comes from.

An ``EntrySpec`` names its builder by a dotted path (imported only when the entry is built, so
listing the catalog imports no science code), its storage (Parquet for tables, Zarr for grids),
its schema with units, license, provenance, spatial and time extent, and whether it is synthetic.
A live entry names a feed of the ``live`` service instead of a builder: reading it gives the
feed's archived history (``catalogs.live``), and nothing is built or cached.
``catalogs/catalog.yaml`` is written from these declarations (``python -m catalogs write``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalogs.schema import Field, GridSchema, TableSchema

__all__ = ["EntrySpec", "ENTRIES", "entry_spec"]


@dataclass(frozen=True)
class EntrySpec:
    name: str
    description: str
    builder: str  # "module:function"; called with the scale factor when ``sized``
    schema: TableSchema | GridSchema
    license: str
    provenance: str
    spatial_extent: str
    time_extent: str
    synthetic: bool
    sized: bool = False  # synthetic builders scale with the catalog's size
    used_by: tuple[str, ...] = ()  # twin inputs that read it, "Twin.input"
    extra: dict = field(default_factory=dict)
    feed: str = ""  # a feed of the live service: read from its archive, never built

    @property
    def live(self) -> bool:
        return bool(self.feed)

    @property
    def storage(self) -> str:
        if self.live:
            return "live"
        return "zarr" if self.schema.kind == "grid" else "parquet"

    def metadata(self) -> dict:
        """The entry's metadata as the catalog shows it (JSON-friendly)."""
        return {
            "description": self.description,
            "kind": self.schema.kind,
            "storage": self.storage,
            "units": {f.name: f.units for f in self.schema.fields},
            "schema": self.schema.describe(),
            "license": self.license,
            "provenance": self.provenance,
            "spatial_extent": self.spatial_extent,
            "time_extent": self.time_extent,
            "synthetic": self.synthetic,
            "sized": self.sized,
            "used_by": list(self.used_by),
            "live": self.live,
            **({"feed": self.feed, "follow": _follow_hint(self.feed)} if self.live else {}),
            **self.extra,
        }


def _follow_hint(feed: str) -> str:
    return (
        f"history: .read(); live: `from catalogs.live import LiveFeed; "
        f"for observation in LiveFeed({feed!r}): ...`"
    )


def _number(name, units, minimum=None, maximum=None, **kw) -> Field:
    return Field(name, units, "number", minimum, maximum, **kw)


_FORCING = (
    _number("precipitation", "mm/d", 0, 1000),
    _number("temperature", "°C", -60, 60),
)

ENTRIES: dict[str, EntrySpec] = {
    spec.name: spec
    for spec in (
        EntrySpec(
            name="fulda_forcing",
            description="Fulda at Grebenau (Germany), daily weather and discharge 1979–1988.",
            builder="catalogs.real_data:fulda_daily",
            schema=TableSchema(
                (
                    *_FORCING,
                    _number("t_min", "°C", -60, 60),
                    _number("t_max", "°C", -60, 60),
                    _number("discharge", "m³/s", 0, 1e5),
                )
            ),
            license="MIT (spotpy 1.6.7 example data)",
            provenance="spotpy 1.6.7, examples/cmf_data/fulda_climate.csv; catchment 2976.41 km²",
            spatial_extent="Fulda catchment, 50.6° N 9.7° E, 2976.41 km²",
            time_extent="1979-01-01/1988-12-31",
            synthetic=False,
            used_by=("FloodTwin.forcing",),
            extra={"area_km2": 2976.41, "latitude": 50.6},
        ),
        EntrySpec(
            name="site24_daily",
            description=(
                "Site 24 (Hesse, Germany), daily weather and 0–40 cm soil moisture 2014–2016, "
                "from hourly records (dates repaired, see catalogs.real_data.site24_daily)."
            ),
            builder="catalogs.real_data:site24_daily",
            schema=TableSchema(
                (
                    *_FORCING,
                    _number("t_min", "°C", -60, 60),
                    _number("t_max", "°C", -60, 60),
                    _number("solar_radiation", "MJ m⁻² d⁻¹", 0, 50),
                    _number("pressure", "kPa", 50, 110),
                    _number("relative_humidity", "%", 0, 100),
                    _number("wind_speed", "m/s", 0, 80),
                    _number("soil_moisture_10cm", "m³/m³", 0, 1, allow_missing=True),
                    _number("soil_moisture_25cm", "m³/m³", 0, 1, allow_missing=True),
                    _number("soil_moisture_40cm", "m³/m³", 0, 1, allow_missing=True),
                    _number("soil_moisture", "m³/m³", 0, 1, allow_missing=True),
                )
            ),
            license=(
                "MIT (spotpy 1.6.7 example data); courtesy of the Chair of Landscape, Water and "
                "Biogeochemical Cycles, Justus-Liebig-University Gießen"
            ),
            provenance=(
                "spotpy 1.6.7, examples/cmf_data/driver_data_site24.csv and "
                "soilmoisture_site24.csv (hourly), aggregated to days"
            ),
            spatial_extent="Schwingbach / Vollnkirchener Bach near Gießen, 50.5° N 8.6° E",
            time_extent="2014-01-01/2016-12-31",
            synthetic=False,
            used_by=("DroughtTwin.forcing",),
            extra={"latitude": 50.5},
        ),
        EntrySpec(
            name="nile_flow",
            description="Annual flow of the Nile at Aswan, 10⁸ m³ per year, 1871–1970.",
            builder="catalogs.real_data:nile_annual",
            schema=TableSchema((_number("volume", "1e8 m³/yr", 0, 1e5),)),
            license="BSD-3-Clause (statsmodels 0.15.0 datasets); public domain data",
            provenance="statsmodels.datasets.nile (Cobb 1978; Durbin & Koopman 2001)",
            spatial_extent="Nile at Aswan, 24.1° N 32.9° E",
            time_extent="1871/1970",
            synthetic=False,
        ),
        EntrySpec(
            name="floodplain_terrain",
            description=(
                "Synthetic floodplain: DEM with a meandering river, tributaries and buildings "
                "exposed to floods (25 m cells; 8 × 4 km at the default size)."
            ),
            builder="catalogs.builders.landscape:floodplain",
            schema=GridSchema(
                (
                    _number("elevation", "m", -500, 9000, dims=("y", "x")),
                    _number("asset_area", "m²", 0, 625, dims=("y", "x")),
                    Field("channel", "", "bool", dims=("y", "x")),
                ),
                coords=("x", "y"),
            ),
            license="CC0-1.0 (generated by DTE Hub)",
            provenance="catalogs.builders.landscape, seeded; see its docstring for the model",
            spatial_extent="local metric grid, x downstream from the outlet, y across the valley",
            time_extent="static",
            synthetic=True,
            sized=True,
            used_by=("FloodTwin.terrain",),
        ),
        EntrySpec(
            name="gauge_network",
            description=(
                "Synthetic river gauges, daily for 30 years: rainfall with storms, temperature, "
                "PET and discharge from GR4J with measurement error (4 gauges at default size)."
            ),
            builder="catalogs.builders.gauges:gauge_records",
            schema=TableSchema(
                (
                    Field("gauge", kind="text"),
                    *_FORCING,
                    _number("pet", "mm/d", 0, 30),
                    _number("discharge", "m³/s", 0, 1e6),
                    _number("area_km2", "km²", 0, 1e6),
                    _number("latitude", "°", -90, 90),
                ),
                unique_index=False,
            ),
            license="CC0-1.0 (generated by DTE Hub)",
            provenance="catalogs.builders.gauges, seeded; GR4J and Oudin PET from dte_twins",
            spatial_extent="synthetic catchments at 45–55° N",
            time_extent="1991-01-01/2020-12-31",
            synthetic=True,
            sized=True,
            used_by=("FloodTwin.forcing",),
        ),
        EntrySpec(
            name="soil_properties",
            description=(
                "Synthetic soil map: sand and clay fractions, rooting depth and the drought "
                "twin's bucket parameters per 500 m cell (capacity, drainage time, stress "
                "fraction; 64 × 64 cells at the default size)."
            ),
            builder="catalogs.builders.soils:soil_properties",
            schema=GridSchema(
                (
                    _number("sand", "1", 0, 1, dims=("y", "x")),
                    _number("clay", "1", 0, 1, dims=("y", "x")),
                    _number("rooting_depth", "m", 0, 5, dims=("y", "x")),
                    _number("capacity", "mm", 50, 300, dims=("y", "x")),
                    _number("drainage_time", "d", 1, 1e4, dims=("y", "x")),
                    _number("stress_fraction", "1", 0, 1, dims=("y", "x")),
                ),
                coords=("x", "y"),
            ),
            license="CC0-1.0 (generated by DTE Hub)",
            provenance=(
                "catalogs.builders.soils: smooth random texture, linear pedotransfer "
                "approximations (see its docstring); seeded"
            ),
            spatial_extent="local metric grid, 32 × 32 km at the default size",
            time_extent="static",
            synthetic=True,
            sized=True,
            extra={"parameters_for": "DroughtTwin(capacity, stress_fraction, 1/drainage_time)"},
        ),
        EntrySpec(
            name="detector_channels",
            description=(
                "A simulated gravitational-wave detector at 1024 Hz: strain with seismic, "
                "magnetic and angular witness channels and blip glitches (64 s at the default "
                "size), with the true glitch list."
            ),
            builder="catalogs.builders.detector:detector_channels",
            schema=GridSchema(
                (
                    _number("strain", "1", -1e-15, 1e-15, dims=("time",)),
                    _number("seismic", "m", -1, 1, dims=("time",)),
                    _number("magnetic", "T", -1, 1, dims=("time",)),
                    _number("angular", "rad", -1, 1, dims=("time",)),
                    _number("glitch_time", "s", 0, None, dims=("glitch",)),
                    _number("glitch_frequency", "Hz", 0, None, dims=("glitch",)),
                    _number("glitch_q", "1", 0, None, dims=("glitch",)),
                    _number("glitch_snr", "1", 0, None, dims=("glitch",)),
                    Field("glitch_witnessed", "", "bool", dims=("glitch",)),
                ),
                coords=("time",),
            ),
            license="CC0-1.0 (generated by DTE Hub)",
            provenance=(
                "catalogs.builders.detector: dte_twins.physics.detector_model.simulate_detector "
                "(design noise budget fitted to aLIGO design; couplings per SCIENCE.md C); seeded"
            ),
            spatial_extent="one simulated 4 km interferometer (SIM1)",
            time_extent="64 s from 2025-01-01T00:00:00 (default size)",
            synthetic=True,
            sized=True,
            used_by=("DetectorNoiseTwin.channels",),
        ),
        EntrySpec(
            name="calorimeter_showers",
            description=(
                "Electron showers in a Pb/LAr sampling calorimeter as a test beam records them: "
                "visible energy and energy per layer, 1–100 GeV, 200 events per energy at the "
                "default size."
            ),
            builder="catalogs.builders.testbeam:testbeam_showers",
            schema=GridSchema(
                (
                    _number("visible_energy", "GeV", 0, 1e4, dims=("energy", "event")),
                    _number("layer_energy", "GeV", 0, 1e4, dims=("energy", "event", "layer")),
                ),
                coords=("energy", "event", "layer"),
            ),
            license="CC0-1.0 (generated by DTE Hub)",
            provenance=(
                "catalogs.builders.testbeam: CalorimeterTwin reference Monte Carlo (GFLASH "
                "profiles, hit-level sampling), 0.1 GeV noise, 0.5 % constant term; seeded"
            ),
            spatial_extent="80 layers of 1.5 mm Pb + 4 mm LAr (about 21 X0)",
            time_extent="static",
            synthetic=True,
            sized=True,
            used_by=("CalorimeterTwin.showers",),
        ),
        EntrySpec(
            name="live_river_gauge",
            description=(
                "Live river gauge (simulated physical twin, Fulda-like catchment): one model day "
                "per tick (a second by default) of rain, temperature, PET, discharge and stage; "
                "reads the history the live archive keeps, with seq and recorded_at."
            ),
            builder="",
            feed="river_gauge",
            schema=TableSchema(
                (
                    Field("seq", kind="integer", minimum=1),
                    *_FORCING,
                    _number("pet", "mm/d", 0, 30),
                    _number("discharge", "m³/s", 0, 1e6),
                    _number("stage", "m", 0, 100),
                )
            ),
            license="CC0-1.0 (generated by DTE Hub)",
            provenance=(
                "catalogs.live.feeds.RiverGauge, seeded: Markov-chain/Gamma weather generator, "
                "Oudin PET, GR4J from dte_twins, Manning rating curve; archived by the live service"
            ),
            spatial_extent="synthetic catchment of 2976 km² at 50.6° N (the Fulda's size)",
            time_extent="model days from 2020-01-01, one per tick, growing while the hub runs",
            synthetic=True,
        ),
        EntrySpec(
            name="live_detector",
            description=(
                "Live detector channels (simulated): one second per tick of ground velocity and "
                "strain at 128 Hz, with occasional glitches; one row per sample."
            ),
            builder="",
            feed="detector",
            schema=TableSchema(
                (
                    Field("seq", kind="integer", minimum=1),
                    _number("seismic", "µm/s", -1e3, 1e3),
                    _number("strain", "1e-21", -1e4, 1e4),
                    Field("glitch", kind="bool"),
                )
            ),
            license="CC0-1.0 (generated by DTE Hub)",
            provenance=(
                "catalogs.live.feeds.DetectorChannels, seeded: microseism and AR(2) noise, 60 Hz "
                "line, sine-Gaussian glitches; archived by the live service"
            ),
            spatial_extent="one simulated detector site",
            time_extent="model seconds from 2025-01-01T00:00:00, one per tick",
            synthetic=True,
        ),
    )
}


def entry_spec(name: str) -> EntrySpec:
    from catalogs.errors import CatalogError

    try:
        return ENTRIES[name]
    except KeyError:
        raise CatalogError(
            f"the catalog has no entry {name!r}; its entries are {', '.join(sorted(ENTRIES))}."
        ) from None
