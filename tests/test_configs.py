"""Every shipped config composes and validates, alone and with every policy."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, make_config

SCENARIOS = sorted(p.stem for p in (REPO / "configs" / "scenario").glob("*.yaml"))
POLICIES = sorted(p.stem for p in (REPO / "configs" / "policy").glob("*.yaml"))
MEASURES = sorted(p.stem for p in (REPO / "configs" / "measures").glob("*.yaml"))


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("policy", POLICIES)
def test_scenario_and_policy_compose(scenario, policy):
    cfg = make_config(f"scenario={scenario}", f"policy={policy}")
    assert cfg.scenario.name and cfg.policy.name == policy


@pytest.mark.parametrize("measures", MEASURES)
def test_measure_catalogues_compose_and_cite_sources(measures):
    cfg = make_config(f"measures={measures}")
    assert cfg.measures.catalogue
    assert all(m.source.strip() for m in cfg.measures.catalogue)


def test_default_catalogue_covers_the_required_measure_families():
    names = {m.name for m in make_config().measures.catalogue}
    assert len(names) >= 12
    for need in ("motors_vsd", "compressed_air_leaks", "led_lighting", "boiler_steam_upgrade", "waste_heat_recovery",
                 "cleaner_production", "energy_management_system", "rooftop_pv", "heat_pump_low_temp",
                 "fuel_switch_oil_to_gas", "green_hydrogen_high_temp", "carbon_capture", "fleet_electrification"):
        assert need in names


def test_every_trajectory_and_calibration_cites_a_source():
    for scenario in SCENARIOS:
        sc = make_config(f"scenario={scenario}").scenario
        for group in (sc.prices_usd_per_mwh, sc.emission_factors_t_co2_per_mwh):
            assert all(t.source.strip() for t in group.values()), scenario
