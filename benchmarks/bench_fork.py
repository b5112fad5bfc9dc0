"""Time of the app's *Apply levers* with and without the kept year-start states (sim/viz/state.py).

    .venv/bin/python benchmarks/bench_fork.py                 # 1,000 and 10,000 firms
    .venv/bin/python benchmarks/bench_fork.py --firms 1000 --reps 5

A live run of ``mx_cluster`` under the incentive package (no carbon price) is stepped to June
2035; then the carbon price is switched on from 2035 (US$ 50/t) and applied: once re-simulated
from the start year (the app before: no kept states) and once continued from the state kept at
the start of 2035. Prints wall and CPU time of each apply, the memory of the kept states, and
checks that both applies give the same run (every table of the run continued to its end).
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
    sim = Simulation(settings)
    if not keep:
        sim.years.budget = 0  # the app without kept states: every apply re-simulates
    build_config(settings.with_levers(LEVERS))  # composed once, as a second apply of a session would find it
    t0 = time.perf_counter()
    sim.step(MONTHS)
    step_s = time.perf_counter() - t0
    w, c = time.perf_counter(), time.process_time()
    sim.apply_levers(LEVERS)
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    assert sim.steps_done == MONTHS and (sim.last_apply["forked_from"] == 2035) == keep, sim.last_apply
    kept, years = sim.years.nbytes, len(sim.years.states)
    sim.step(sim.total_steps)
    return wall, cpu, step_s, kept, years, collect(sim.model)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--firms", type=int, nargs="*", default=[1000, 10000])
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    print(f"machine: {machine()}")
    Simulation(Settings(scenario="mx_cluster", policy="none", n_firms=300)).step(2)  # compile and load once
    for n in a.firms:
        res = {}
        for keep in (False, True):
            runs = [one(n, keep) for _ in range(a.reps)]
            res[keep] = runs
            walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
            what = "continued from the start of 2035" if keep else "re-simulated from 2025"
            print(f"{n:>7,} firms, Apply levers at June 2035, {what}: wall {statistics.median(walls):.3f} s "
                  f"(min {min(walls):.3f}), CPU {statistics.median(cpus):.3f} s; stepping to June 2035 took "
                  f"{statistics.median(r[2] for r in runs):.2f} s" + (f"; kept states: {runs[0][4]} years, "
                                                                       f"{runs[0][3] / 2**20:.1f} MB" if keep else ""))
        a_, b_ = res[False][0][5], res[True][0][5]
        for t in ("adoptions", "timeseries", "firms"):
            pd.testing.assert_frame_equal(getattr(a_, t), getattr(b_, t), check_exact=True)
        assert a_.summary == b_.summary
        print(f"{n:>7,} firms: both applies give the same run (adoptions, time series, firm table, summary)")
    print(f"budget of the kept states per simulation: {state.YEAR_STATES_BUDGET_BYTES / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
