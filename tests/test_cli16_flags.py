"""Hydra's flags anywhere on the command line: ``sim.run`` adds its own overrides (the
experiments' search path, the local launcher of a sweep) next to the user's, so a flag after
the overrides (``a=1 --cfg job``, ``a=1,2 -m``, a trailing ``--info``) works as in any Hydra
app; two of Hydra's modes at once are bad input (one line, exit code 2)."""
from __future__ import annotations

import sys

from conftest import run_cli


def test_a_flag_after_the_overrides_works(tmp_path):
    p = run_cli("n_firms=200", "--cfg", "job")
    assert p.returncode == 0, p.stderr
    assert "n_firms: 200" in p.stdout.splitlines()
    p = run_cli("n_firms=200", "--info", "defaults")
    assert p.returncode == 0, p.stderr
    assert "Defaults List" in p.stdout


def test_two_modes_at_once_are_bad_input():
    p = run_cli("-m", "n_firms=100,200", "--cfg", "job")
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and "only one of" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr


def test_added_overrides_go_next_to_the_users(monkeypatch):
    import sim.run as run

    for argv, expected in ((["a=1", "--cfg", "job"], ["a=1", "X", "--cfg", "job"]),
                           (["a=1,2", "-m"], ["a=1,2", "X", "-m"]),
                           (["-m", "a=1,2"], ["-m", "a=1,2", "X"]),
                           (["--info"], ["X", "--info"]),
                           (["--info", "config", "a=1"], ["--info", "config", "a=1", "X"]),
                           (["--config-name", "config", "--cfg", "hydra"], ["X", "--config-name", "config", "--cfg", "hydra"])):
        monkeypatch.setattr(sys, "argv", ["run.py", *argv])
        run._add_override("X")
        assert sys.argv[1:] == expected, argv
    assert run._overrides_of(["--info", "config", "a=1", "--cfg", "job", "b=2"]) == ["a=1", "b=2"]
