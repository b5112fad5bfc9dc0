"""Engine benchmark (issues 2 and 16): speed and memory of the full model, and of a naive reference.

Prints, for the full model (scenario mx_cluster, policy incentive_package: every phase and
instrument on) at each size: the time to build the model, the time of the monthly steps,
firm-steps per second and the peak memory (RSS high-water mark of a fresh process); then the
same for the naive reference (``benchmarks/naive_reference.py``: the same decision rules as
one Mesa agent object per firm stepping itself) at 32,174 firms, and the speed-up. Each
measurement runs in its own subprocess, so peaks do not mix; the child reads its own peak
with ``resource.getrusage``.

Targets (issue 16, on the machine the benchmark runs on, which it names with its SIMD level;
PASS/FAIL printed next to each):
  >= 3e7 firm-steps/s at every size; >= 200x the naive reference (firm-steps/s ratio at the
  naive size); 1,000,000 firms: 120 monthly steps <= 4 s, build <= 4 s, peak RSS < 1 GB
  (1e9 bytes); building the 32,174-firm model <= 1 s. The model is built as headless runs
  build it (``run_model``, sweeps): ``lazy_firm_agents=True``, the Mesa ``Firm`` views made on
  first use.

To see the figures of an AVX2-only machine on an AVX-512 one, ``--emulate-avx2`` runs the
measuring processes with numpy's AVX-512 paths disabled (``NPY_DISABLE_CPU_FEATURES``),
numba compiling for Haswell (``NUMBA_CPU_NAME=haswell``) and OpenBLAS's Haswell kernels
(``OPENBLAS_CORETYPE=Haswell``).

    .venv/bin/python benchmarks/bench_engine.py                       # the README table
    .venv/bin/python benchmarks/bench_engine.py --sizes 32174 --naive-steps 24 --json out.json

Wall times are best-of ``--repeat`` fresh processes (default 1), and with several processes
the spread of every figure is printed too, with the number of processes in which each
1,000,000-firm target held (met in every process, or only at best); the machine's load
average is printed because other processes on a shared machine slow every figure.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCENARIO, POLICY = "mx_cluster", "incentive_package"
BAJIO_FIRMS = 32_174  # firm count of the Bajio region (issue 2)
TARGET_RATE = 3e7  # firm-steps/s, every size
TARGET_SPEEDUP = 200.0
TARGET_1M_STEPS_S = 4.0  # 1,000,000 firms x 120 months
TARGET_1M_BUILD_S = 4.0
TARGET_1M_PEAK_BYTES = 1.0e9
TARGET_BUILD_S = 1.0  # 32,174 firms
#: what makes an AVX-512 machine compute as an AVX2-only one (``--emulate-avx2``)
AVX2_ENV = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR", "NUMBA_CPU_NAME": "haswell",
            "OPENBLAS_CORETYPE": "Haswell"}


#: environment of the measuring subprocesses (``--blas-threads`` sets the BLAS thread count)
CHILD_ENV = dict(os.environ)
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _config(n_firms: int, seed: int):
    from sim.params import to_config
    from sim.run import compose

    return to_config(compose([f"scenario={SCENARIO}", f"policy={POLICY}", f"n_firms={n_firms}", f"seed={seed}"]))


PHASES = ("advance_month", "expire_measures", "cluster_activities", "programme_activities", "firm_decisions",
          "account_emissions", "collect_data")


#: with --phases, the compiled kernels' share of a month is measured from this step on
KERNEL_SPLIT_FROM = 12


def _time_phases(model) -> dict:
    """Wrap the model's step phases (instance attributes) to add up their CPU time."""
    spent = {p: 0.0 for p in PHASES}

    def wrap(name, fn):
        def timed():
            c = time.process_time()
            fn()
            spent[name] += time.process_time() - c
        return timed

    for p in PHASES:
        setattr(model, p, wrap(p, getattr(model, p)))
    return spent


