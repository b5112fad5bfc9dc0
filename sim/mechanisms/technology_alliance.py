"""A low-carbon technology alliance across countries: technology transfer as a graph.

Member organisations (research institutes, technology companies, investment bodies) are
Mesa agents, each in a country and with a role; chairs and co-chairs are tied to every
member, other members to the members of their region. Two countries are **partners** when
a member of one is tied to a member of the other.

Firms belong to countries (``countries``: name -> share of firms; a firm's country is its
block of rows, and rows are i.i.d. draws, so each block is a random sample - pair this
with a ``small_world`` firm network of low rewiring to keep most firm ties domestic).

Technology transfer, for each technology (a catalogue measure) with a learning rate:

* **learning curve.** The locally learnable part of a technology's cost (installation,
  balance of system, engineering: ``local_cost_share``) falls by ``learning_rate`` with every
  doubling of the experience a country can draw on:
  ``experience[c] = initial + own projects + spillover_share * projects in partner countries``
  ``cost factor = (1 - local_cost_share) + local_cost_share * (experience / initial) ** -b``,
  ``b = -log2(1 - learning_rate)``. The non-local part keeps the catalogue's own yearly
  trend (global learning); the local part replaces it (``capex_factor``).
* **awareness.** Firms of a country become aware of a technology at a monthly hazard
  ``awareness_per_month * (share of partner countries' applicable firms that adopted it)``,
  on top of the engine's own information channels.

Reported: deployment (projects) and cost factor per technology per country, by year.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

import mesa
import numpy as np

from ..params import ConfigError
from . import Mechanism, register

ROLES = ("chair", "co_chair", "member")


@dataclass
class MemberSpec:
    name: str = ""
    country: str = ""
    role: str = "member"
    region: str = ""


@dataclass
class TechnologySpec:
    #: cost reduction of the local part per doubling of the country's project experience
    #: (share): a local rate, not a global one-factor rate (those are per doubling of world
    #: cumulative capacity and bound it from above)
    learning_rate: float = 0.2  # free parameter, range 0.05-0.20 (Rubin et al. 2015 global PV rate ~20 % an upper bound)
    #: share of the technology's cost that is learned locally (installation, balance of system)
    local_cost_share: float = 0.5  # free parameter, range 0.3-0.7
    #: experience a country starts with, in projects (before any deployment in the run)
    initial_experience_projects: float = 10.0  # free parameter, range 2-30
    source: str = ""


class AllianceMember(mesa.Agent):
    """A member organisation of the alliance (inspectable; its work is in the alliance's
    vectorised computations)."""

    def __init__(self, model, name: str, country: str, role: str, region: str):
        super().__init__(model)
        self.name, self.country, self.role, self.region = name, country, role, region
        self.partners: list[str] = []

    def __repr__(self) -> str:
        return f"AllianceMember({self.name!r}, {self.country}, {self.role})"


def country_of_rows(n: int, shares: np.ndarray) -> np.ndarray:
    """[n] country index of each firm row: consecutive blocks sized by ``shares``."""
    bounds = np.floor(np.cumsum(shares / shares.sum()) * n + 1e-9).astype(np.int64)
    return np.searchsorted(bounds, np.arange(n), side="right").clip(0, len(shares) - 1)


@register("technology_alliance")
class TechnologyAlliance(Mechanism):
    @dataclass
    class Params:
        #: member countries and the share of the cluster's firms in each
        countries: Dict[str, float] = field(default_factory=dict)
        members: List[MemberSpec] = field(default_factory=list)
        technologies: Dict[str, TechnologySpec] = field(default_factory=dict)
        #: weight of a partner country's projects in a country's experience
        spillover_share: float = 0.5  # free parameter, range 0-1
        #: awareness hazard per month when every applicable firm of the partner countries adopted
        awareness_per_month: float = 0.05  # free parameter, range 0.01-0.1
        start_year: int = 2025
        source: str = ""

    @classmethod
    def validate(cls, p, cfg, key):
        if not p.countries:
            raise ConfigError(f"{key}.countries", {}, "must list the member countries with their share of firms")
        for c, v in p.countries.items():
            if not v >= 0:
                raise ConfigError(f"{key}.countries.{c}", v, "share of firms must be >= 0")
        if not sum(p.countries.values()) > 0:
            raise ConfigError(f"{key}.countries", dict(p.countries), "shares of firms must sum to > 0")
        if not p.members:
            raise ConfigError(f"{key}.members", [], "must list the member organisations")
        names = set()
        for i, m in enumerate(p.members):
            k = f"{key}.members[{i}]"
            if not m.name:
                raise ConfigError(f"{k}.name", m.name, "every member needs a name")
            if m.name in names:
                raise ConfigError(f"{k}.name", m.name, "member names must be unique")
            names.add(m.name)
            if m.country not in p.countries:
                raise ConfigError(f"{k}.country", m.country, f"not one of the alliance countries: {', '.join(p.countries)}")
            if m.role not in ROLES:
                raise ConfigError(f"{k}.role", m.role, f"must be one of {', '.join(ROLES)}")
        measures = [m.name for m in cfg.measures.catalogue]
        if not p.technologies:
            raise ConfigError(f"{key}.technologies", {}, "must list at least one technology (a catalogue measure) with its learning rate")
        for t, spec in p.technologies.items():
            k = f"{key}.technologies.{t}"
            if t not in measures:
                raise ConfigError(f"{key}.technologies", t, f"unknown measure; catalogue has: {', '.join(measures)}")
            if not 0 <= spec.learning_rate < 1:
                raise ConfigError(f"{k}.learning_rate", spec.learning_rate, "must be a share in [0, 1)")
            if not 0 <= spec.local_cost_share <= 1:
                raise ConfigError(f"{k}.local_cost_share", spec.local_cost_share, "must be a share in [0, 1]")
            if not spec.initial_experience_projects > 0:
                raise ConfigError(f"{k}.initial_experience_projects", spec.initial_experience_projects, "must be a number > 0")
            if not spec.source.strip():
                raise ConfigError(f"{k}.source", spec.source, "cite the source of the learning rate")
        for name in ("spillover_share", "awareness_per_month"):
            v = getattr(p, name)
            if not 0 <= v <= 1:
                raise ConfigError(f"{key}.{name}", v, "must be a share in [0, 1]")

    def __init__(self, engine, params):
        super().__init__(engine, params)
        p = params
        self.draw_rng = engine.spawn_stream(self.name)
        self.countries = list(p.countries)
        C = len(self.countries)
        self.country = country_of_rows(engine.n_firms, np.array([p.countries[c] for c in self.countries], dtype=float))
        # the firms' countries are a fact of the cluster other mechanisms may read (a fund's envelopes)
        engine.define_regions("country", self.countries, self.country)
        # members (Mesa agents) and the alliance graph ---------------------------------
        self.members = [AllianceMember(engine.mesa_model, m.name, m.country, m.role, m.region) for m in p.members]
        M = len(self.members)
        hub = np.array([m.role in ("chair", "co_chair") for m in self.members])
        region = np.array([m.region or m.country for m in self.members])
        tie = (hub[:, None] | hub[None, :] | (region[:, None] == region[None, :])) & ~np.eye(M, dtype=bool)
        self.member_ties = tie
        mc = np.array([self.countries.index(m.country) for m in self.members])
        A = np.zeros((C, C), dtype=bool)
        A[mc[:, None].repeat(M, 1)[tie], mc[None, :].repeat(M, 0)[tie]] = True
        np.fill_diagonal(A, False)
        self.partners = A  # [C, C] countries tied through their members
        for i, m in enumerate(self.members):
            m.partners = [self.members[j].name for j in np.flatnonzero(tie[i])]
        # technologies -----------------------------------------------------------------
        cat = engine.catalogue
        self.tech_names = list(p.technologies)
        self.k = np.array([cat.index(t) for t in self.tech_names], dtype=np.int64)
        specs = [p.technologies[t] for t in self.tech_names]
        self.b = np.array([-np.log2(1.0 - s.learning_rate) for s in specs])
        self.local = np.array([s.local_cost_share for s in specs])
        T = len(specs)
        self.initial_exp = np.array([s.initial_experience_projects for s in specs])[None, :].repeat(C, 0)  # [C, T]
        self.projects = np.zeros((C, T))  # deployed in the run, by country
        ft = engine.firms
        self.applicable = np.stack([np.bincount(self.country, weights=ft.applicable[:, k].astype(float), minlength=C) for k in self.k], axis=1)
        self.adopters = np.zeros((C, T))  # all adopters (incl. those before the run)
        self.cost_factor = np.ones((C, T))
        self.history: dict[int, dict] = {}
        self.learned_this_month = 0

    # mechanics ----------------------------------------------------------------------------
    def experience(self) -> np.ndarray:
        """[C, T] projects each country can learn from."""
        return self.initial_exp + self.projects + self.params.spillover_share * (self.partners.astype(float) @ self.projects)

    def _update_cost(self) -> None:
        ratio = (self.experience() / self.initial_exp) ** (-self.b[None, :])
        self.cost_factor = (1.0 - self.local[None, :]) + self.local[None, :] * ratio

    def partner_adopter_share(self) -> np.ndarray:
        """[C, T] share of the partner countries' applicable firms that adopted each technology."""
        P = self.partners.astype(float)
        return (P @ self.adopters) / np.maximum(P @ self.applicable, 1.0)

    def _count_adopters(self, engine) -> None:
        ft = engine.firms
        self.adopters = np.stack([np.bincount(self.country, weights=ft.adopted[:, k].astype(float), minlength=len(self.countries)) for k in self.k], axis=1)

    # hooks --------------------------------------------------------------------------------
    def capex_factor(self, engine, firms):
        if engine.setting_up:
            return None  # measures in place before the run are valued at catalogue cost
        out = np.ones((len(firms), engine.catalogue.k), dtype=np.float32)
        mult = engine.capex_multiplier[self.k]  # the catalogue's yearly trend (global learning)
        f = ((1.0 - self.local) * mult + self.local * self.cost_factor) / np.maximum(mult, 1e-12)  # [C, T]
        out[:, self.k] = f[self.country[firms]]
        return out

    def cluster_activities(self, engine) -> None:
        if engine.year < self.params.start_year or self.params.awareness_per_month <= 0:
            return
        interval = engine.behaviour.review_interval_months
        rows = engine.review_group()  # the firms whose review is this month
        ft = engine.firms
        hazard = self.params.awareness_per_month * self.partner_adopter_share()[self.country[rows]]  # [R, T]
        p_learn = -np.expm1(-hazard * interval)
        u = self.draw_rng.random(p_learn.shape)
        aware = ft.aware[rows][:, self.k]
        learn = (u < p_learn) & ft.applicable[rows][:, self.k] & ~aware
        if learn.any():
            mask = np.zeros((len(rows), engine.catalogue.k), dtype=bool)
            mask[:, self.k] = learn
            engine.inform(rows, mask, source=self.name)
        self.learned_this_month = int(learn.sum())

    def after_adoptions(self, engine, batch) -> None:
        if len(batch) == 0:
            return
        T, C = len(self.k), len(self.countries)
        pos = np.full(engine.catalogue.k, -1)
        pos[self.k] = np.arange(T)
        t = pos[batch.measure]
        sel = t >= 0
        if sel.any():
            add = np.bincount(self.country[batch.firm[sel]] * T + t[sel], minlength=C * T).reshape(C, T)
            self.adopters += add
            if engine.year >= self.params.start_year:
                self.projects += add

    def new_year(self, engine) -> None:
        if engine.year == engine.start_year:
            self._count_adopters(engine)  # the initial stock: adopters before the run
        self._update_cost()
        self.history[engine.year] = {
            "projects": self.projects.copy(),
            "cost_factor": self.cost_factor.copy(),
        }

    def monthly_row(self, engine) -> dict:
        row = {}
        w = np.maximum(self.applicable, 1e-9)
        for j, t in enumerate(self.tech_names):
            row[f"alliance_projects_{t}"] = float(self.projects[:, j].sum())
            # cost factor averaged over countries, weighted by applicable firms
            row[f"alliance_cost_factor_{t}"] = float((self.cost_factor[:, j] * w[:, j]).sum() / w[:, j].sum())
        return row

    def summary(self, engine) -> dict:
        self._update_cost()

        def table(a):
            return {c: {t: float(a[i, j]) for j, t in enumerate(self.tech_names)} for i, c in enumerate(self.countries)}

        w = np.maximum(self.applicable, 1e-9)
        headline = {"n_members": len(self.members), "n_countries": len(self.countries),
                    "partner_country_pairs": int(self.partners.sum() // 2)}
        for j, t in enumerate(self.tech_names):
            headline[f"projects_{t}"] = int(self.projects[:, j].sum())
            headline[f"cost_factor_{t}"] = float((self.cost_factor[:, j] * w[:, j]).sum() / w[:, j].sum())
        return {
            "headline": headline,
            "countries": self.countries,
            "members": [{"name": m.name, "country": m.country, "role": m.role, "partners": len(m.partners)} for m in self.members],
            "n_members": len(self.members),
            "n_countries": len(self.countries),
            "partner_country_pairs": int(self.partners.sum() // 2),
            "technologies": {t: {"learning_rate": float(1 - 2 ** -self.b[j]), "local_cost_share": float(self.local[j])}
                             for j, t in enumerate(self.tech_names)},
            "projects_by_country": table(self.projects),
            "adopters_by_country": table(self.adopters),
            "cost_factor_by_country_end": table(self.cost_factor),
            "by_year": {str(y): {"projects": {t: {c: float(h["projects"][i, j]) for i, c in enumerate(self.countries)} for j, t in enumerate(self.tech_names)},
                                 "cost_factor": {t: {c: float(h["cost_factor"][i, j]) for i, c in enumerate(self.countries)} for j, t in enumerate(self.tech_names)}}
                        for y, h in sorted(self.history.items())},
        }


def plot(run_dirs: dict, out_png: str, technology: str = "rooftop_pv") -> None:
    """Figure of bri_alliance runs (``{label: run folder}``): a technology's projects and
    cost factor per country at the end, its alliance-average cost over time, and fund use.
    Command line: ``python -m sim.mechanisms.technology_alliance OUT.png LABEL=RUN_DIR ...``"""
    import json
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    fig, ax = plt.subplots(2, 2, figsize=(12, 8))
    width = 0.8 / max(len(run_dirs), 1)
    for n, (label, d) in enumerate(run_dirs.items()):
        ts = pd.read_parquet(Path(d) / "timeseries.parquet")
        s = json.loads((Path(d) / "summary.json").read_text())
        ta = s["programmes"]["technology_alliance"]
        cs = ta["countries"]
        x = np.arange(len(cs)) + (n - (len(run_dirs) - 1) / 2) * width
        ax[0, 0].bar(x, [ta["projects_by_country"][c][technology] for c in cs], width, label=label)
        ax[0, 1].bar(x, [100 * (1 - ta["cost_factor_by_country_end"][c][technology]) for c in cs], width, label=label)
        ax[1, 0].plot(ts["date"], ts[f"alliance_cost_factor_{technology}"], label=label)
        if "green_fund_committed_usd" in ts:
            ax[1, 1].plot(ts["date"], ts["green_fund_committed_usd"] / 1e6, label=f"committed ({label})")
            ax[1, 1].plot(ts["date"], (ts["green_fund_committed_usd"] + ts["green_fund_pool_left_usd"]) / 1e6, ":",
                          label=f"paid in ({label})")
    for a in (ax[0, 0], ax[0, 1]):
        a.set_xticks(np.arange(len(cs)))
        a.set_xticklabels([c.replace("member_country_", "mc").replace("_", " ") for c in cs], rotation=70, fontsize=7)
    ax[0, 0].set(title=f"{technology}: projects by country", ylabel="projects")
    ax[0, 1].set(title=f"{technology}: cost reduction from alliance learning, end", ylabel="% of catalogue cost")
    ax[1, 0].set(title=f"{technology}: cost factor (alliance average)", ylabel="x catalogue cost")
    ax[1, 1].set(title="Green fund", ylabel="US$ million")
    for a in ax.ravel():
        a.grid(alpha=0.3)
        a.legend(fontsize=7)
    fig.suptitle("bri_alliance: technology transfer in a 26-member, 22-country alliance (synthetic firms, seed 003)")
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    import sys

    if len(sys.argv) < 3 or any("=" not in a for a in sys.argv[2:]):
        print("usage: python -m sim.mechanisms.technology_alliance OUT.png LABEL=RUN_DIR [LABEL=RUN_DIR ...]", file=sys.stderr)
        sys.exit(2)
    plot(dict(a.split("=", 1) for a in sys.argv[2:]), sys.argv[1])
