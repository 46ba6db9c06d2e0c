"""The result views and the alert banner: what they draw (read back from the figure), what they
say to screen readers, how they react to their controls, and that they show what twins return
(a flood ensemble, a flood run on a terrain, a detector-noise run)."""

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from dte_twins.base import Alert
from dte_twins.environment.flood import FloodTwin
from dte_twins.physics import detector_model
from dte_twins.physics.detector_noise import DetectorNoiseTwin
from dte_widgets import plotting
from dte_widgets.alert_banner import AlertBanner
from dte_widgets.views import HistogramView, MapView, SpectrogramView, TimeSeriesView
from tests.dte_twins.synthetic import synthetic_forcing, valley
from tests.dte_widgets.conftest import sent_states

PNG = b"\x89PNG"


@pytest.fixture
def figures(monkeypatch):
    """Every figure the views draw, kept after rendering so tests can read axes and images."""
    kept = []
    render = plotting.render_png

    def keeping(draw, width=7.0, height=3.2):
        def draw_and_keep(figure):
            draw(figure)
            kept.append(figure)

        return render(draw_and_keep, width, height)

    monkeypatch.setattr(plotting, "render_png", keeping)
    return kept


@pytest.fixture(scope="module")
def flood_ensemble():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        twin = FloodTwin(forcing=synthetic_forcing(200), terrain=valley(), registry=False)
        result = twin.ensemble(3, client=client)
    return twin, result


@pytest.fixture(scope="module")
def detector_result():
    channels = detector_model.simulate_detector(16.0, 512, rng=np.random.default_rng(3))
    return DetectorNoiseTwin(channels=channels, registry=False, duration=16.0).run()


def river(days=60) -> xr.Dataset:
    time = pd.date_range("2001-01-01", periods=days, freq="D")
    rain = np.random.default_rng(0).gamma(0.8, 5.0, days)
    return xr.Dataset(
        {
            "discharge": ("time", 50 + np.convolve(rain, np.ones(5), "same"), {"units": "m³/s"}),
            "precipitation": ("time", rain, {"units": "mm/d"}),
        },
        coords={"time": time},
    )


def grids(ny=30, nx=40, geographic=False) -> xr.Dataset:
    y, x = np.linspace(0, 2900, ny), np.linspace(0, 3900, nx)
    depth = np.outer(np.sin(y / 900), np.cos(x / 700)).clip(0)
    dims = ("lat", "lon") if geographic else ("y", "x")
    coords = (
        {"lat": np.linspace(45, 55, ny), "lon": np.linspace(5, 15, nx)}
        if geographic
        else {"y": ("y", y, {"units": "m"}), "x": ("x", x, {"units": "m"})}
    )
    return xr.Dataset(
        {
            "depth": (dims, depth, {"units": "m"}),
            "p_flooded": (dims, (depth > 0.2).astype(float), {"units": "1"}),
            "discharge": ("time", np.arange(5.0), {"units": "m³/s"}),
        },
        coords={**coords, "time": pd.date_range("2001-01-01", periods=5)},
    )


# --- time series ---------------------------------------------------------------------------------
def test_time_series_draws_the_variable_with_its_units_and_dates(figures):
    view = TimeSeriesView(river(), title="A synthetic river")
    assert view.plot.png.startswith(PNG)
    assert "dte-time-series-view" in view._dom_classes
    assert view.variable_picker.description == "Variable"
    description = view.plot.description
    assert description.startswith("A synthetic river: discharge (m³/s) over time")
    assert "2001-01-01 to 2001-03-01" in description
    axes = figures[-1].axes[0]
    assert axes.get_ylabel() == "discharge (m³/s)" and axes.get_title() == "A synthetic river"


def test_choosing_another_variable_redraws_and_tells_the_front_end(figures):
    view = TimeSeriesView(river())
    before = view.plot.png
    view.variable_picker.value = ("precipitation",)
    assert view.plot.png.startswith(PNG) and view.plot.png != before
    assert figures[-1].axes[0].get_ylabel() == "precipitation (mm/d)"
    pictures = [s["value"] for s in sent_states(view.plot.image) if "value" in s]
    assert "alt='precipitation (mm/d) over time" in pictures[-1]


