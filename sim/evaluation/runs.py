"""A run folder as the evaluation reads it: summary, adoption rows, monthly spending by
name, contributions in kind, and the catalogue's lifetimes and O&M shares (from the run's
own resolved ``config.yaml``, so a run is evaluated with the catalogue it ran with)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..gather import DamagedRun, read_config, read_summary, read_table

ADOPTION_COLUMNS = ["month", "year", "firm", "sector", "size_class", "measure", "capex_usd", "subsidy_usd", "instrument",
                    "loan_usd", "loan_grant_equivalent_usd", "consultant", "abatement_t_co2_per_yr",
                    "energy_cost_saving_usd_per_yr", "cluster"]


@dataclass
class EvaluatedRun:
    dir: Path
    summary: dict
    adoptions: pd.DataFrame
    #: [months, names] cumulative public spending by name, USD
    spending_usd: pd.DataFrame
    #: [months, names] cumulative contributions in kind by name, USD (not public money)
    in_kind_usd: pd.DataFrame
    lifetime_yr: dict
    om_share: dict

    @property
    def start_year(self) -> int:
        return int(self.summary["start_year"])

    @property
    def end_year(self) -> int:
        return int(self.summary["end_year"])


def load_run(run_dir: Path) -> EvaluatedRun:
    """Read what the evaluation needs; :class:`DamagedRun` if a file is missing, unreadable
    or written before the evaluation columns existed (re-run it)."""
    run_dir = Path(run_dir)
    summary = read_summary(run_dir)
    ad = read_table(run_dir, "adoptions")
    missing = [c for c in ADOPTION_COLUMNS if c not in ad.columns]
    if missing:
        raise DamagedRun(run_dir, f"adoptions.parquet lacks {', '.join(missing)} (written by an older version); re-run it")
    names = _columns(run_dir, "timeseries")
    spend_cols = [c for c in names if c.startswith("spending_") and c != "spending_total_usd"]
    ik_cols = [c for c in names if c.startswith("in_kind_")]
    ts = read_table(run_dir, "timeseries", columns=spend_cols + ik_cols)
    spend = ts[spend_cols].rename(columns=lambda c: c[len("spending_"):-len("_usd")])
    ik = ts[ik_cols].rename(columns=lambda c: c[len("in_kind_"):-len("_usd")])
    cfg = read_config(run_dir)
    try:
        cat = cfg["measures"]["catalogue"]
        life = {m["name"]: float(m["lifetime_yr"]) for m in cat}
        om = {m["name"]: float(m.get("om_share_of_capex_per_yr", 0.0) or 0.0) for m in cat}
    except (KeyError, TypeError, ValueError) as exc:
        raise DamagedRun(run_dir, f"config.yaml has no readable measure catalogue ({exc})") from None
    return EvaluatedRun(run_dir, summary, ad, spend.reset_index(drop=True), ik.reset_index(drop=True), life, om)


def _columns(run_dir: Path, table: str) -> list[str]:
    """Column names of a run's table (from the Parquet footer, without reading the data)."""
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(Path(run_dir) / f"{table}.parquet").names)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises ArrowInvalid, OSError, ...
        raise DamagedRun(run_dir, f"{table}.parquet cannot be read, truncated or damaged ({str(exc).splitlines()[0]})") from None
