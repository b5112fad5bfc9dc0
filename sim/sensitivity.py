"""Global sensitivity analysis (SALib): Morris screening and Sobol indices over a declared
parameter space, each sample one run, on any Hydra launcher.

    python -m sim.sensitivity experiments/sensitivity/cluster_behaviour.yaml method=morris
    python -m sim.sensitivity experiments/sensitivity/cluster_behaviour.yaml method=sobol hydra/launcher=slurm
    python -m sim.sensitivity <space.yaml> method=morris n_firms=500 out=results/sa hydra/launcher=ray_tasks

The space file declares ``parameters`` (config key -> [low, high], uniform), the ``outcomes``
(keys of a run's summary.json, e.g. cumulative_emissions_t_co2), the fixed ``overrides`` of
every run, the ``seed`` (one seed for all samples: common random numbers, so the indices
measure the parameters, not sampling noise) and the design sizes (``morris.trajectories``,
``morris.levels``, ``sobol.base_samples``). Extra ``key=value`` arguments override config
keys of every run; ``hydra/launcher=...`` and ``hydra.launcher.*`` choose and tune the launcher.

The samples are launched as one Hydra multirun (the chosen launcher's ``launch``; each run
folder ``<out>/sample_<i>``); complete runs with the same config are reused, so a killed
analysis resumes. Output in ``<out>``: ``samples.parquet`` (the design and the outcomes),
``indices.parquet`` and ``indices.md`` (Morris: mu*, its 95 % interval, sigma; Sobol: S1 and
ST with 95 % intervals, bootstrap) and ``indices.png`` (bars with the intervals). Morris
effects are in outcome units per full range of the parameter (SALib scales inputs to [0, 1]).

``out`` is checked for writing (not a file, not under a file, writable) before anything is
composed or launched; a reused sample whose summary.json is damaged is named, with how to
re-run it, before the launch.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

log = logging.getLogger("sim.sensitivity")
METHODS = ("morris", "sobol")


from .compose import BadInput, bad_input, compose, load, report_bad_input
from .gather import DamagedRun, read_summary
from .outputs import check_output_dir


def load_space(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"space = {str(path)!r}: no such file")
    try:
        space = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise BadInput(f"space = {str(path)!r}: not YAML ({str(exc).splitlines()[0]})") from None
    params = space.get("parameters") or {}
    if not isinstance(params, dict) or not params:
        raise BadInput(f"{path.name}: parameters: empty; declare key: [low, high] for at least one config key")
    for k, b in params.items():
        if not (isinstance(b, list) and len(b) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in b)):
            raise BadInput(f"{path.name}: parameters.{k} = {b!r}: must be [low, high]")
        if not b[0] < b[1]:
            raise BadInput(f"{path.name}: parameters.{k} = {b!r}: empty range (needs low < high)")
    if not space.get("outcomes"):
        raise BadInput(f"{path.name}: outcomes: empty; name at least one summary.json key (e.g. cumulative_emissions_t_co2)")
    space.setdefault("name", path.stem)
    space.setdefault("overrides", [])
    space.setdefault("seed", 0)
    space.setdefault("morris", {})
    space.setdefault("sobol", {})
    return space


def problem(space: dict) -> dict:
    names = list(space["parameters"])
    return {"num_vars": len(names), "names": names, "bounds": [list(map(float, space["parameters"][n])) for n in names]}


def design(space: dict, method: str) -> np.ndarray:
    prob = problem(space)
    if method == "morris":
        from SALib.sample import morris

        m = space["morris"]
        return morris.sample(prob, N=int(m.get("trajectories", 10)), num_levels=int(m.get("levels", 4)), seed=int(space["seed"]))
    from SALib.sample import sobol

    s = space["sobol"]
    return sobol.sample(prob, N=int(s.get("base_samples", 64)), calc_second_order=False, seed=int(space["seed"]))


def analyse(space: dict, method: str, X: np.ndarray, Y: np.ndarray) -> pd.DataFrame:
    prob = problem(space)
    seed = int(space["seed"])
    if np.ptp(Y) == 0:  # a constant outcome: no parameter matters (SALib would divide by zero)
        z = np.zeros(prob["num_vars"])
        cols = ({"mu_star": z, "mu_star_ci95": z, "mu": z, "sigma": z} if method == "morris"
                else {"S1": z, "S1_ci95": z, "ST": z, "ST_ci95": z})
        return pd.DataFrame({"parameter": prob["names"], **cols})
    if method == "morris":
        from SALib.analyze import morris

        r = morris.analyze(prob, X, Y, conf_level=0.95, num_resamples=1000,
                           num_levels=int(space["morris"].get("levels", 4)), seed=seed)
        return pd.DataFrame({"parameter": prob["names"], "mu_star": r["mu_star"], "mu_star_ci95": r["mu_star_conf"],
                             "mu": r["mu"], "sigma": r["sigma"]})
    from SALib.analyze import sobol

    r = sobol.analyze(prob, Y, calc_second_order=False, conf_level=0.95, num_resamples=1000, seed=seed)
    return pd.DataFrame({"parameter": prob["names"], "S1": r["S1"], "S1_ci95": r["S1_conf"], "ST": r["ST"], "ST_ci95": r["ST_conf"]})


# -- launching ---------------------------------------------------------------------------------
def _value(v: float, like) -> str:
    if isinstance(like, bool):
        raise BadInput("boolean parameters cannot be varied continuously")
    if isinstance(like, int):
        return str(int(round(v)))
    return repr(float(v))


def job_overrides(space: dict, X: np.ndarray, base_cfg) -> list[list[str]]:
    from omegaconf import OmegaConf

    jobs = []
    names = list(space["parameters"])
    likes = {}
    for n in names:
        v = OmegaConf.select(base_cfg, n, default="__missing__")
        if isinstance(v, str) and v == "__missing__":
            raise BadInput(f"parameters.{n}: unknown parameter (not in the config; see sim/params.py)")
        if not isinstance(v, (int, float)):
            raise BadInput(f"parameters.{n} = {v!r} in the config: not a number, cannot be varied")
        likes[n] = v
    for row in X:
        jobs.append([f"{n}={_value(x, likes[n])}" for n, x in zip(names, row)])
    return jobs


def _validate_jobs(base_over: list[str], jobs: list[list[str]]) -> None:
    """Compose and check the first job and each parameter at its bounds (one line on error)."""
    probes = [jobs[0]]
    for j in range(len(jobs[0])):
        col = [job[j] for job in jobs]
        vals = sorted(col, key=lambda s: float(s.split("=", 1)[1]))
        probes += [jobs[0][:j] + [vals[0]] + jobs[0][j + 1:], jobs[0][:j] + [vals[-1]] + jobs[0][j + 1:]]
    for p in probes:
        load(base_over + p)


def launch(base_over: list[str], launcher_over: list[str], jobs: list[list[str]], out: Path) -> None:
    """Run every job as one Hydra multirun on the chosen launcher (what Hydra's sweeper does,
    with an explicit list of jobs instead of a cartesian product)."""
    from hydra._internal.callbacks import Callbacks
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.plugins import Plugins
    from hydra.types import HydraContext, RunMode
    from omegaconf import OmegaConf, open_dict

    from .compose import CONFIG_DIR, with_searchpath
    from .params import register_configs
    from .run import task
    from .sweep import check_launcher

    register_configs()
    overrides = with_searchpath(base_over + launcher_over + [f"hydra.sweep.dir={out}", "hydra.sweep.subdir=sample_${hydra.job.num}"])
    GlobalHydra.instance().clear()
    hydra = Hydra.create_main_hydra2(task_name="sim.sensitivity", config_search_path=create_config_search_path(CONFIG_DIR))
    try:
        cfg = hydra.compose_config("config", overrides=overrides, run_mode=RunMode.MULTIRUN, with_log_configuration=True)
        check_launcher(OmegaConf.select(cfg, "hydra.launcher._target_") or "", cfg)
        if OmegaConf.select(cfg, "hydra.callbacks.progress") is not None:
            with open_dict(cfg):
                cfg.hydra.callbacks.progress.total = len(jobs)
        callbacks = Callbacks(cfg)
        callbacks.on_multirun_start(config=cfg, config_name="config")
        launcher = Plugins.instance().instantiate_launcher(
            config=cfg, hydra_context=HydraContext(config_loader=hydra.config_loader, callbacks=callbacks), task_function=task)
        out.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(cfg, out / "multirun.yaml")
        # like Hydra's sweeper: each job carries the task overrides (load_sweep_config keeps only hydra.*)
        for r in launcher.launch([base_over + j for j in jobs], initial_job_idx=0):
            _ = r.return_value  # re-raises a failed job's exception
        callbacks.on_multirun_end(config=cfg, config_name="config")
    finally:
        GlobalHydra.instance().clear()


def check_reused(out: Path, n: int) -> None:
    """Samples already complete (reused by the launch) must have a readable summary.json."""
    for i in range(n):
        d = out / f"sample_{i}"
        if (d / "summary.json").exists():
            try:
                read_summary(d)
            except DamagedRun as exc:
                raise BadInput(str(exc)) from None


def outcomes(space: dict, out: Path, n: int) -> pd.DataFrame:
    rows = []
    for i in range(n):
        try:
            s = read_summary(out / f"sample_{i}")
        except DamagedRun as exc:
            raise BadInput(str(exc)) from None
        row = {}
        for o in space["outcomes"]:
            if o in s and s[o] is None:
                raise BadInput(f"outcomes: {o!r} is null (not finite) in {out / f'sample_{i}' / 'summary.json'}; "
                               "the indices need a number in every sample")
            if o not in s or isinstance(s[o], bool) or not isinstance(s[o], (int, float)):
                raise BadInput(f"outcomes: {o!r} is not a number in summary.json; e.g. cumulative_emissions_t_co2, public_spending_usd, adoptions")
            row[o] = float(s[o])
        rows.append(row)
    return pd.DataFrame(rows)


def plot(indices: pd.DataFrame, method: str, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outs = list(dict.fromkeys(indices["outcome"]))
    fig, axes = plt.subplots(1, len(outs), figsize=(5.5 * len(outs), 0.5 * indices["parameter"].nunique() + 2.2), squeeze=False)
    for ax, o in zip(axes[0], outs):
        d = indices[indices["outcome"] == o]
        y = np.arange(len(d))
        if method == "morris":
            ax.barh(y, d["mu_star"], xerr=d["mu_star_ci95"], capsize=4, color="C0", alpha=0.85, label="mu* (95 % CI)")
            ax.plot(d["sigma"], y, "kx", label="sigma")
            ax.set_xlabel(f"elementary effect on {o}\n(change over the parameter's full range)")
        else:
            h = 0.38
            ax.barh(y - h / 2, d["S1"], h, xerr=d["S1_ci95"], capsize=3, label="S1 (first order)")
            ax.barh(y + h / 2, d["ST"], h, xerr=d["ST_ci95"], capsize=3, label="ST (total)")
            ax.set_xlabel(f"share of the variance of {o}")
        ax.set_yticks(y, d["parameter"], fontsize=8)
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(o, fontsize=10)
    fig.suptitle(title)
    fig.tight_layout()
    from .results import _atomic_write_bytes

    _atomic_write_bytes(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


def run(space_path: Path, method: str, extra: list[str], out: Path | None = None) -> tuple[pd.DataFrame, Path]:
    from .results import _atomic_write_bytes
    from .sweep import markdown_table

    if method not in METHODS:
        raise BadInput(f"method = {method!r}: one of {', '.join(METHODS)}")
    if out is not None:
        check_output_dir(out, "out")  # before any work
    space = load_space(space_path)
    launcher_over = [a for a in extra if a.startswith("hydra/") or a.startswith("hydra.") or a.startswith("+hydra.")]
    config_over = [a for a in extra if a not in launcher_over]
    base_over = [str(o) for o in space["overrides"]] + config_over + [f"seed={int(space['seed'])}"]
    if not any(a.startswith("hydra/launcher=") for a in launcher_over):
        launcher_over = ["hydra/launcher=local"] + launcher_over
    with bad_input():
        base_cfg = compose(base_over)
    X = design(space, method)
    jobs = job_overrides(space, X, base_cfg)
    _validate_jobs(base_over, jobs)
    out = check_output_dir(Path(out or Path("results") / "sensitivity" / f"{space['name']}_{method}"), "out")
    check_reused(out, len(jobs))
    log.info("%s: %d runs (%s, %d parameters) -> %s", space["name"], len(jobs), method, X.shape[1], out)
    launch(base_over, launcher_over, jobs, out)  # BadInput if the launcher cannot start
    Y = outcomes(space, out, len(jobs))
    samples = pd.concat([pd.DataFrame(X, columns=list(space["parameters"])), Y], axis=1)
    samples.insert(0, "run", [f"sample_{i}" for i in range(len(jobs))])
    frames = []
    for o in space["outcomes"]:
        ind = analyse(space, method, X, Y[o].to_numpy())
        ind.insert(0, "outcome", o)
        frames.append(ind)
    indices = pd.concat(frames, ignore_index=True)
    indices.insert(0, "method", method)
    head = (f"# Sensitivity: {space['name']} ({method})\n\n{space.get('description', '')}\n\n"
            f"{len(jobs)} runs, seed {space['seed']} for all (common random numbers); 95 % intervals by bootstrap "
            f"(1,000 resamples).\n\n")
    try:
        _atomic_write_bytes(out / "samples.parquet", lambda p: samples.to_parquet(p, index=False))
        _atomic_write_bytes(out / "indices.parquet", lambda p: indices.to_parquet(p, index=False))
        _atomic_write_bytes(out / "indices.md", lambda p: p.write_text(head + markdown_table(indices) + "\n"))
        plot(indices, method, out / "indices.png", f"{space['name']}: {method} ({len(jobs)} runs)")
    except OSError as exc:
        raise BadInput(f"out = {str(out)!r}: cannot write {exc.filename or 'the indices'} ({exc.strerror or exc})") from None
    return indices, out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)  # stderr: errors only
    logging.getLogger("MESA").setLevel(logging.WARNING)
    return report_bad_input(_command, argv)


def _command(argv: list[str]) -> int:
    pos = [a for a in argv if "=" not in a]
    kv = dict(a.split("=", 1) for a in argv if "=" in a and a.split("=", 1)[0] in ("method", "out"))
    extra = [a for a in argv if "=" in a and a.split("=", 1)[0] not in ("method", "out")]
    if len(pos) != 1:
        raise BadInput("usage: python -m sim.sensitivity <space.yaml> method=morris|sobol [out=DIR] [key=value ...] [hydra/launcher=...]")
    _, out = run(Path(pos[0]), kv.get("method", "morris"), extra, Path(kv["out"]) if "out" in kv else None)
    print((out / "indices.md").read_text())
    print(f"Written: {out / 'indices.parquet'}, {out / 'indices.md'}, {out / 'indices.png'}, {out / 'samples.parquet'}")
    return 0


if __name__ == "__main__":
    from sim.sensitivity import main as _main  # one module instance

    sys.exit(_main())