def test_a_dataframe_with_several_variables_chosen_together(figures):
    frame = river().to_dataframe()
    view = TimeSeriesView(frame, variables=["discharge", "precipitation"])
    assert view.variable_picker.options[0] == (
        "discharge + precipitation",
        ("discharge", "precipitation"),
    )
    assert len(figures[-1].axes[0].lines) == 2
    view.update(frame["precipitation"])  # a Series
    assert view.variable_picker.value == ("precipitation",)
    assert view.variable_picker.layout.display == "none"  # nothing to choose from


def test_thresholds_are_drawn_and_described(figures):
    view = TimeSeriesView(
        river(), variables="discharge", thresholds={"discharge": [(60, "watch"), 80]}
    )
    levels = sorted(line.get_ydata()[0] for line in figures[-1].axes[0].lines[1:])
    assert levels == [60, 80]
    assert "thresholds watch 60, discharge 80" in view.plot.description


def test_a_flood_ensemble_is_drawn_as_median_and_quantile_band(flood_ensemble, figures):
    _, result = flood_ensemble
    view = TimeSeriesView(result, variables="discharge", thresholds={"discharge": [(150, "watch")]})
    assert view.bands == ["discharge"]
    names = [label for label, _ in view.variable_picker.options]
    assert "discharge_mean" not in names and "discharge_quantile" not in names
    axes = figures[-1].axes[0]
    assert len(axes.collections) == 1  # the band
    band = axes.collections[0].get_paths()[0].vertices[:, 1]
    quantiles = result.discharge_quantile
    assert band.max() == pytest.approx(float(quantiles.max()))
    assert band.min() == pytest.approx(float(quantiles.min()))
    assert "median and 5%–95% band" in view.plot.description
    view.variable_picker.value = ("pet",)  # shared by the members: a plain line
    assert view.bands == []


def test_members_without_a_summary_get_a_band_too():
    members = xr.concat([river() * factor for factor in (0.8, 1.0, 1.3)], dim="member")
    view = TimeSeriesView(members)
    assert view.bands == ["discharge"]


def test_a_variable_the_view_cannot_draw_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"has no 'rain'.*Choose one of: discharge, precipitation"):
        TimeSeriesView(river(), variables="rain")
    with pytest.raises(ValueError, match=r"'depth' has dims \(y, x\)"):
        TimeSeriesView(grids(), variables="depth")


def test_no_data_shows_a_sentence_not_a_plot():
    view = TimeSeriesView()
    assert view.plot.png == b"" and "No data" in view.plot.message.value
    view.update(river())
    view.update(river().isel(time=slice(0, 0)))
    assert view.plot.png == b"" and view.plot.image.layout.display == "none"


# --- maps ----------------------------------------------------------------------------------------
def test_a_map_with_units_on_its_colourbar_and_axes(figures):
    view = MapView(grids(), variable="depth", title="Depth")
    assert view.plot.png.startswith(PNG) and "dte-map-view" in view._dom_classes
    assert view.plot.description.startswith("Depth: Map of depth (m), 40 × 30 cells")
    axes, colourbar = figures[-1].axes
    assert colourbar.get_ylabel() == "depth (m)"
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("x (m)", "y (m)")
    assert axes.images[0].get_array().shape == view.shown_shape == (30, 40)  # small: as is
    assert [label for label in view.variable_picker.options] == ["depth", "p_flooded"]


def test_a_grid_larger_than_the_picture_is_averaged_to_its_pixels(figures):
    view = MapView(grids(ny=1200, nx=900))
    rows, columns = figures[-1].axes[0].images[0].get_array().shape
    width, height = view.plot.size
    assert (rows, columns) == view.shown_shape
    assert rows <= height * plotting.DPI and columns <= width * plotting.DPI
    assert rows < 1200 and columns < 900


def test_geographic_coordinates_make_a_map_in_degrees(figures):
    points = pd.DataFrame({"lon": [9.7], "lat": [50.6], "label": ["Fulda <gauge>"]})
    view = MapView(grids(geographic=True), points=points)
    axes = figures[-1].axes[0]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("longitude (°E)", "latitude (°N)")
    assert axes.get_aspect() == pytest.approx(1 / math.cos(math.radians(50)))
    assert [text.get_text() for text in axes.texts] == ["Fulda <gauge>"]
    assert "1 point marked" in view.plot.description


