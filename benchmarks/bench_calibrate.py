"""Speed of the shipped calibration: runs/s and wall time of
experiments/calibration/iac_assessments.yaml on this machine (2 worker processes by default).

    python benchmarks/bench_calibrate.py                         # the shipped settings
    python benchmarks/bench_calibrate.py n_firms=500 population=40 generations=2   # a quicker look

Each call starts a fresh calibration in a temporary folder (or ``out=DIR``, kept) and prints
the simulations of the ABC-SMC (from its history), the posterior-predictive runs, wall
time, and runs per second. The machine is named (lscpu); on a shared machine the figure is
what this session got, not the hardware's capacity.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        return next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Model name"))
    except Exception:  # noqa: BLE001
        return "unknown"


def main(argv: list[str]) -> None:
    from sim.calibrate import calibrate, parse_args

    args = [a for a in argv if not a.startswith("out=")]
    out = next((a.split("=", 1)[1] for a in argv if a.startswith("out=")), None)
    tmp = None if out else tempfile.TemporaryDirectory(prefix="bench-cal-")
    out = out or str(Path(tmp.name) / "cal")
    path, own, extra = parse_args([str(ROOT / "experiments/calibration/iac_assessments.yaml"), f"out={out}", *args])
    t0 = time.perf_counter()
    calibrate(path, own, extra)
    wall = time.perf_counter() - t0
    state = json.loads((Path(out) / "calibration.json").read_text())
    sims = sum(s["simulations"] for s in state["sessions"])
    import pandas as pd

    pred = len(pd.read_parquet(Path(out) / "predictive.parquet"))
    total = sims + pred
    print(f"machine: {machine()}; workers: {own.get('workers', 2)}; args: {' '.join(args) or '(shipped settings)'}")
    print(f"ABC-SMC simulations: {sims:,}; predictive runs: {pred}; wall time {wall:.1f} s; {total / wall:.2f} runs/s")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main(sys.argv[1:])
