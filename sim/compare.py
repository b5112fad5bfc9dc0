"""Paired policy evaluation with common random numbers: an orchestrator of sim.evaluation.

    python -m sim.compare scenario=mx_cluster policies=[incentive_package,carbon_price] seeds=10
    python -m sim.compare scenario=bajio_cpi policies=[incentive_package] seeds=20 n_firms=5000 jobs=2 out=results/cmp
    python -m sim.compare policies=[incentive_package] seeds=5 drivers=experiments/sensitivity/cluster_behaviour.yaml

Each policy runs against the same baseline (``baseline=none`` by default) under the same seeds.
The model draws firms, network, awareness and policy randomness from separate child streams
of the seed (``ClusterModel``: ``rng.spawn``), so for one seed every policy sees the same
firms, the same network and the same awareness draws: per-seed differences are the policy's
effect, not sampling noise. Per policy, across seeds (means, 95 % intervals: sim.evaluation.uncertainty):

* cost-effectiveness by horizon (sim.evaluation.cost_effectiveness): lifetime abatement of the
  installations, public cost, transfers, programme cost, in kind (not public), firms' outlay
  and net cost, social cost; public and social US$ per tonne (present values at
  ``discount_rate``, default sim.evaluation.SOCIAL_DISCOUNT_RATE_PER_YR);
* per instrument (``attribution=remove_one``, the default when a policy has two or more
  enabled instruments): the package re-run with each instrument removed in turn; marginal
  abatement and cost, own public cost, interactions; a marginal abatement cost curve of instruments;
* additionality (sim.evaluation.additionality): free riders within ``free_rider_window_yr``
  years, net-to-gross ratio, spillover to non-participants and participants;
* for whom (sim.evaluation.distribution): by size class, sector, association and region;
  concentration of public money;
* ``emissions_abated_t_co2``: baseline minus policy cumulative scope 1+2 emissions over the
  simulated years (what the engine counted, undiscounted).
* drivers (``drivers=<space.yaml>``): each uncertain free parameter of a sensitivity space at
  its low and high end, one at a time, on ``driver_seeds`` seeds.

Shared histories: for each seed, a run whose configuration differs from another run's only by
policy instruments that are off there and start in a later year (a carbon price or a cost-share
programme with ``start_year``: ``sim.snapshot``'s fork rule) is not simulated from the start
year: the other run keeps its state at the start of that year in memory and the run continues
it under its own policy (:func:`share_histories`; the tables are the full run's, byte for byte).
The log names the runs forked and from which year; ``share_history=false`` simulates every run
from the start.

Runs are written as run folders under ``<out>/runs/<policy>/seed=<s>`` (the package without an
instrument: ``<out>/attribution/...``; driver settings: ``<out>/drivers/...``; complete runs whose
config matches are reused: a comparison can be extended with more seeds or re-run after a
kill). Writes in ``<out>``: ``compare.parquet`` (one row per policy), ``compare_by_seed.parquet``,
``cost_effectiveness.parquet`` (policy x horizon), ``cost_effectiveness_by_seed.parquet``,
``instruments.parquet`` and ``instruments_mac.png`` (attribution), ``distribution.parquet`` (tidy)
and ``distribution.png``, ``drivers.parquet`` (with drivers), ``compare.md`` and ``compare.png``.
Bad input: one line on stderr, exit code 2. Every policy, variant and seed is composed and
checked, and ``out`` checked for writing, before the output folder is created; a reused run
folder that is damaged is named with how to re-run it, before any run starts.
"""
from __future__ import annotations

import logging
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger("sim.compare")

OWN_KEYS = ("policies", "seeds", "baseline", "out", "jobs", "discount_rate", "free_rider_window_yr", "horizons",
            "attribution", "instruments", "drivers", "driver_seeds", "posterior", "share_history")
ATTRIBUTIONS = ("remove_one", "none")


from .compose import BadInput, bad_input, load_both, report_bad_input
from .gather import DamagedRun, read_summary, read_table
from .evaluation import FREE_RIDER_WINDOW_YR, HORIZON_YEARS, LIFETIME, SOCIAL_DISCOUNT_RATE_PER_YR
from .evaluation.uncertainty import free_parameters, interval, ratio_interval
from .outputs import check_output_dir


@dataclass
class Request:
    policies: list[str]
    seeds: list[int]
    baseline: str = "none"
    out: Path | None = None
    jobs: int = 1
    overrides: list[str] = field(default_factory=list)  # scenario=..., n_firms=..., any config key
    discount_rate: float = SOCIAL_DISCOUNT_RATE_PER_YR
    free_rider_window_yr: float = FREE_RIDER_WINDOW_YR
    horizons: tuple = HORIZON_YEARS
    attribution: str = "remove_one"
    #: config paths of the instruments to remove in turn (None: each policy's enabled instruments)
    instruments: list[str] | None = None
    #: a sensitivity space file whose uncertain free parameters are varied one at a time
    drivers: str | None = None
    driver_seeds: int = 2
    #: posterior=<calibration's posterior.parquet>: seed s of every policy runs at draw s (sim.posterior)
    draws: dict = field(default_factory=dict)
    #: runs whose history up to their policy's start is another run's continue it (identical tables)
    share_history: bool = True