def test_a_third_dim_gets_a_slider_that_redraws(figures):
    stack = xr.concat([grids().depth * k for k in (1, 2, 3)], dim="time")
    stack = stack.assign_coords(time=pd.date_range("2001-01-01", periods=3))
    view = MapView(stack.to_dataset(name="depth"))
    slider = view.slice_picker
    assert slider.description == "Time" and slider.layout.display == ""
    assert [label for label, _ in slider.options] == ["2001-01-01", "2001-01-02", "2001-01-03"]
    before = view.plot.png
    slider.value = 2
    assert view.plot.png != before and "at time 2001-01-03" in view.plot.description
    assert figures[-1].axes[0].images[0].get_array().max() == pytest.approx(3 * stack[0].max())


def test_the_map_refuses_a_variable_without_a_grid_and_names_the_choices():
    with pytest.raises(
        ValueError, match=r"'discharge' has dims \(time\).*Choose one of: depth, p_flooded\."
    ):
        MapView(grids(), variable="discharge")
    with pytest.raises(ValueError, match="x and y \\(or lon and lat\\) columns"):
        MapView(grids(), points=pd.DataFrame({"east": [1.0], "north": [2.0]}))
    assert "No data" in MapView().plot.message.value


def test_maps_of_a_flood_run_and_its_ensemble(flood_ensemble, figures):
    twin, members = flood_ensemble
    run = twin.run()
    gauge = pd.DataFrame({"x": [0.0], "y": [0.0], "label": ["gauge"]})
    view = MapView(run, variable="max_depth", points=gauge)
    assert view.plot.png.startswith(PNG) and view.shown_shape == (201, 61)
    assert {"max_depth", "elevation", "hand", "asset_area"} <= set(view.variable_picker.options)
    assert view.slice_picker.layout.display == "none"
    view.update(members, variable="max_depth")
    assert view.slice_picker.description == "Member" and len(view.slice_picker.options) == 3
    view.variable_picker.value = "max_depth_quantile"
    assert view.slice_picker.description == "Quantile"
    assert view.slice_picker.options[0] == ("0.05", 0)


# --- histograms ----------------------------------------------------------------------------------
def test_a_histogram_with_units_and_reference_lines(figures):
    energy = xr.DataArray(
        np.random.default_rng(1).normal(10, 1, 500), name="energy", attrs={"units": "GeV"}
    )
    view = HistogramView(energy, bins=25, markers={"mean": 10.2}, title="10 GeV electrons")
    assert view.plot.png.startswith(PNG) and "dte-histogram-view" in view._dom_classes
    axes = figures[-1].axes[0]
    assert axes.get_xlabel() == "energy (GeV)" and len(axes.patches) == 25
    assert axes.lines[0].get_xdata()[0] == 10.2
    assert "Histogram of energy (GeV): 500 values in 25 bins" in view.plot.description
    assert "mean 10.2 GeV" in view.plot.description


def test_histograms_of_series_arrays_and_datasets(figures):
    assert HistogramView(pd.Series([1.0, 2.0, 2.0], name="x")).plot.png.startswith(PNG)
    assert HistogramView(np.arange(10.0)).plot.png.startswith(PNG)
    view = HistogramView(river(), variable="precipitation")
    before = view.plot.png
    view.variable_picker.value = "discharge"
    assert view.plot.png != before and figures[-1].axes[0].get_xlabel() == "discharge (m³/s)"
    with pytest.raises(ValueError, match="has no 'rain'.*Choose one of: discharge, precip"):
        view.update(river(), variable="rain")


def test_a_histogram_without_values_says_so():
    view = HistogramView(xr.DataArray([np.nan, np.nan], name="energy"))
    assert view.plot.png == b"" and "energy has no values" in view.plot.message.value
    view.update(np.array([]))
    assert "No data" in view.plot.message.value


# --- spectra and spectrograms --------------------------------------------------------------------
def test_the_detector_q_scan_as_a_spectrogram(detector_result, figures):
    view = SpectrogramView(detector_result, title="Q-scan")
    assert view.variable_picker.value == "qscan"  # images first
    assert view.plot.png.startswith(PNG) and "dte-spectrogram-view" in view._dom_classes
    axes, colourbar = figures[-1].axes
    assert axes.get_yscale() == "log" and axes.get_ylabel() == "scan_frequency (Hz)"
    assert axes.get_xlabel() == "scan_time (s)" and colourbar.get_ylabel() == "qscan"
    assert view.shown_shape == detector_result.qscan.shape
    assert "Q-scan: Spectrogram of qscan over scan_time" in view.plot.description