def child_engine(n_firms: int, steps: int, seed: int, phases: bool = False) -> dict:
    from sim.model import ClusterModel

    cfg = _config(n_firms, seed)
    rss_before = _peak_rss_bytes()
    t0, c0 = time.perf_counter(), time.process_time()
    model = ClusterModel(cfg, lazy_firm_agents=True)  # as run_model and sweeps build it
    t1, c1 = time.perf_counter(), time.process_time()
    spent = _time_phases(model) if phases else None
    kernels, c_split, split_steps = None, c1, 0
    done = 0
    stack = ExitStack()
    for _ in range(steps):
        if not model.running:
            break
        if phases and done == KERNEL_SPLIT_FROM:  # (every kernel compiled: see kernel_time.py)
            from kernel_time import kernel_cpu

            kernels, c_split = stack.enter_context(kernel_cpu()), time.process_time()
        model.step()
        done += 1
        split_steps += kernels is not None
    t2, c2 = time.perf_counter(), time.process_time()
    stack.close()
    if kernels is not None:
        spent = {**spent, "kernel_split": {"steps": split_steps, "step_cpu_s": c2 - c_split,
                                           "kernel_cpu_s": sum(kernels.values()), "by_kernel": dict(kernels)}}
    return {"kind": "engine", "n_firms": n_firms, "steps": done, "build_s": t1 - t0, "steps_s": t2 - t1,
            "build_cpu_s": c1 - c0, "steps_cpu_s": c2 - c1,
            "peak_rss_bytes": _peak_rss_bytes(), "rss_before_build_bytes": rss_before,
            "adoptions": int(model.adopter_count.sum() - model.initial_adopters.sum()),
            **({"phase_cpu_s": spent} if spent is not None else {})}


def child_naive(n_firms: int, steps: int, seed: int) -> dict:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from naive_reference import NaiveModel

    from sim.model import ClusterModel

    cfg = _config(n_firms, seed)
    engine = ClusterModel(cfg)  # the same firm population, converted to per-agent objects
    t0, c0 = time.perf_counter(), time.process_time()
    model = NaiveModel(cfg, engine)
    t1, c1 = time.perf_counter(), time.process_time()
    del engine
    done = 0
    for _ in range(steps):
        if not model.running:
            break
        model.step()
        done += 1
    t2, c2 = time.perf_counter(), time.process_time()
    return {"kind": "naive", "n_firms": n_firms, "steps": done, "build_s": t1 - t0, "steps_s": t2 - t1,
            "build_cpu_s": c1 - c0, "steps_cpu_s": c2 - c1,
            "peak_rss_bytes": _peak_rss_bytes(), "adoptions": int(sum(model.new_adoptions))}


def run_child(kind: str, n_firms: int, steps: int, seed: int, phases: bool = False) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--n-firms", str(n_firms),
           "--steps", str(steps), "--seed", str(seed)] + (["--phases"] if phases else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=CHILD_ENV)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"{kind} benchmark at {n_firms} firms failed: {tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def best_of(kind: str, n_firms: int, steps: int, seed: int, repeat: int) -> dict:
    runs = [run_child(kind, n_firms, steps, seed) for _ in range(max(repeat, 1))]
    best = min(runs, key=lambda r: r["steps_s"])
    best = dict(best)
    best["build_s"] = min(r["build_s"] for r in runs)
    best["peak_rss_bytes"] = max(r["peak_rss_bytes"] for r in runs)
    best["repeats"] = len(runs)
    # every process's figures: the spread says whether a target is met reliably or at best
    for key in ("steps_s", "build_s", "peak_rss_bytes"):
        best[f"{key}_all"] = [r[key] for r in runs]
    return best


