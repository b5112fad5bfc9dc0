"""Design search: the incentive designs that cut the most emissions per public dollar.

    python -m sim.design experiments/design/bajio_programme.yaml
    python -m sim.design experiments/design/cluster_package.yaml generations=20 population=24 jobs=2
    python -m sim.design <design.yaml> n_firms=2000 out=results/design/trial
    python -m sim.design <design.yaml> hydra/launcher=slurm hydra.launcher.partition=compute

A design file (:mod:`sim.design_spec`) declares the scenario, the levers (config keys with
ranges and kinds), the uncertainties, the objectives with their robustness statistic and the
constraints. The search is NSGA-II from pymoo (``MixedVariableGA`` with NSGA-II's survival,
rank and crowding: real, integer, categorical and on/off levers each get their own crossover
and mutation), driven through pymoo's ask/tell interface so that every generation's candidates
are evaluated as one batch on our launchers. Each candidate is evaluated with common random
numbers on the same scenarios (uncertainty samples x seeds) as every other candidate, the
baseline and the references (:mod:`sim.design_eval`).

Resuming: the search is a deterministic function of its seed and the objective values, and
every run is cached in ``<out>/dataset`` by its configuration hash. Re-running the same command
replays the search from the cache (no run is repeated), so a killed search resumes where it
stopped and ``generations=`` larger than before continues it.

Other ``key=value`` arguments override config keys of every run (``n_firms=2000``);
``out=DIR`` (default ``results/design/<name>``), ``jobs=N`` (local worker processes),
``generations=``/``population=`` (override ``search:``), ``hydra/launcher=...`` and
``hydra.launcher.*`` choose a Hydra launcher instead of local processes.

Output in ``out``: ``pareto.parquet`` (non-dominated feasible designs: levers, objectives with
their 5-95 % interval over the scenarios), ``evaluations.parquet`` (every candidate, the
programme as designed, the baseline and the reference policies), ``convergence.png``
(hypervolume by generation), ``pareto.png`` (with the references), ``report.md`` and the
dataset of runs (``dataset/table=runs``). Bad input: one line, exit 2, nothing written. A
constraint that no design of the first generation meets is reported the same way (the runs
done stay cached; nothing else is written).
"""
from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .compose import parse_override, report_bad_input
from .design_eval import Plan, candidate_runs, execute, plan, read_runs, shutdown_workers
from .design_objectives import constraint_g, constraint_values, per_scenario, regrets, summarise, to_minimise
from .design_spec import Design, load_design
from .errors import BadInput
from .outputs import check_output_dir

log = logging.getLogger("sim.design")
OWN_KEYS = ("out", "jobs", "generations", "population", "posterior")


# -- pymoo's variables ---------------------------------------------------------------------------
def variables(design: Design) -> dict:
    from pymoo.core.variable import Binary, Choice, Integer, Real

    out = {}
    for lv in design.levers:
        if lv.kind == "real":
            out[lv.name] = Real(bounds=(lv.low, lv.high))
        elif lv.kind == "integer":
            out[lv.name] = Integer(bounds=(int(lv.low), int(lv.high)))
        elif lv.kind == "categorical":
            out[lv.name] = Choice(options=list(range(len(lv.options))))
        elif lv.kind == "switch":
            out[lv.name] = Binary()
        else:
            for i in range(len(lv.keys)):
                out[f"{lv.name}[{i}]"] = Real(bounds=(0.0, 1.0))
    return out


def decode(design: Design, X: dict) -> dict:
    """pymoo's variables -> lever name -> value (plain Python types)."""
    x = {}
    for lv in design.levers:
        if lv.kind == "real":
            x[lv.name] = round(float(X[lv.name]), 6)
        elif lv.kind == "integer":
            x[lv.name] = int(round(float(X[lv.name])))
        elif lv.kind == "categorical":
            x[lv.name] = lv.options[int(X[lv.name])]
        elif lv.kind == "switch":
            x[lv.name] = bool(X[lv.name])
        else:
            w = [round(float(X[f"{lv.name}[{i}]"]), 6) for i in range(len(lv.keys))]
            x[lv.name] = w if sum(w) > 0 else [1.0] * len(w)
    return x


# -- the search ----------------------------------------------------------------------------------
@dataclass
class Candidate:
    x: dict | None
    role: str
    label: str
    generation: int
    keys: list
    vals: dict = field(default_factory=dict)
    row: dict = field(default_factory=dict)


