"""A mechanism written only against the public interface (``sim.mechanisms.Mechanism`` and
``sim.engine.Engine``), here in the test file, runs in a scenario and acts on firms; the
engine keeps plug-ins out of its arrays and publishes its events."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hydra.core.global_hydra import GlobalHydra

from sim.mechanisms import Mechanism, register
from sim.model import ClusterModel
from sim.params import to_config
from sim.run import compose


@register("test_audit_vouchers")
class AuditVouchers(Mechanism):
    """Each January, ``audits_per_yr`` random firms get a free energy audit: they learn every
    applicable measure and shed ``hidden_cost_relief_share`` of their hidden costs."""

    @dataclass
    class Params:
        audits_per_yr: int = 100
        hidden_cost_relief_share: float = 0.8

    def setup(self, engine):
        self.stream = engine.spawn_stream()
        self.audited = np.zeros(engine.n_firms, bool)
        self.adoptions_by_audited = 0
        self.years_closed = []
        engine.subscribe("adoption", self.count)
        engine.subscribe("year_closed", lambda year: self.years_closed.append(year))

    def new_year(self, engine):
        pool = np.flatnonzero(~self.audited)
        firms = np.sort(self.stream.choice(pool, size=min(self.params.audits_per_yr, len(pool)), replace=False))
        self.learned = int(engine.inform(firms, source=self.name).sum())
        engine.relieve("hidden_costs", firms, self.params.hidden_cost_relief_share)
        self.audited[firms] = True

    def count(self, month, batch):
        self.adoptions_by_audited += int(self.audited[batch.firm].sum())

    def summary(self, engine):
        return {"audited": int(self.audited.sum()), "adoptions_by_audited": self.adoptions_by_audited}


def _model(*overrides):
    try:
        cfg = compose(["scenario=mx_cluster", "n_firms=600", "end_year=2029", *overrides])
    finally:
        GlobalHydra.instance().clear()
    return ClusterModel(to_config(cfg), lazy_firm_agents=True)


def test_a_mechanism_written_against_the_interface_runs_and_acts_on_firms():
    with_audits = _model("policy=none", "+scenario.programmes.test_audit_vouchers.audits_per_yr=120")
    aware_before = with_audits.firms.aware.sum()
    with_audits.run()
    plain = _model("policy=none")
    plain.run()
    mech = next(m for m in with_audits.mechanisms if isinstance(m, AuditVouchers))
    assert mech.audited.sum() == 5 * 120  # one round a year, 2025-2029
    assert mech.years_closed == [2025, 2026, 2027, 2028, 2029]  # the engine's year_closed events
    assert mech.adoptions_by_audited > 0
    # the counters the engine keeps match the firm table after the mechanism informed firms
    assert np.array_equal(with_audits.aware_count, with_audits.firms.aware.sum(axis=0))
    assert with_audits.firms.aware.sum() > aware_before
    # audits (information + hidden costs relieved) raise adoption against the same seed without them
    assert with_audits.adopter_count.sum() > plain.adopter_count.sum()
    assert (with_audits.firms.hidden_cost_relief[mech.audited] >= np.float32(0.8)).all()


def test_the_firm_table_is_read_only_through_the_engine():
    m = _model("policy=none")
    with pytest.raises(ValueError):
        m.engine.firms.aware[0, 0] = True
    with pytest.raises(AttributeError):
        m.engine.firms.aware = None
    with pytest.raises(ValueError):
        m.engine.scope1_rate[0] = 0.0


def test_budget_exhausted_is_published_once_with_its_month():
    m = _model("policy=incentive_package", "policy.capex_subsidy.budget_usd=20000")
    seen = []
    m.engine.subscribe("budget_exhausted", lambda month, name: seen.append((name, month)))
    m.run()
    names = [n for n, _ in seen]
    assert names.count("capex_subsidy") == 1
    month = dict(seen)["capex_subsidy"]
    assert m.instruments["capex_subsidy"].exhausted_month == month
    assert m.instruments["capex_subsidy"].spent_usd <= 20000 + 1e-6


def test_unknown_events_are_refused():
    m = _model("policy=none")
    with pytest.raises(ValueError, match="unknown event"):
        m.engine.subscribe("adoptoin", print)


@pytest.mark.parametrize("override, key", [
    ("+scenario.programmes.test_audit_vouchers.hidden_cost_relief_share=nan", "hidden_cost_relief_share"),
    ("+scenario.programmes.white_certificates.penalty_usd_per_mwh=-3", "penalty_usd_per_mwh"),
    ("+scenario.programmes.white_certificates.certificate_price_usd_per_mwh=inf", "certificate_price_usd_per_mwh"),
])
def test_programme_parameters_are_checked_by_the_generic_validator(override, key):
    """A mechanism's parameters get the schema's field checks: every float finite, declared
    bounds enforced, the full key named."""
    from sim.compose import check
    from sim.params import ConfigError

    try:
        cfg = compose(["scenario=mx_cluster", override])
    finally:
        GlobalHydra.instance().clear()
    with pytest.raises(ConfigError, match=key) as err:
        check(to_config(cfg))
    assert str(err.value).startswith("scenario.programmes.") and "\n" not in str(err.value)


def test_end_is_called_once_after_the_last_month():
    calls = []

    class Probe(AuditVouchers):
        def end(self, engine):
            calls.append((engine.month, engine.n_months))

    m = _model("policy=none", "+scenario.programmes.test_audit_vouchers.audits_per_yr=1")
    probe = next(x for x in m.mechanisms if isinstance(x, AuditVouchers))
    probe.__class__ = Probe
    m.run()
    m.step()  # a step after the end does nothing
    assert calls == [(m.n_months - 1, m.n_months)]
