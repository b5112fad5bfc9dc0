"""Issue 16: a single command-line run composes its configuration once and checks it once
(counted in-process with monkeypatched counters; no timing), and the run folder it writes
holds the same tables as running the composed config through ``run_model`` directly."""
from __future__ import annotations

import sys

import pandas as pd
import pytest


def test_a_single_cli_run_composes_once_and_validates_once(tmp_path, monkeypatch):
    import hydra._internal.hydra as hydra_internal

    import sim.compose as compose_mod
    import sim.model as model_mod
    import sim.params as params_mod
    import sim.run as run
    from sim.job import run_model

    calls = {"compose": 0, "check": 0, "validate": 0, "to_config": 0}

    def counting(name, fn):
        def wrapped(*a, **k):
            calls[name] += 1
            return fn(*a, **k)
        return wrapped

    monkeypatch.setattr(hydra_internal.Hydra, "compose_config", counting("compose", hydra_internal.Hydra.compose_config))
    monkeypatch.setattr(compose_mod, "check", counting("check", compose_mod.check))
    monkeypatch.setattr(compose_mod, "validate", counting("validate", compose_mod.validate))
    real_to_config = params_mod.to_config
    monkeypatch.setattr(params_mod, "to_config", lambda c: (calls.__setitem__("to_config", calls["to_config"] + (not isinstance(c, params_mod.Config))), real_to_config(c))[1])
    model_validations = []
    monkeypatch.setattr(model_mod, "validate", lambda c: (model_validations.append(c), params_mod.validate(c))[1])
    captured = {}
    monkeypatch.setattr(run, "run_model", lambda cfg, progress=None: captured.setdefault("res", run_model(cfg, progress)))
    monkeypatch.setattr(run, "_failures", [])
    out = tmp_path / "run"
    argv = ["n_firms=300", "start_year=2025", "end_year=2027", "seed=3", f"hydra.run.dir={out}"]
    monkeypatch.setattr(sys, "argv", ["sim/run.py", *argv])
    run.main()

    assert (out / "summary.json").exists()
    assert calls["compose"] == 1, calls  # was 4: preflight, its run folder, Hydra's mode, Hydra's run
    assert calls["check"] == 1 and calls["validate"] == 1, calls  # the full check, once
    assert calls["to_config"] == 1, calls  # the task reuses the checked config
    # besides the check, only the model's own defensive validate() (sim/model.py), once
    assert len(model_validations) == 1

    # the folder holds what run_model of the same composed config gives
    from conftest import make_config

    ref = run_model(make_config("n_firms=300", "start_year=2025", "end_year=2027", "seed=3"))
    for name in ("timeseries", "firms", "adoptions"):
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"), getattr(ref, name))