def parse_args(argv: list[str]) -> Request:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    own, rest = {}, []
    for a in argv:
        key = a.split("=", 1)[0]
        if key in OWN_KEYS:
            if "=" not in a:
                raise BadInput(f"{key}: needs a value ({key}=...)")
            try:
                own[key] = parser.parse_override(a).value()
            except Exception as exc:  # noqa: BLE001
                raise BadInput(f"{a}: cannot parse ({str(exc).splitlines()[0]})") from None
        elif key.startswith("-"):
            raise BadInput(f"{a}: unknown option; arguments are key=value (policies=[...] seeds=N baseline=none out=DIR jobs=N, config keys)")
        elif key in ("policy", "seed"):
            raise BadInput(f"{key}: set by the comparison; use {'policies=[...]' if key == 'policy' else 'seeds=N'}")
        else:
            rest.append(a)
    if "policies" not in own:
        raise BadInput("policies: missing; e.g. policies=[incentive_package,carbon_price]")
    policies = own["policies"]
    policies = [str(p) for p in (policies if isinstance(policies, list) else [policies])]
    if not policies:
        raise BadInput("policies = []: name at least one policy")
    seeds = own.get("seeds", 10)
    if isinstance(seeds, bool) or not (isinstance(seeds, int) or (isinstance(seeds, list) and all(isinstance(s, int) for s in seeds))):
        raise BadInput(f"seeds = {seeds!r}: an integer N (seeds 0..N-1) or a list of integers")
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seeds:
        raise BadInput("seeds: no seeds; give N >= 1 or a list")
    if len(set(seeds)) != len(seeds):
        raise BadInput(f"seeds = {seeds}: repeated seeds")
    baseline = str(own.get("baseline", "none"))
    if baseline in policies:
        raise BadInput(f"baseline = {baseline!r} is also in policies")
    jobs = own.get("jobs", 1)
    if not isinstance(jobs, int) or jobs < 1:
        raise BadInput(f"jobs = {jobs!r}: an integer >= 1")
    out = Path(str(own["out"])) if "out" in own else None
    if out is not None:
        check_output_dir(out, "out")  # before any work: not a file, not under a file, writable
    rate = _number(own, "discount_rate", SOCIAL_DISCOUNT_RATE_PER_YR, 0.0, 1.0)
    window = _number(own, "free_rider_window_yr", FREE_RIDER_WINDOW_YR, 0.0, 100.0)
    hz = own.get("horizons", list(HORIZON_YEARS))
    hz = hz if isinstance(hz, list) else [hz]
    if not hz or not all(isinstance(y, int) and not isinstance(y, bool) for y in hz):
        raise BadInput(f"horizons = {own.get('horizons')!r}: a list of years, e.g. [2030,2040,2050]")
    attribution = str(own.get("attribution", "remove_one"))
    if attribution not in ATTRIBUTIONS:
        raise BadInput(f"attribution = {attribution!r}: one of {', '.join(ATTRIBUTIONS)}")
    inst = own.get("instruments")
    if inst is not None:
        inst = [str(i) for i in (inst if isinstance(inst, list) else [inst])]
    drivers = str(own["drivers"]) if own.get("drivers") not in (None, "none", "") else None
    if drivers is not None:
        free_parameters(drivers)  # BadInput now, before any work
    dseeds = own.get("driver_seeds", 2)
    if isinstance(dseeds, bool) or not isinstance(dseeds, int) or dseeds < 1:
        raise BadInput(f"driver_seeds = {dseeds!r}: an integer >= 1")
    draws = {}
    if "posterior" in own:  # parameter uncertainty: one posterior draw per seed (sim.posterior)
        from .posterior import check_draws, draws_by_seed

        draws = draws_by_seed(str(own["posterior"]), seeds)
        check_draws(rest + [f"policy={baseline}"], list(draws.values()))
    share = own.get("share_history", True)
    if not isinstance(share, bool):
        raise BadInput(f"share_history = {share!r}: true or false")
    return Request(policies, seeds, baseline, out, jobs, rest, rate, window, tuple(hz), attribution, inst, drivers,
                   min(dseeds, len(seeds)), draws, share)


def _number(own: dict, key: str, default: float, lo: float, hi: float) -> float:
    v = own.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
        raise BadInput(f"{key} = {v!r}: a number in [{lo:g}, {hi:g}]")
    return float(v)


def _job_overrides(req: Request, policy: str, seed: int) -> list[str]:
    return list(req.overrides) + [f"policy={policy}", f"seed={seed}"]


@dataclass
class Variant:
    """One configuration run under several seeds: a policy, a policy without an instrument,
    or a driver setting; ``folder`` under ``<out>/runs``; ``cfg`` its composed config."""
    label: str
    cfg: object
    folder: str
    seeds: list[int]
    #: key=value changes to the policy's composed config (checked by :func:`preflight_variants`)
    changes: list[str] = field(default_factory=list)


def policy_instruments(cfg) -> list[str]:
    """Config paths of the policy's enabled instruments (``policy.<name>``)."""
    return [f"policy.{k}" for k, v in cfg.policy.items() if hasattr(v, "get") and v.get("enabled") is True]


def _changed(cfg, changes: list[str]):
    """A copy of the composed ``cfg`` with ``key=value`` changes (values parsed as Hydra does)."""
    import copy

    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf, open_dict

    c = copy.deepcopy(cfg)
    parser = OverridesParser.create()
    for ch in changes:
        o = parser.parse_override(ch)
        with open_dict(c):
            OmegaConf.update(c, o.key_or_group, o.value(), merge=True)
    return c


def variants(req: Request, cfgs: dict) -> tuple[list[Variant], dict[str, dict[str, str]], list[tuple]]:
    """Every configuration of the comparison: the baseline and policies (all seeds), each
    policy without each of its instruments (attribution), and the driver settings (the first
    ``driver_seeds`` seeds). Returns (variants, {policy: {instrument: variant label}},
    [(policy, parameter, end, value, variant label, baseline variant label)])."""
    from omegaconf import OmegaConf

    out = [Variant(p, cfgs[p], p, req.seeds) for p in [req.baseline] + req.policies]
    removed: dict[str, dict[str, str]] = {}
    if req.attribution == "remove_one":
        for p in req.policies:
            cfg = cfgs[p]
            insts = req.instruments if req.instruments is not None else policy_instruments(cfg)
            for i in insts:
                node = OmegaConf.select(cfg, i)
                if node is None or not hasattr(node, "get") or "enabled" not in node:
                    raise BadInput(f"instruments: {i!r} is not an instrument of policy {p!r} (a config path with 'enabled', e.g. policy.training)")
            if len(insts) < 2:
                continue
            for i in insts:
                label = f"{p} without {i.split('.')[-1]}"
                ch = [f"{i}.enabled=false"]
                out.append(Variant(label, _changed(cfg, ch), f"../attribution/{p}--without-{i.replace('.', '_')}", req.seeds, ch))
                removed.setdefault(p, {})[i] = label
    drivers = []
    if req.drivers:
        dseeds = req.seeds[:req.driver_seeds]
        for key, lo, hi in free_parameters(req.drivers):
            if OmegaConf.select(cfgs[req.baseline], key) is None:
                raise BadInput(f"drivers: {key} is not a config key of this scenario ({req.drivers})")
            for end, v in (("low", lo), ("high", hi)):
                tag = f"{key}={v:g}"
                for p in [req.baseline] + req.policies:
                    out.append(Variant(f"{p} | {tag}", _changed(cfgs[p], [tag]), f"../drivers/{tag}/{p}", dseeds, [tag]))
                for p in req.policies:
                    drivers.append((p, key, end, v, f"{p} | {tag}", f"{req.baseline} | {tag}"))
    return out, removed, drivers


