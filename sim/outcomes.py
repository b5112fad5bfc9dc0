"""Named outcomes of a run: the quantities a calibration target (``sim.calibrate``) compares
with an observation.

Each outcome is a documented function ``fn(run, years, **args) -> float`` of one finished run
(:class:`Run`: the run's tables plus the pairs open at each energy assessment), registered by
name in :data:`OUTCOMES`. ``years`` is ``(first, last)``: a target's ``year`` (first = last) or
its ``window`` (inclusive). Extra arguments (``measure``, ``programme``) are named by the outcome
(:attr:`Outcome.args`) and given in the target. An outcome that is undefined in a run (no
assessment happened in the window) returns NaN; the calibration treats it as infinitely far
from the observation.

Outcomes here (units in the names):

* ``implementation_rate_after_assessment`` -- share of the measures an auditor would
  recommend at an energy assessment that the firm adopts within 12 months (the US DOE
  Industrial Assessment Centers' figure; Anderson & Newell 2004). Recommended: positive NPV at
  the auditor's 10 %/yr over the measure's lifetime (``sim.validation.field``'s rule).
* ``payback_threshold_months_after_assessment`` -- simple payback (months) at which a logit of
  adoption-within-12-months on payback crosses 50 %, over recommended pairs (Anderson & Newell
  2002: most plants require 15 months or less). Both take an optional ``programme``: count only
  the assessments of that mechanism (e.g. ``cost_share``); default every assessment.
* ``adopted_share`` -- share of the firms a ``measure`` applies to that have adopted it at the
  end of ``year`` (the monthly time series ``adopted_share_<measure>``).
* ``aware_share`` -- the same for awareness (``aware_share_<measure>``).
* ``adoptions_per_yr`` -- adoptions (firm x measure) per year over the window (optionally of
  one ``measure``).
* ``cost_share_projects_per_yr`` -- co-funded projects of the cost-share programme per year
  over the window (``summary.json``: ``cost_share_projects_by_year``).
* ``assessments_per_yr`` -- energy assessments per year over the window (time series).
* ``emissions_t_co2`` -- scope 1 + 2 emissions of all firms in ``year``, t CO2.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

#: months after an assessment in which an adoption counts as implementing the recommendation
#: (Anderson & Newell 2004 use the IAC's follow-up call 6-12 months after the visit)
FOLLOW_UP_MONTHS = 12


# -- the run an outcome reads ---------------------------------------------------------------
@dataclass
class Run:
    """One finished run: ``results`` (:class:`sim.results.RunResults`: time series, firm panel,
    adoptions, summary) and ``assessments`` (one row per (firm, measure) pair open at an
    energy assessment: :meth:`AssessmentRecorder.table`)."""

    results: object
    assessments: pd.DataFrame = field(default_factory=pd.DataFrame)
    start_year: int = 0
    end_year: int = 0


class AssessmentRecorder:
    """Observer for :func:`sim.job.run_model`: subscribes to the engine's ``assessment``
    event and records, for every assessed firm, the decision terms of each measure open to it
    at that moment (aware, applicable, not adopted) -- what an auditor's report would list."""

    def __init__(self) -> None:
        self._rows: list[dict] = []
        self._engine = None

    def __call__(self, engine) -> None:
        self._engine = engine
        engine.subscribe("assessment", self._record)

    def _record(self, month, firms, source) -> None:
        if len(firms) == 0:
            return
        a = np.asarray(firms, dtype=np.int64)
        tm = self._engine.terms(a)
        r, k = np.nonzero(tm.open)
        self._rows.append(dict(firm=a[r], measure=k, month=np.full(len(r), int(month)), source=np.full(len(r), str(source)),
                               capex_usd=tm.capex[r, k].astype(float), saving_usd_per_yr=tm.saving[r, k].astype(float),
                               net_value_usd_per_yr=tm.net_value[r, k].astype(float)))

    def table(self, lifetime_yr, adoptions: pd.DataFrame) -> pd.DataFrame:
        """The recorded pairs with ``recommended`` (NPV > 0 at the auditor's rate),
        ``payback_yr`` and ``adopted`` (within :data:`FOLLOW_UP_MONTHS`, from the run's
        adoption table). ``lifetime_yr``: [K] lifetimes of the catalogue's measures."""
        from .decision import annuity_factor
        from .validation.field import AUDITOR_RATE_PER_YR

        cols = ["firm", "measure", "month", "source", "capex_usd", "saving_usd_per_yr", "net_value_usd_per_yr"]
        if not self._rows:
            return pd.DataFrame({c: [] for c in cols + ["payback_yr", "recommended", "adopted_month", "adopted"]})
        d = pd.DataFrame({c: np.concatenate([x[c] for x in self._rows]) for c in cols})
        life = np.asarray(lifetime_yr, dtype=float)[d["measure"].to_numpy()]
        npv = d["net_value_usd_per_yr"].to_numpy() * annuity_factor(np.full(len(d), AUDITOR_RATE_PER_YR), life) - d["capex_usd"].to_numpy()
        d["payback_yr"] = d["capex_usd"] / np.maximum(d["saving_usd_per_yr"], 1e-9)
        d["recommended"] = (npv > 0) & (d["saving_usd_per_yr"] > 0)
        first = (pd.DataFrame({"firm": adoptions["firm"].to_numpy(), "measure": adoptions["measure"].cat.codes.to_numpy(),
                               "adopted_month": adoptions["month"].to_numpy()})
                 .groupby(["firm", "measure"], as_index=False)["adopted_month"].min()) if len(adoptions) else \
            pd.DataFrame({"firm": [], "measure": [], "adopted_month": []})
        d = d.merge(first.astype({"firm": np.int64, "measure": np.int64}), on=["firm", "measure"], how="left")
        am = d["adopted_month"].to_numpy(dtype=float)
        d["adopted"] = (am >= d["month"]) & (am < d["month"] + FOLLOW_UP_MONTHS)
        return d


