"""The schema's declared ranges: one generic validator checks every declared bound, NaN and
+-inf, unknown keys and the cross-field rules, naming the full key (sim/params.py)."""
from __future__ import annotations

import ast
import copy
import math
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from conftest import REPO, make_config
from sim import params as P
from sim.params import ConfigError, declared_specs, to_config, validate


@pytest.fixture(scope="module")
def base():
    return make_config("scenario=mx_cluster", "policy=incentive_package")


def _resolve(cfg, key: str):
    """(parent object, attribute, the key as the validator names it) of a schema key whose
    ``[*]`` parts are taken as the first element of the list or dict."""
    obj, named, parts = cfg, "", key.split(".")
    for i, part in enumerate(parts):
        star = part.endswith("[*]")
        name = part.removesuffix("[*]")
        if i == len(parts) - 1:
            return obj, name, named + name
        obj = getattr(obj, name)
        named += name
        if star:
            if isinstance(obj, dict):
                k = next(iter(obj))
                obj, named = obj[k], f"{named}.{k}"
            else:
                obj, named = obj[0], f"{named}[{obj[0].name}]"
        named += "."
    raise AssertionError(key)


def _bad_settings(spec: P.Spec, current):
    """(new value of the field, what the message must contain) for values the spec rejects."""
    el = spec.each
    if spec.options is not None:
        return [("bogus", "must be one of")]
    if isinstance(current, dict):
        out = []
        if spec.keys is not None:
            out.append(({**current, "bogus": next(iter(current.values()), 0.5)}, "must be one of"))
        if spec.required:
            out.append(({}, spec.required))
        if el is not None and current:
            k = next(iter(current))
            out += [({**current, k: bad}, el.allowed) for bad in el.outside()]
        return out
    if isinstance(current, list):
        if el is not None and el.options is not None:
            return [(["bogus"] + list(current)[1:], "must be one of")]
        rest = list(current)[1:] if current else [0.25] * 3
        out = [([bad] + rest, el.allowed) for bad in el.outside()] if el is not None else []
        if spec.per_size_class:
            out.append((list(current)[:-1], "needs one value per size class"))
        return out
    if spec.required:
        return [("", spec.required)]
    return [(bad, spec.allowed) for bad in spec.outside()]


CASES = [(k, s) for k, s in declared_specs() if s.allowed or s.each or s.required]


def test_the_schema_declares_ranges_across_the_tree():
    keys = {k for k, _ in CASES}
    assert len(keys) >= 80
    for k in ("seed", "n_firms", "policy.capex_subsidy.subsidy_share", "scenario.sectors[*].share_of_firms",
              "scenario.prices_usd_per_mwh[*].points", "measures.catalogue[*].lifetime_yr", "scenario.capability_mean",
              "behaviour.review_interval_months", "scenario.network.small_world_k"):
        assert k in keys, k


@pytest.mark.parametrize("key,spec", CASES, ids=[k for k, _ in CASES])
def test_every_declared_bound_is_checked(base, key, spec):
    parent, attr, named = _resolve(copy.deepcopy(base), key)
    settings = _bad_settings(spec, getattr(parent, attr))
    assert settings, f"{key}: no value to test its spec with"
    for value, words in settings:
        cfg = copy.deepcopy(base)
        parent, attr, named = _resolve(cfg, key)
        setattr(parent, attr, value)
        with pytest.raises(ConfigError) as err:
            validate(cfg)
        msg = str(err.value)
        assert err.value.key.startswith(named), (key, value, msg)
        assert words in msg and "\n" not in msg, (key, value, msg)


@pytest.mark.parametrize("key,value,allowed", [
    ("policy.capex_subsidy.subsidy_share", math.nan, "must be a share in [0, 1]"),
    ("policy.carbon_price.price_usd_per_t_co2", math.inf, "must be a number >= 0 (finite)"),
    ("scenario.network.rewire_share", 1.5, "must be a share in [0, 1]"),
    ("behaviour.customer_pressure_per_yr", -math.inf, "must be a number >= 0 (finite)"),
    ("measures.catalogue[*].capex_change_per_yr", 0.6, "must be in [-0.5, 0.5]"),
    ("scenario.risk_aversion_mean", 1.0, "must be in (0, 1)"),
    ("seed", -1, "must be an integer in [0, 2**63 - 1]"),
    ("seed", 2**63, "must be an integer in [0, 2**63 - 1]"),
    ("n_firms", 10**9 + 1, "must be an integer in [1, 1,000,000,000]"),
    ("policy.cost_share.start_year", 1500, "must be a year between 1900 and 2200 (or 0 = the run's start year)"),
    ("scenario.network.supply_links_per_firm", 1e4, "must be in [0, 1000]"),
    ("policy.workshops.firms_per_workshop", 10**6, "must be an integer in [0, 10,000]"),
    ("policy.name", "../../../somewhere", P.dataclasses.fields(P.PolicyConfig)[0].metadata["spec"].allowed),
])
def test_bad_values_name_full_key_value_and_what_is_allowed(base, key, value, allowed):
    cfg = copy.deepcopy(base)
    parent, attr, named = _resolve(cfg, key)
    setattr(parent, attr, value)
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    assert str(err.value) == f"{named} = {value!r}: {allowed}"