def spread_lines(rows: list[dict]) -> list[str]:
    """One line per measurement of several processes: the range of its steps, build and peak,
    and in how many processes the 1,000,000-firm targets held."""
    out = []
    for r in rows:
        if r.get("repeats", 1) < 2:
            continue
        st, bu, pk = r["steps_s_all"], r["build_s_all"], r["peak_rss_bytes_all"]
        line = (f"{r['kind']} {r['n_firms']:,} firms, {len(st)} processes: steps {min(st):.2f}-{max(st):.2f} s, "
                f"build {min(bu):.2f}-{max(bu):.2f} s, peak {min(pk) / 1e6:,.0f}-{max(pk) / 1e6:,.0f} MB")
        if r["kind"] == "engine" and r["n_firms"] == 1_000_000:
            n = len(st)
            line += (f"; 120 steps <= 4 s in {sum(x * 120 / r['steps'] <= TARGET_1M_STEPS_S for x in st)} of {n}, "
                     f"build <= 4 s in {sum(x <= TARGET_1M_BUILD_S for x in bu)} of {n}, "
                     f"peak < 1 GB in {sum(x < TARGET_1M_PEAK_BYTES for x in pk)} of {n}")
        out.append(line)
    return out


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import mesa
    import numpy

    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": numpy.__version__,
            "mesa": mesa.__version__, "simd": _simd_level(), "load_average_1min": os.getloadavg()[0]}


