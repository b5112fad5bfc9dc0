"""Check 4: conservation and book-keeping identities.

Configuration: the default scenario (``mx_cluster``) and measure catalogue under the
``incentive_package`` policy (cost-share programme, capex subsidy, green loans, workshops,
training) plus a carbon price from the first year, so every instrument spends and fuel
switches, carbon capture and stacked measures all occur. The model keeps running totals
(energy by carrier, scope 1/2 rates, adopter counts, spending) updated from each month's
adoptions; here they are compared with quantities recomputed from scratch:

* energy by carrier: running total = firm-table sum = an independent replay of the start-year
  stock, the adoption log and the expiries log on each firm's no-measure base, using only the
  catalogue's shares (removed share of each carrier, MWh of the replacing carrier per MWh
  removed, capture energy penalty at the adoption year's emission factors);
* emissions by carrier: scope 1 = sum over carriers of energy x emission factor (+ process
  CO2), less captured CO2; scope 2 = electricity x grid factor; running totals = firm table;
* registry: each year's total = sum of the per-firm panel = sum of the monthly time series
  = the firm panel of the run tables;
* adoptions: per (firm, measure), start-year stock + adoptions - expiries = the installed flag
  (0 or 1: never adopted while installed); counters = stock + log - expiries;
* spending: each instrument's spending = what its adoptions/activities cost; the sum over
  instruments = the reported total.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import Check, run, savefig

F64_TOL = 1e-9  # relative, identities computed in float64
F32_TOL = 2e-6  # relative, sums of the float32 per-firm registry panel


def overrides(n_firms: int, years: int, seed: int = 3) -> list[str]:
    return [
        "policy=incentive_package",
        f"seed={seed}",
        f"n_firms={n_firms}",
        "start_year=2025",
        f"end_year={2025 + years - 1}",
        "policy.carbon_price.enabled=true",
        "policy.carbon_price.start_year=2025",
        "policy.carbon_price.price_usd_per_t_co2=60",
        "policy.carbon_price.growth_usd_per_t_co2_per_yr=10",
        "policy.carbon_price.min_size_class=micro",
    ]


def _rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = np.maximum(np.abs(b).max() if b.size else 0.0, 1e-12)
    return float(np.max(np.abs(a - b)) / scale) if a.size else 0.0


def installed_in_order(model) -> list[list[tuple[int, int]]]:
    """Per firm, its installed (measure, adoption month) at the end, in adoption order, from
    the logs alone: the start-year stock, then each month's expiries and adoptions."""
    stock_f, stock_k = model.initial_stock
    inst: list[list[tuple[int, int]]] = [[] for _ in range(model.n_firms)]
    for f, k in zip(stock_f.tolist(), stock_k.tolist()):
        inst[f].append((k, -1))
    expiries: dict[int, list] = {}
    for month, f, k, _, _ in model.expiry_log:
        expiries.setdefault(month, []).append((f, k))
    adoptions = dict(model.adoption_log)
    for month in sorted(set(expiries) | set(adoptions)):
        for f, k in expiries.get(month, ()):
            for ff, kk in zip(f.tolist(), k.tolist()):
                inst[ff] = [e for e in inst[ff] if e[0] != kk]
        b = adoptions.get(month)
        if b is not None:
            for ff, kk in zip(b.firm.tolist(), b.measure.tolist()):
                inst[ff].append((kk, month))
    return inst


