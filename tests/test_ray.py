"""A sweep on a real local Ray (hydra-ray-launcher): each run a Ray task; same runs as a local
in-process run of the same config and seed. An unreachable Ray head stops the sweep (exit 2)."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SMALL = ["n_firms=150", "end_year=2026", "write_firm_panel=false"]

pytest.importorskip("ray")  # the test extra installs it (pyproject [test])


@pytest.mark.slow
def test_a_sweep_runs_on_a_local_ray(tmp_path):
    out = tmp_path / "ray_sweep"
    r = subprocess.run([sys.executable, "-m", "sim.run", "--multirun", *SMALL, "seed=0,1", "policy=none,incentive_package",
                        "hydra/launcher=ray_tasks", "+hydra.launcher.ray.init.num_cpus=2", f"hydra.sweep.dir={out}"],
                       cwd=REPO, capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert "Started a local Ray instance" in r.stdout + r.stderr
    runs = sorted(out.glob("*/summary.json"))
    assert len(runs) == 4
    from hydra.core.global_hydra import GlobalHydra

    from sim.params import to_config
    from sim.run import compose, run_model

    cfg = compose(SMALL + ["seed=1", "policy=incentive_package"])
    GlobalHydra.instance().clear()
    local = run_model(to_config(cfg)).summary
    remote = json.loads(next(p for p in runs if "seed=1" in str(p) and "incentive" in str(p)).read_text())
    assert remote["emissions_t_co2_by_year"] == {str(k): v for k, v in local["emissions_t_co2_by_year"].items()}
    assert remote["public_spending_usd"] == local["public_spending_usd"]


def test_unreachable_ray_head_stops_the_sweep(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # a port nobody listens on
    out = tmp_path / "x"
    r = subprocess.run([sys.executable, "-m", "sim.run", "--multirun", *SMALL, "seed=0,1", "hydra/launcher=ray_tasks",
                        f"hydra.launcher.ray.init.address=127.0.0.1:{port}", f"hydra.sweep.dir={out}"],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr[-2000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: hydra.launcher.ray.init.address = '127.0.0.1:{port}': Ray cluster not reachable")
    assert not out.exists()
