"""Cost-effectiveness as evaluators compute it: public cost, firms' net cost and social cost
per tonne of lifetime abatement, by horizon, per package and per instrument.

Per run and horizon H (each report year up to the run's end, and ``lifetime``: every
installation made by the run's end, over its whole lifetime), all in present value at the
social discount rate (:mod:`sim.evaluation`), money and tonnes alike (levelised cost):

* ``abatement_t_co2``: the installations' tonnes to min(expiry, end of H) (:mod:`.lifetime`);
* ``public_cost_usd``: public money spent to the end of H by name (the run's monthly
  ``spending_<name>_usd``: grants, programme and staff costs, loan grant equivalents — the
  interest subsidy L (1 - annuity(market)/annuity(green)) discounted over the term);
  contributions in kind (``in_kind_usd``) and firms' money are *not* public cost;
* ``transfer_usd``: the part of public cost paid to firms (grants and loan grant equivalents
  on the adoption rows, and spending a programme declared a transfer, e.g. a credit per
  tonne); ``programme_cost_usd`` = public cost - transfers (staff, events, assessments...);
* ``firm_outlay_usd`` = capex - grants - loan grant equivalents + O&M; ``firm_net_cost_usd``
  = outlay - energy-cost savings;
* ``social_cost_usd`` = programme cost + in kind + capex + O&M - energy-cost savings (transfers
  cancel: the Total Resource Cost view, CPUC Standard Practice Manual 2001, ch. 4; a net
  cost per tonne as on a marginal abatement cost curve, negative when savings exceed costs).

A comparison takes the per-seed differences policy - baseline (common random numbers) and
gives ``public_usd_per_t_co2`` = delta public cost / delta abatement and
``social_usd_per_t_co2`` = delta social cost / delta abatement (ratio of means over seeds,
interval by a paired bootstrap over seeds: :mod:`.uncertainty`).

Per instrument (``attribute``): each instrument is removed in turn from the package (same
seeds). Its *marginal* abatement and cost are package - package without it; the part of the
package's effect no single removal explains is reported as ``interactions`` (package minus
the sum of the marginals: positive when instruments reinforce each other). Its *own* public
cost is what it spent in the package run, so own costs add up to the package's public cost
(spending that no removal stops — e.g. a scenario programme that runs under every policy —
is its own row). ``own_usd_per_t_co2`` = own cost / marginal abatement: the bars of the
marginal abatement cost curve of instruments.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import LIFETIME, SOCIAL_DISCOUNT_RATE_PER_YR
from .lifetime import discount_factor, lifetime_flows
from .runs import EvaluatedRun

#: quantities of a run at a horizon (present values; abatement also undiscounted)
QUANTITIES = ("abatement_t_co2", "abatement_undiscounted_t_co2", "public_cost_usd", "transfer_usd", "programme_cost_usd",
              "in_kind_usd", "capex_usd", "om_usd", "energy_cost_saving_usd", "firm_outlay_usd", "firm_net_cost_usd",
              "social_cost_usd")


def horizons(start_year: int, end_year: int, years) -> list[tuple[str, float | None]]:
    """(label, end in years from the start) of each report year within the run (end of that
    year), then the whole-lifetime horizon (None)."""
    out = [(str(y), float(y - start_year + 1)) for y in sorted(set(int(y) for y in years)) if start_year <= y <= end_year]
    return out + [(LIFETIME, None)]


def _pv_of_cumulative(cum: pd.DataFrame, end_t: float, rate: float) -> pd.Series:
    """Present value by column of monthly cumulative money, months before ``end_t``."""
    if cum.empty:
        return pd.Series(dtype=float)
    inc = cum.diff().fillna(cum.iloc[[0]]).to_numpy()
    t = np.arange(len(cum)) / 12.0
    keep = t < end_t
    return pd.Series((inc[keep] * discount_factor(t[keep], rate)[:, None]).sum(axis=0), index=cum.columns)


def run_quantities(run: EvaluatedRun, horizon_years, rate: float = SOCIAL_DISCOUNT_RATE_PER_YR) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(quantities by horizon [horizon x QUANTITIES], public cost by spending name [horizon x name])."""
    run_end_t = float(run.end_year - run.start_year + 1)
    kinds = run.summary.get("spending_kind_by_name") or {}
    rows, by_name = {}, {}
    for label, end_t in horizons(run.start_year, run.end_year, horizon_years):
        money_end = run_end_t if end_t is None else end_t
        f = lifetime_flows(run.adoptions, run.lifetime_yr, run.om_share, end_t, rate)
        f = f[f["installed"] & (run.adoptions["month"].to_numpy() / 12.0 < run_end_t)]
        undiscounted = lifetime_flows(run.adoptions, run.lifetime_yr, run.om_share, end_t, 0.0)["abatement_t_co2"][f.index].sum()
        public = _pv_of_cumulative(run.spending_usd, money_end, rate)
        in_kind = float(_pv_of_cumulative(run.in_kind_usd, money_end, rate).sum())
        declared = float(sum(v for k, v in public.items() if kinds.get(k) == "transfer"))
        transfer = float(f["grant_usd"].sum() + f["loan_grant_equivalent_usd"].sum()) + declared
        capex, om, saving = float(f["capex_usd"].sum()), float(f["om_usd"].sum()), float(f["energy_cost_saving_usd"].sum())
        pub = float(public.sum())
        programme = pub - transfer
        outlay = capex - float(f["grant_usd"].sum() + f["loan_grant_equivalent_usd"].sum()) + om
        rows[label] = {
            "abatement_t_co2": float(f["abatement_t_co2"].sum()), "abatement_undiscounted_t_co2": float(undiscounted),
            "public_cost_usd": pub, "transfer_usd": transfer, "programme_cost_usd": programme, "in_kind_usd": in_kind,
            "capex_usd": capex, "om_usd": om, "energy_cost_saving_usd": saving, "firm_outlay_usd": outlay,
            "firm_net_cost_usd": outlay - saving, "social_cost_usd": programme + in_kind + capex + om - saving}
        by_name[label] = public
    return pd.DataFrame.from_dict(rows, orient="index")[list(QUANTITIES)], pd.DataFrame.from_dict(by_name, orient="index").fillna(0.0)