def test_list_elements_and_trajectory_points_are_named(base):
    cfg = copy.deepcopy(base)
    first = cfg.scenario.sectors[0].name
    cfg.scenario.sectors[0].share_of_firms = math.nan
    with pytest.raises(ConfigError, match=rf"scenario\.sectors\[{first}\]\.share_of_firms = nan"):
        validate(cfg)
    cfg = copy.deepcopy(base)
    year = next(iter(cfg.scenario.prices_usd_per_mwh["electricity"].points))
    cfg.scenario.prices_usd_per_mwh["electricity"].points[year] = math.inf
    with pytest.raises(ConfigError, match=rf"scenario\.prices_usd_per_mwh\.electricity\.points\[{year}\] = inf"):
        validate(cfg)
    cfg = copy.deepcopy(base)
    cfg.scenario.hurdle_rate_median_per_yr[2] = 0.0
    with pytest.raises(ConfigError, match=r"scenario\.hurdle_rate_median_per_yr\[medium\] = 0\.0: must be a number > 0"):
        validate(cfg)


def test_caps_and_budgets_may_be_infinite(base):
    cfg = copy.deepcopy(base)
    for inst in (cfg.policy.capex_subsidy, cfg.policy.cost_share, cfg.policy.workshops, cfg.policy.training):
        inst.budget_usd = math.inf
    cfg.policy.capex_subsidy.max_grant_per_project_usd = math.inf
    cfg.policy.green_loan.credit_line_usd = math.inf
    validate(cfg)
    cfg.policy.capex_subsidy.budget_usd = math.nan
    with pytest.raises(ConfigError, match="policy.capex_subsidy.budget_usd = nan"):
        validate(cfg)


@pytest.mark.parametrize("rule,edit,key", [
    ("end >= start", lambda c: setattr(c, "end_year", c.start_year - 1), "end_year"),
    ("shares sum to 1", lambda c: setattr(c.scenario.sectors[0], "share_of_firms", 0.9), "scenario.sectors.share_of_firms"),
    ("known sector", lambda c: c.scenario.clusters[0].sectors.append("spaceships"), "scenario.clusters["),
    ("every carrier", lambda c: c.scenario.prices_usd_per_mwh.pop("hydrogen"), "scenario.prices_usd_per_mwh"),
    ("known measure", lambda c: setattr(c.policy.capex_subsidy, "measures", ["teleporter"]), "policy.capex_subsidy.measures"),
    ("quota not empty", lambda c: setattr(c.policy.cost_share, "quota_projects_per_yr", []), "policy.cost_share.quota_projects_per_yr"),
    ("calibration source", lambda c: setattr(c.scenario, "base_year_emissions_t_co2", 1e6), "scenario.base_year_emissions_source"),
])
def test_cross_field_rules(base, rule, edit, key):
    cfg = copy.deepcopy(base)
    edit(cfg)
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    assert err.value.key.startswith(key), (rule, str(err.value))


def test_unknown_keys_are_rejected_with_their_full_name():
    from sim.compose import compose

    cfg = compose(["+policy.capex_subsidy.extra=1"])
    with pytest.raises(ConfigError, match=r"policy\.capex_subsidy\.extra = 1: unknown key"):
        to_config(cfg)
    cfg = OmegaConf.create(OmegaConf.to_container(compose([])))  # untyped: keys can be added
    name = cfg.scenario.sectors[0].name
    cfg.scenario.sectors[0].bogus = 2
    with pytest.raises(ConfigError, match=rf"scenario\.sectors\[{name}\]\.bogus = 2: unknown key"):
        to_config(cfg)


def test_the_schema_imports_nothing_from_the_engine():
    tree = ast.parse((REPO / "sim" / "params.py").read_text())
    local = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level}
    assert local <= {"errors"}, local


