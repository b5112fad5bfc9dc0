"""Design-search throughput: a search of the Bajio programme (experiments/design/bajio_programme.yaml,
32,174 firms, 10 simulated years) of about N runs on the local machine (target from issue 14:
5,000 runs in <= 15 minutes on 2 cores).

    python benchmarks/bench_design.py                      # ~5,000 runs, 2 worker processes
    python benchmarks/bench_design.py --runs 300           # quicker: the throughput, and the 5,000-run figure it implies

The population is 42 (6 scenarios per design: 3 uncertainty samples x 2 seeds, as in the design
file) and the generations are chosen to reach about N runs; pymoo drops duplicate candidates,
so the count of runs actually executed is printed. The search writes into a temporary folder
(removed afterwards): each run one Parquet fragment. Prints wall time, runs executed, runs per
second, and the wall time 5,000 runs would take at that rate against the 15-minute target; and,
since the machine may be shared, the CPU time the search used (worker processes + this one) per
run, with the wall time 5,000 runs would take at that cost on idle cores.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
TARGET_S = 15 * 60.0
POPULATION = 42
SCENARIOS = 6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None, help="write the search here (kept) instead of a temp folder")
    args = ap.parse_args()
    import logging

    from sim.design import design_command

    logging.basicConfig(level=logging.WARNING)
    gens = max(1, round(args.runs / (POPULATION * SCENARIOS)))
    out = args.keep or Path(tempfile.mkdtemp(prefix="bench-design-"))
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_engine import _simd_level

    cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
    print(f"machine: {cpu_model}, SIMD {_simd_level()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (before)")
    cpu0 = _cpu_s()
    try:
        t0 = time.perf_counter()
        search, _ = design_command([str(REPO / "experiments" / "design" / "bajio_programme.yaml"), f"out={out}",
                                    "n_firms=32174", "end_year=2034", f"generations={gens}", f"population={POPULATION}",
                                    f"jobs={args.jobs}"])
        wall = time.perf_counter() - t0
    finally:
        if args.keep is None:
            shutil.rmtree(out, ignore_errors=True)
    cpu_s = _cpu_s() - cpu0  # the workers have exited: their time is counted
    n = search.runs_executed
    rate = n / wall
    cpu = os.cpu_count()
    print(f"Bajio programme search, 32,174 firms, 2025-2034: {gens} generations x {POPULATION}, "
          f"{n} runs executed in {wall:,.1f} s ({rate:.2f} runs/s, {args.jobs} workers, {cpu} CPUs; "
          f"load average {os.getloadavg()[0]:.2f} after)")
    est = 5000 / rate
    print(f"5,000 runs at this rate: {est / 60:,.1f} min (target <= {TARGET_S / 60:.0f} min: {'met' if est <= TARGET_S else 'NOT met'})")
    per_run = cpu_s / n
    idle = 5000 * per_run / min(args.jobs, cpu or 1)
    print(f"CPU time: {cpu_s:,.1f} s = {per_run:.3f} core-s per run; 5,000 runs on {min(args.jobs, cpu or 1)} idle cores at "
          f"this cost: {idle / 60:,.1f} min (target {'met' if idle <= TARGET_S else 'NOT met'})")
    return 0


def _cpu_s() -> float:
    """User + system CPU seconds of this process and its finished children."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


if __name__ == "__main__":
    sys.exit(main())
