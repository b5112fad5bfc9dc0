"""Calibration: fit free behaviour parameters to observed outcomes, with uncertainty.

    python -m sim.calibrate experiments/calibration/iac_assessments.yaml
    python -m sim.calibrate experiments/calibration/bass_recovery.yaml n_firms=300 generations=4 population=100
    python -m sim.calibrate <targets.yaml> [out=DIR] [workers=N] [generations=N] [population=N] [draws=N] [key=value ...]

The targets file (:mod:`sim.calibration.targets`) declares the scenario (fixed overrides), the
free parameters (config keys with uniform prior ranges and why) and the targets: observed
outcomes (:mod:`sim.outcomes`: a named function of a run) in a year or window, each with a
value, an uncertainty (sd) and its source. Extra ``key=value`` arguments override config keys
of every run (after the file's overrides); ``workers``, ``generations``, ``population`` and
``draws`` (posterior predictive runs) override the file's ``abc:`` settings.

Inference: ABC-SMC with pyabc (:mod:`sim.calibration.abc` says why), resumable: the history
lives in ``<out>/calibration.db``; re-running the same command continues from the last
complete generation (a killed calibration loses at most the generation it was in), and
asking for more ``generations`` adds generations.

Output in ``<out>`` (default ``results/calibration/<name>``): ``posterior.parquet`` (particles
of the last generation: config keys and ``weight``), ``identification.parquet``,
``predictive.parquet``, ``marginals.png``, ``pairs.png``, ``predictive.png``, ``report.md``.
Bad input (unknown outcome, year outside the run, empty prior range, a parameter that is not a
config key, ...): one line on stderr, exit code 2, nothing written.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from .errors import BadInput, report_bad_input

log = logging.getLogger("sim.calibrate")
OWN_KEYS = ("out", "workers", "generations", "population", "draws")


def parse_args(argv: list[str]) -> tuple[Path, dict, list[str]]:
    pos = [a for a in argv if "=" not in a]
    own = {}
    extra = []
    for a in argv:
        if "=" not in a:
            continue
        k, v = a.split("=", 1)
        if k in OWN_KEYS:
            if k != "out":
                if not v.isdigit() or int(v) < 1:
                    raise BadInput(f"{k} = {v!r}: an integer >= 1")
                v = int(v)
            own[k] = v
        else:
            extra.append(a)
    if len(pos) != 1 or pos[0].startswith("-"):
        raise BadInput("usage: python -m sim.calibrate <targets.yaml> [out=DIR] [workers=N] [generations=N] "
                       "[population=N] [draws=N] [key=value ...]")
    return Path(pos[0]), own, extra


def calibrate(path: Path, own: dict, extra: list[str]) -> Path:
    """Check everything, then run (or continue) the calibration and write its outputs."""
    from .calibration.abc import posterior_table, run_abc, synthetic_values
    from .calibration.report import (identification, plot_marginals, plot_pairs, plot_predictive, predictive,
                                     predictive_summary, report_md)
    from .calibration.targets import load_targets
    from .outputs import check_output_dir
    from .posterior import write_posterior
    from .results import _atomic_write_bytes

    if "out" in own:
        check_output_dir(Path(own["out"]), "out")
    cal = load_targets(path, extra)
    for k in ("population", "generations", "workers"):
        if k in own:
            cal.abc[k] = own[k]
    if "draws" in own:
        cal.abc["predictive_draws"] = own["draws"]
    out = check_output_dir(Path(own.get("out") or Path("results") / "calibration" / cal.name), "out")
    from .calibration.abc import check_resumable

    check_resumable(cal, out)  # another calibration in out: bad input before anything runs
    truth = None
    if cal.synthetic is not None:
        values = synthetic_values(cal)  # the model's own series at the declared truth
        for t in cal.targets:
            t.value = values[t.name]
        truth = dict(cal.synthetic["truth"])
        log.info("synthetic targets at %s: %s", truth, {k: round(v, 4) for k, v in values.items()})
    workers = int(cal.abc["workers"])
    state = run_abc(cal, out, workers, int(cal.abc["generations"]))
    post, gens = posterior_table(cal, out)
    ident = identification(cal, post, truth)
    pred = predictive(cal, post, int(cal.abc["predictive_draws"]), workers)
    summ = predictive_summary(cal, pred)
    for _, r in summ[summ["posterior_median"].isna()].iterrows():
        log.warning("target %s: outcome %s undefined in every posterior run (e.g. no assessment in the window)", r["target"], r["outcome"])
    meta = {"name": cal.name, "targets_file": str(cal.path), "overrides": cal.overrides,
            "integer_keys": [p.key for p in cal.priors if p.integer], "generations": int(len(gens)),
            "final_temperature": float(gens["temperature"].iloc[-1]) if len(gens) else None}
    try:
        write_posterior(out / "posterior.parquet", post, meta)
        _atomic_write_bytes(out / "identification.parquet", lambda p: ident.to_parquet(p, index=False))
        _atomic_write_bytes(out / "predictive.parquet", lambda p: pred.to_parquet(p, index=False))
        plot_marginals(cal, post, ident, out / "marginals.png")
        plot_pairs(cal, post, out / "pairs.png")
        plot_predictive(cal, summ, out / "predictive.png")
        _atomic_write_bytes(out / "report.md", lambda p: p.write_text(report_md(cal, ident, summ, gens, state)))
    except OSError as exc:
        raise BadInput(f"out = {str(out)!r}: cannot write {exc.filename or 'the outputs'} ({exc.strerror or exc})") from None
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)  # stderr: errors only
    for name in ("MESA", "ABC", "pyabc", "Sampler", "Distance", "Epsilon", "Acceptor", "History", "Population", "Temperature"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return report_bad_input(_command, argv)


def _command(argv: list[str]) -> int:
    out = calibrate(*parse_args(argv))
    print((out / "report.md").read_text())
    print(f"Written: {out / 'posterior.parquet'}, {out / 'report.md'}, {out / 'marginals.png'}, {out / 'pairs.png'}, "
          f"{out / 'predictive.png'}")
    return 0


if __name__ == "__main__":
    from sim.calibrate import main as _main  # one module instance (forked workers import sim.calibrate)

    sys.exit(_main())
