"""ParameterForm: controls derived from declarations, inline validation through the twin."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ipywidgets as widgets
import param
import pytest

from dte_twins.base import Twin
from dte_twins.environment.drought import DroughtTwin
from dte_twins.environment.flood import FloodTwin
from dte_twins.errors import ParameterError
from dte_twins.parameters import Quantity
from dte_twins.physics.calorimeter import CalorimeterTwin
from dte_twins.physics.detector_noise import DetectorNoiseTwin
from dte_widgets.forms import ParameterForm
from tests.dte_widgets.conftest import sent_states, upload

TWINS = [FloodTwin, DroughtTwin, DetectorNoiseTwin, CalorimeterTwin]


class GaugeTwin(Twin):
    """A small twin with the parameter types no platform twin declares yet."""

    rating = param.Filename(default=None, allow_None=True, doc="Rating curve file.")
    start = param.CalendarDate(default=dt.date(2020, 1, 1), doc="First day simulated.")
    issued = param.Date(default=dt.datetime(2021, 6, 1), doc="Forecast issue time.")
    period = param.CalendarDateRange(
        default=(dt.date(2020, 1, 1), dt.date(2020, 12, 31)), doc="Calibration period."
    )
    mode = param.Selector(default="fast", objects=["fast", "exact"], doc="Solver.")
    verbose = param.Boolean(default=False, doc="Print progress.")
    label = param.String(default="gauge", doc="Name in plots.")
    gain = param.Number(default=1.0, doc="Unbounded gain.")
    capacity = Quantity(150.0, bounds=(50, 300), unit="mm", doc="Store capacity.")


@pytest.fixture
def flood():
    return FloodTwin(registry=False)


@pytest.mark.parametrize("twin_class", TWINS, ids=lambda c: c.__name__)
def test_every_twin_builds_a_valid_form_with_a_labelled_control_per_parameter(twin_class):
    twin = twin_class(registry=False)
    form = ParameterForm(twin)
    assert "dte-parameter-form" in form._dom_classes
    assert form.valid and form.errors == {}
    assert form.values == twin.settings()
    for name in twin.parameter_names():
        control = form.control(name)
        assert control.description, name
        assert control.style.description_width == "initial"
        assert control.tooltip.startswith(twin.param[name].doc.strip()[:20])


def test_controls_follow_type_and_bounds(flood):
    form = ParameterForm(flood)
    x4 = form.control("x4")  # (0.5, 10) d: a linear slider over the bounds
    assert isinstance(x4, widgets.FloatSlider)
    assert (x4.min, x4.max, x4.value) == (0.5, 10, 1.7)
    manning = form.control("manning_n")  # a step fine enough for the default 0.035
    assert manning.step <= 0.001 and manning.readout_format == ".3f"
    area = form.control("area")  # (0.01, 1e6) km²: eight decades on a logarithmic slider
    assert isinstance(area, widgets.FloatLogSlider)
    assert area.min == pytest.approx(-2) and area.max == pytest.approx(6)
    assert area.value == pytest.approx(2976.41)
    watch = form.control("watch_discharge")  # 150 in (0, 1e6): a number box, not a slider
    assert isinstance(watch, widgets.BoundedFloatText)
    assert (watch.min, watch.max) == (0, 1e6)
    seed = form.control("seed")  # up to 2**32 - 1: a number box
    assert isinstance(seed, widgets.BoundedIntText) and seed.max == 2**32 - 1
    warmup = form.control("warmup_days")
    assert isinstance(warmup, widgets.IntSlider) and (warmup.min, warmup.max) == (0, 3650)


def test_selector_boolean_string_and_integer_controls():
    drought = ParameterForm(DroughtTwin(registry=False))
    pet = drought.control("pet_method")
    assert isinstance(pet, widgets.Dropdown)
    assert [value for _, value in pet.options] == list(DroughtTwin.param.pet_method.objects)
    assert isinstance(drought.control("surrogate_uses_storage"), widgets.Checkbox)
    assert isinstance(drought.control("site_name"), widgets.Text)
    assert isinstance(drought.control("cells"), widgets.IntSlider)
    calorimeter = ParameterForm(CalorimeterTwin(registry=False))
    assert isinstance(calorimeter.control("n_events"), widgets.BoundedIntText)  # 2 … 100 000


def test_labels_are_words_with_units_and_tooltips_carry_the_doc(flood):
    form = ParameterForm(flood)
    assert form.control("channel_width").description == "channel width (m)"
    assert form.control("x1").description == "x1 (mm)"
    assert form.control("area").description == "area (km²)"
    assert form.control("bed_slope").description == "bed slope"  # unit "1": dimensionless
    assert form.control("warmup_days").description == "warmup days"
    tooltip = form.control("x1").tooltip
    assert "GR4J production store capacity X1." in tooltip and "10 to 2500 mm" in tooltip


def test_parameters_restrict_and_order_the_form(flood):
    form = ParameterForm(flood, parameters=["x4", "x1"])
    assert list(form.values) == ["x4", "x1"]
    assert form.control("x4").description.startswith("x4")
    with pytest.raises(ParameterError, match="no parameter 'x9'"):
        ParameterForm(flood, parameters=["x9"])


def test_invalid_value_shows_the_message_next_to_its_control(flood):
    form = ParameterForm(flood)
    form.set_values({"x1": 5000.0})
    assert not form.valid
    assert set(form.errors) == {"x1"}
    assert "x1 = 5000.0 is not allowed" in form.errors["x1"]
    message = form._fields["x1"].message
    assert 'role="alert"' in message.value and "from 10 to 2500 mm" in message.value
    assert form._fields["x2"].message.value == "" and form.form_message.value == ""
    # the front end is told: the message widget sent the sentence
    assert any("x1 = 5000.0" in state.get("value", "") for state in sent_states(message))


def test_cross_parameter_error_marks_each_threshold(flood):
    form = ParameterForm(flood)
    seen = []
    form.observe(lambda change: seen.append((change.new, form.valid)), "valid")
    form.control("warning_discharge").value = 100.0  # below watch (150): thresholds must rise
    assert form.valid is False and seen == [(False, False)]
    assert set(form.errors) == {"watch_discharge", "warning_discharge", "danger_discharge"}
    assert "thresholds must rise" in form.errors["warning_discharge"]
    form.control("warning_discharge").value = 200.0
    assert form.valid and form.errors == {}
    assert form._fields["watch_discharge"].message.value == ""


def test_error_naming_no_shown_parameter_goes_to_the_form(flood):
    form = ParameterForm(flood, parameters=["warning_discharge"])
    form.set_values({"warning_discharge": 100.0})
    assert set(form.errors) == {"warning_discharge"}
    form = ParameterForm(flood, parameters=["x1"])
    flood.warning_discharge = 100.0  # the twin itself now breaks the rule the form cannot show
    form.set_values({"x1": 400.0})
    assert set(form.errors) == {""} and 'role="alert"' in form.form_message.value


def test_values_and_value_traitlet_follow_edits(flood):
    form = ParameterForm(flood, parameters=["x1", "warmup_days"])
    changes = []
    form.observe(lambda change: changes.append(change.new), "value")
    form.control("warmup_days").value = 30
    assert form.values == {"x1": 350.0, "warmup_days": 30}
    assert changes == [{"x1": 350.0, "warmup_days": 30}]
    form.control("x1").value = 612.3456789123  # a slider's float noise is cleaned
    assert form.values["x1"] == pytest.approx(612.3456789123)
    assert flood.x1 == 350.0 and flood.warmup_days == 365  # the twin is not changed


def test_reset_restores_declared_defaults_not_the_values_at_construction():
    twin = FloodTwin(registry=False, x1=800.0, warmup_days=10)
    form = ParameterForm(twin)
    assert form.values["x1"] == 800.0
    form.control("x2").value = -3.0
    form.reset_button.click()
    assert form.values == {
        name: FloodTwin.param[name].default for name in FloodTwin.parameter_names()
    }
    assert form.control("x1").value == 350.0 and form.control("x2").value == 0.0
    assert form.valid


def test_apply_copies_valid_values_and_refuses_invalid_ones(flood):
    form = ParameterForm(flood, parameters=["x1", "watch_discharge"])
    form.set_values({"x1": 900.0, "watch_discharge": 180.0})
    form.apply()
    assert flood.x1 == 900.0 and flood.watch_discharge == 180.0
    form.set_values({"watch_discharge": 1000.0})  # above warning (250) and danger (350)
    with pytest.raises(ParameterError, match="thresholds must rise"):
        form.apply()
    assert flood.watch_discharge == 180.0
    with pytest.raises(ParameterError, match="no parameter 'x2'"):
        form.set_values({"x2": 1.0})


def test_detector_and_calorimeter_cross_checks_mark_their_parameters():
    detector = ParameterForm(DetectorNoiseTwin(registry=False))
    detector.set_values({"q_min": 80.0, "q_max": 40.0})
    assert set(detector.errors) == {"q_min", "q_max"}
    calorimeter = ParameterForm(CalorimeterTwin(registry=False))
    calorimeter.set_values({"lowest_energy": 200.0, "beam_energy": 100.0})
    assert {"lowest_energy", "beam_energy", "energy_points"} <= set(calorimeter.errors)


def test_dates_choices_text_and_files(tmp_path):
    form = ParameterForm(GaugeTwin(registry=False))
    assert isinstance(form.control("start"), widgets.DatePicker)
    assert form.control("issued").value == dt.date(2021, 6, 1)  # shown as its day
    start, end = form._fields["period"].controls
    assert (start.description, end.description) == ("period from", "period to")
    assert (start.value, end.value) == (dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert isinstance(form.control("mode"), widgets.Dropdown)
    assert isinstance(form.control("verbose"), widgets.Checkbox)
    assert isinstance(form.control("label"), widgets.Text)
    assert isinstance(form.control("gain"), widgets.FloatText)  # unbounded
    assert form.valid

    start.value, end.value = dt.date(2020, 6, 1), dt.date(2020, 3, 1)
    assert set(form.errors) == {"period"}
    end.value = dt.date(2020, 9, 1)
    assert form.values["period"] == (dt.date(2020, 6, 1), dt.date(2020, 9, 1)) and form.valid

    form.control("rating").value = str(tmp_path / "missing.csv")
    assert set(form.errors) == {"rating"} and "not found" in form.errors["rating"]
    saved = upload(form, "rating", "rating.csv", b"h,q\n1,2\n")
    assert saved.endswith("rating.csv") and Path(saved).read_bytes() == b"h,q\n1,2\n"
    assert form.valid
    form.reset()
    assert form.values["rating"] is None and form.control("rating").value == ""
    form.close()  # the page closed: the uploaded file goes too
    assert not Path(saved).parent.exists()