def preflight(req: Request) -> dict:
    """Compose and check every policy (first seed) and every seed of each (the seed is the
    only key that differs between a policy's runs): unknown policy, bad key or value ->
    BadInput. Returns the composed config of each policy (and the baseline)."""
    import dataclasses

    from .params import validate

    cfgs = {}
    for p in [req.baseline] + req.policies:
        cfg, typed = load_both(_job_overrides(req, p, req.seeds[0]))
        cfgs[p] = cfg
        for s in req.seeds[1:]:
            try:
                with bad_input():
                    validate(dataclasses.replace(typed, seed=s))
            except BadInput as exc:
                raise BadInput(f"seeds: {exc}") from None
    return cfgs


def preflight_variants(vs: list[Variant]) -> None:
    """Check each driver setting once (on the baseline's config: a free parameter's value);
    removing an instrument (``enabled=false``) needs no check."""
    from .compose import check
    from .params import to_config

    seen = set()
    for v in vs:
        ch = tuple(c for c in v.changes if not c.endswith(".enabled=false"))
        if not ch or ch in seen:
            continue
        seen.add(ch)
        try:
            with bad_input():
                check(to_config(v.cfg))
        except BadInput as exc:
            raise BadInput(f"drivers: {', '.join(ch)}: {exc}") from None


def check_reused(dirs) -> None:
    """Complete run folders that the comparison would reuse must be readable (BadInput naming
    the first damaged one and how to re-run it)."""
    for d in dirs:
        if (d / "summary.json").exists():
            try:
                read_summary(d)
                read_table(d, "adoptions", columns=["firm", "measure", "instrument"])
            except DamagedRun as exc:
                raise BadInput(str(exc)) from None


def _typed(resolved: str, seed: int, cache: dict):
    """The typed config of a resolved YAML with its seed set (converted once per text)."""
    import copy

    from omegaconf import OmegaConf

    from .params import to_config

    same = _resolved(resolved, 0)  # seeds of a variant share a config unless a posterior draw differs
    if same not in cache:
        cache[same] = to_config(OmegaConf.create(same))
    c = copy.deepcopy(cache[same])
    c.seed = seed
    return c


def _needed(d: Path, resolved: str) -> bool:
    """A run folder that must be (re-)run: not complete, or complete under another config."""
    from .results import is_complete

    return not (is_complete(d) and (d / "config.yaml").exists() and (d / "config.yaml").read_text() == resolved)


def _run_chunk(yaml_by_seed: dict[int, str], folder: str, forks: tuple = ()) -> tuple[list[str], int]:
    """Run the seeds of one variant in this process from its resolved configs (composed once
    in the parent: no Hydra composition here); complete runs with the same config are kept.
    ``forks``: ((yaml_by_seed, folder, year), ...) of the variants whose history up to the
    start of ``year`` is this variant's (:func:`share_histories`): this run stops at the start
    of each such year to keep its state in memory, and each of them continues from it under its
    own policy (``sim.snapshot.fork``; the full run's tables exactly). Returns the run folders
    and how many of the runs made were forked."""
    import copy
    import logging

    from .job import finish
    from .results import write_run
    from .snapshot import fork, snapshot_month
    from .sweep import release_finished_models

    logging.getLogger("MESA").setLevel(logging.WARNING)
    done, typed, n_forked = [], {}, 0
    for s, resolved in yaml_by_seed.items():
        d = Path(folder) / f"seed={s}"
        fork_dirs = [(texts[s], Path(f) / f"seed={s}", y) for texts, f, y in forks]
        todo = [(text, fd, y) for text, fd, y in fork_dirs if _needed(fd, text)]
        if _needed(d, resolved) or todo:
            from .model import ClusterModel

            cfg = _typed(resolved, s, typed)
            model = ClusterModel(cfg, lazy_firm_agents=True)  # as run_model builds it
            states = {}
            for y in sorted({y for _, _, y in todo}):  # the shared history, once
                while model.running and model.month < snapshot_month(cfg.start_year, y):
                    model.step()
                states[y] = copy.deepcopy(model)  # ~3x cheaper than pickling it (and loading it back)
            if _needed(d, resolved):
                write_run(d, finish(model), resolved)
            model.running = False  # (only its history was needed) discarded: mesa's id counters let it go
            del model
            release_finished_models()
            for i, (text, fd, y) in enumerate(todo):
                header = {"snapshot_year": y, "policy": cfg.policy.name}
                last = all(yy != y for _, _, yy in todo[i + 1:])  # the last fork of the year takes the state itself
                state = states.pop(y) if last else copy.deepcopy(states[y])
                write_run(fd, finish(fork(state, header, _typed(text, s, typed))), text)
                n_forked += 1
                release_finished_models()
        done += [str(d)] + [str(fd) for _, fd, _ in fork_dirs]
    return done, n_forked


def _resolved(text: str, seed: int) -> str:
    """The resolved YAML ``text`` of a config with its top-level ``seed`` set to ``seed``."""
    import re

    out, n = re.subn(r"^seed: .*$", f"seed: {seed}", text, count=1, flags=re.M)
    if n != 1:
        raise ValueError("resolved config without a top-level seed")
    return out