def simulate(config, observers=()) -> Run:
    """Run ``config`` (a checked :class:`~sim.params.Config`) with an
    :class:`AssessmentRecorder`: the :class:`Run` every outcome reads."""
    from .job import run_model

    rec = AssessmentRecorder()
    results = run_model(config, observers=(rec, *observers))
    life = [m.lifetime_yr for m in config.measures.catalogue]
    return Run(results, rec.table(life, results.adoptions), int(config.start_year), int(config.end_year))


# -- the registry ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """A named outcome: ``fn(run, years, **args) -> float``; ``when`` = "year" (one year) or
    "window" (a range of years, a year also accepted); ``args``: required extra arguments;
    ``optional``: allowed extra arguments; ``follow_up_years``: years the run must go on after
    the window (an adoption within 12 months of an assessment must fall inside the run)."""

    name: str
    fn: Callable
    unit: str
    doc: str
    when: str = "year"
    args: tuple = ()
    optional: tuple = ()
    follow_up_years: int = 0


def _assessed(run: Run, years, programme=None) -> pd.DataFrame:
    a = run.assessments
    if not len(a):
        return a
    y = run.start_year + a["month"].to_numpy() // 12
    keep = (y >= years[0]) & (y <= years[1]) & a["recommended"].to_numpy()
    if programme is not None:
        keep &= a["source"].to_numpy() == programme
    return a[keep]


def implementation_rate_after_assessment(run: Run, years, programme=None) -> float:
    """Share of recommended (firm, measure) pairs of assessments in ``years`` adopted within
    12 months."""
    a = _assessed(run, years, programme)
    return float(a["adopted"].mean()) if len(a) else float("nan")


def payback_threshold_months_after_assessment(run: Run, years, programme=None) -> float:
    """Payback (months) at which adoption within 12 months of an assessment crosses 50 %
    (logit of adoption on simple payback over recommended pairs); NaN if adoption does not
    fall with payback."""
    from .validation.field import logit_fit

    a = _assessed(run, years, programme)
    y = a["adopted"].to_numpy(dtype=float) if len(a) else np.zeros(0)
    if len(a) < 10 or y.min() == y.max():
        return float("nan")
    b = logit_fit(a["payback_yr"].to_numpy()[:, None], y)
    return float(-b[0] / b[1] * 12.0) if b[1] < 0 else float("nan")


def _year_end_row(run: Run, year: int) -> pd.Series:
    ts = run.results.timeseries
    return ts[ts["year"] == year].iloc[-1]


def adopted_share(run: Run, years, measure: str) -> float:
    """Share of the firms ``measure`` applies to that have adopted it at the end of the year."""
    return float(_year_end_row(run, years[1])[f"adopted_share_{measure}"])


def aware_share(run: Run, years, measure: str) -> float:
    """Share of the firms ``measure`` applies to that know it at the end of the year."""
    return float(_year_end_row(run, years[1])[f"aware_share_{measure}"])


def adoptions_per_yr(run: Run, years, measure=None) -> float:
    """Adoptions per year over the window (of ``measure`` if given)."""
    a = run.results.adoptions
    keep = (a["year"] >= years[0]) & (a["year"] <= years[1])
    if measure is not None:
        keep &= a["measure"].astype(str) == measure
    return float(keep.sum()) / (years[1] - years[0] + 1)


def cost_share_projects_per_yr(run: Run, years) -> float:
    """Co-funded projects of the cost-share programme per year over the window."""
    by = run.results.summary.get("cost_share_projects_by_year", {}) or {}
    return float(sum(float(by.get(str(y), 0) or 0) for y in range(years[0], years[1] + 1))) / (years[1] - years[0] + 1)


def assessments_per_yr(run: Run, years) -> float:
    """Energy assessments per year over the window."""
    ts = run.results.timeseries
    keep = (ts["year"] >= years[0]) & (ts["year"] <= years[1])
    return float(ts.loc[keep, "assessments"].sum()) / (years[1] - years[0] + 1)


def emissions_t_co2(run: Run, years) -> float:
    """Scope 1 + 2 emissions of all firms in the year, t CO2."""
    em = run.results.summary["emissions_t_co2_by_year"]
    v = em.get(years[1], em.get(str(years[1])))
    return float("nan") if v is None else float(v)


OUTCOMES: dict[str, Outcome] = {o.name: o for o in (
    Outcome("implementation_rate_after_assessment", implementation_rate_after_assessment, "share",
            implementation_rate_after_assessment.__doc__, "window", optional=("programme",), follow_up_years=1),
    Outcome("payback_threshold_months_after_assessment", payback_threshold_months_after_assessment, "months",
            payback_threshold_months_after_assessment.__doc__, "window", optional=("programme",), follow_up_years=1),
    Outcome("adopted_share", adopted_share, "share", adopted_share.__doc__, "year", args=("measure",)),
    Outcome("aware_share", aware_share, "share", aware_share.__doc__, "year", args=("measure",)),
    Outcome("adoptions_per_yr", adoptions_per_yr, "adoptions/yr", adoptions_per_yr.__doc__, "window", optional=("measure",)),
    Outcome("cost_share_projects_per_yr", cost_share_projects_per_yr, "projects/yr", cost_share_projects_per_yr.__doc__, "window"),
    Outcome("assessments_per_yr", assessments_per_yr, "assessments/yr", assessments_per_yr.__doc__, "window"),
    Outcome("emissions_t_co2", emissions_t_co2, "t CO2", emissions_t_co2.__doc__, "year"),
)}


def evaluate(name: str, run: Run, years: tuple[int, int], args: dict | None = None) -> float:
    """The outcome ``name`` of ``run`` over ``years`` (NaN if undefined in this run)."""
    return OUTCOMES[name].fn(run, tuple(years), **(args or {}))
