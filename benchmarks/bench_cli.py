"""CLI benchmark (issue 16): one command-line run of the Bajío region, end to end.

Times, in fresh processes (best of ``--repeat``, and the median; wall, and each process's
CPU time: user + system),

    python -m sim.run scenario=bajio_cpi policy=none n_firms=32174 start_year=2025 end_year=2034 hydra.run.dir=<tmp>

(32,174 firms x 10 years: the scenario's own n_firms, its years widened to ten) and prints
where the time goes, from one more run of the same command under an instrumented driver
(this file with ``--child``; it runs ``sim.run`` exactly as ``-m`` does, and wraps a few
functions with timers and counters; the import table comes from another such run under
``-X importtime``, which slows the imports it times):

* interpreter start (process start -> first line of the driver: Python, site, .pth files);
* imports (every module loaded, wherever it happens; ``python -X importtime`` names the
  largest top-level packages);
* composition (Hydra's ``compose_config``: how many times and how long),
  typed config (``sim.params.to_config`` of a DictConfig), validation (``sim.compose.check``
  and ``sim.params.validate``: how many times), the numba dispatch (first call of each
  compiled function: loading its cache), model build, simulation (the monthly steps),
  collecting the tables, writing the run folder, and the rest (Hydra's machinery, logging,
  the output-folder checks...).

Each phase's time (wall, and the process's CPU time: steadier on a shared machine) is
exclusive (an import inside the validation counts as import, a composition inside the
preflight as composition); the phases add up to the driver's wall time. Target (issue 16): one run <= 1.5 s wall end to end (best of N), PASS/FAIL printed.

Bytecode: Python writes ``sim``'s compiled modules (``__pycache__/*.pyc``) at a first run, as
for any installed package, and later runs load them. An environment with
``PYTHONDONTWRITEBYTECODE`` set never writes them and compiles every ``sim`` module at every
run (~0.1 s here); the warm-up run therefore writes them (that variable removed for it alone),
and the benchmark prints how many of the ``sim`` modules a run imports have up-to-date bytecode.
``--no-bytecode`` keeps the environment as it is for the warm-up too (to time compiling at
every run, delete ``sim``'s ``.pyc`` files first: ``find sim -name '*.pyc' -delete``). It prints which checkout's
code it times (its folder and git commit): the timed processes import ``sim`` from there.

    .venv/bin/python benchmarks/bench_cli.py                 # 7 timed runs + 2 instrumented
    .venv/bin/python benchmarks/bench_cli.py --repeat 9 --json out.json
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

TARGET_WALL_S = 1.5
ARGS = ("scenario=bajio_cpi", "policy=none", "n_firms=32174", "start_year=2025", "end_year=2034")
PHASES = ("imports", "composition", "typed config", "validation (check)", "validation (validate)", "numba dispatch",
          "model build", "simulation", "collect tables", "table writing", "other")


# -- the instrumented child ---------------------------------------------------------------------
class _Clock:
    """Exclusive time per phase: a stack of active phases; time goes to the top one (wall
    time, and the process's CPU time: on a shared machine the CPU time is the steadier)."""

    def __init__(self):
        self.t = {p: 0.0 for p in PHASES}
        self.cpu = {p: 0.0 for p in PHASES}
        self.n = {p: 0 for p in PHASES}
        self.stack = ["other"]
        self.last = time.perf_counter()
        self.last_cpu = time.process_time()

    def _tick(self):
        now, now_cpu = time.perf_counter(), time.process_time()
        self.t[self.stack[-1]] += now - self.last
        self.cpu[self.stack[-1]] += now_cpu - self.last_cpu
        self.last, self.last_cpu = now, now_cpu

    def enter(self, phase):
        self._tick()
        self.stack.append(phase)
        self.n[phase] += 1

    def leave(self):
        self._tick()
        self.stack.pop()

    def wrap(self, phase, fn, when=None):
        import functools

        @functools.wraps(fn)
        def timed(*a, **k):
            if when is not None and not when(*a, **k):
                return fn(*a, **k)
            self.enter(phase)
            try:
                return fn(*a, **k)
            finally:
                self.leave()
        timed.__wrapped_by_bench__ = True
        return timed


def _instrument(clock: _Clock) -> None:
    """Wrap the functions of each phase as their modules finish loading."""
    import importlib._bootstrap as bootstrap

    def is_dictconfig(cfg, *a, **k):
        return type(cfg).__name__ == "DictConfig"

    def patch_module(name, mod):
        if name == "hydra._internal.hydra":
            mod.Hydra.compose_config = clock.wrap("composition", mod.Hydra.compose_config)
        elif name == "numba.core.dispatcher":
            mod.Dispatcher._compile_for_args = clock.wrap("numba dispatch", mod.Dispatcher._compile_for_args)
        elif name.startswith("sim."):
            for attr, phase, when in (("to_config", "typed config", is_dictconfig), ("check", "validation (check)", None),
                                      ("validate", "validation (validate)", None), ("collect", "collect tables", None),
                                      ("write_run", "table writing", None)):
                fn = getattr(mod, attr, None)
                if callable(fn) and not getattr(fn, "__wrapped_by_bench__", False) and \
                        getattr(fn, "__module__", "").startswith("sim."):
                    setattr(mod, attr, clock.wrap(phase, fn, when))
            if name == "sim.model":
                cm = mod.ClusterModel
                cm.__init__ = clock.wrap("model build", cm.__init__)
                cm.step = clock.wrap("simulation", cm.step)

    real = bootstrap._find_and_load
    depth = [0]

    def find_and_load(name, import_):
        depth[0] += 1
        if depth[0] == 1:
            clock.enter("imports")
        try:
            mod = real(name, import_)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                clock.leave()
        if name in sys.modules:
            patch_module(name, sys.modules[name])
        return mod

    bootstrap._find_and_load = find_and_load
    # names imported before the hook (none of the phases' modules are)
    for name, mod in list(sys.modules.items()):
        if mod is not None and (name.startswith("sim.") or name in ("hydra._internal.hydra", "numba.core.dispatcher")):
            patch_module(name, mod)


def child(argv: list[str]) -> None:
    """Run ``sim.run`` as ``python -m sim.run argv`` would, instrumented; write the phases as
    JSON to the file named by ``$BENCH_CLI_OUT`` (stdout and stderr stay the command's)."""
    t_start = time.monotonic()
    clock = _Clock()
    _instrument(clock)
    import runpy

    sys.argv = [str(ROOT / "sim" / "run.py"), *argv]
    sys.path.insert(0, str(ROOT))
    code, real_exit, fast = 0, os._exit, False

    class _FastExit(BaseException):
        pass

    def fast_exit(c):  # the command may skip the interpreter's teardown: note it, then do the same
        raise _FastExit(c)

    os._exit = fast_exit
    try:
        runpy.run_module("sim.run", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code or 0
    except _FastExit as exc:
        code, fast = exc.args[0], True
    clock._tick()
    sim_dir = str(ROOT / "sim") + os.sep
    imported = sorted({m.__file__ for m in list(sys.modules.values())
                       if (getattr(m, "__file__", None) or "").startswith(sim_dir) and m.__file__.endswith(".py")})
    out = {"t_start_monotonic": t_start, "t_end_monotonic": time.monotonic(), "code": code,
           "phases": clock.t, "phases_cpu": clock.cpu, "counts": clock.n, "sim_modules": imported}
    Path(os.environ["BENCH_CLI_OUT"]).write_text(json.dumps(out) + "\n")
    os._exit = real_exit
    if fast:
        sys.stdout.flush()
        sys.stderr.flush()
        real_exit(code)


# -- the parent ---------------------------------------------------------------------------------
def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def bytecode_state(sources) -> tuple[int, int]:
    """(modules whose bytecode is up to date, modules) among the source files ``sources``: a
    ``.pyc`` in ``__pycache__`` whose header records the source's mtime and size (Python's
    own check)."""
    import importlib.util

    fresh = total = 0
    for src in map(Path, sorted(sources)):
        total += 1
        pyc = Path(importlib.util.cache_from_source(str(src)))
        try:
            head = pyc.read_bytes()[:16]
        except OSError:
            continue
        st = src.stat()
        flags = int.from_bytes(head[4:8], "little")
        if head[:4] == importlib.util.MAGIC_NUMBER and flags == 0 and \
                int.from_bytes(head[8:12], "little") == int(st.st_mtime) & 0xFFFFFFFF and \
                int.from_bytes(head[12:16], "little") == st.st_size & 0xFFFFFFFF:
            fresh += 1
    return fresh, total


def checkout() -> str:
    """The folder and git commit of the code timed (``+ changes`` if the tree differs from it)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                               text=True).stdout.strip()
    except OSError:
        return str(ROOT)
    return f"{ROOT} at {head or '?'}{' + uncommitted changes' if dirty else ''}"


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed_run(out: Path, write_bytecode: bool = False) -> tuple[float, float]:
    """Wall and CPU time (user + system) of one fresh ``python -m sim.run`` process
    (``write_bytecode``: with ``PYTHONDONTWRITEBYTECODE`` removed, as in a usual environment)."""
    env = _env()
    if write_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    t0, c0 = time.perf_counter(), _children_cpu()
    p = subprocess.run([sys.executable, "-m", "sim.run", *ARGS, f"hydra.run.dir={out}"], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if p.returncode != 0:
        sys.exit(f"the run failed (exit {p.returncode}):\n{p.stderr[-2000:]}")
    return wall, cpu


def instrumented_run(out: Path, importtime: bool = False) -> tuple[dict, list[tuple[float, str]]]:
    """One run under the driver: its phases, and with ``importtime`` (``-X importtime``, which
    slows the imports it times) the import table."""
    result = out.parent / f"{out.name}.json"
    t0 = time.monotonic()
    flags = ["-X", "importtime"] if importtime else []
    p = subprocess.Popen([sys.executable, *flags, __file__, "--child", *ARGS, f"hydra.run.dir={out}"],
                         cwd=ROOT, env={**_env(), "BENCH_CLI_OUT": str(result)}, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    stdout, stderr = p.communicate()
    wall = time.monotonic() - t0
    line = result.read_text().strip() if result.exists() else ""
    if p.returncode != 0 or not line:
        sys.exit(f"the instrumented run failed (exit {p.returncode}):\n{stderr[-2000:]}")
    res = json.loads(line)
    res["wall"] = wall
    res["interpreter start"] = res["t_start_monotonic"] - t0
    res["exit"] = wall - (res["t_end_monotonic"] - t0)
    tops = []
    for l in stderr.splitlines():  # "import time: self [us] | cumulative | imported package"
        if l.startswith("import time:") and "|" in l:
            _, cum, name = l.split("|")
            if cum.strip().isdigit() and name.startswith(" ") and not name.startswith("  "):
                tops.append((int(cum) / 1e6, name.strip()))
    return res, sorted(tops, reverse=True)


def machine() -> dict:
    cpu = "unknown"
    try:
        for l in open("/proc/cpuinfo"):
            if l.startswith("model name"):
                cpu = l.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from bench_engine import _simd_level

    return {"cpu": cpu, "cores": os.cpu_count(), "simd": _simd_level(), "python": sys.version.split()[0],
            "load_average_1min": os.getloadavg()[0]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Wall time of one CLI run (32,174 firms x 10 years) and where it goes.")
    ap.add_argument("--repeat", type=int, default=7, help="timed fresh processes (default 7); best and median shown")
    ap.add_argument("--no-bytecode", action="store_true",
                    help="the warm-up run keeps PYTHONDONTWRITEBYTECODE if set (sim's bytecode is not written)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    m = machine()
    print(f"machine: {m['cpu']}, {m['cores']} cores, SIMD {m['simd']}, Python {m['python']}, "
          f"load average {m['load_average_1min']:.2f}")
    print(f"code: {checkout()}")
    print(f"command: python -m sim.run {' '.join(ARGS)} hydra.run.dir=<tmp>")
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        timed_run(Path(tmp) / "warm", write_bytecode=not args.no_bytecode)  # numba caches, bytecode, file-system caches
        runs = [timed_run(Path(tmp) / f"run{i}") for i in range(args.repeat)]
        res, _ = instrumented_run(Path(tmp) / "instrumented")
        fresh, used = bytecode_state(res["sim_modules"])
        m["bytecode"] = f"{fresh} of {used}"
        print(f"bytecode: {fresh} of the {used} sim modules a run imports have an up-to-date .pyc"
              + (f" ({used - fresh} compiled at every run: PYTHONDONTWRITEBYTECODE is set)"
                 if fresh < used and os.environ.get("PYTHONDONTWRITEBYTECODE") else ""))
        _, tops = instrumented_run(Path(tmp) / "importtime", importtime=True)
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    best, med = min(walls), statistics.median(walls)
    print(f"wall, {args.repeat} fresh processes: best {best:.2f} s, median {med:.2f} s "
          f"(all: {', '.join(f'{w:.2f}' for w in walls)})")
    print(f"CPU time (user + system) of the same processes: best {min(cpus):.2f} s, median {statistics.median(cpus):.2f} s "
          f"(load average now {os.getloadavg()[0]:.2f})")
    print(f"target: one run <= {TARGET_WALL_S} s wall end to end: {'PASS' if best <= TARGET_WALL_S else 'FAIL'} "
          f"(best {best:.2f} s)")
    print(f"\nwhere the time goes (one instrumented run, wall {res['wall']:.2f} s; exclusive times per phase, "
          "wall and the process's CPU time, x = calls):")
    rows = [("interpreter start", res["interpreter start"], None, None)]
    rows += [(p, res["phases"][p], res["phases_cpu"][p], res["counts"][p]) for p in PHASES]
    rows += [("interpreter exit", res["exit"], None, None)]
    for name, t, c, n in rows:
        calls = "" if n is None or name in ("imports", "other", "numba dispatch") else f"  x{n}"
        if name == "numba dispatch":
            calls = f"  ({n} first calls)"
        cpu = f"  cpu {c:6.3f} s" if c is not None else " " * 16
        print(f"  {name:24s} {t:6.3f} s{cpu}{calls}")
    print("  largest top-level imports (cumulative, another run under -X importtime): "
          + ", ".join(f"{name} {t:.2f}" for t, name in tops[:8]))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": m, "walls_s": walls, "cpus_s": cpus, "best_s": best, "median_s": med,
                                               "target_s": TARGET_WALL_S, "pass": best <= TARGET_WALL_S,
                                               "breakdown": res, "top_imports": tops[:20]}, indent=2))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        sys.exit(main())
