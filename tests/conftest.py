"""Shared helpers: compose a typed config from Hydra overrides, as the CLI does."""
from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def make_config(*overrides: str):
    """A typed, checked :class:`sim.params.Config` composed from ``configs/`` + overrides
    (ConfigError on a bad value, Hydra's own error on a composition problem)."""
    from hydra.core.global_hydra import GlobalHydra

    from sim.compose import check, compose
    from sim.params import to_config

    GlobalHydra.instance().clear()
    try:
        return check(to_config(compose(list(overrides))))
    finally:
        GlobalHydra.instance().clear()


@pytest.fixture
def config():
    return make_config


def benchmark_module(name: str):
    """The module ``benchmarks/<name>.py`` (the benchmarks are scripts, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_cli(*args: str, cwd: Path | str = REPO, module: str = "sim.run", timeout: float = 300):
    """Run ``python -m <module> args...`` as a user would; returns CompletedProcess."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


@contextmanager
def tmpfs(path: Path, size: str = "200k", ro: bool = False):
    """A small tmpfs at ``path`` (root only; the test is skipped otherwise); unmounted on
    exit. For disk-full and read-only file-system tests."""
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if ro else "")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {r.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], capture_output=True)
