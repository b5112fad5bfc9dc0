"""ABC-SMC over the simulator with pyabc (Klinger, Rickert & Hasenauer 2018, Bioinformatics
34(20): 3591-3593), resumable from its SQLite history.

Why ABC-SMC with pyabc (and not history matching with an emulator): the model is stochastic
and cheap at calibration sizes (a few hundred to a few thousand firms run in 0.03-0.5 s), so
simulating directly is affordable and needs no emulator whose error would have to be
validated; the posterior comes as weighted particles that :mod:`sim.posterior` can hand to
every command; pyabc is maintained, stores every generation in SQLite (a killed calibration
continues from its last complete generation) and has samplers for one machine (forked worker
processes) and for clusters (Redis, Dask).

Inference: each target is an observation with a normal error of its ``sd``; pyabc's
``StochasticAcceptor`` with an ``IndependentNormalKernel`` and a ``Temperature`` schedule
accepts a simulation with probability proportional to that likelihood (raised to 1/T). At
the final temperature T = 1 the particles are samples of the exact Bayesian posterior under
that error model (Wilkinson 2013, Stat. Appl. Genet. Mol. Biol. 12(2): 129-141; the scheme of
Schaelte & Hasenauer 2020, Bioinformatics 36(Suppl. 1): i551-i559). A calibration stopped
before T = 1 holds a tempered posterior (wider: conservative); the report gives the final
temperature. Each simulation draws a fresh seed, so seed noise is part of the likelihood.
Priors are uniform over the declared ranges.
"""
from __future__ import annotations

import hashlib

import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import BadInput
from ..outcomes import evaluate, simulate
from .targets import Calibration, with_parameters

log = logging.getLogger("sim.calibrate")

#: a simulated outcome that is undefined in a run (NaN) is set this far away: its likelihood
#: under the target's normal error is zero for any practical sd
UNDEFINED = 1e9


def par_name(i: int) -> str:
    """pyabc's name of the i-th free parameter (config keys contain dots)."""
    return f"p{i}"


def stat_name(i: int) -> str:
    return f"t{i}"


class Simulator:
    """One simulation at a parameter vector: the base config with the free parameters set, a
    seed, the model run, the targets' outcomes. ``pyabc`` calls it with a parameter dict."""

    def __init__(self, cal: Calibration):
        self.cal = cal

    def outcomes(self, values, seed: int) -> dict:
        from ..params import validate

        cfg = with_parameters(self.cal.base, self.cal.priors, values)
        cfg.seed = int(seed)
        validate(cfg)
        run = simulate(cfg)
        out = {}
        for i, t in enumerate(self.cal.targets):
            v = evaluate(t.outcome, run, t.years, t.args)
            out[stat_name(i)] = v if math.isfinite(v) else UNDEFINED
        return out

    def __call__(self, pars) -> dict:
        values = [pars[par_name(i)] for i in range(len(self.cal.priors))]
        return self.outcomes(values, run_seed(values))


def run_seed(values) -> int:
    """The model seed of a simulation at ``values``: a hash of the parameter vector (no global
    random state, the same in any worker process, so a calibration's simulations are
    reproducible; distinct particles get unrelated seeds, a repeated particle its own run)."""
    digest = hashlib.sha256(np.asarray(values, dtype=np.float64).tobytes()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def synthetic_values(cal: Calibration) -> dict[str, float]:
    """The targets' values from one run at the declared truth (``synthetic: {truth, seed}``)."""
    truth = cal.synthetic["truth"]
    values = [float(truth.get(p.key, (p.low + p.high) / 2)) for p in cal.priors]
    stats = Simulator(cal).outcomes(values, int(cal.synthetic.get("seed", 0)))
    return {t.name: float(stats[stat_name(i)]) for i, t in enumerate(cal.targets)}


def observed(cal: Calibration) -> dict:
    return {stat_name(i): float(t.value) for i, t in enumerate(cal.targets)}


def make_abc(cal: Calibration, workers: int):
    import pyabc

    prior = pyabc.Distribution(**{par_name(i): pyabc.RV("uniform", p.low, p.high - p.low) for i, p in enumerate(cal.priors)})
    kernel = pyabc.IndependentNormalKernel(var=[t.sd ** 2 for t in cal.targets], keys=[stat_name(i) for i in range(len(cal.targets))])
    sampler = (pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers) if workers > 1
               else pyabc.sampler.SingleCoreSampler())
    return pyabc.ABCSMC(Simulator(cal), prior, kernel, population_size=int(cal.abc["population"]),
                        eps=pyabc.Temperature(), acceptor=pyabc.StochasticAcceptor(), sampler=sampler)


