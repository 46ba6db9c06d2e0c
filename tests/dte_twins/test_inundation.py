"""Flood mapping and damage: HAND against a cell-by-cell reference, the V valley of SCIENCE.md,
the JRC depth-damage curve, and the flood twin's impacts on a terrain."""

import numpy as np
import pytest
import xarray as xr

from dte_twins.environment.damage import asset_damage, damage_fraction
from dte_twins.environment.flood import FloodTwin
from dte_twins.environment.gr4j import simulate as gr4j_simulate
from dte_twins.environment.inundation import flood_impacts, prepare_terrain
from dte_twins.environment.terrain import height_above_nearest_drainage
from dte_twins.errors import InputError
from tests.dte_twins.reference_flood import gr4j_reference, hand_reference
from tests.dte_twins.synthetic import valley


def test_hand_matches_the_cell_by_cell_reference():
    rng = np.random.default_rng(5)
    rough = rng.normal(0, 1, (30, 40)).cumsum(0).cumsum(1) + rng.normal(0, 2, (30, 40))
    fast = height_above_nearest_drainage(rough, 30.0, 25.0, channel_cells=20)
    slow = hand_reference(rough, 30.0, 25.0, channel_cells=20)
    np.testing.assert_allclose(fast["filled"], slow["filled"], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(fast["accumulation"], slow["accumulation"])
    np.testing.assert_array_equal(fast["channel"], slow["channel"])
    np.testing.assert_allclose(fast["hand"], slow["hand"], atol=1e-9, equal_nan=True)
    assert (fast["filled"] >= rough).all()
    assert np.nanmin(fast["hand"]) == 0.0


def test_a_v_valley_floods_200_m_wide_at_2_m_stage():
    # SCIENCE.md A, test 3: z = 0.02|x|, stage 2 m → flooded where |x| < 100 m.
    terrain = prepare_terrain(valley(cell_m=1.0, length_m=60.0, width_m=400.0))
    depth = flood_impacts(terrain, np.array([2.0]), 600.0)["max_depth"]
    middle_row = depth[depth.shape[0] // 2]
    assert (middle_row > 0).sum() == pytest.approx(200, abs=1)
    centre = terrain.x.to_numpy() == 0
    assert middle_row[centre] == pytest.approx(2.0, abs=1e-3)


def test_flooded_area_and_damage_grow_with_the_stage():
    terrain = prepare_terrain(valley())
    impacts = flood_impacts(terrain, np.linspace(0, 4, 9), 600.0)
    assert np.all(np.diff(impacts["flooded_area"]) >= 0)
    assert np.all(np.diff(impacts["damage"]) >= 0)
    assert impacts["damage"][0] == 0 and impacts["damage"][-1] > 0
    # damage at the peak stage is computed exactly from the peak depth map
    assert impacts["damage"][-1] == pytest.approx(impacts["peak_damage"], rel=1e-9)


def test_jrc_european_residential_curve():
    assert damage_fraction([0.0, 0.5, 0.75, 2.0, 6.0, 9.0]) == pytest.approx(
        [0.0, 0.25, 0.325, 0.60, 1.0, 1.0]
    )
    assert damage_fraction(np.nan) == 0.0
    assert asset_damage(1.0, 100.0, 600.0) == pytest.approx(100 * 600 * 0.40)


def test_vectorised_gr4j_matches_the_day_by_day_reference(forcing):
    p, e = forcing.precipitation.to_numpy(), forcing.pet.to_numpy()
    x1, x2, x3, x4 = [350.0, 800.0], [0.0, -1.5], [90.0, 40.0], [1.7, 3.3]
    fast, _ = gr4j_simulate(p, e, np.array(x1), np.array(x2), np.array(x3), np.array(x4))
    np.testing.assert_allclose(fast["discharge"], gr4j_reference(p, e, x1, x2, x3, x4), rtol=1e-12)


def test_more_rain_floods_more_land_and_damages_more(forcing):
    terrain = valley()
    base = FloodTwin(forcing=forcing, terrain=terrain, registry=False).run()
    wetter = forcing.assign(precipitation=forcing.precipitation * 1.5)
    more = FloodTwin(forcing=wetter, terrain=terrain, registry=False).run()
    assert more.flooded_area.max() > base.flooded_area.max() > 0
    assert more.peak_damage > base.peak_damage
    assert (more.max_depth >= base.max_depth).all()
    assert more.max_depth.dims == ("y", "x") and more.max_depth.attrs["units"] == "m"


def test_ensemble_maps_the_chance_of_flooding_and_alerts_on_impacts(forcing, in_process_client):
    twin = FloodTwin(forcing=forcing, terrain=valley(), registry=False, seed=4)
    result = twin.ensemble(8, client=in_process_client)
    chance = result["max_depth_above_0"]
    assert chance.dims == ("y", "x")
    assert 0 <= chance.min() and chance.max() == 1.0
    assert ((chance > 0) & (chance < 1)).any(), "rainfall uncertainty must blur the flood edge"
    assert "member" not in result.elevation.dims  # the terrain is not repeated per member
    impacts = [a for a in twin.alerts(result) if a.where == "floodplain"]
    assert len(impacts) == 1 and "damage" in impacts[0].message


@pytest.mark.parametrize(
    ("terrain", "words"),
    [
        (xr.Dataset({"height": (("y", "x"), np.zeros((5, 5)))}), ["'elevation'", "height"]),
        (xr.Dataset({"elevation": (("x", "y"), np.zeros((5, 5)))}), ["dims ('y', 'x')"]),
        (
            valley(length_m=100).assign(
                elevation=lambda t: t.elevation.where(t.x != 0).where(t.y != 50)
            ),
            ["finite", "cell (y="],
        ),
        (valley(length_m=100).assign_coords(x=np.r_[0, np.arange(2, 62)] * 10.0), ["'x'"]),
        ("dem.tif", ["xarray Dataset", "str"]),
    ],
)
def test_malformed_terrain_is_refused(forcing, terrain, words):
    with pytest.raises(InputError) as raised:
        FloodTwin(forcing=forcing, terrain=terrain, registry=False)
    for word in words:
        assert word in str(raised.value)


def test_hand_is_computed_once_per_terrain_and_each_caller_gets_its_own(monkeypatch):
    """A twin made again on the same terrain (each dashboard session) reuses its HAND; another
    terrain, or the same one changed in one cell, gets its own; changing a returned HAND changes
    nobody else's."""
    from dte_twins.environment import inundation

    computed = []

    def counting_hand(*args, **kwargs):
        computed.append(1)
        return height_above_nearest_drainage(*args, **kwargs)

    monkeypatch.setattr(inundation, "height_above_nearest_drainage", counting_hand)
    monkeypatch.setattr(inundation, "_hands", type(inundation._hands)())
    first, again = prepare_terrain(valley()), prepare_terrain(valley())
    assert len(computed) == 1
    np.testing.assert_array_equal(first["hand"], again["hand"])
    first["hand"].values[:] = -1.0  # a caller's own copy
    assert not (prepare_terrain(valley())["hand"] == -1.0).any()
    changed = valley()
    changed["elevation"][0, 0] += 5.0
    prepare_terrain(changed)
    assert len(computed) == 2
    for size in range(inundation.HAND_KEPT + 1):  # the oldest is forgotten
        prepare_terrain(valley(width_m=200.0 + 10 * size))
    prepare_terrain(valley())
    assert len(computed) == 2 + inundation.HAND_KEPT + 1 + 1
