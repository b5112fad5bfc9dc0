"""Shared pieces of the validation suite: a check result, config composition, and running
the real engine.

Every check composes its configuration from ``configs/`` with Hydra overrides (the same
strings a user would pass to ``python -m sim.run``), so each configuration in the report is
reproducible from the command line; the override list is printed in the report.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

#: Every decision term of ``behaviour.terms`` (sim/params.py DecisionTerms).
TERMS = ("information", "capital", "skills", "hidden_costs", "risk", "economics",
         "peer_awareness", "peer_risk", "customer_pressure")


@dataclass
class Check:
    """The outcome of one validation check: a pass/fail line with the measured figure and
    the tolerance, a figure file, and a short note on where the model departs and why."""

    name: str
    title: str
    passed: bool
    measured: str
    tolerance: str
    config: list[str] = field(default_factory=list)
    figure: str = ""  # PNG file name inside the output folder ("" = none)
    notes: str = ""
    table: str = ""  # optional markdown table
    data: dict = field(default_factory=dict)  # figures for tests and docs

    def line(self) -> str:
        return f"**{'PASS' if self.passed else 'FAIL'}** `{self.name}`: measured {self.measured}; tolerance {self.tolerance}"


def terms_only(*on: str) -> list[str]:
    """Overrides that switch every decision term off except ``on``."""
    bad = set(on) - set(TERMS)
    if bad:
        raise ValueError(f"unknown decision terms: {sorted(bad)}")
    return [f"behaviour.terms.{t}={'true' if t in on else 'false'}" for t in TERMS]


def compose_config(overrides: list[str], edit: Callable | None = None):
    """A validated, typed :class:`sim.params.Config` from config overrides. ``edit(cfg)`` may
    change fields that have no command-line form (e.g. one measure of a catalogue)."""
    from hydra.core.global_hydra import GlobalHydra

    from ..params import to_config, validate
    from ..run import compose

    try:
        cfg = to_config(compose(list(overrides)))
    finally:
        GlobalHydra.instance().clear()
    if edit is not None:
        edit(cfg)
    return validate(cfg)


def build_model(overrides: list[str], edit: Callable | None = None):
    from ..model import ClusterModel

    return ClusterModel(compose_config(overrides, edit))


def run(overrides: list[str], edit: Callable | None = None):
    """Build and run a model to its end year; returns the model (all state kept)."""
    m = build_model(overrides, edit)
    m.run()
    return m


def savefig(fig, out_dir: Path | None, name: str) -> str:
    """Write ``fig`` as ``<out_dir>/<name>.png`` (nothing if ``out_dir`` is None)."""
    import matplotlib.pyplot as plt

    if out_dir is None:
        plt.close(fig)
        return ""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.png"
    tmp = out_dir / f".{name}.tmp.png"
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    tmp.replace(path)
    plt.close(fig)
    return path.name


def fmt(x: float, digits: int = 4) -> str:
    """A number with ``digits`` significant digits (``n/a`` for None/NaN)."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "n/a"
    return f"{x:.{digits}g}"
