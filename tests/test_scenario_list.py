"""`python -m sim.run scenario=list` lists every scenario config with its description and source."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from omegaconf import OmegaConf

from sim import scenarios

REPO = Path(__file__).resolve().parent.parent


def test_every_scenario_file_is_listed_with_description_and_source(capsys):
    assert scenarios.main() == 0
    out = capsys.readouterr().out
    files = sorted((REPO / "configs" / "scenario").glob("*.yaml"))
    assert files and out.startswith(f"{len(files)} scenarios")
    for f in files:
        sc = OmegaConf.load(f).scenario
        assert str(sc.get("description", "")).strip(), f"{f.name}: scenario.description is empty"
        assert str(sc.get("source", "")).strip(), f"{f.name}: scenario.source is empty"
        flat = " ".join(out.split())
        assert f.stem in flat
        assert " ".join(str(sc.description).split()) in flat
        assert "source: " + " ".join(str(sc.source).split()) in flat


def test_files_without_keys_fall_back_to_comment_and_broken_files_are_reported(tmp_path):
    (tmp_path / "a.yaml").write_text("# @package _global_\n# Alpha cluster, a test\nscenario:\n  name: a\n")
    (tmp_path / "b.yaml").write_text("scenario: {name: b, description: Beta, source: 'seed 1'}\n")
    (tmp_path / "c.yaml").write_text("scenario: [unclosed\n")
    infos = {i.name: i for i in scenarios.available(tmp_path)}
    assert infos["a"].description == "Alpha cluster, a test" and infos["a"].source == "not given"
    assert (infos["b"].description, infos["b"].source) == ("Beta", "seed 1")
    assert infos["c"].problem
    text = scenarios.format_table(list(infos.values()))
    assert "problem:" in text and "Alpha cluster" in text


def test_cli_scenario_list_exits_0(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim.run", "scenario=list"], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "mx_cluster" in proc.stdout and "example_csv" in proc.stdout
    assert not (tmp_path / "results").exists() and not (tmp_path / "outputs").exists()