def share_histories(cfgs: list) -> dict[int, tuple[int, int]]:
    """Which runs of one seed continue another's history instead of simulating it again:
    {index of a forked config: (index of the config whose run it forks, year)}, for typed
    configs ``cfgs`` (:func:`_share_plan`)."""
    from .snapshot import same_but_policy

    family = []
    for j, c in enumerate(cfgs):
        family.append(next((i for i in range(j) if family[i] == i and same_but_policy(cfgs[i], c)), j))
    return _share_plan(family, [c.policy for c in cfgs], [c.start_year for c in cfgs], [c.end_year for c in cfgs])


def _share_plan(family: list, policies: list, start: list[int], end: list[int]) -> dict[int, tuple[int, int]]:
    """The plan of :func:`share_histories` for configs given as their family (configs of one
    family are equal but for their policies), typed policy, start and end year. Config ``v``
    can fork the run of ``r`` of its family at the start of any year up to
    ``sim.snapshot.latest_policy_fork_year`` (the snapshot fork's rule: only instruments off
    under ``r`` and starting then or later under ``v`` differ), and does at the latest such year
    after the start year. Roots are chosen greedily by the simulated years they save (ties: the
    earlier config, i.e. the baseline); a root is a full run, a forked run is no root."""
    from .snapshot import latest_policy_fork_year

    n = len(family)
    latest = {}
    for r in range(n):
        for v in range(n):
            if r == v or family[r] != family[v]:
                continue
            y = latest_policy_fork_year(policies[r], policies[v], start[r], end[r])
            if y is not None and y > start[r]:
                latest[r, v] = y
    plan, left = {}, set(range(n))
    while left:
        gain = {r: sum(latest[r, v] - start[r] for v in left if (r, v) in latest) for r in left}
        root = max(sorted(left), key=gain.__getitem__)
        if gain[root] == 0:
            break
        forked = [v for v in sorted(left) if (root, v) in latest]
        plan.update({v: (root, latest[root, v]) for v in forked})
        left -= set(forked) | {root}
    return plan


_POLICY_BLOCK = re.compile(r"^policy:\n(?:[ \t].*\n|\n)*", re.M)


def _plan_from_texts(texts: tuple[str, ...]) -> dict[int, tuple[int, int]]:
    """:func:`_share_plan` of resolved configs (YAML, one seed): a family is the text outside
    the top-level ``policy`` block; only the policies of families of two or more are typed."""
    from omegaconf import OmegaConf

    from .params import PolicyConfig

    outside = [_POLICY_BLOCK.sub("", t, count=1) for t in texts]
    family = [outside.index(o) for o in outside]
    policies, start, end, typed = [], [], [], {}
    for t, f in zip(texts, family):
        block = _POLICY_BLOCK.search(t).group(0)
        if family.count(f) > 1 and block not in typed:
            typed[block] = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(PolicyConfig), OmegaConf.create(block).policy))
        policies.append(typed.get(block))
        start.append(int(re.search(r"^start_year: (\d+)$", t, re.M).group(1)))
        end.append(int(re.search(r"^end_year: (\d+)$", t, re.M).group(1)))
    return _share_plan(family, policies, start, end)