@dataclass
class Search:
    plan: Plan
    out: Path
    candidates: list = field(default_factory=list)   # in evaluation order
    runs_executed: int = 0
    _cache: dict = field(default_factory=dict)
    _base_rows: pd.DataFrame | None = None

    def outcome_columns(self) -> list[str]:
        """The run columns the objectives and constraints read (:func:`per_scenario`)."""
        d = self.plan.design
        cols = [o.outcome for o in d.objectives if o.outcome and not o.ratio]
        cols += [c.name for c in d.constraints if c.name not in {o.name for o in d.objectives}]
        return list(dict.fromkeys(cols))

    def rows(self, keys: list[str]) -> pd.DataFrame:
        """The outcome columns of runs ``keys`` (in that order)."""
        cols = self.outcome_columns()
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if missing:
            t = read_runs(self.out, missing, columns=cols)
            for k, r in zip(missing, t[cols].to_numpy(dtype=object)):
                self._cache[k] = r
        return pd.DataFrame([self._cache[k] for k in keys], columns=cols)

    def evaluate(self, cands: list[Candidate]) -> None:
        """Run (or reuse) every run of ``cands`` as one batch, then compute their objectives."""
        runs = []
        for c in cands:
            rs = candidate_runs(self.plan, c.x, c.role, c.label)
            c.keys = [r.key for r in rs]
            runs += rs
        self.runs_executed += execute(runs, self.plan, self.out)
        self.rows([r.key for r in runs])  # the batch's outcomes read at once
        if self._base_rows is None:  # the baseline is in the first batch
            self._base_rows = self.rows([r.key for r in candidate_runs(self.plan, None, "baseline")])
        d = self.plan.design
        for c in cands:
            c.vals = per_scenario(d, self.rows(c.keys), self._base_rows)
            c.row = summarise(d, c.vals)
            c.row.update({f"constraint_{k}": v for k, v in constraint_values(d, c.vals, c.row).items()})
        self.candidates += cands

    def designs(self) -> list[Candidate]:
        return [c for c in self.candidates if c.role == "design"]

    def objective_matrix(self, cands: list[Candidate], pool: list[Candidate]) -> tuple[np.ndarray, np.ndarray]:
        d = self.plan.design
        reg = regrets(d, [c.vals for c in cands], [c.vals for c in pool]) if d.robustness == "regret" and cands else None
        F = np.array([to_minimise(d, c.row, None if reg is None else reg[i]) for i, c in enumerate(cands)])
        G = np.array([constraint_g(d, {k[len("constraint_"):]: v for k, v in c.row.items() if k.startswith("constraint_")})
                      for c in cands]).reshape(len(cands), len(d.constraints))
        return F, G


def _check_feasible(search: Search) -> None:
    d = search.plan.design
    if not d.constraints:
        return
    _, G = search.objective_matrix(search.designs(), search.designs())
    if (G <= 0).all(axis=1).any():
        return
    worst = int(np.argmax((G > 0).sum(axis=0)))
    c = d.constraints[worst]
    best = min(x.row[f"constraint_{c.name}"] for x in search.designs()) if c.upper else \
        max(x.row[f"constraint_{c.name}"] for x in search.designs())
    raise BadInput(f"constraints.{c.name}: no design of the first generation meets {'<=' if c.upper else '>='} {c.bound:,.6g} "
                   f"(best {best:,.6g}); loosen it or widen the levers (the runs done stay cached in {search.out / 'dataset'})")


def run_search(design: Design, p: Plan, out: Path, generations: int, population: int) -> Search:
    """NSGA-II over the levers (ask/tell), each generation evaluated as one batch."""
    from pymoo.core.mixed import MixedVariableDuplicateElimination, MixedVariableGA, MixedVariableMating
    from pymoo.core.problem import Problem
    from pymoo.operators.survival.rank_and_crowding import RankAndCrowding

    search = Search(p, out)
    refs = [Candidate(None, "baseline", "", 0, []), Candidate(None, "as_designed", "", 0, [])]
    refs += [Candidate(None, "reference", r, 0, []) for r in design.references]
    problem = Problem(vars=variables(design), n_obj=len(design.objectives), n_ieq_constr=len(design.constraints))
    dup = MixedVariableDuplicateElimination()
    alg = MixedVariableGA(pop_size=population, survival=RankAndCrowding(),
                          mating=MixedVariableMating(eliminate_duplicates=dup), eliminate_duplicates=dup)
    alg.setup(problem, seed=design.search_seed, termination=("n_gen", generations), verbose=False)
    for g in range(generations):
        pop = alg.ask()
        cands = [Candidate(decode(design, ind.X), "design", "", g + 1, []) for ind in pop]
        search.evaluate((refs if g == 0 else []) + cands)
        if g == 0:
            _check_feasible(search)
        designs = search.designs()
        F, G = search.objective_matrix(cands, designs)
        pop.set("F", F, "G", G)
        if design.robustness == "regret" and alg.pop is not None and len(alg.pop):
            # the parents' regrets against the best designs evaluated so far (the reference grows)
            by_x = {repr(sorted(c.x.items())): c for c in designs}
            parents = [by_x[repr(sorted(decode(design, ind.X).items()))] for ind in alg.pop]
            alg.pop.set("F", search.objective_matrix(parents, designs)[0])
        alg.tell(infills=pop)
        log.info("generation %d/%d: %d candidates, %d runs executed so far", g + 1, generations, len(cands), search.runs_executed)
    return search


