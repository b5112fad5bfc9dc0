"""Population templates (sim/template.py): a model built on a copy of its population's template
equals, table for table, a fresh build of the same config -- in every scenario, under every
policy and under changed mechanism parameters (the Bajio centre's levers among them), with one
template reused by all of them; any other change gets its own template; the population phase
cannot read a mechanism key."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import make_config
from sim.design_eval import with_updates
from sim.job import finish
from sim.model import ClusterModel
from sim.scenarios import available
from sim.mechanism_keys import MechanismKeyRead, population_key
from sim.template import PopulationCache

CPC = "scenario.programmes.cleaner_production_centre."
#: changed mechanism parameters per scenario (beyond the package, a start-year carbon price and every instrument off)
LEVERS = {
    "bajio_cpi": [{CPC + "copay_share": 0.3, CPC + "quota_projects_per_yr": [5, 30, 10], CPC + "assessments_per_yr": 120,
                   CPC + "courses_per_yr": 0, CPC + "awareness_events_per_yr": 10},
                  {CPC + "enabled": False}],
    "mx_cluster": [{"policy.capex_subsidy.enabled": True, "policy.capex_subsidy.subsidy_share": 0.5,
                    "policy.workshops.enabled": True}],
}


def _same(a, b):
    for name in ("adoptions", "timeseries", "firms", "expiries"):
        if hasattr(a, name):
            pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    assert a.summary == b.summary


def _small(cfg, **extra):
    return with_updates(cfg, {"n_firms": min(int(cfg.n_firms), 300), "end_year": max(cfg.start_year + 4, 2027),
                              "write_firm_panel": True, **extra})


INSTRUMENTS = ("capex_subsidy", "cost_share", "green_loan", "training", "workshops", "carbon_price")


@pytest.mark.parametrize("scenario", [s.name for s in available()])
def test_runs_on_a_shared_template_equal_fresh_builds(scenario):
    cache = PopulationCache()
    package = _small(make_config(f"scenario={scenario}", "policy=incentive_package"))
    start = package.start_year
    configs = [package,
               # a carbon price in force in the start year: the mechanisms' setup shapes the initial stock
               with_updates(package, {"policy.carbon_price.enabled": True, "policy.carbon_price.start_year": start,
                                      "policy.carbon_price.price_usd_per_t_co2": 300.0}),
               with_updates(package, {f"policy.{i}.enabled": False for i in INSTRUMENTS})]
    configs += [with_updates(package, ups) for ups in LEVERS.get(scenario, [])]
    stocks = []
    for cfg in configs:
        fresh = ClusterModel(cfg, lazy_firm_agents=True)
        shared = cache.model(cfg)
        for a, b in zip(fresh.initial_stock, shared.initial_stock):
            np.testing.assert_array_equal(a, b)
        stocks.append(len(fresh.initial_stock[0]))
        _same(finish(fresh), finish(shared))
    assert cache.built == 1 and cache.reused == len(configs) - 1  # one population for every variant
    if scenario in ("mx_cluster", "bajio_cpi"):  # (else the carbon-price variant proves nothing)
        assert stocks[1] != stocks[0], "a start-year carbon price should change the initial stock"


def test_bajio_centre_levers_act_and_share_the_template():
    """The design search's levers change the run (else the equality above proves little)."""
    cache = PopulationCache()
    base = _small(make_config("scenario=bajio_cpi"), seed=3)
    a = finish(cache.model(base))
    b = finish(cache.model(with_updates(base, LEVERS["bajio_cpi"][0])))
    assert cache.built == 1
    assert a.summary != b.summary


def test_any_other_change_builds_its_own_template():
    cache = PopulationCache()
    base = _small(make_config("scenario=mx_cluster"))
    others = [{"seed": 7}, {"behaviour.peer_awareness_per_month": 0.05}, {"n_firms": 250},
              {"scenario.prices_usd_per_mwh.electricity.points": {2025: 90.0}}]
    cache.model(base)
    for i, ups in enumerate(others):
        try:
            cfg = with_updates(base, ups)
        except Exception:  # noqa: BLE001 - a key this scenario spells otherwise: skip it
            continue
        assert population_key(cfg) != population_key(base)
        fresh = finish(ClusterModel(cfg, lazy_firm_agents=True))
        _same(finish(cache.model(cfg)), fresh)
    assert cache.reused == 0
    template = ClusterModel.population(base)
    with pytest.raises(ValueError, match="not a mechanism"):
        ClusterModel.from_population(template, with_updates(base, {"seed": 7}))


def test_the_population_phase_cannot_read_a_mechanism_key(monkeypatch):
    import sim.model as model_module

    real = model_module.output_index

    def reads_a_programme(scenario, *a):  # a plausible future bug: growth read from a programme
        _ = scenario.programmes.get("cleaner_production_centre")
        return real(scenario, *a)

    monkeypatch.setattr(model_module, "output_index", reads_a_programme)
    with pytest.raises(MechanismKeyRead, match="scenario.programmes"):
        ClusterModel(_small(make_config("scenario=mx_cluster")))


def test_memoised_programme_parameters_are_still_validated_against_each_config():
    """parse_params converts a raw mapping once, but checks it against every config it is
    given, and hands each caller its own object."""
    import copy

    from sim.mechanisms import parse_params
    from sim.params import ConfigError

    cfg = make_config("scenario=bajio_cpi")
    raw = cfg.scenario.programmes["cleaner_production_centre"]
    a, b = (parse_params("cleaner_production_centre", raw, cfg) for _ in range(2))
    assert a == b and a is not b
    renamed = copy.deepcopy(cfg)
    target = a.target_sectors[0]
    next(s for s in renamed.scenario.sectors if s.name == target).name = "renamed"
    with pytest.raises(ConfigError, match="target_sectors"):
        parse_params("cleaner_production_centre", raw, renamed)