def _fork_tasks(req: Request, out: Path, vs: list[Variant], texts: dict) -> tuple[list[tuple], list[str]]:
    """The tasks of :func:`run_all` (a root variant's chunk of seeds and the variants forked
    from its history) and a line per fork group for the log."""
    folder = {v.label: str((out / "runs" / v.folder).resolve()) for v in vs}
    plans: dict[tuple, dict] = {}  # one plan per distinct set of configs (all seeds unless a posterior draw differs)
    groups: dict[tuple, list[int]] = {}
    for s in dict.fromkeys(s for v in vs for s in v.seeds):
        here = [v for v in vs if s in v.seeds]
        key = tuple(_resolved(texts[v.label][s], 0) for v in here)
        if key not in plans:
            plans[key] = _plan_from_texts(key) if req.share_history else {}
        plan = plans[key]
        for i, v in enumerate(here):
            if i not in plan:
                forks = tuple((here[j].label, y) for j, (r, y) in sorted(plan.items()) if r == i)
                groups.setdefault((v.label, forks), []).append(s)
    tasks, lines = [], []
    for (root, forks), seeds in groups.items():
        chunk = max(1, -(-len(seeds) // req.jobs))  # every worker busy
        for i in range(0, len(seeds), chunk):
            ss = seeds[i:i + chunk]
            tasks.append(({s: texts[root][s] for s in ss}, folder[root],
                          tuple(({s: texts[f][s] for s in ss}, folder[f], y) for f, y in forks)))
        lines += [f"{f} from {root}'s run at the start of {y} ({len(seeds)} seed{'s' * (len(seeds) > 1)})" for f, y in forks]
    return tasks, lines


def run_texts(req: Request, vs: list[Variant]) -> dict[str, dict[int, str]]:
    """The resolved config (YAML) of every variant and seed: {label: {seed: text}}."""
    from omegaconf import OmegaConf

    texts = {}
    for v in vs:
        if req.draws:  # seed s of every variant runs at posterior draw s (shared: still paired)
            texts[v.label] = {s: _resolved(OmegaConf.to_yaml(_changed(v.cfg, req.draws[s]), resolve=True), s) for s in v.seeds}
        else:
            text = OmegaConf.to_yaml(v.cfg, resolve=True)
            texts[v.label] = {s: _resolved(text, s) for s in v.seeds}
    return texts


def run_all(req: Request, out: Path, vs: list[Variant]) -> dict[tuple[str, int], Path]:
    """Run (or reuse) every variant x seed on ``jobs`` processes; a task runs a chunk of one
    variant's seeds from its resolved configs, and the runs forked from its history
    (:func:`share_histories`; ``share_history=false``: none)."""
    from concurrent.futures import as_completed

    from tqdm import tqdm

    dirs = {(v.label, s): (out / "runs" / v.folder / f"seed={s}").resolve() for v in vs for s in v.seeds}
    tasks, lines = _fork_tasks(req, out, vs, run_texts(req, vs))
    if lines:
        n = sum(len(t[0]) * len(t[2]) for t in tasks)
        log.info("Shared histories: %d of %d runs continue another run's history from the year their policy starts "
                 "(identical tables, sim/snapshot.py's fork rule):\n  %s", n, len(dirs), "\n  ".join(lines))
    t0, c0 = time.perf_counter(), time.process_time()
    bar = tqdm(total=len(dirs), desc="runs", unit="run", file=sys.stderr)
    forked = 0
    if req.jobs == 1:
        for t in tasks:
            done, k = _run_chunk(*t)
            bar.update(len(done))
            forked += k
    else:
        with ProcessPoolExecutor(max_workers=req.jobs) as ex:
            for f in as_completed([ex.submit(_run_chunk, *t) for t in tasks]):
                done, k = f.result()
                bar.update(len(done))
                forked += k
    bar.close()
    cpu = "" if req.jobs > 1 else f", {time.process_time() - c0:.1f} s CPU"
    log.info("%d runs in %.1f s%s%s", len(dirs), time.perf_counter() - t0, cpu,
             f" ({forked} forked from a shared history)" if forked else "")
    return dirs


# -- the paired metrics -------------------------------------------------------------------------
_loaded: dict = {}


def _load(d: Path):
    """A run folder as the evaluation reads it (kept while its summary.json is unchanged)."""
    from .evaluation.runs import load_run

    d = Path(d)
    try:
        key = (str(d.resolve()), (d / "summary.json").stat().st_mtime_ns)
    except OSError:
        key = None
    if key is not None and key in _loaded:
        return _loaded[key]
    try:
        r = load_run(d)
    except DamagedRun as exc:
        raise BadInput(str(exc)) from None
    if key is not None:
        _loaded[key] = r
    return r


def paired_metrics(base_dir: Path, pol_dir: Path, window_yr: float = FREE_RIDER_WINDOW_YR,
                   rate: float = SOCIAL_DISCOUNT_RATE_PER_YR) -> dict:
    """The policy's effect in one seed: emissions abated over the simulated years, public
    cost, energy-cost savings, carbon revenue (policy - baseline) and the additionality
    indicators (:mod:`sim.evaluation.additionality`)."""
    from .evaluation.additionality import additionality

    b, p = _load(base_dir), _load(pol_dir)
    bs, ps = b.summary, p.summary
    return {
        "emissions_abated_t_co2": bs["cumulative_emissions_t_co2"] - ps["cumulative_emissions_t_co2"],
        "public_cost_undiscounted_usd": ps["public_spending_usd"] - bs["public_spending_usd"],
        "energy_cost_saving_usd": ps["energy_cost_saving_usd"] - bs["energy_cost_saving_usd"],
        "carbon_revenue_usd": ps["carbon_revenue_usd"] - bs["carbon_revenue_usd"],
        "emissions_end_year_reduction_t_co2": (bs["emissions_t_co2_by_year"][str(bs["end_year"])]
                                               - ps["emissions_t_co2_by_year"][str(ps["end_year"])]),
        **additionality(p, b, window_yr, rate),
    }


#: headline columns with a Student t interval over seeds
MEAN_KEYS = ("emissions_abated_t_co2", "abatement_t_co2", "public_cost_usd", "social_cost_usd", "firm_net_cost_usd",
             "in_kind_usd", "energy_cost_saving_usd", "carbon_revenue_usd", "additional_adoptions", "additionality_share",
             "free_rider_share", "net_to_gross_ratio", "spillover_nonparticipant_share", "spillover_participant_share",
             "top10_recipients_share", "gini_public_money")


def _ci_columns(r: dict, key: str, x) -> None:
    m, lo, hi = interval(x)
    r[key], r[f"{key}_lo95"], r[f"{key}_hi95"] = m, lo, hi


def _ratio_columns(r: dict, key: str, num, den) -> None:
    m, lo, hi = ratio_interval(num, den)
    r[key], r[f"{key}_lo95"], r[f"{key}_hi95"] = m, lo, hi


def summarise_ce(ce_by_seed: pd.DataFrame) -> pd.DataFrame:
    """Cost-effectiveness by policy and horizon: means with intervals; US$/t as ratios of means."""
    from .evaluation.cost_effectiveness import QUANTITIES

    rows = []
    for (pol, hz), g in ce_by_seed.groupby(["policy", "horizon"], sort=False):
        r = {"policy": pol, "horizon": hz, "seeds": len(g)}
        for k in QUANTITIES:
            _ci_columns(r, k, g[k].to_numpy())
        _ratio_columns(r, "public_usd_per_t_co2", g["public_cost_usd"].to_numpy(), g["abatement_t_co2"].to_numpy())
        _ratio_columns(r, "social_usd_per_t_co2", g["social_cost_usd"].to_numpy(), g["abatement_t_co2"].to_numpy())
        rows.append(r)
    return pd.DataFrame(rows)


def summarise(by_seed: pd.DataFrame, ce: pd.DataFrame) -> pd.DataFrame:
    """One row per policy: the headlines (whole-lifetime horizon) with 95 % intervals."""
    rows = []
    for pol, g in by_seed.groupby("policy", sort=False):
        r = {"policy": pol, "seeds": len(g)}
        for k in MEAN_KEYS:
            if k in g:
                _ci_columns(r, k, g[k].to_numpy())
        c = ce[(ce["policy"] == pol) & (ce["horizon"] == LIFETIME)].iloc[0]
        for k in ("public_usd_per_t_co2", "social_usd_per_t_co2"):
            r[k], r[f"{k}_lo95"], r[f"{k}_hi95"] = c[k], c[f"{k}_lo95"], c[f"{k}_hi95"]
        for k in ("supported_adoptions", "adoptions", "baseline_adoptions", "participants", "recipients"):
            r[k] = g[k].mean()
        rows.append(r)
    return pd.DataFrame(rows)


def _fmt(r, k, scale=1.0, fmt="{:,.0f}", unit=""):
    m, lo, hi = r[k] * scale, r.get(f"{k}_lo95", np.nan) * scale, r.get(f"{k}_hi95", np.nan) * scale
    if m is None or np.isnan(m):
        return "n/a"
    s = fmt.format(m) + unit
    return s if np.isnan(lo) else f"{s} ({fmt.format(lo)} to {fmt.format(hi)}{unit})"


def markdown(table, ce, inst, conc_dist, drivers, req: Request, meta: dict, labels: dict) -> str:
    L = [f"# Paired policy comparison: {meta['scenario']}", "",
         f"{meta['n_firms']:,} firms, {meta['start_year']}-{meta['end_year']}; baseline `{labels[req.baseline]}`; "
         f"{len(req.seeds)} seeds with common random numbers (same firms, network and awareness draws per seed). "
         f"Means across seeds, 95 % interval in brackets (Student t; US$/t: paired bootstrap over seeds). "
         f"Present values at a social discount rate of {req.discount_rate:.1%}/yr; free riders within "
         f"{req.free_rider_window_yr:g} yr. Horizons {', '.join(str(y) for y in req.horizons)} are limited to the run's end "
         f"({meta['end_year']}); `lifetime` counts every installation made by then over its whole lifetime.", "",
         "## Headlines (whole lifetime of the installations)", "",
         "| policy | abatement, t CO2 (discounted lifetime) | public cost, US$ (PV) | public US$/t | social US$/t | "
         "free-rider share (tonnes) | net-to-gross | spillover to non-participants | emissions abated in the run, t CO2 |",
         "|---|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        L.append(f"| {labels.get(r['policy'], r['policy'])} | {_fmt(r, 'abatement_t_co2')} | {_fmt(r, 'public_cost_usd')} | "
                 f"{_fmt(r, 'public_usd_per_t_co2', fmt='{:,.1f}')} | {_fmt(r, 'social_usd_per_t_co2', fmt='{:,.1f}')} | "
                 f"{_fmt(r, 'free_rider_share', 100, '{:.1f}', ' %')} | {_fmt(r, 'net_to_gross_ratio', fmt='{:.2f}')} | "
                 f"{_fmt(r, 'spillover_nonparticipant_share', 100, '{:.1f}', ' %')} | {_fmt(r, 'emissions_abated_t_co2')} |")
    L += ["", "## Cost-effectiveness by horizon", "",
          "| policy | horizon | abatement, t CO2 (PV) | public cost, US$ | of which transfers | in kind (not public) | "
          "firms' net cost | social cost | public US$/t | social US$/t |", "|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in ce.iterrows():
        L.append(f"| {labels.get(r['policy'], r['policy'])} | {r['horizon']} | {_fmt(r, 'abatement_t_co2')} | {_fmt(r, 'public_cost_usd')} | "
                 f"{r['transfer_usd']:,.0f} | {r['in_kind_usd']:,.0f} | {_fmt(r, 'firm_net_cost_usd')} | {_fmt(r, 'social_cost_usd')} | "
                 f"{_fmt(r, 'public_usd_per_t_co2', fmt='{:,.1f}')} | {_fmt(r, 'social_usd_per_t_co2', fmt='{:,.1f}')} |")
    if inst is not None and len(inst):
        L += ["", "## Per instrument (each removed in turn from the package; whole lifetime)", "",
              "| policy | instrument | marginal abatement, t CO2 | own public cost, US$ | own US$/t | marginal public cost, US$ | marginal social US$/t |",
              "|---|---|---|---|---|---|---|"]
        for _, r in inst[inst["horizon"] == LIFETIME].iterrows():
            u = "n/a" if np.isnan(r["own_usd_per_t_co2"]) else f"{r['own_usd_per_t_co2']:,.1f}"
            s = "n/a" if np.isnan(r["marginal_social_usd_per_t_co2"]) else f"{r['marginal_social_usd_per_t_co2']:,.1f}"
            L.append(f"| {r['policy']} | {r['instrument']} | {r['marginal_abatement_t_co2']:,.0f} | "
                     f"{'-' if np.isnan(r['own_public_cost_usd']) else format(r['own_public_cost_usd'], ',.0f')} | {u} | "
                     f"{r['marginal_public_cost_usd']:,.0f} | {s} |")
        L += ["", "Marginal = package minus package without the instrument (same seeds); interactions = package minus the sum "
              "of the marginals (positive: the instruments reinforce each other). Own public cost = what the instrument spent "
              "in the package run (own costs add up to the package's)."]
    if conc_dist is not None and len(conc_dist):
        L += ["", "## For whom (policy minus baseline, means over seeds; distribution.parquet)", ""]
        for pol, g in conc_dist.groupby("policy", sort=False):
            L.append(f"**{labels.get(pol, pol)}**")
            L.append("")
            L.append("| dimension | group | additional adopters | grants received, US$ | energy-cost savings, US$ | abatement to the run's end, t CO2 |")
            L.append("|---|---|---|---|---|---|")
            for (dim, grp), h in g.groupby(["dimension", "group"], sort=False):
                v = h.set_index("metric")["value"]
                L.append(f"| {dim} | {grp} | {v.get('adopters', 0):,.0f} | {v.get('grants_received_usd', 0):,.0f} | "
                         f"{v.get('energy_cost_saving_usd', 0):,.0f} | {v.get('abatement_t_co2', 0):,.0f} |")
            t = table[table["policy"] == pol].iloc[0]
            L += ["", f"Public money to the top 10 % of recipients: {_fmt(t, 'top10_recipients_share', 100, '{:.0f}', ' %')}; "
                  f"Gini among recipients {_fmt(t, 'gini_public_money', fmt='{:.2f}')}.", ""]
    if drivers is not None and len(drivers):
        L += ["", f"## What drives the headlines (one at a time, {req.driver_seeds} seed(s), whole lifetime)", "",
              "| policy | free parameter | low -> high | abatement, t CO2 | public US$/t | free-rider share |", "|---|---|---|---|---|---|"]
        for _, r in drivers.iterrows():
            L.append(f"| {r['policy']} | {r['parameter']} | {r['low']:g} -> {r['high']:g} | {r['abatement_t_co2_low']:,.0f} -> "
                     f"{r['abatement_t_co2_high']:,.0f} | {r['public_usd_per_t_co2_low']:,.1f} -> {r['public_usd_per_t_co2_high']:,.1f} | "
                     f"{r['free_rider_share_low'] * 100:.1f} -> {r['free_rider_share_high'] * 100:.1f} % |")
    L += ["", "Definitions and sources: docs/evaluation.md.", ""]
    return "\n".join(L)


def plot(table: pd.DataFrame, by_seed: pd.DataFrame, ce: pd.DataFrame, path: Path, title: str, labels: dict) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pols = list(table["policy"])
    names = [labels.get(p, p) for p in pols]
    x = np.arange(len(pols))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))

    def err(t, key, scale):
        m = t[key].to_numpy(float) * scale
        e = np.vstack([m - t[f"{key}_lo95"].to_numpy(float) * scale, t[f"{key}_hi95"].to_numpy(float) * scale - m])
        return m, np.where(np.isnan(e), 0, e)

    m, e = err(table, "abatement_t_co2", 1e-3)
    axes[0].bar(x, m, yerr=e, capsize=6, color=[f"C{i}" for i in range(len(pols))], alpha=0.8)
    for i, p in enumerate(pols):
        v = by_seed.loc[by_seed["policy"] == p, "abatement_t_co2"].to_numpy() * 1e-3
        axes[0].plot(np.full(len(v), i) + np.linspace(-0.15, 0.15, len(v)), v, "k.", ms=3, alpha=0.6)
    axes[0].set(ylabel="kt CO2 (present value)", title="Lifetime abatement vs baseline (95 % CI)")
    hz = [h for h in dict.fromkeys(ce["horizon"])]
    w = 0.8 / max(len(hz), 1)
    for j, h in enumerate(hz):
        t = ce[ce["horizon"] == h].set_index("policy").reindex(pols)
        for k, key, ax in ((0, "public_usd_per_t_co2", axes[1]), (1, "social_usd_per_t_co2", axes[2])):
            mm, ee = err(t, key, 1.0)
            ax.bar(x + (j - (len(hz) - 1) / 2) * w, np.nan_to_num(mm), w, yerr=ee, capsize=3, label=str(h))
    axes[1].set(ylabel="US$ per t CO2 (PV / PV)", title="Public cost per tonne, by horizon")
    axes[2].set(ylabel="US$ per t CO2 (PV / PV)", title="Social (resource) cost per tonne, by horizon")
    for ax in axes:
        ax.set_xticks(x, names, rotation=10, fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        ax.axhline(0, color="k", lw=0.8)
    axes[1].legend(fontsize=8, title="horizon")
    fig.suptitle(title)
    fig.tight_layout()
    from .results import _atomic_write_bytes

    _atomic_write_bytes(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


def _driver_table(req: Request, drivers: list[tuple], dirs: dict) -> pd.DataFrame:
    from .evaluation.cost_effectiveness import run_quantities

    rows = {}
    dseeds = req.seeds[:req.driver_seeds]
    for pol, key, end, v, label, base_label in drivers:
        ab, pub = [], []
        frs = []
        for s in dseeds:
            q_p, _ = run_quantities(_load(dirs[(label, s)]), req.horizons, req.discount_rate)
            q_b, _ = run_quantities(_load(dirs[(base_label, s)]), req.horizons, req.discount_rate)
            ab.append(q_p.loc[LIFETIME, "abatement_t_co2"] - q_b.loc[LIFETIME, "abatement_t_co2"])
            pub.append(q_p.loc[LIFETIME, "public_cost_usd"] - q_b.loc[LIFETIME, "public_cost_usd"])
            frs.append(paired_metrics(dirs[(base_label, s)], dirs[(label, s)], req.free_rider_window_yr, req.discount_rate)["free_rider_share"])
        r = rows.setdefault((pol, key), {"policy": pol, "parameter": key})
        r[end] = v
        r[f"abatement_t_co2_{end}"] = float(np.mean(ab))
        r[f"public_usd_per_t_co2_{end}"] = float(np.mean(pub) / np.mean(ab)) if np.mean(ab) > 0 else np.nan
        r[f"free_rider_share_{end}"] = float(np.nanmean(frs)) if not np.all(np.isnan(frs)) else np.nan
    t = pd.DataFrame(list(rows.values()))
    t["abatement_swing_t_co2"] = (t["abatement_t_co2_high"] - t["abatement_t_co2_low"]).abs()
    return t.sort_values(["policy", "abatement_swing_t_co2"], ascending=[True, False]).reset_index(drop=True)


def evaluate(req: Request, dirs: dict, removed: dict, meta: dict):
    """The paired evaluation of every policy and seed: per-seed metrics, cost-effectiveness
    by horizon, for-whom tables and (per policy with removed instruments) the attribution."""
    from .evaluation import distribution as dist
    from .evaluation.cost_effectiveness import attribute, paired_effect, run_quantities

    quant = {}  # (label, seed) -> (quantities, public cost by name)

    def q(label, s):
        if (label, s) not in quant:
            quant[(label, s)] = run_quantities(_load(dirs[(label, s)]), req.horizons, req.discount_rate)
        return quant[(label, s)]

    rows, ce_rows, dist_rows, inst_tables = [], [], [], []
    for p in req.policies:
        for s in req.seeds:
            m = paired_metrics(dirs[(req.baseline, s)], dirs[(p, s)], req.free_rider_window_yr, req.discount_rate)
            d = paired_effect(q(p, s)[0], q(req.baseline, s)[0])
            pol_run = _load(dirs[(p, s)])
            conc = dist.concentration(pol_run)
            rows.append({"policy": p, "seed": s, **m, **d.loc[LIFETIME, ["abatement_t_co2", "public_cost_usd", "social_cost_usd",
                                                                        "firm_net_cost_usd", "in_kind_usd"]].to_dict(), **conc})
            ce_rows.append(d.reset_index(names="horizon").assign(policy=p, seed=s))
            dist_rows.append(dist.paired(pol_run, _load(dirs[(req.baseline, s)])).assign(policy=p, seed=s))
        if p in removed:
            for hz, _ in _horizon_labels(meta, req):
                t = attribute([q(p, s)[0] for s in req.seeds], [q(p, s)[1] for s in req.seeds],
                              [q(req.baseline, s)[0] for s in req.seeds], [q(req.baseline, s)[1] for s in req.seeds],
                              {i: [q(lbl, s)[0] for s in req.seeds] for i, lbl in removed[p].items()},
                              {i: [q(lbl, s)[1] for s in req.seeds] for i, lbl in removed[p].items()}, hz)
                inst_tables.append(t.assign(policy=p))
    return rows, ce_rows, dist_rows, inst_tables


def compare(req: Request) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    _loaded.clear()
    cfgs = preflight(req)
    cfg = cfgs[req.baseline]
    meta = {k: cfg[k] for k in ("n_firms", "start_year", "end_year")}
    meta["scenario"] = cfg.scenario.name
    out = check_output_dir(req.out or Path("results") / "compare" / meta["scenario"], "out")
    vs, removed, drivers = variants(req, cfgs)
    preflight_variants(vs)
    check_reused([out / "runs" / v.folder / f"seed={s}" for v in vs for s in v.seeds])
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"out = {str(out)!r}: cannot create the folder ({exc.strerror or exc})") from None
    dirs = run_all(req, out, vs)
    table, by_seed = write_evaluation(req, dirs, out, meta, removed, drivers)
    return table, by_seed, out


def write_evaluation(req: Request, dirs: dict, out: Path, meta: dict, removed: dict | None = None,
                     drivers: list | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluate finished runs ``dirs`` ({(label, seed): run folder}) and write the comparison's
    tables, report and plots into ``out``; ``meta``: scenario, n_firms, start and end year."""
    from .evaluation import distribution as dist
    from .evaluation.cost_effectiveness import mac_plot
    from .evaluation.labels import run_label
    from .results import _atomic_write_bytes

    removed = removed or {}
    labels = {p: run_label(read_summary(dirs[(p, req.seeds[0])])) for p in [req.baseline] + req.policies}
    rows, ce_rows, dist_rows, inst_tables = evaluate(req, dirs, removed, meta)
    by_seed = pd.DataFrame(rows)
    ce_by_seed = pd.concat(ce_rows, ignore_index=True)
    ce = summarise_ce(ce_by_seed)
    table = summarise(by_seed, ce)
    table.insert(1, "baseline", req.baseline)
    table.insert(2, "scenario", meta["scenario"])
    table.insert(3, "label", [labels[p] for p in table["policy"]])
    table.insert(4, "baseline_label", labels[req.baseline])
    distribution = pd.concat(dist_rows, ignore_index=True)
    distribution = distribution[["policy", "seed", "run", "dimension", "group", "metric", "value"]]
    diff_means = (distribution[distribution["run"] == "difference"].groupby(["policy", "dimension", "group", "metric"], sort=False)["value"]
                  .mean().reset_index())
    inst = pd.concat(inst_tables, ignore_index=True) if inst_tables else None
    if inst is not None:
        inst = inst[["policy"] + [c for c in inst.columns if c != "policy"]]
    drv = _driver_table(req, drivers, dirs) if drivers else None
    md = markdown(table, ce, inst, diff_means, drv, req, meta, labels)
    title = (f"{meta['scenario']}: {meta['n_firms']:,} firms, {meta['start_year']}-{meta['end_year']}, "
             f"{len(req.seeds)} paired seeds vs '{labels[req.baseline]}'")
    try:
        for name, df in (("compare_by_seed", by_seed), ("compare", table), ("cost_effectiveness", ce),
                         ("cost_effectiveness_by_seed", ce_by_seed), ("distribution", distribution)):
            _atomic_write_bytes(out / f"{name}.parquet", lambda f, df=df: df.to_parquet(f, index=False))
        if inst is not None:
            _atomic_write_bytes(out / "instruments.parquet", lambda f: inst.to_parquet(f, index=False))
            for p in inst["policy"].unique():
                t = inst[(inst["policy"] == p) & (inst["horizon"] == LIFETIME)]
                mac_plot(t, out / ("instruments_mac.png" if len(req.policies) == 1 else f"instruments_mac_{p}.png"),
                         f"{meta['scenario']}, {p}: marginal abatement cost curve of instruments\n"
                         f"({len(req.seeds)} paired seeds, {req.discount_rate:.1%}/yr, whole lifetime)")
        if drv is not None:
            _atomic_write_bytes(out / "drivers.parquet", lambda f: drv.to_parquet(f, index=False))
        _atomic_write_bytes(out / "compare.md", lambda f: f.write_text(md))
        plot(table, by_seed, ce, out / "compare.png", title, labels)
        dist.plot(distribution, out / "distribution.png", f"{meta['scenario']}: for whom (policy minus baseline, mean of {len(req.seeds)} seeds)")
    except OSError as exc:
        raise BadInput(f"out = {str(out)!r}: cannot write {exc.filename or 'the tables'} ({exc.strerror or exc})") from None
    _loaded.clear()
    return table, by_seed


def _evaluate_forks(policies: list[str], seed: int, baseline: str, dirs: dict, out: Path, meta: dict) -> str:
    """The comparison of a snapshot's forks (one seed; no attribution): tables in ``out``,
    returns the report's text."""
    req = Request(policies=policies, seeds=[seed], baseline=baseline, out=out, attribution="none")
    write_evaluation(req, {(p, seed): d for p, d in dirs.items()}, out, meta)
    return (out / "compare.md").read_text()


def _horizon_labels(meta: dict, req: Request):
    from .evaluation.cost_effectiveness import horizons

    return horizons(meta["start_year"], meta["end_year"], req.horizons)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)  # stderr: errors and the bar
    logging.getLogger("MESA").setLevel(logging.WARNING)
    return report_bad_input(_command, argv)


def _command(argv: list[str]) -> int:
    if any(a.startswith("from_snapshot=") for a in argv):  # forks of one run's state (sim/snapshot.py)
        from .snapshot import compare_command

        return compare_command(argv, _evaluate_forks)
    _, _, out = compare(parse_args(argv))
    print((out / "compare.md").read_text())
    written = sorted(p.name for p in out.iterdir() if p.is_file() and not p.name.startswith("."))
    print(f"Written in {out}: {', '.join(written)}")
    return 0


if __name__ == "__main__":
    from sim.compare import main as _main  # one module instance (worker processes import sim.compare)

    sys.exit(_main())