# -- the command ---------------------------------------------------------------------------------
def parse_args(argv: list[str]):
    pos = [a for a in argv if "=" not in a]
    if len(pos) != 1:
        raise BadInput("usage: python -m sim.design <design.yaml> [out=DIR] [jobs=N] [generations=N] [population=N] [posterior=FILE] "
                       "[key=value ...] [hydra/launcher=...]")
    own, launcher, extra = {}, [], []
    for a in argv:
        if "=" not in a:
            continue
        key, _, value = a.partition("=")
        if key in OWN_KEYS:
            if key in ("out", "posterior"):
                own[key] = value
                continue
            try:
                v = int(value)
            except ValueError:
                raise BadInput(f"{key} = {value!r}: an integer") from None
            if v < (2 if key == "population" else 1):
                raise BadInput(f"{key} = {v}: must be >= {2 if key == 'population' else 1}")
            own[key] = v
        elif key.startswith(("hydra/", "hydra.", "+hydra.")):
            launcher.append(a)
        elif key.lstrip("+~") in ("seed", "scenario"):
            raise BadInput(f"{key}: set by the design file (seeds:, scenario:)")
        else:
            parse_override(a)  # a grammar error names its key
            extra.append(a)
    if launcher and not any(a.startswith("hydra/launcher=") for a in launcher):
        raise BadInput(f"{launcher[0]}: hydra.* settings need a launcher (hydra/launcher=local|slurm|ray_tasks)")
    return Path(pos[0]), own, launcher, extra


def design_command(argv: list[str]) -> tuple[Search, Path]:
    from .design_report import write_outputs
    from .sweep import check_launcher

    path, own, launcher, extra = parse_args(argv)
    if "out" in own:
        check_output_dir(Path(own["out"]), "out")  # before any work
    design = load_design(path)
    out = check_output_dir(Path(own.get("out") or Path("results") / "design" / design.name), "out")
    jobs = own.get("jobs", 1)
    p = plan(design, extra, launcher, jobs)
    if "posterior" in own:  # parameter uncertainty: seed s of every candidate at posterior draw s
        from .posterior import updates_by_seed

        p.posterior = updates_by_seed(own["posterior"], list(design.seeds), p.base_overrides)
    if launcher:  # the launcher must be able to start before anything is written
        from omegaconf import OmegaConf

        from .compose import bad_input, compose

        with bad_input():
            hcfg = compose(p.base_overrides + launcher, return_hydra_config=True)
        check_launcher(OmegaConf.select(hcfg, "hydra.launcher._target_") or "", hcfg)
    gens = own.get("generations", design.generations)
    popn = own.get("population", design.population)
    t0 = time.perf_counter()
    log.info("%s: %d levers, %d scenarios per candidate (%d samples x %d seeds), %d generations x %d -> %s",
             design.name, len(design.levers), len(p.scenarios), design.samples, len(design.seeds), gens, popn, out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"out = {str(out)!r}: cannot create the folder ({exc.strerror or exc})") from None
    try:
        search = run_search(design, p, out, gens, popn)
    finally:
        shutdown_workers()  # the local worker processes live for the whole search
    write_outputs(search, out, gens, popn, time.perf_counter() - t0)
    return search, out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    return report_bad_input(_command, argv)


def _command(argv: list[str]) -> int:
    search, out = design_command(argv)
    print((out / "report.md").read_text())
    print(f"Written: {out / 'pareto.parquet'}, {out / 'evaluations.parquet'}, {out / 'pareto.png'}, "
          f"{out / 'convergence.png'}, {out / 'report.md'} ({search.runs_executed} runs executed, the rest from the cache)")
    return 0


if __name__ == "__main__":
    from sim.design import main as _main  # one module instance (worker processes import sim.design_eval)

    sys.exit(_main())