def test_every_shipped_config_is_valid_and_restates_no_default():
    """YAML holds only what differs from the dataclass defaults (sim/params.py)."""
    import dataclasses
    import typing

    import yaml

    def restated(d, cls, key):
        hints, inst, out = typing.get_type_hints(cls), cls(), []
        for k, v in (d or {}).items():
            t = hints.get(k)
            if t is None:
                continue
            args = typing.get_args(t)
            if dataclasses.is_dataclass(t):
                out += restated(v, t, f"{key}{k}.")
            elif args and dataclasses.is_dataclass(args[-1]):
                items = v.items() if isinstance(v, dict) else enumerate(v or [])
                out += [r for _, el in items for r in restated(el, args[-1], f"{key}{k}[].")]
            elif getattr(inst, k) != "???" and getattr(inst, k) == v:
                out.append(f"{key}{k}")
        return out

    found = []
    for f in sorted((REPO / "configs").glob("*/*.yaml")):
        d = yaml.safe_load(f.read_text()) or {}
        if f.parent.name == "policy":
            found += [f"{f.name}: {k}" for k in restated(d, P.PolicyConfig, "")]
        elif f.parent.name == "measures":
            found += [f"{f.name}: {k}" for k in restated(d, P.MeasuresConfig, "")]
        elif f.parent.name == "scenario":
            found += [f"{f.name}: {k}" for k in restated({k: v for k, v in d.items() if k != "scenario"}, P.Config, "")]
            found += [f"{f.name}: {k}" for k in restated(d.get("scenario"), P.ScenarioConfig, "scenario.")]
    assert not found, found


def test_memory_rule_refuses_a_population_beyond_available_memory(base):
    """rule_memory (sim.compose): estimate vs available memory, one line with both figures."""
    from sim.compose import estimated_memory_bytes, rule_memory

    cfg = copy.deepcopy(base)
    cfg.n_firms, cfg.start_year, cfg.end_year = 1_000_000, 2025, 2026
    assert 0.9e9 < estimated_memory_bytes(cfg) < 1.1e9  # measured: 960 MB peak at 1,000,000 firms, 2 years
    rule_memory(cfg, available=4e9)
    with pytest.raises(ConfigError) as err:
        rule_memory(cfg, available=0.5e9)
    msg = str(err.value)
    assert msg.startswith("n_firms = 1000000: needs about 1.0 GB") and "0.5 GB available" in msg and "\n" not in msg


@pytest.mark.parametrize("override,message", [
    ("behaviour.terms.risk=1", "behaviour.terms.risk = 1: must be true or false"),
    ("write_firm_panel=no", "write_firm_panel = 'no': must be true or false"),
    ("end_year=false", "end_year = False: must be a number (int), not true/false"),
    ("measures=null", "measures = None: must name a measures"),
    ("scenario.size_share=[", "scenario.size_share = '[': cannot be parsed"),
])
def test_overrides_are_checked_against_the_declared_type(override, message):
    from sim.compose import compose

    with pytest.raises(ConfigError) as err:
        compose([override])
    assert str(err.value).startswith(message), str(err.value)


def test_valid_booleans_and_interpolations_pass():
    cfg = make_config("behaviour.terms.risk=false", "write_firm_panel=true", "n_firms=${oc.env:UNSET_CFG13,250}")
    assert cfg.behaviour.terms.risk is False and cfg.n_firms == 250


@pytest.mark.parametrize("body, key, value", [
    ("capex_subsidy:\n  enabled: 2\n", "policy.capex_subsidy.enabled", 2),
    ("capex_subsidy:\n  enabled: 'yes'\n", "policy.capex_subsidy.enabled", "yes"),
    ("capex_subsidy:\n  budget_usd: true\n", "policy.capex_subsidy.budget_usd", True),
])
def test_booleans_and_numbers_written_in_config_files_are_checked(tmp_path, monkeypatch, body, key, value):
    """A YAML file the run composes cannot give ``2`` for a boolean (the structured schema
    would turn it into true) nor true/false for a number: one line naming key and file."""
    from sim import compose as compose_mod

    (tmp_path / "policy").mkdir()
    f = tmp_path / "policy" / "mine.yaml"
    f.write_text("name: mine\n" + body)
    monkeypatch.setattr(compose_mod, "CONFIG_DIR", str(tmp_path))
    with pytest.raises(ConfigError) as err:
        compose_mod.check_config_files({"policy": "mine", "hydra/launcher": "local"})
    assert str(err.value).startswith(f"{key} = {value!r}:") and str(f) in str(err.value)


def test_shipped_config_files_pass_the_file_check():
    from sim import compose as compose_mod

    for group in ("scenario", "policy", "measures"):
        for f in sorted((Path(compose_mod.CONFIG_DIR) / group).glob("*.yaml")):
            compose_mod.check_config_files({group: f.stem})
