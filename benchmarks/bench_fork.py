"""Time saved by forking shared histories: the app's *Apply levers* with and without the kept
year-start states (sim/viz/state.py), and the runs of a paired comparison (sim/compare.py) with
and without shared histories.

    .venv/bin/python benchmarks/bench_fork.py                 # the app, 1,000 and 10,000 firms
    .venv/bin/python benchmarks/bench_fork.py --firms 1000 --reps 5
    .venv/bin/python benchmarks/bench_fork.py --compare scenario=mx_cluster policies=[carbon_price_2030] \
        hydra.searchpath=[file://$PWD/tests/configs] seeds=2 --reps 3

A live run of ``mx_cluster`` under the incentive package (no carbon price) is stepped to June
2035; then the carbon price is switched on from 2035 (US$ 50/t) and applied, and then its start
year is moved to 2037 and applied: re-simulated from the start year (the app before: no kept
states) and continued from the state kept at the start of 2035. Prints wall and CPU time of each apply, the memory of the kept states, and
checks that both applies give the same run (every table of the run continued to its end).

``--compare ARGS``: the runs of ``python -m sim.compare ARGS`` (no evaluation), in this process,
with ``share_history`` false and true in turn, ``--reps`` times; prints the fastest wall and CPU
time of each and checks that both wrote the same run folders, byte for byte.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import time

import pandas as pd

from sim.results import collect
from sim.viz import state
from sim.viz.levers import Settings
from sim.viz.state import Simulation, build_config

MONTHS = 12 * (2035 - 2025) + 6  # June 2035
LEVERS = {"policy.carbon_price.enabled": True, "policy.carbon_price.start_year": 2035,
          "policy.carbon_price.price_usd_per_t_co2": 50}
#: then the start year moved (the kept years were taken with the price off: still a fork)
MOVE = {"policy.carbon_price.start_year": 2037}


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        name = next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Model name"))
    except Exception:  # noqa: BLE001 - only a label
        name = platform.processor() or "unknown CPU"
    load = open("/proc/loadavg").read().split()[:3] if platform.system() == "Linux" else ["?"]
    return f"{name}, load average {' '.join(load)}"


def one(n: int, keep: bool):
    settings = Settings(scenario="mx_cluster", policy="incentive_package", n_firms=n)
    # without kept states (the app before): every apply re-simulates
    sim = Simulation(settings, year_states_budget_bytes=state.YEAR_STATES_BUDGET_BYTES if keep else 0)
    build_config(settings.with_levers(LEVERS))  # composed once, as a second apply of a session would find it
    t0 = time.perf_counter()
    sim.step(MONTHS)
    step_s = time.perf_counter() - t0
    times = []
    for change in (LEVERS, MOVE):
        w, c = time.perf_counter(), time.process_time()
        sim.apply_levers(change)
        times.append((time.perf_counter() - w, time.process_time() - c))
        assert sim.steps_done == MONTHS and (sim.last_apply["forked_from"] == 2035) == keep, sim.last_apply
    kept, years = sim.years.nbytes, len(sim.years.states)
    sim.step(sim.total_steps)
    return times, step_s, kept, years, collect(sim.model)


def compare_runs(argv: list[str], reps: int) -> None:
    import shutil
    import tempfile
    from pathlib import Path

    from sim.compare import _fork_tasks, _run_chunk, parse_args, preflight, run_texts, variants

    tmp = Path(tempfile.mkdtemp(prefix="bench_fork_"))
    req = parse_args(argv + [f"out={tmp / 'x'}"])
    vs = variants(req, preflight(req))[0]
    texts = run_texts(req, vs)
    best, files = {}, {}
    for rep in range(reps):
        for share in (False, True):
            out = tmp / str(share)
            shutil.rmtree(out, ignore_errors=True)
            req.share_history = share
            tasks, lines = _fork_tasks(req, out, vs, texts)
            w, c = time.perf_counter(), time.process_time()
            forked = sum(_run_chunk(*t)[1] for t in tasks)
            wall, cpu = time.perf_counter() - w, time.process_time() - c
            b = best.setdefault(share, [wall, cpu, forked, lines])
            b[0], b[1] = min(b[0], wall), min(b[1], cpu)
            files[share] = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    n = sum(len(v.seeds) for v in vs)
    print(f"sim.compare {' '.join(argv)}: {n} runs")
    for share, (wall, cpu, forked, lines) in best.items():
        print(f"  share_history={str(share).lower()}: fastest of {reps}: wall {wall:.2f} s, CPU {cpu:.2f} s; {forked} forked"
              + "".join(f"\n    {l}" for l in lines))
    f, t = best[False], best[True]
    print(f"  saved: wall {f[0] - t[0]:.2f} s ({(f[0] - t[0]) / f[0]:.0%}), CPU {f[1] - t[1]:.2f} s ({(f[1] - t[1]) / f[1]:.0%})")
    assert files[False] == files[True], "shared histories changed a run folder"
    print(f"  the {len(files[True])} files of the run folders are identical")
    shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--firms", type=int, nargs="*", default=[1000, 10000])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--compare", nargs=argparse.REMAINDER, help="sim.compare arguments (the rest of the line)")
    a = ap.parse_args()
    print(f"machine: {machine()}")
    if a.compare:
        import logging

        logging.getLogger("MESA").setLevel(logging.WARNING)
        compare_runs(a.compare, a.reps)
        return
    Simulation(Settings(scenario="mx_cluster", policy="none", n_firms=300)).step(2)  # compile and load once
    for n in a.firms:
        res = {}
        for keep in (False, True):
            runs = [one(n, keep) for _ in range(a.reps)]
            res[keep] = runs
            what = "continued from the start of 2035" if keep else "re-simulated from 2025"
            for i, change in enumerate(("carbon price on from 2035", "its start year moved to 2037")):
                walls, cpus = [r[0][i][0] for r in runs], [r[0][i][1] for r in runs]
                print(f"{n:>7,} firms, June 2035, Apply levers ({change}), {what}: wall {statistics.median(walls):.3f} s "
                      f"(min {min(walls):.3f}), CPU {statistics.median(cpus):.3f} s")
            print(f"{n:>7,} firms: stepping to June 2035 took {statistics.median(r[1] for r in runs):.2f} s"
                  + (f" keeping year states: {runs[0][3]} years, {runs[0][2] / 2**20:.1f} MB" if keep else " (no states kept)"))
        a_, b_ = res[False][0][4], res[True][0][4]
        for t in ("adoptions", "timeseries", "firms"):
            pd.testing.assert_frame_equal(getattr(a_, t), getattr(b_, t), check_exact=True)
        assert a_.summary == b_.summary
        print(f"{n:>7,} firms: both applies give the same run (adoptions, time series, firm table, summary)")
    print(f"budget of the kept states per simulation: {state.YEAR_STATES_BUDGET_BYTES / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