def replay_energy(model) -> np.ndarray:
    """Final energy by carrier of every firm: its no-measure base with the measures installed
    at the end (from the logs, :func:`installed_in_order`) applied in adoption order, using
    only the catalogue's shares and the adoption year's emission factors (not the engine's
    state-change matrices)."""
    from ..energy import NATURAL_GAS, SCOPE1_CARRIERS

    cat, ft = model.catalogue, model.firms
    e = ft.base_energy_mwh_per_yr.copy()
    inst = installed_in_order(model)
    for r in range(max((len(i) for i in inst), default=0)):
        ff = np.array([f for f, i in enumerate(inst) if len(i) > r], dtype=np.int64)
        kk = np.array([inst[f][r][0] for f in ff], dtype=np.int64)
        month = np.array([inst[f][r][1] for f in ff], dtype=np.int64)
        ef = model.energy.ef_t_co2_per_mwh[np.maximum(month, 0) // 12]
        x = e[ff]
        removed = cat.removes_share[kk] * x
        new = x - removed
        add = cat.adds_carrier[kk]
        has = add >= 0
        new[np.flatnonzero(has), add[has]] += cat.adds_mwh_per_mwh_removed[kk][has] * removed[has].sum(axis=1)
        scope1 = (x * np.where(SCOPE1_CARRIERS[None, :], ef, 0.0)).sum(axis=1) + ft.process_t_co2_per_yr[ff]
        new[:, NATURAL_GAS] += cat.capture_penalty_mwh_per_t_co2[kk] * cat.capture_share[kk] * scope1
        e[ff] = np.maximum(new, 0.0)
    return e


def energy_identities(m, replay: np.ndarray) -> dict[str, float]:
    """Energy by carrier: the running total and an independent replay of the adoption log
    both equal the firm table."""
    ft = m.firms
    return {
        "energy by carrier: running total = firm table": _rel(m.energy_total, ft.energy_mwh_per_yr.sum(axis=0)),
        "energy by carrier: replay of adoption log = firm table (every firm)": _rel(replay, ft.energy_mwh_per_yr),
    }


def emission_identities(m, replay: np.ndarray) -> dict[str, float]:
    """Emissions by carrier: scope 1 = energy x emission factor (+ process CO2), less capture;
    scope 2 = electricity x grid factor; each equals the running total (end-year factors)."""
    from ..energy import ELECTRICITY, SCOPE1_CARRIERS

    ft = m.firms
    ef = m.energy.ef_t_co2_per_mwh[m.year - m.start_year]
    scope1_factor = np.where(SCOPE1_CARRIERS, ef, 0.0)
    s1_by_carrier = (ft.energy_mwh_per_yr * (1.0 - ft.capture_share)[:, None]).sum(axis=0) * scope1_factor
    s1 = s1_by_carrier.sum() + float((ft.process_t_co2_per_yr * (1.0 - ft.capture_share)).sum())
    s2 = float(ft.energy_mwh_per_yr[:, ELECTRICITY].sum() * ef[ELECTRICITY])
    s1_replay = (replay * (1.0 - ft.capture_share)[:, None]).sum(axis=0) * scope1_factor
    return {
        "scope 1: running total = sum over carriers (energy x factor) + process, less capture": _rel(m.total_scope1, s1),
        "scope 1 by carrier: replayed energy x factor = firm table (each carrier)": _rel(s1_replay, s1_by_carrier),
        "scope 2: running total = electricity x grid factor": _rel(m.total_scope2, s2),
    }


def registry_identities(m, res) -> tuple[dict[str, float], dict[str, float]]:
    """Registry: each recorded year's total = the monthly time series (float64 identities)
    and = the per-firm panel of the run tables (float32 panel, second dict)."""
    reg = m.registry
    rec = np.flatnonzero(reg.recorded)
    ts_year = res.timeseries.groupby("year")[["scope1_t_co2", "scope2_t_co2"]].sum()
    ident = {
        "registry: yearly total = sum of monthly time series (scope 1)": _rel(ts_year["scope1_t_co2"].to_numpy(), reg.total_scope1_t[rec]),
        "registry: yearly total = sum of monthly time series (scope 2)": _rel(ts_year["scope2_t_co2"].to_numpy(), reg.total_scope2_t[rec]),
    }
    panel = res.firms.groupby("year", observed=True)["emissions_t_co2"].sum().to_numpy(dtype=float)
    f32 = {"registry: yearly total = sum of per-firm panel (firms.parquet)": _rel(panel, reg.totals()[rec])}
    return ident, f32


def adoption_identities(m, res) -> dict[str, float]:
    """Adoptions: per (firm, measure), start-year stock + adoptions - expiries = the installed
    flag (so never adopted while installed); installed flags = counters = stock + log -
    expiries = sum over sectors."""
    ft, K = m.firms, m.catalogue.k
    ad, ex = res.adoptions, res.expiries
    n_pairs = m.n_firms * K

    def per_pair(f, k):
        return np.bincount(np.asarray(f, np.int64) * K + np.asarray(k, np.int64), minlength=n_pairs)

    stock = per_pair(*m.initial_stock)
    logged = per_pair(ad["firm"].to_numpy(), ad["measure"].cat.codes.to_numpy())
    expired = per_pair(ex["firm"].to_numpy(), ex["measure"].cat.codes.to_numpy()) if len(ex) else np.zeros(n_pairs, np.int64)
    installed = stock + logged - expired
    by_measure = installed.reshape(m.n_firms, K).sum(axis=0)
    return {
        "adoptions: (firm, measure) pairs where stock + log - expiries != installed flag": float(
            (installed != ft.adopted.ravel()).sum()),
        "adoptions: adopted flags = counter": _rel(ft.adopted.sum(axis=0), m.adopter_count),
        "adoptions: counter = start-year stock + log - expiries": _rel(by_measure, m.adopter_count),
        "adoptions: counter = sum over sectors": _rel(m.adopters_by_sector.sum(axis=0), m.adopter_count),
    }


def spending_identities(m, res) -> tuple[dict[str, float], dict[str, float]]:
    """Spending: each instrument's spending = the cost of its grants, loans and events; the
    sum over instruments = the reported totals; no budget overspent. Also returns the
    spending by instrument."""
    gov = m.gov
    sp = m.spending_usd()
    ad = res.adoptions
    inst = ad["instrument"].astype(str)
    cs, ws, tr = (m.instruments[n] for n in ("cost_share", "workshops", "training"))
    expect = {
        "capex_subsidy": float(ad.loc[inst == "capex_subsidy", "subsidy_usd"].sum()),
        "cost_share": float(ad.loc[inst == "cost_share", "subsidy_usd"].sum()) + cs.assessments * cs.params.cost_per_assessment_usd,
        "green_loan": float(ad["loan_grant_equivalent_usd"].sum()),
        "workshops": ws.held * ws.params.cost_per_workshop_usd,
        "training": tr.courses * tr.params.cost_per_course_usd,
    }
    ident = {f"spending: {k_} = cost of its grants/loans/events": _rel(sp[k_], v) for k_, v in expect.items()}
    ident["spending: sum over instruments = summary total"] = _rel(sum(sp.values()), res.summary["public_spending_usd"])
    ident["spending: sum over instruments = time series total (last month)"] = _rel(sum(sp.values()), res.timeseries["spending_total_usd"].iloc[-1])
    for k_, inst_obj in gov.budgeted_instruments().items():
        if inst_obj.budget_usd and getattr(inst_obj, "enabled", True):
            ident[f"spending: {k_} within its budget (excess share)"] = max(0.0, (inst_obj.spent_usd - inst_obj.budget_usd) / inst_obj.budget_usd)
    return ident, sp


def draw_figure(e0: np.ndarray, e_end: np.ndarray, replay: np.ndarray, ident: dict[str, float],
                f32: dict[str, float], out_dir: Path | None) -> str:
    """Left: energy by carrier at the start and end (firm table and replay); right: every
    identity's relative error against its tolerance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..params import CARRIERS

    fig, ax = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [1, 1.3]})
    xs = np.arange(len(CARRIERS))
    w = 0.27
    ax[0].bar(xs - w, e0.sum(axis=0) / 1e3, w, label="start year (firm table)", color="0.7")
    ax[0].bar(xs, e_end.sum(axis=0) / 1e3, w, label="end (firm table)", color="C0")
    ax[0].bar(xs + w, replay.sum(axis=0) / 1e3, w, label="end (replay of adoption log)", color="C1")
    ax[0].set_xticks(xs, CARRIERS, rotation=45, ha="right")
    ax[0].set(ylabel="GWh/yr", title="Energy by carrier")
    ax[0].legend(fontsize=8)
    names = list(ident) + list(f32)
    vals = np.array([max(v, 1e-18) for v in list(ident.values()) + list(f32.values())])
    tols = [F64_TOL] * len(ident) + [F32_TOL] * len(f32)
    yy = np.arange(len(names))
    ax[1].barh(yy, vals, color=["C2" if v <= t else "C3" for v, t in zip(vals, tols)])
    ax[1].scatter(tols, yy, marker="|", color="k", s=80, label="tolerance")
    ax[1].set_xscale("log")
    ax[1].set_xlim(1e-18, 1e-2)
    ax[1].set_yticks(yy, names, fontsize=6.5)
    ax[1].invert_yaxis()
    ax[1].set(xlabel="relative error (count for mismatched pairs; 1e-18 = exactly 0)", title="Identities")
    ax[1].legend(fontsize=8)
    return savefig(fig, out_dir, "conservation")


def identity_table(ident: dict[str, float], f32: dict[str, float]) -> str:
    table = ["| identity | relative error | tolerance |", "|---|---|---|"]
    table += [f"| {k_} | {v:.2e} | {F64_TOL:g} |" for k_, v in ident.items()]
    table += [f"| {k_} | {v:.2e} | {F32_TOL:g} (float32 panel) |" for k_, v in f32.items()]
    return "\n".join(table)


def check(n_firms: int = 3000, years: int = 10, out_dir: Path | None = None) -> list[Check]:
    from ..model import ClusterModel
    from ..results import collect
    from .common import compose_config

    ov = overrides(n_firms, years)
    m = ClusterModel(compose_config(ov))
    ft = m.firms
    e0 = ft.energy_mwh_per_yr.copy()
    m.run()
    res = collect(m)
    replay = replay_energy(m)

    ident = {**energy_identities(m, replay), **emission_identities(m, replay)}
    registry, f32 = registry_identities(m, res)
    ident.update(registry)
    ident.update(adoption_identities(m, res))
    spending, sp = spending_identities(m, res)
    ident.update(spending)

    passed = all(v <= F64_TOL for v in ident.values()) and all(v <= F32_TOL for v in f32.values())
    worst = max(ident.values())
    n_adopt = len(res.adoptions)
    activity = {k_: v for k_, v in sp.items() if v > 0}
    fig_name = draw_figure(e0, ft.energy_mwh_per_yr, replay, ident, f32, out_dir)
    return [Check(
        name="conservation",
        title="Conservation: energy, emissions, registry, adoptions, spending",
        passed=bool(passed),
        measured=(f"worst float64 identity {worst:.1e}, float32 panel {max(f32.values()):.1e}; {n_adopt} adoptions, "
                  f"spending {', '.join(f'{k_} {v:,.0f}' for k_, v in activity.items())} USD"),
        tolerance=f"relative error <= {F64_TOL:g} (float64), <= {F32_TOL:g} (float32 registry panel); 0 mismatched (firm, measure) pairs",
        config=ov, figure=fig_name, table=identity_table(ident, f32),
        notes=("The per-firm registry panel is stored in float32 (memory for large clusters), so its sums agree with "
               "the float64 totals to ~1e-7, not to rounding of float64. Energy removed by a measure is removed from the "
               "firm's current use, so stacked measures interact; the replay reproduces that order (month, then the "
               "engine's per-firm order within a month) on each firm's no-measure base, with the measures still "
               "installed (installations end at their lifetime or lapse; expiries.parquet)."),
        data={"identities": ident, "f32": f32, "adoptions": n_adopt, "spending": sp},
    )]
