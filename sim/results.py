"""Run results: the tables of a finished model, and writing them atomically.

A run folder holds ``config.yaml`` (resolved), ``timeseries.parquet`` (monthly reporters),
``firms.parquet`` (annual firm panel), ``adoptions.parquet`` (one row per adoption; a
replacement at the end of a lifetime is a new row), ``expiries.parquet`` (one row per
installation that ended: end of lifetime or lapsed savings), ``assessments.parquet`` (one row
per assessed firm and recommended measure: ``sim/recommendations.py``) and ``summary.json``.
Every file is written to a temporary name and renamed; ``summary.json``
is written last, so a folder with a ``summary.json`` is a complete run.
"""
from __future__ import annotations

import errno
import json
import math
import os
import shutil
from pathlib import Path

import numpy as np

from .params import SIZE_CLASSES
from .table import Table, write_parquet as write_table

REPORT_YEARS = (2030, 2040, 2050)
TABLES = ("timeseries", "firms", "adoptions", "expiries", "assessments")


class _TableField:
    """A table of :class:`RunResults`: read, a pandas DataFrame (a :class:`~sim.table.Table`
    built by :func:`collect` is converted on first read, once)."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        t = obj._tables[self.name]
        if isinstance(t, Table):
            t = obj._tables[self.name] = t.to_pandas()
        return t

    def __set__(self, obj, value):
        obj._tables[self.name] = value


class RunResults:
    """A finished run: its tables (``timeseries``, ``firms``, ``adoptions``, ``expiries``,
    ``assessments``; each a pandas DataFrame when read, ``assessments`` None if not recorded)
    and ``summary``. Tables from :func:`collect` stay as built until read, so writing a run
    folder (:func:`write_run`) neither imports pandas nor converts them."""

    timeseries = _TableField()
    firms = _TableField()
    adoptions = _TableField()
    expiries = _TableField()
    assessments = _TableField()

    def __init__(self, timeseries, firms, adoptions, summary: dict, expiries=None, assessments=None):
        self._tables: dict = {}
        self.timeseries, self.firms, self.adoptions, self.summary = timeseries, firms, adoptions, summary
        self.expiries = Table() if expiries is None else expiries  # results built by hand (tests): no installation ended
        self.assessments = assessments

    def table(self, name: str):
        """Table ``name`` as held: a :class:`~sim.table.Table` not yet read, a DataFrame, or None."""
        return self._tables[name]

    def __repr__(self) -> str:
        return f"RunResults({', '.join(f'{k}: {len(v)} rows' for k, v in self._tables.items() if v is not None)})"


def timeseries_table(model) -> Table:
    n = model.month + 1
    t = Table()
    for k, v in model.series.items():
        t.add(k, v[:n])
    year, month = t.column("year"), t.column("month")
    # the first day of each month (what pandas.to_datetime of year, month, day=1 gives)
    months_since_1970 = (np.asarray(year, dtype=np.int64) - 1970) * 12 + np.asarray(month, dtype=np.int64) % 12
    return t.add("date", months_since_1970.astype("datetime64[M]").astype("datetime64[ns]"), at=2)


def adoptions_table(model) -> Table:
    cat, ft = model.catalogue, model.firms
    if not model.adoption_log:
        batches, months = [], np.zeros(0, dtype=np.int64)
    else:
        months = np.concatenate([np.full(len(b), m) for m, b in model.adoption_log])
        batches = [b for _, b in model.adoption_log]

    def cat_(attr, dtype=float):
        return np.concatenate([getattr(b, attr) for b in batches]).astype(dtype) if batches else np.zeros(0, dtype)

    firm = cat_("firm", np.int64)
    measure = cat_("measure", np.int64)
    t = (Table().add("month", months.astype(np.int32))
         .add("year", (model.start_year + months // 12).astype(np.int32))
         .add("firm", firm)
         .categorical("sector", ft.sector[firm], model.sector_names)
         .categorical("size_class", ft.size_class[firm], SIZE_CLASSES)
         .categorical("measure", measure, cat.names)
         .add("capex_usd", cat_("capex_usd"))
         .add("firm_cost_usd", cat_("firm_cost_usd"))
         .add("subsidy_usd", cat_("grant_usd"))
         .categorical("instrument", cat_("instrument", np.int64), list(model.gov.instrument_names))
         .add("loan_usd", cat_("loan_usd"))
         .add("loan_grant_equivalent_usd", cat_("loan_grant_equivalent_usd"))
         .add("consultant", cat_("consultant", bool))
         .add("npv_usd", cat_("npv_usd"))
         .add("abatement_t_co2_per_yr", cat_("abatement_t_per_yr"))
         .add("viable_without_support_same_month", cat_("without_support", bool))
         .add("energy_cost_saving_usd_per_yr", np.concatenate(model.adoption_saving_log) if batches else np.zeros(0)))
    return _decided_by(model, months, firm, measure, _with_firm_id(model, _add_where(model, t, firm)))

def _decided_by(model, months, firm, measure, t: Table) -> Table:
    """In a run with workshop players (``sim/mechanisms/players.py``) only, a column
    ``decided_by``: ``rule`` (the firms' decision rule) or the player's source
    (``firm_player``); runs without players keep the table as it was."""
    played = model.engine.player_adoptions
    if not played:
        return t
    sources = ["rule"] + sorted({s for *_, s in played})
    K = model.catalogue.k
    code = np.zeros(len(firm), np.int64)
    key = (months.astype(np.int64) * model.n_firms + firm) * K + measure
    for m, f, k, s in played:
        code[np.isin(key, (m * model.n_firms + f.astype(np.int64)) * K + k)] = sources.index(s)
    return t.categorical("decided_by", code, sources)


def firms_by_group(model) -> dict[str, dict[str, int]]:
    """Number of firms by size class, sector, cluster association and declared region (every
    category, in order, with its count; missing values not counted)."""
    ft = model.firms
    t = (Table().categorical("size_class", ft.size_class, SIZE_CLASSES)
         .categorical("sector", ft.sector, model.sector_names))
    _add_where(model, t, np.arange(model.n_firms))
    out = {}
    for name, _, codes, cats in t.columns:
        counts = np.bincount(codes[codes >= 0], minlength=len(cats))
        out[name] = {str(g): int(n) for g, n in zip(cats.tolist(), counts)}
    return out


def _add_where(model, t: Table, firm: np.ndarray) -> Table:
    """Each firm's cluster association and the regions mechanisms declared (``region_<level>``),
    for the "for whom" tables."""
    names = ["no association"] + [c.name for c in model.clusters]
    t.categorical("cluster", np.asarray(model.firms.cluster)[firm] + 1 if len(firm) else np.zeros(0, int), names)
    for level in model.engine.region_levels():
        rn, of_firm = model.engine.regions(level)
        t.categorical(f"region_{level}", of_firm[firm] if len(firm) else np.zeros(0, int), rn)
    return t


def assessments_table(model) -> Table:
    """One row per assessed firm and recommended measure: the month, firm, measure, simple
    payback (years), the assessing programme, and the month the firm adopted the measure
    (<NA>: not within the run)."""
    log, cat = model.engine.recommendations, model.catalogue
    return _with_firm_id(model, Table()
                         .add("month", log.month.astype(np.int32))
                         .add("firm", log.firm.astype(np.int64))
                         .categorical("measure", log.measure, cat.names)
                         .add("payback_yr", log.payback_yr.astype(float))
                         .categorical("programme", log.source.astype(np.int64), log.sources)
                         .nullable_int32("adopted_month", log.adopted_month, log.adopted_month < 0))


def expiries_table(model) -> Table:
    """One row per installation that left the stock: ``month``, ``year``, ``firm``, ``sector``,
    ``size_class``, ``measure``, ``installed_month`` (-1: in place before the run) and
    ``reason`` (``end_of_life`` or ``lapsed``)."""
    from .model import EXPIRY_REASONS

    cat, ft, log = model.catalogue, model.firms, model.expiry_log

    def col(i, dtype):
        return np.concatenate([e[i] if i else np.full(len(e[1]), e[0]) for e in log]).astype(dtype) if log else np.zeros(0, dtype)

    firm, measure = col(1, np.int64), col(2, np.int64)
    months = col(0, np.int64)
    reason = col(4, np.int64)
    return _with_firm_id(model, Table()
                         .add("month", months.astype(np.int32))
                         .add("year", (model.start_year + months // 12).astype(np.int32))
                         .add("firm", firm)
                         .categorical("sector", ft.sector[firm], model.sector_names)
                         .categorical("size_class", ft.size_class[firm], SIZE_CLASSES)
                         .categorical("measure", measure, cat.names)
                         .add("installed_month", col(3, np.int32))
                         .categorical("reason", reason, list(EXPIRY_REASONS)))


def installed_by_firm(model, end_months: np.ndarray) -> np.ndarray:
    """[len(end_months), N] measures each firm has installed at the end of each month: the
    stock before the run, plus adoptions, less expiries, up to that month."""
    n = model.n_firms
    stock = np.bincount(model.initial_stock[0], minlength=n)
    ad_m = np.concatenate([np.full(len(b), m) for m, b in model.adoption_log]) if model.adoption_log else np.zeros(0, int)
    ad_f = np.concatenate([b.firm for _, b in model.adoption_log]) if model.adoption_log else np.zeros(0, int)
    ex_m = np.concatenate([np.full(len(e[1]), e[0]) for e in model.expiry_log]) if model.expiry_log else np.zeros(0, int)
    ex_f = np.concatenate([e[1] for e in model.expiry_log]) if model.expiry_log else np.zeros(0, int)
    return np.stack([stock + np.bincount(ad_f[ad_m <= m], minlength=n) - np.bincount(ex_f[ex_m <= m], minlength=n)
                     for m in end_months])


def _with_firm_id(model, t: Table) -> Table:
    """Firms loaded from a user's CSV keep the user's ``firm_id`` next to the row index."""
    ids = getattr(model.firms, "firm_id", None)
    if ids is not None and len(t):
        t.add("firm_id", np.asarray(ids, dtype=object)[t.column("firm")].astype(str), at=t.names.index("firm") + 1)
    return t


def firms_table(model) -> Table:
    """Annual firm panel from the registry: one row per firm and recorded year."""
    reg, ft = model.registry, model.firms
    years = np.flatnonzero(reg.recorded)
    n = ft.n
    if len(years) == 0:
        return Table()
    yy = np.repeat(reg.years[years], n)
    firm = np.tile(np.arange(n), len(years))
    end_month = (years + 1) * 12 - 1
    n_adopted = installed_by_firm(model, end_month).ravel()
    s1 = reg.scope1_t[years].ravel()
    s2 = reg.scope2_t[years].ravel()
    cl = ft.cluster
    cluster_names = [c.name for c in model.clusters]
    t = (Table().add("year", yy.astype(np.int32))
         .add("firm", firm.astype(np.int64))
         .categorical("sector", np.tile(ft.sector, len(years)), model.sector_names)
         .categorical("size_class", np.tile(ft.size_class, len(years)), SIZE_CLASSES))
    if cluster_names:
        t.categorical("cluster", np.tile(cl, len(years)), cluster_names)
    else:  # no clusters: all missing (pandas' categories of an all-missing column are float)
        t.categorical("cluster", np.full(len(yy), -1), np.zeros(0, dtype=float))
    return _with_firm_id(model, t.add("scope1_t_co2", s1)
                         .add("scope2_t_co2", s2)
                         .add("emissions_t_co2", s1 + s2)
                         .add("energy_mwh", reg.energy_mwh[years].ravel())
                         .add("measures_adopted", n_adopted.astype(np.int16))
                         .add("reporting", np.concatenate([ft.reporting_from_month <= m for m in end_month])))


def summary_dict(model, adoptions: Table) -> dict:
    cfg = model.config
    reg = model.registry
    tot = reg.totals()
    years = reg.years
    recorded = reg.recorded
    em = {int(y): float(t) for y, t, r in zip(years, tot, recorded) if r}
    spend = model.spending_usd()
    supported = adoptions.labels("instrument") != "none"
    n_supported = int(supported.sum())
    viable = int((supported & adoptions.column("viable_without_support_same_month")).sum()) if n_supported else 0
    share = model.adopter_count / np.maximum(model.applicable_count, 1)
    ts = model.series
    n = model.month + 1
    s = {
        "scenario": cfg.scenario.name,
        "policy": cfg.policy.name,
        "seed": cfg.seed,
        "n_firms": model.n_firms,
        "start_year": cfg.start_year,
        "end_year": cfg.end_year,
        "months_run": n,
        "base_year_emissions_t_co2": em.get(cfg.start_year),
        "emissions_t_co2_by_year": em,
        "emissions_t_co2_in": {str(y): em.get(y) for y in REPORT_YEARS},
        "cumulative_emissions_t_co2": float(sum(em.values())),
        "adoptions": int(model.adoptions_total),
        "installed_measures": int(model.adopter_count.sum()),
        "expiries": int(model.expiries_total),
        "adoption_share_by_measure": {m: float(v) for m, v in zip(model.catalogue.names, share)},
        "adopters_by_sector_and_measure": {
            s_: {m: int(model.adopters_by_sector[i, j]) for j, m in enumerate(model.catalogue.names) if model.adopters_by_sector[i, j]}
            for i, s_ in enumerate(model.sector_names)},
        "public_spending_usd": float(sum(spend.values())),
        "public_spending_usd_by_instrument": {k: float(v) for k, v in spend.items()},
        "spending_kind_by_name": dict(model.gov.spending_kind),
        "in_kind_usd_by_name": {k: float(v) for k, v in model.gov.in_kind_usd().items()},
        "firms_by": firms_by_group(model),
        "instrument_exhausted": {
            name: (None if inst.exhausted_month is None else
                   {"month": int(inst.exhausted_month), "year": int(cfg.start_year + inst.exhausted_month // 12)})
            for name, inst in model.gov.budgeted_instruments().items()},
        "supported_adoptions": n_supported,
        # not the free-rider share (that needs the paired no-support run: sim.evaluation.additionality)
        "supported_viable_without_support_same_month_share": (viable / n_supported) if n_supported else None,
        "green_loans_usd": float(model.instruments["green_loan"].lent_usd),
        "cost_share_projects_by_year": {str(k): v for k, v in model.instruments["cost_share"].projects_by_year.items()},
        "assessments": int(model.instruments["cost_share"].assessments),
        "workshops_held": int(model.instruments["workshops"].held),
        "consultants_trained": int(model.consultants.consultants),
        "energy_cost_saving_usd": float(ts["energy_cost_saving_usd"][:n].sum()) if n else 0.0,
        "carbon_revenue_usd": float(ts["carbon_revenue_usd"][:n].sum()) if n else 0.0,
        "programmes": {m.name: m.summary(model.engine) for m in model.mechanisms if m.name not in model.instruments},
        "recommendations_by_programme": {src: model.engine.recommendations.stats(src)
                                         for src in model.engine.recommendations.sources},
    }
    return s


def collect(model) -> RunResults:
    adoptions = adoptions_table(model)
    firms = firms_table(model) if model.config.write_firm_panel else Table()
    return RunResults(timeseries_table(model), firms, adoptions, summary_dict(model, adoptions),
                      expiries=expiries_table(model), assessments=assessments_table(model))


# writing -----------------------------------------------------------------------------------
class OutputFault(OSError):
    """An output location that cannot take a run (no room, not writable): ``str()`` is the
    one line to print; the command exits with code 1 (a fault, not bad input)."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


def finite_or_none(obj):
    """``obj`` with every non-finite float (NaN, +-Infinity) replaced by None (JSON null),
    recursively through dicts, lists and tuples; numpy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_none(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def strict_json(obj, **kwargs) -> str:
    """JSON text that any parser accepts: non-finite numbers are written as null
    (``json.dumps`` would write the invalid tokens NaN / Infinity)."""
    return json.dumps(finite_or_none(obj), allow_nan=False, **kwargs)


def estimate_run_bytes(cfg) -> int:
    """A generous estimate of a run folder's size (bytes): the firm panel (~16 bytes per firm
    and year measured; 24 assumed), the adoption table (~40 bytes per firm), the monthly time
    series (~1 kB per month) and the resolved config and summary (64 kB)."""
    years = max(int(cfg.end_year) - int(cfg.start_year) + 1, 1)
    n = max(int(cfg.n_firms), 0)
    panel = n * years * 24 if getattr(cfg, "write_firm_panel", True) else 0
    return panel + n * 40 + years * 12 * 1000 + 64_000


def _existing_ancestor(path: Path) -> Path:
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_free_space(out_dir: Path, cfg) -> None:
    """Raise :class:`OutputFault` when the file system of ``out_dir`` has less free space
    than :func:`estimate_run_bytes` (before anything is simulated or written)."""
    need = estimate_run_bytes(cfg)
    try:
        free = shutil.disk_usage(_existing_ancestor(out_dir)).free
    except OSError:
        return  # no answer: the write itself will tell
    if free < need:
        raise OutputFault(errno.ENOSPC, f"{out_dir}: not enough free space for this run "
                          f"({free / 1e6:.2f} MB free, about {need / 1e6:.2f} MB needed); free some space or choose another folder (hydra.run.dir=... or hydra.sweep.dir=...)")


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _atomic_write_bytes(path: Path, write) -> None:
    tmp = _tmp_name(path)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        try:
            if tmp.exists():
                tmp.unlink()
        except OSError:
            pass


def write_parquet(df, path) -> None:
    """``df.to_parquet(path)`` (a DataFrame), dictionary-encoding only the columns where it
    pays (categories, integers, booleans: few distinct values): pyarrow's default tries a
    dictionary on every column, which costs ~40 % of writing the 32,174-firm panel and saves
    nothing on its floats. Same file contents as read back (values, dtypes, categories). A
    :class:`~sim.table.Table`: :func:`sim.table.write_parquet` (the same file, no pandas)."""
    if isinstance(df, Table):
        write_table(df, path)
        return
    import pandas as pd

    coded = [c for c, t in df.dtypes.items() if isinstance(t, pd.CategoricalDtype) or t.kind in "biu"]
    df.to_parquet(path, index=False, engine="pyarrow", use_dictionary=coded)


def write_run(out_dir: Path, results: RunResults, resolved_config_yaml: str) -> Path:
    """Write a run folder; ``summary.json`` last (its presence marks a complete run). On an
    I/O error (disk full...) the files of this write are removed (an emptied folder too) and
    the :class:`OSError` is raised: the folder never looks complete."""
    out_dir = Path(out_dir)
    summary = out_dir / "summary.json"
    written: list[Path] = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if summary.exists() or summary.is_symlink():
            summary.unlink()  # the folder is incomplete until the new summary lands
        text = strict_json(results.summary, indent=2) + "\n"
        for path, write in [(out_dir / "config.yaml", lambda p: p.write_text(resolved_config_yaml))] + [
                (out_dir / f"{name}.parquet", lambda p, df=results.table(name): write_parquet(df, p))
                for name in TABLES if results.table(name) is not None] + [(summary, lambda p: p.write_text(text))]:
            written.append(path)
            _atomic_write_bytes(path, write)
    except OSError:
        _remove_partial(out_dir, written)
        raise
    return out_dir


def _remove_partial(out_dir: Path, written: list[Path]) -> None:
    """After a failed write: remove what it wrote (summary first) and its temp files; the
    folder too when it is empty (whoever created it). Errors here are ignored (the first
    error is the one reported)."""
    for p in sorted(written, key=lambda p: p.name != "summary.json"):
        for q in (p, _tmp_name(p)):
            try:
                if q.is_file() or q.is_symlink():
                    q.unlink()
            except OSError:
                pass
    remove_if_empty(out_dir)


def remove_if_empty(out_dir: Path) -> None:
    """Remove ``out_dir`` if it exists and is empty (a failed run leaves no empty folder)."""
    try:
        if Path(out_dir).is_dir() and not any(Path(out_dir).iterdir()):
            Path(out_dir).rmdir()
    except OSError:
        pass


def is_complete(run_dir: Path) -> bool:
    return (Path(run_dir) / "summary.json").exists()
