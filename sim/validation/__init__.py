"""The validation suite: the engine checked against theory (Bass diffusion, barrier and
instrument mechanics, conservation) and field evidence (energy-audit follow-up).

``python -m sim.validation`` (or ``make validate``) runs every check with the real engine
and writes ``results/validation/report.md`` with one PNG per check and a pass/fail line per
check (measured figure, tolerance). ``tests/test_validation.py`` runs the same checks at a
smaller size. Each check module documents its configuration; the report prints the exact
config overrides, so any run can be repeated with ``python -m sim.run``.
"""
from .suite import SIZES, run_suite, write_report  # noqa: F401
