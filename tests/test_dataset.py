"""Results as one dataset: each run of a sweep writes its rows as one Parquet fragment of a
hive-partitioned dataset that pyarrow and DuckDB read whole and that equals the gathered table."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest

from sim.gather import fragment_path, gather, read_dataset, write_fragment

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    cmd = [sys.executable, "-m", "sim.run", "--multirun", "n_firms=120", "end_year=2026", "write_firm_panel=false",
           "policy=none,incentive_package", "seed=0,1", "hydra/launcher=local", "hydra.launcher.n_jobs=2",
           f"hydra.sweep.dir={out}"]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert set(a.columns) == set(b.columns)
    a = a[list(b.columns)].sort_values(["run", "year"]).reset_index(drop=True)
    b = b.sort_values(["run", "year"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_categorical=False)


def test_sweep_dataset_equals_the_gathered_table(sweep_dir):
    frags = sorted((sweep_dir / "dataset" / "table=summary").glob("run=*/part.parquet"))
    assert len(frags) == 4  # one fragment per run
    gathered = gather(sweep_dir)
    _same(read_dataset(sweep_dir / "dataset", "summary"), gathered)
    # pyarrow alone (hive partitioning): the same rows
    t = ds.dataset(sweep_dir / "dataset" / "table=summary", format="parquet", partitioning="hive").to_table().to_pandas()
    _same(t.assign(run=t["run"].astype(str)), gathered)


def test_duckdb_queries_the_dataset_without_gathering(sweep_dir):
    duckdb = pytest.importorskip("duckdb")
    glob = str(sweep_dir / "dataset" / "table=summary" / "*" / "*.parquet")
    q = duckdb.sql(f"SELECT policy, avg(run_cumulative_emissions_t_co2) AS em, count(*) AS n "
                   f"FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true) "
                   "GROUP BY policy ORDER BY policy").df()
    g = gather(sweep_dir)
    want = g.groupby("policy")["run_cumulative_emissions_t_co2"].agg(["mean", "size"]).sort_index()
    assert list(q["policy"]) == list(want.index)
    assert q["em"].tolist() == pytest.approx(want["mean"].tolist(), rel=1e-12)
    assert q["n"].tolist() == want["size"].tolist()
    # the whole table through DuckDB equals the gathered one
    whole = duckdb.sql(f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true)").df()
    _same(whole.drop(columns=["table"]), g)  # DuckDB also reads table=summary from the path


def test_a_fragment_exists_only_when_complete(tmp_path, monkeypatch):
    rows = pd.DataFrame({"year": [2025], "x": [1.0]})
    write_fragment(tmp_path, "t", "a=1,b=2", rows)

    def broken(self, *a, **k):  # the write dies half-way (disk full)
        Path(a[0]).write_bytes(b"PAR1 half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    with pytest.raises(OSError):
        write_fragment(tmp_path, "t", "c=3", rows)
    monkeypatch.undo()
    assert not fragment_path(tmp_path, "t", "c=3").exists()
    assert not fragment_path(tmp_path, "t", "c=3").parent.exists()  # no temp file, no empty partition
    t = read_dataset(tmp_path, "t")
    assert t["run"].tolist() == ["a=1,b=2"] and t["x"].tolist() == [1.0]


def test_one_runs_parameter_table_equals_the_general_path():
    """A fragment's parameter table (one config: only the asked keys are looked at) equals the
    first row of the general path's table for the same config twice (nothing varies)."""
    from sim.gather import parameter_table

    cfg = {"seed": 3, "n_firms": 120, "scenario": {"name": "bajio_cpi", "n_firms": 900, "tags": ["a", "b"]},
           "policy": {"name": "incentive_package", "cost_share": {"copay_share": 0.3}}, "measures": {"name": "default"},
           "behaviour": {"hurdle": {"mean": 0.2}}}
    for keys in ([], ["seed"], ["policy", "seed"], ["policy.cost_share.copay_share", "scenario"],
                 ["behaviour.hurdle.mean", "scenario.tags", "missing.key", "policy.cost_share"]):
        one = parameter_table([Path("a")], keys, configs=[cfg])
        two = parameter_table([Path("a"), Path("b")], keys, configs=[cfg, cfg]).iloc[:1]
        pd.testing.assert_frame_equal(one, two)


def test_a_workers_parsed_configs_equal_each_runs_yaml():
    """sim.sweep.parsed_by_seed: parsed once and the seed set, the same mapping as each seed's
    own YAML; a YAML in which more than the seed line changes is parsed per seed."""
    import yaml

    from sim.sweep import parsed_by_seed

    text = lambda s: f"seed: {s}\nn_firms: 5\nscenario:\n  name: x\n  seeds: [1, 2]\n"  # noqa: E731
    of = parsed_by_seed(text)
    for s in (0, 1, 7, 1234):
        assert of(s) == yaml.safe_load(text(s))
    other = lambda s: f"seed: {s}\nout: run_{s}\n"  # noqa: E731
    of = parsed_by_seed(other)
    assert of(5) == {"seed": 5, "out": "run_5"}