def test_a_spectrum_is_a_log_log_line(detector_result, figures):
    view = SpectrogramView(detector_result, variable="strain_asd")
    axes = figures[-1].axes[0]
    assert (axes.get_xscale(), axes.get_yscale()) == ("log", "log")
    assert axes.get_ylabel() == "strain_asd (1/√Hz)"
    assert axes.lines[0].get_xdata().min() > 0  # 0 Hz has no place on a log axis
    assert "Spectrum of strain_asd (1/√Hz)" in view.plot.description
    with pytest.raises(ValueError, match=r"'coherence' has dims \(regressor, frequency\)"):
        view.update(detector_result, variable="coherence")


def test_a_long_spectrogram_is_averaged_in_log_frequency(figures):
    frequency = np.linspace(0, 1024, 2049)
    asd = xr.DataArray(
        1e-23 * (1 + 100 / (frequency[:, None] + 1) ** 2) * np.ones((1, 1500)),
        dims=("frequency", "time"),
        coords={
            "frequency": ("frequency", frequency, {"units": "Hz"}),
            "time": pd.date_range("2025-01-01", periods=1500, freq="min"),
        },
        attrs={"units": "1/√Hz"},
        name="asd",
    )
    view = SpectrogramView(asd)
    rows, columns = view.shown_shape
    assert rows <= view.plot.size[1] * plotting.DPI and columns <= view.plot.size[0] * plotting.DPI
    mesh = figures[-1].axes[0].collections[0]
    assert mesh.norm.__class__.__name__ == "LogNorm"  # values over decades
    assert "2025-01-01 00:00 to 2025-01-02 00:59" in view.plot.description


# --- alerts --------------------------------------------------------------------------------------
def test_alerts_are_ordered_by_level_with_roles_and_colours():
    alerts = [
        Alert("watch", "watch: discharge above 150 m³/s", "gauge", "2020-03-24/2020-03-26"),
        Alert("danger", "danger: discharge above 350 m³/s", "gauge", "2020-12-03"),
        {"level": "info", "message": "soil drying", "where": "site 24", "when": "2020-06-01"},
        Alert("warning", "warning: discharge above 250 m³/s", "gauge", "2020-04-01"),
    ]
    banner = AlertBanner(alerts)
    assert "dte-alert-banner" in banner._dom_classes
    assert [a.level for a in banner.alerts] == ["danger", "warning", "watch", "info"]
    assert banner.counts == {"info": 1, "watch": 1, "warning": 1, "danger": 1}
    rows = banner.children
    assert [row._dom_classes for row in rows] == [
        ("dte-alert-danger",),
        ("dte-alert-warning",),
        ("dte-alert-watch",),
        ("dte-alert-info",),
    ]
    roles = [row.value.split('role="')[1].split('"')[0] for row in rows]
    assert roles == ["alert", "alert", "status", "status"]
    assert "<strong>Danger</strong>: discharge above 350 m³/s" in rows[0].value
    assert "color:#ffffff" in rows[0].value


def test_alert_text_is_escaped():
    banner = AlertBanner(
        [Alert("warning", "<script>alert(1)</script> & more", 'house "<b>"', "2020-01-01")]
    )
    html = banner.children[0].value
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "house &quot;&lt;b&gt;&quot;" in html


def test_no_alerts_and_bad_alerts():
    banner = AlertBanner()
    assert banner.children[0].value.endswith(">No alerts.</div>")
    assert banner.counts == {"info": 0, "watch": 0, "warning": 0, "danger": 0}
    banner.update([Alert("info", "fine", "here", "now")])
    assert len(banner.children) == 1
    banner.update([])
    assert "No alerts." in banner.children[0].value
    with pytest.raises(ValueError, match="one has no where, when"):
        banner.update([{"level": "info", "message": "?"}])
    with pytest.raises(ValueError, match="alert level must be one of"):
        banner.update([{"level": "severe", "message": "?", "where": "", "when": ""}])


def test_the_alerts_of_a_flood_ensemble(flood_ensemble):
    twin, result = flood_ensemble
    alerts = twin.alerts(result)
    assert alerts  # the terrain floods: there is at least the damage alert
    banner = AlertBanner(alerts)
    assert sum(banner.counts.values()) == len(alerts) == len(banner.children)
    levels = [a.level for a in banner.alerts]
    order = ["danger", "warning", "watch", "info"]
    assert levels == sorted(levels, key=order.index)
