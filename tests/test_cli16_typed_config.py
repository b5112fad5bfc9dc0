"""Issue 16: ``sim.params.to_config`` of a config Hydra composed (already typed by the schema)
skips merging it into the schema a second time; the object it gives, and the error it raises
for a bad value, are those of the full merge."""
from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from sim.compose import compose, one_line
from sim.params import Config, check_keys, schema_typed, to_config

REPO = Path(__file__).resolve().parent.parent


def _merged(cfg):
    """The full path: merge into ``OmegaConf.structured(Config)``, then ``to_object``."""
    check_keys(cfg)
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Config), cfg))


def _outcome(fn, cfg):
    try:
        return repr(fn(cfg))  # repr: 5 and 5.0, "1" and 1 differ
    except Exception as exc:  # noqa: BLE001 - the error is the outcome compared
        return f"{type(exc).__name__}: {one_line(exc)}"


_SCENARIOS = sorted(p.stem for p in (REPO / "configs" / "scenario").glob("*.yaml"))
_POLICIES = sorted(p.stem for p in (REPO / "configs" / "policy").glob("*.yaml"))
_MEASURES = sorted(p.stem for p in (REPO / "configs" / "measures").glob("*.yaml"))


@pytest.mark.parametrize("overrides", [[f"scenario={s}"] for s in _SCENARIOS]
                         + [[f"policy={p}"] for p in _POLICIES] + [[f"measures={m}"] for m in _MEASURES]
                         + [["scenario=bajio_cpi", "policy=incentive_package", "n_firms=32174", "end_year=2034"],
                            ["+scenario.programmes.extra_centre={}", "seed=7"], ["scenario.sectors=[]"],
                            ["start_year=${end_year}"], ["policy.carbon_price.price_usd_per_t_co2=5"]])
def test_a_composed_config_gives_the_object_of_the_full_merge(overrides):
    cfg = compose(overrides)
    assert schema_typed(cfg)  # the fast path is taken
    assert _outcome(to_config, cfg) == _outcome(_merged, cfg)


@pytest.mark.parametrize("overrides", [["n_firms=${scenario.name}"], ["scenario.name=???"], ["seed=${oc.env:SIM_TEST_NO_SUCH_VAR}"],
                                       ["~measures"], ["policy.carbon_price.start_year=${policy.name}"]])
def test_a_bad_value_raises_the_error_of_the_full_merge(overrides):
    cfg = compose(overrides)
    fast, full = _outcome(to_config, cfg), _outcome(_merged, cfg)
    assert not full.startswith("Config("), full  # the case is an error
    assert fast == full


def test_an_untyped_or_incomplete_config_is_merged_into_the_schema():
    cfg = compose(["scenario=bajio_cpi"])
    untyped = OmegaConf.create(OmegaConf.to_container(cfg))  # e.g. a run folder's config.yaml
    assert not schema_typed(untyped)
    assert repr(to_config(untyped)) == repr(_merged(cfg))
    partial = OmegaConf.create(OmegaConf.to_container(cfg))
    del partial.scenario["network"]  # missing keys take the schema's defaults
    assert not schema_typed(partial)
    assert to_config(partial).scenario.network == Config().scenario.network
    # a typed node whose list of sectors is an interpolation: not walked, merged
    cfg2 = compose(["scenario=bajio_cpi"])
    cfg2.scenario.clusters = "${scenario.sectors}"
    assert not schema_typed(cfg2)