def _simd_level() -> str:
    """The SIMD extensions numpy found on this CPU (speed differs ~3x between AVX2-only and
    AVX-512 machines: numpy's float32 log/exp and numba's vector maths use them)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as feats
    have = [k for k in ("SSE42", "AVX2", "FMA3", "AVX512F", "AVX512_SKX", "AVX512_ICL", "AVX512_SPR") if feats.get(k)]
    top = "AVX-512" if feats.get("AVX512F") else "AVX2" if feats.get("AVX2") else "below AVX2"
    return f"{top} ({' '.join(have)})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Speed and memory of the engine vs a naive Mesa reference.")
    ap.add_argument("--sizes", default=f"{BAJIO_FIRMS},1000000",
                    help="comma-separated firm counts of the full model (default: 32174,1000000)")
    ap.add_argument("--steps", type=int, default=120, help="monthly steps per run (default 120)")
    ap.add_argument("--naive-firms", type=int, default=BAJIO_FIRMS, help="firms of the naive reference (default 32174)")
    ap.add_argument("--naive-steps", type=int, default=None,
                    help="steps of the naive reference (default: --steps); fewer -> compared per firm-step")
    ap.add_argument("--no-naive", action="store_true", help="skip the naive reference")
    ap.add_argument("--repeat", type=int, default=1, help="fresh processes per measurement; best time kept")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                    help="first wait up to SECONDS for the 1-min load average to fall below half the cores")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    ap.add_argument("--blas-threads", type=int, default=0, metavar="N",
                    help="BLAS threads in the measuring processes (0 = the environment's setting, default)")
    ap.add_argument("--emulate-avx2", action="store_true",
                    help="measure as on an AVX2-only machine (numpy without AVX-512, numba for Haswell)")
    ap.add_argument("--phases", action="store_true",
                    help="also run each size once more with CPU time per step phase (where the time goes)")
    ap.add_argument("--child", choices=["engine", "naive"], help=argparse.SUPPRESS)
    ap.add_argument("--n-firms", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    if a.child:
        out = child_engine(a.n_firms, a.steps, a.seed, a.phases) if a.child == "engine" else child_naive(a.n_firms, a.steps, a.seed)
        print(json.dumps(out))
        return 0

    try:
        sizes = [int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()]
    except ValueError:
        print(f"error: --sizes={a.sizes!r}: must be comma-separated positive integers", file=sys.stderr)
        return 2
    if not sizes or min(sizes) <= 0 or a.steps <= 0 or a.naive_firms <= 0 or (a.naive_steps is not None and a.naive_steps <= 0):
        print("error: --sizes, --steps, --naive-firms and --naive-steps must be positive", file=sys.stderr)
        return 2
    naive_steps = a.naive_steps or a.steps

    if a.wait_quiet > 0:
        limit, t_end = 0.5 * (os.cpu_count() or 1), time.monotonic() + a.wait_quiet
        while os.getloadavg()[0] >= limit and time.monotonic() < t_end:
            time.sleep(5)
        quiet = os.getloadavg()[0] < limit
        print(f"{'quiet' if quiet else 'still busy'}: load average {os.getloadavg()[0]:.2f} (limit {limit:.1f})")
    if a.blas_threads < 0:
        print(f"error: --blas-threads={a.blas_threads}: must be >= 0", file=sys.stderr)
        return 2
    if a.blas_threads:
        CHILD_ENV.update({v: str(a.blas_threads) for v in BLAS_VARS})
    if a.emulate_avx2:
        CHILD_ENV.update(AVX2_ENV)
        print("emulating an AVX2-only machine in the measuring processes: " + " ".join(f"{k}={v!r}" for k, v in AVX2_ENV.items()))
    blas = CHILD_ENV.get("OPENBLAS_NUM_THREADS", "library default")
    machine = _machine()
    machine["openblas_num_threads"] = blas
    print(f"engine benchmark: scenario={SCENARIO} policy={POLICY} (all phases on), {a.steps} monthly steps, seed {a.seed}")
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, SIMD {machine['simd']}; Python {machine['python']}, numpy {machine['numpy']}, "
          f"mesa {machine['mesa']}; BLAS threads: {blas}; load average {machine['load_average_1min']:.2f} at start")
    print("each row: a fresh process; times are wall clock, (cpu s) the process's CPU time for the steps; "
          "peak = its RSS high-water mark (imports included)\n")

    rows = []
    try:
        for n in sizes:
            rows.append(best_of("engine", n, a.steps, a.seed, a.repeat))
        if not a.no_naive:
            rows.append(best_of("naive", a.naive_firms, naive_steps, a.seed, a.repeat))
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    checks = []
    hdr = (f"{'model':<8}{'firms':>11}{'steps':>7}{'build s':>9}{'steps s':>9}{'(cpu s)':>9}{'firm-steps/s':>15}"
           f"{'peak RSS MB':>13}  target")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        r["firm_steps_per_s"] = r["n_firms"] * r["steps"] / r["steps_s"]
        notes = []
        if r["kind"] == "engine":
            ok = r["firm_steps_per_s"] >= TARGET_RATE
            notes.append(f"rate >= 3e7 {_mark(ok)}")
            checks.append((f"{r['n_firms']:,} firms: >= 3e7 firm-steps/s", ok))
            if r["n_firms"] == BAJIO_FIRMS:
                ok = r["build_s"] <= TARGET_BUILD_S
                notes.append(f"build <= 1 s {_mark(ok)}")
                checks.append((f"{BAJIO_FIRMS:,} firms: build <= 1 s", ok))
            if r["n_firms"] == 1_000_000:
                scaled = r["steps_s"] * 120 / r["steps"]
                ok = scaled <= TARGET_1M_STEPS_S
                notes.append(f"120 steps <= 4 s {_mark(ok)}")
                checks.append(("1,000,000 firms: 120 steps <= 4 s", ok))
                ok = r["build_s"] <= TARGET_1M_BUILD_S
                notes.append(f"build <= 4 s {_mark(ok)}")
                checks.append(("1,000,000 firms: build <= 4 s", ok))
                ok = r["peak_rss_bytes"] < TARGET_1M_PEAK_BYTES
                notes.append(f"peak < 1 GB {_mark(ok)}")
                checks.append(("1,000,000 firms: peak RSS < 1 GB", ok))
        else:
            notes.append("reference")
        print(f"{r['kind']:<8}{r['n_firms']:>11,}{r['steps']:>7}{r['build_s']:>9.2f}{r['steps_s']:>9.2f}"
              f"{r['steps_cpu_s']:>9.2f}{r['firm_steps_per_s']:>15,.0f}{r['peak_rss_bytes'] / 1e6:>13,.0f}  {'; '.join(notes)}")

    spread = spread_lines(rows)
    if spread:
        print("\nspread over the fresh processes (the table shows the best time):")
        for line in spread:
            print("  " + line)

    naive = next((r for r in rows if r["kind"] == "naive"), None)
    speedup = speedup_cpu = None
    if naive is not None:
        same = next((r for r in rows if r["kind"] == "engine" and r["n_firms"] == naive["n_firms"]), None)
        if same is None:
            same = run_child("engine", naive["n_firms"], a.steps, a.seed)
            same["firm_steps_per_s"] = same["n_firms"] * same["steps"] / same["steps_s"]
        speedup = same["firm_steps_per_s"] / naive["firm_steps_per_s"]
        speedup_cpu = (same["n_firms"] * same["steps"] / same["steps_cpu_s"]) / (naive["n_firms"] * naive["steps"] / naive["steps_cpu_s"])
        ok = speedup >= TARGET_SPEEDUP
        checks.append((f"speed-up vs naive at {naive['n_firms']:,} firms >= 200x", ok))
        print(f"\nspeed-up over the naive reference at {naive['n_firms']:,} firms: {speedup:,.0f}x "
              f"(firm-steps/s ratio, wall)  >= 200x {_mark(ok)}; on CPU time {speedup_cpu:,.0f}x")
        if naive["steps"] < same["steps"]:
            print(f"note: the naive reference ran {naive['steps']} steps (engine {same['steps']}); "
                  "compared per firm-step")
        print("naive build = converting the engine's firm table, network and catalogue into "
              "one Python object per firm (the engine's own build is not counted)")
    build_note = [r for r in rows if r["kind"] == "engine" and r["n_firms"] == 1_000_000]
    if build_note:
        r = build_note[0]
        print(f"1,000,000 firms: build {r['build_s']:.1f} s + {r['steps']} steps {r['steps_s']:.1f} s "
              f"= {r['build_s'] + r['steps_s']:.1f} s in all")
    if a.phases:  # a separate run: the wrappers cost a little time
        print("\nCPU seconds per step phase (separate run with timers):")
        print(f"{'firms':>11}  " + "".join(f"{p:>22}" for p in PHASES))
        from kernel_time import split_line

        splits = []
        for n in sizes:
            r = run_child("engine", n, a.steps, a.seed, phases=True)
            split = r["phase_cpu_s"].pop("kernel_split", None)
            tot = sum(r["phase_cpu_s"].values()) or 1.0
            print(f"{n:>11,}  " + "".join(f"{v:>14.3f} ({100 * v / tot:3.0f}%)" for v in r["phase_cpu_s"].values()))
            row = next(x for x in rows if x["kind"] == "engine" and x["n_firms"] == n)
            row["phase_cpu_s"] = r["phase_cpu_s"]
            if split:
                row["kernel_split"] = split
                splits.append(split_line(split["kernel_cpu_s"], split["step_cpu_s"], split["steps"], n))
        if splits:
            print(f"\nCompiled kernels and the rest (same runs, steps {KERNEL_SPLIT_FROM + 1}-{a.steps}; "
                  "benchmarks/kernel_time.py): the rest is the phases, mechanisms and numpy calls in Python")
            print("\n".join(splits))
    load_end = os.getloadavg()[0]
    if max(machine["load_average_1min"], load_end) > (os.cpu_count() or 1) * 0.75:
        print(f"warning: the machine was busy (load average {machine['load_average_1min']:.1f} -> {load_end:.1f} on "
              f"{os.cpu_count()} cores): wall times include waiting for a core; rerun on a quiet machine")
    machine["load_average_1min_end"] = load_end
    n_fail = sum(not ok for _, ok in checks)
    print(f"\n{len(checks) - n_fail}/{len(checks)} targets met" + (": " + ", ".join(n for n, ok in checks if not ok) + " FAILED" if n_fail else ""))

    if a.json:
        out = {"scenario": SCENARIO, "policy": POLICY, "steps": a.steps, "seed": a.seed, "machine": machine,
               "runs": rows, "speedup_vs_naive": speedup,
               "speedup_vs_naive_cpu_time": speedup_cpu if naive is not None else None,
               "targets": [{"target": n, "pass": ok} for n, ok in checks],
               "measured_at_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        tmp = Path(a.json).with_suffix(Path(a.json).suffix + ".tmp")
        tmp.write_text(json.dumps(out, indent=2))
        os.replace(tmp, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
