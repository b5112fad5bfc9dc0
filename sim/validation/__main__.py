"""``python -m sim.validation [--size full|small] [--out DIR] [--only bass,barriers,...]``

Runs the validation suite and writes ``DIR/report.md`` (default ``results/validation``) with
one PNG per check. Exit code 0 when every check passes, 1 when a check fails, 2 on bad
arguments (one line on stderr).
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .suite import CHECKS, SIZES, run_suite, write_report


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (project rule for bad input)
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)


def main(argv=None) -> int:
    ap = _Parser(prog="python -m sim.validation", description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="full", help=f"one of {', '.join(SIZES)} (default full)")
    ap.add_argument("--out", default="results/validation", help="output folder (default results/validation)")
    ap.add_argument("--only", default=",".join(CHECKS), help=f"comma-separated subset of {','.join(CHECKS)}")
    a = ap.parse_args(argv)
    if a.size not in SIZES:
        ap.error(f"--size = {a.size!r}: must be one of {', '.join(SIZES)}")
    only = tuple(x.strip() for x in a.only.split(",") if x.strip())
    bad = [x for x in only if x not in CHECKS]
    if bad or not only:
        ap.error(f"--only = {a.only!r}: allowed names are {', '.join(CHECKS)}")
    logging.getLogger("MESA").setLevel(logging.WARNING)
    out = Path(a.out)
    checks = run_suite(a.size, out, only)
    path = write_report(checks, out, a.size)
    n_fail = sum(not c.passed for c in checks)
    print(f"{len(checks) - n_fail}/{len(checks)} checks pass; report: {path}")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