def state_file(out: Path) -> Path:
    return out / "calibration.json"


def db_path(out: Path) -> Path:
    return out / "calibration.db"


def check_resumable(cal: Calibration, out: Path) -> dict | None:
    """The stored state of a calibration in ``out`` (None if there is none); BadInput if
    ``out`` holds another calibration."""
    f = state_file(out)
    if not f.exists():
        if db_path(out).exists():
            raise BadInput(f"out = {str(out)!r}: holds a calibration.db without calibration.json; remove it or choose another out=")
        return None
    try:
        state = json.loads(f.read_text())
    except (OSError, ValueError) as exc:
        raise BadInput(f"{f}: damaged ({exc}); remove the folder to start again") from None
    if state.get("fingerprint") != cal.fingerprint():
        raise BadInput(f"out = {str(out)!r}: holds a calibration of other settings (targets, priors or overrides "
                       f"differ); choose another out= or remove the folder to start again")
    return state


def stored_generations(h) -> tuple[int, float]:
    """Complete generations in a history and the last one's temperature (inf if none)."""
    pops = h.get_all_populations()
    pops = pops[pops["t"] >= 0]
    return len(pops), (float(pops["epsilon"].iloc[-1]) if len(pops) else math.inf)


def run_abc(cal: Calibration, out: Path, workers: int, generations: int) -> dict:
    """Run (or continue) ABC-SMC until ``generations`` populations are stored (the
    temperature schedule reaches 1 at the last generation of a session, or earlier).
    Returns the state (``calibration.json``)."""
    import pyabc

    from ..results import _atomic_write_bytes

    state = check_resumable(cal, out)
    db = "sqlite:///" + str(db_path(out).resolve())
    abc = make_abc(cal, workers)
    if state is None:
        state = {"name": cal.name, "fingerprint": cal.fingerprint(), "targets_file": str(cal.path),
                 "overrides": cal.overrides, "observed": {t.name: t.value for t in cal.targets},
                 "sessions": []}
        out.mkdir(parents=True, exist_ok=True)
        _atomic_write_bytes(state_file(out), lambda p: p.write_text(json.dumps(state, indent=2)))
        abc.new(db, observed(cal))
    else:
        abc.load(db, 1)
    done, last_t = stored_generations(abc.history)
    remaining = generations - done
    if remaining > 0:
        log.info("%s: generations %d-%d of %d (population %d, %d worker(s))%s", cal.name, done, generations - 1, generations,
                 cal.abc["population"], workers, " -- resumed" if done else "")
        before = abc.history.total_nr_simulations
        # the temperature never goes below 1, so every asked generation runs (at T = 1 a further
        # generation refines the particles of the exact posterior)
        abc.run(minimum_epsilon=0.5, max_nr_populations=remaining)
        after, last_t = stored_generations(abc.history)
        state["sessions"].append({"generations_before": done, "generations_after": after,
                                  "simulations": int(abc.history.total_nr_simulations - before)})
    else:
        log.info("%s: %d generations stored (temperature %.3g): nothing to run", cal.name, done, last_t)
    _atomic_write_bytes(state_file(out), lambda p: p.write_text(json.dumps(state, indent=2)))
    return state


def posterior_table(cal: Calibration, out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last population (config keys and ``weight``) and the generations' table (t,
    temperature, simulations, particles)."""
    from pyabc import History

    h = History("sqlite:///" + str(db_path(out).resolve()), _id=1)
    df, w = h.get_distribution(m=0, t=h.max_t)
    post = pd.DataFrame({p.key: df[par_name(i)].to_numpy(dtype=float) for i, p in enumerate(cal.priors)})
    post["weight"] = np.asarray(w, dtype=float) / np.sum(w)
    gens = h.get_all_populations()
    gens = gens[gens["t"] >= 0].rename(columns={"epsilon": "temperature"})[["t", "temperature", "samples", "particles"]]
    return post, gens.reset_index(drop=True)
