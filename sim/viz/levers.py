"""Policy levers the app shows as controls, and the settings of one simulation.

A lever is a config key (``policy.capex_subsidy.subsidy_share``): the slider writes a Hydra
override with exactly that name, so what a workshop tries is what a sweep can vary and what
``python -m sim.run`` reproduces. Ranges are the ranges of the controls, not data.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ..compose import CONFIG_DIR


@dataclass(frozen=True)
class Lever:
    key: str  # full config key, e.g. policy.capex_subsidy.subsidy_share
    kind: str  # "bool", "float", "int", "year" (an int the panel bounds by the run's years)
    lo: float = 0.0
    hi: float = 1.0
    step: float = 0.05
    unit: str = ""  # i18n key of the unit, "" = none

    @property
    def group(self) -> str:
        return self.key.split(".")[1]

    @property
    def param(self) -> str:
        return self.key.split(".")[-1]

    @property
    def label_key(self) -> str:
        return "lever_enabled" if self.param == "enabled" else f"lever_{self.param}"

    def coerce(self, value):
        """``value`` as this lever's type, clipped to its range; ValueError if not a value."""
        if self.kind == "bool":
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(f"{self.key}: {value!r} is not true or false")
                return value.lower() in ("true", "1")
            return bool(value)
        x = float(value)
        if x != x:
            raise ValueError(f"{self.key}: NaN is not allowed")
        x = min(max(x, self.lo), self.hi)
        return int(round(x)) if self.kind in ("int", "year") else round(x, 6)


#: The levers, grouped by instrument (same names as configs/policy/*.yaml and sim/params.py).
LEVERS: tuple[Lever, ...] = (
    Lever("policy.capex_subsidy.enabled", "bool"),
    Lever("policy.capex_subsidy.subsidy_share", "float", 0.0, 1.0, 0.05, "unit_share"),
    Lever("policy.capex_subsidy.max_grant_per_project_usd", "float", 0, 1_000_000, 10_000, "unit_usd"),
    Lever("policy.capex_subsidy.budget_usd", "float", 0, 50_000_000, 250_000, "unit_usd"),
    Lever("policy.cost_share.enabled", "bool"),
    Lever("policy.cost_share.copay_share", "float", 0.0, 1.0, 0.05, "unit_share"),
    Lever("policy.cost_share.assessments_per_yr", "int", 0, 1000, 10, "unit_count_per_yr"),
    Lever("policy.cost_share.budget_usd", "float", 0, 20_000_000, 100_000, "unit_usd"),
    # a start year later than the run's month: "what if from here" continues the run (sim/viz/state.py)
    Lever("policy.cost_share.start_year", "year", 1900, 2200, 1),
    Lever("policy.green_loan.enabled", "bool"),
    Lever("policy.green_loan.interest_rate_per_yr", "float", 0.0, 0.2, 0.005, "unit_per_yr"),
    Lever("policy.green_loan.credit_line_usd", "float", 0, 200_000_000, 1_000_000, "unit_usd"),
    Lever("policy.workshops.enabled", "bool"),
    Lever("policy.workshops.workshops_per_yr", "int", 0, 48, 1, "unit_count_per_yr"),
    Lever("policy.workshops.budget_usd", "float", 0, 5_000_000, 50_000, "unit_usd"),
    Lever("policy.training.enabled", "bool"),
    Lever("policy.training.courses_per_yr", "int", 0, 12, 1, "unit_count_per_yr"),
    Lever("policy.training.budget_usd", "float", 0, 5_000_000, 50_000, "unit_usd"),
    Lever("policy.carbon_price.enabled", "bool"),
    Lever("policy.carbon_price.price_usd_per_t_co2", "float", 0, 300, 5, "unit_usd_per_t"),
    Lever("policy.carbon_price.growth_usd_per_t_co2_per_yr", "float", 0, 30, 1, "unit_usd_per_t_per_yr"),
    Lever("policy.carbon_price.start_year", "year", 1900, 2200, 1),
)
LEVER_BY_KEY = {lv.key: lv for lv in LEVERS}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(lv.group for lv in LEVERS))


def lever(key: str) -> Lever:
    try:
        return LEVER_BY_KEY[key]
    except KeyError:
        raise KeyError(f"{key}: not a lever; levers: {', '.join(LEVER_BY_KEY)}") from None


def _group_names(group: str) -> list[str]:
    return sorted(p.stem for p in Path(CONFIG_DIR, group).glob("*.yaml"))


def scenarios() -> list[str]:
    """Every scenario in configs/scenario/ (read each time: scenarios are added while the app runs)."""
    return _group_names("scenario")


def policies() -> list[str]:
    return _group_names("policy")


def get_key(cfg, key: str):
    """The value at a dotted ``key`` of a config object."""
    obj = cfg
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def lever_values(cfg) -> dict[str, object]:
    """Current value of every lever in a typed config (a start year of 0, "the run's start
    year", as that year)."""
    out = {}
    for lv in LEVERS:
        v = get_key(cfg, lv.key)
        out[lv.key] = lv.coerce(cfg.start_year if lv.kind == "year" and v == 0 else v)
    return out


def _fmt(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value)) if abs(value) >= 1 or value == 0 else repr(value)
    return repr(value)


@dataclass(frozen=True)
class Settings:
    """What defines a simulation: scenario, policy package, seed, firm count and the levers
    changed from the package (key -> value)."""

    scenario: str = "mx_cluster"
    policy: str = "incentive_package"
    seed: int = 0
    n_firms: int | None = None  # None = the scenario's own value
    levers: tuple[tuple[str, object], ...] = field(default_factory=tuple)

    def with_levers(self, changes: dict[str, object]) -> "Settings":
        cur = dict(self.levers)
        for k, v in changes.items():
            cur[k] = lever(k).coerce(v)
        return replace(self, levers=tuple(sorted(cur.items())))

    def overrides(self) -> list[str]:
        """Hydra overrides of this simulation (the command line that reproduces it)."""
        out = [f"scenario={self.scenario}", f"policy={self.policy}", f"seed={int(self.seed)}"]
        if self.n_firms is not None:
            out.append(f"n_firms={int(self.n_firms)}")
        out += [f"{k}={_fmt(v)}" for k, v in self.levers]
        return out

    def command(self) -> str:
        return "python -m sim.run " + " ".join(self.overrides())


def firm_count_for(current: Settings, scenario: str, typed: int | None, edited: bool) -> int | None:
    """The firm count of a restart with ``scenario``: the number typed if the user changed the
    field, else the current explicit count while the scenario stays the same, else ``None``
    (the new scenario's own count: picking ``bajio_cpi`` after ``mx_cluster`` runs its 32,174
    firms, not the 3,000 shown for the previous scenario)."""
    if edited and typed is not None:
        return int(typed)
    return current.n_firms if scenario == current.scenario else None
