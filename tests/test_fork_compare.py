"""sim.compare shares histories: a run whose policy differs from another run's only by
instruments starting in a later year continues that run's state from the start of the year
(sim/snapshot.py's fork) instead of simulating it again; every table it writes is the one of
the full runs, byte for byte."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from conftest import make_config
from sim.compare import Request, compare, share_histories

TESTS = Path(__file__).resolve().parent
#: tests/configs/policy: carbon_price_2030 (a price from 2030) and training_carbon_2030 (training and
#: workshops from the start, the same price from 2030)
SEARCH = f"hydra.searchpath=[file://{TESTS / 'configs'}]"
SMALL = ["n_firms=300", "end_year=2031", "write_firm_panel=false", SEARCH]


def _cfg(*over):
    return make_config("scenario=mx_cluster", "n_firms=300", "end_year=2031", SEARCH, *over)


def _policy(cfg, **instruments):
    """``cfg`` with instruments of its policy replaced by ``name=dict of changes``."""
    pol = cfg.policy
    for name, changes in instruments.items():
        pol = dataclasses.replace(pol, **{name: dataclasses.replace(getattr(pol, name), **changes)})
    return dataclasses.replace(cfg, policy=pol)


def test_share_histories_forks_only_what_a_full_run_equals():
    none, package = _cfg("policy=none"), _cfg("policy=incentive_package")  # package: instruments from the first month
    c2030 = _policy(none, carbon_price=dict(enabled=True, start_year=2030, price_usd_per_t_co2=20.0))
    c2026 = _policy(c2030, carbon_price=dict(start_year=2026))
    assert share_histories([none, c2030, c2026, package]) == {1: (0, 2030), 2: (0, 2026)}
    # a price from 2030 forks the run of the same price from 2026? no: the instrument is on there
    assert share_histories([c2026, c2030]) == {}
    # nothing to share with a policy acting from the first month, nor when another key differs
    assert share_histories([none, package]) == {}
    other = dataclasses.replace(c2030, behaviour=dataclasses.replace(c2030.behaviour, peer_awareness_per_month=0.05))
    assert share_histories([none, other]) == {}
    # the package without its late instrument is the package's history; the baseline is not
    without = _policy(none, training=dict(enabled=True, budget_usd=6e5))
    tc = _policy(without, carbon_price=dict(enabled=True, start_year=2030, price_usd_per_t_co2=20.0))
    assert share_histories([none, tc, without]) == {1: (2, 2030)}
    # forked at the latest year possible: the first year any added instrument acts
    both = _policy(tc, cost_share=dict(enabled=True, start_year=2028, budget_usd=4e5))
    assert share_histories([without, both]) == {1: (0, 2028)}
    # a price starting at the start year shares nothing (no year is saved)
    assert share_histories([none, _policy(c2030, carbon_price=dict(start_year=2025))]) == {}


def _tables(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.suffix in (".parquet", ".json", ".yaml", ".md")}


def test_compare_with_shared_histories_writes_the_tables_of_the_full_runs(tmp_path, caplog):
    import pandas as pd

    from sim.compare import preflight, run_all, variants

    def request(out, share):
        return Request(policies=["carbon_price_2030", "training_carbon_2030"], seeds=[3], out=out,
                       overrides=list(SMALL), share_history=share)

    def run(out, share):
        with caplog.at_level(logging.INFO, logger="sim.compare"):
            caplog.clear()
            compare(request(out, share))
        return caplog.text

    text = run(tmp_path / "shared", True)
    assert "2 of 6 runs continue another run's history" in text and "(2 forked from a shared history)" in text
    assert "carbon_price_2030 from none's run at the start of 2030 (1 seed)" in text
    assert "training_carbon_2030 from training_carbon_2030 without carbon_price's run at the start of 2030" in text
    assert "forked" not in run(tmp_path / "full", False)
    shared, full = _tables(tmp_path / "shared"), _tables(tmp_path / "full")
    assert set(shared) == set(full) and len(full) > 25
    assert [k for k in full if shared[k] != full[k]] == []
    # the late carbon price did change the result (else equal tables prove nothing)
    t = pd.read_parquet(tmp_path / "full" / "compare_by_seed.parquet")
    assert (t.loc[t["policy"] == "carbon_price_2030", "emissions_abated_t_co2"] != 0).all()
    # a killed comparison re-run: a forked run's folder lost -> forked again from the root's history,
    # the root's complete folder kept as it was
    runs = tmp_path / "shared" / "runs"
    (runs / "carbon_price_2030" / "seed=3" / "summary.json").unlink()
    stamp = (runs / "none" / "seed=3" / "summary.json").stat().st_mtime_ns
    req = request(tmp_path / "shared", True)
    with caplog.at_level(logging.INFO, logger="sim.compare"):
        caplog.clear()
        run_all(req, tmp_path / "shared", variants(req, preflight(req))[0])
    assert "(1 forked from a shared history)" in caplog.text
    assert (runs / "none" / "seed=3" / "summary.json").stat().st_mtime_ns == stamp
    assert _tables(tmp_path / "shared") == full


def test_share_history_is_checked(tmp_path):
    from sim.compare import parse_args
    from sim.compose import BadInput

    assert parse_args(["policies=[carbon_price]", "share_history=false"]).share_history is False
    with pytest.raises(BadInput, match="share_history = 'maybe': true or false"):
        parse_args(["policies=[carbon_price]", "share_history=maybe"])