def paired_effect(policy: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """Policy minus baseline quantities of one seed, by horizon, with the per-seed ratios."""
    d = policy - baseline
    with np.errstate(divide="ignore", invalid="ignore"):
        d["public_usd_per_t_co2"] = np.where(d["abatement_t_co2"] > 0, d["public_cost_usd"] / d["abatement_t_co2"], np.nan)
        d["social_usd_per_t_co2"] = np.where(d["abatement_t_co2"] > 0, d["social_cost_usd"] / d["abatement_t_co2"], np.nan)
    return d


def owners(package_by_name: list[pd.Series], without: dict[str, list[pd.Series]], tol_usd: float = 1e-6) -> dict[str, str]:
    """Which removed instrument each spending name belongs to: the one whose removal brings
    that spending to zero in every seed (policy instruments spend under their own name)."""
    names = sorted({n for s in package_by_name for n, v in s.items() if abs(v) > tol_usd})
    out = {}
    for n in names:
        for inst, series in without.items():
            if n == inst or all(abs(s.get(n, 0.0)) <= tol_usd for s in series):
                out[n] = inst
                break
    return out


def attribute(package: list[pd.DataFrame], package_by_name: list[pd.DataFrame], baseline: list[pd.DataFrame],
              baseline_by_name: list[pd.DataFrame], without: dict[str, list[pd.DataFrame]],
              without_by_name: dict[str, list[pd.DataFrame]], horizon: str) -> pd.DataFrame:
    """Per-instrument attribution at ``horizon`` (lists over the same seeds): one row per
    instrument, then ``interactions`` and, if any spending is not stopped by a removal,
    ``not removed``; then ``package``. Columns: marginal abatement and public cost (means over
    seeds), own public cost, own US$/t (public), marginal social cost."""
    def at(frames, col):
        return np.array([f.loc[horizon, col] if horizon in f.index else 0.0 for f in frames])

    def named(frames):
        return [f.loc[horizon] if horizon in f.index else pd.Series(dtype=float) for f in frames]

    pkg_ab = at(package, "abatement_t_co2") - at(baseline, "abatement_t_co2")
    pkg_pub = at(package, "public_cost_usd") - at(baseline, "public_cost_usd")
    pkg_soc = at(package, "social_cost_usd") - at(baseline, "social_cost_usd")
    own_of = owners(named(package_by_name), {i: named(v) for i, v in without_by_name.items()})
    pkg_named = [p.sub(b, fill_value=0.0) for p, b in zip(named(package_by_name), named(baseline_by_name))]
    rows = []
    for inst, frames in without.items():
        ab = pkg_ab - (at(frames, "abatement_t_co2") - at(baseline, "abatement_t_co2"))
        pub = pkg_pub - (at(frames, "public_cost_usd") - at(baseline, "public_cost_usd"))
        soc = pkg_soc - (at(frames, "social_cost_usd") - at(baseline, "social_cost_usd"))
        own = np.array([sum(v for n, v in s.items() if own_of.get(n) == inst) for s in pkg_named])
        rows.append(_row(inst, ab, pub, soc, own))
    sum_ab = sum(r["marginal_abatement_t_co2"] for r in rows)
    sum_pub = sum(r["marginal_public_cost_usd"] for r in rows)
    sum_soc = sum(r["marginal_social_cost_usd"] for r in rows)
    rows.append(_row("interactions", np.array([pkg_ab.mean() - sum_ab]), np.array([pkg_pub.mean() - sum_pub]),
                     np.array([pkg_soc.mean() - sum_soc]), np.array([np.nan])))
    rest = np.array([sum(v for n, v in s.items() if n not in own_of or own_of[n] not in without) for s in pkg_named])
    if np.abs(rest).max(initial=0.0) > 1e-6:
        rows.append(_row("not removed (other spending)", np.zeros(1), np.zeros(1), np.zeros(1), rest))
    rows.append(_row("package", pkg_ab, pkg_pub, pkg_soc, np.array([s.sum() for s in pkg_named])))
    t = pd.DataFrame(rows)
    t.insert(1, "horizon", horizon)
    return t


def _row(name, ab, pub, soc, own) -> dict:
    a, o = float(np.mean(ab)), float(np.mean(own))
    if name == "interactions":  # no money of its own: no own cost per tonne
        o = np.nan
    return {"instrument": name, "marginal_abatement_t_co2": a, "marginal_public_cost_usd": float(np.mean(pub)),
            "marginal_social_cost_usd": float(np.mean(soc)), "own_public_cost_usd": o,
            "own_usd_per_t_co2": (o / a) if a > 0 else np.nan,
            "marginal_social_usd_per_t_co2": (float(np.mean(soc)) / a) if a > 0 else np.nan}


def mac_plot(table: pd.DataFrame, path, title: str) -> None:
    """Marginal abatement cost curve of instruments: one bar per instrument, width = its
    marginal abatement (kt CO2, discounted), height = its own public cost per tonne, sorted
    from cheapest; instruments without abatement of their own are named under the axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..results import _atomic_write_bytes

    inst = table[~table["instrument"].isin(["package", "interactions", "not removed (other spending)"])]
    ok = inst[inst["marginal_abatement_t_co2"] > 0].sort_values("own_usd_per_t_co2")
    none = inst[~(inst["marginal_abatement_t_co2"] > 0)]["instrument"].tolist()
    fig, ax = plt.subplots(figsize=(9, 4.8))
    x = 0.0
    for i, (_, r) in enumerate(ok.iterrows()):
        w = r["marginal_abatement_t_co2"] / 1e3
        ax.bar(x, r["own_usd_per_t_co2"], width=w, align="edge", color=f"C{i}", alpha=0.85, edgecolor="k", lw=0.5,
               label=f"{r['instrument']}: {w:,.1f} kt at US$ {r['own_usd_per_t_co2']:,.1f}/t")
        x += w
    pk = table[table["instrument"] == "package"].iloc[0]
    inter = table[table["instrument"] == "interactions"].iloc[0]
    ax.set(xlabel="marginal abatement, kt CO2 (discounted lifetime tonnes; each instrument removed in turn)",
           ylabel="own public cost, US$ per t CO2", title=title)
    note = (f"package: {pk['marginal_abatement_t_co2'] / 1e3:,.1f} kt for US$ {pk['own_public_cost_usd'] / 1e6:,.2f} M; "
            f"interactions (package - sum of marginals): {inter['marginal_abatement_t_co2'] / 1e3:,.1f} kt")
    if none:
        note += f"\nno abatement of their own: {', '.join(none)}"
    ax.text(0.01, 0.97, note, transform=ax.transAxes, va="top", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    if len(ok):
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    _atomic_write_bytes(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
