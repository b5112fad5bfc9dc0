"""Issue 16: a command-line run writes its tables without pandas (sim/table.py), and the files
are byte for byte what ``DataFrame.to_parquet`` wrote before; the in-memory results are the
same DataFrames. The start-up runs without the cyclic garbage collector, which is back on
before the run."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sim.results import TABLES, collect, write_parquet
from sim.table import Table

ROOT = Path(__file__).resolve().parent.parent


def _same_arrow(t: Table) -> None:
    """``t.to_arrow()`` is what pyarrow makes of ``t.to_pandas()``: types, pandas metadata, values."""
    mine = t.to_arrow()
    ref = pa.Table.from_pandas(t.to_pandas(), preserve_index=False)
    assert mine.schema.equals(ref.schema, check_metadata=True), (mine.schema, ref.schema)
    assert mine.equals(ref)


def _same_file(t: Table, tmp_path: Path) -> None:
    """The Parquet file of the table is the file of its DataFrame, byte for byte."""
    a, b = tmp_path / "table.parquet", tmp_path / "frame.parquet"
    write_parquet(t, a)
    write_parquet(t.to_pandas(), b)
    assert a.read_bytes() == b.read_bytes()


def test_hand_built_table_with_missing_values_matches_pandas(tmp_path):
    t = (Table().add("month", np.array([0, 1, 2], dtype=np.int32))
         .add("x_usd", np.array([1.5, np.nan, -2.0]))  # NaN: a null in the file, as from_pandas makes it
         .add("flag", np.array([True, False, True]))
         .add("when", np.array(["2025-01-01", "NaT", "2025-03-01"], dtype="datetime64[ns]"))
         .add("name", np.array(["a", "bé", "c"]))
         .categorical("group", [1, -1, 0], ["low", "high"])  # -1: missing
         .categorical("none_yet", [-1, -1, -1], np.zeros(0, dtype=float))  # an all-missing column
         .nullable_int32("adopted_month", [4, -1, 7], [False, True, False])
         .add("small", np.array([1, 2, 3], dtype=np.int16), at=1))
    assert t.names[1] == "small"
    df = t.to_pandas()
    assert str(df["adopted_month"].dtype) == "Int32" and df["adopted_month"].isna().tolist() == [False, True, False]
    assert df["group"].isna().tolist() == [False, True, False] and list(df["group"].cat.categories) == ["low", "high"]
    assert df["name"].dtype == object
    _same_arrow(t)
    _same_file(t, tmp_path)
    back = pd.read_parquet(tmp_path / "table.parquet")  # (pandas reads an all-missing categorical back as floats)
    pd.testing.assert_frame_equal(back.drop(columns="none_yet"), df.drop(columns="none_yet"))


def test_empty_tables_match_pandas(tmp_path):
    _same_arrow(Table().add("month", np.zeros(0, np.int32)).categorical("programme", np.zeros(0, int), []))
    _same_file(Table().add("month", np.zeros(0, np.int32)).categorical("programme", np.zeros(0, int), []), tmp_path)
    empty = Table()
    assert empty.to_pandas().equals(pd.DataFrame())
    _same_file(empty, tmp_path)


@pytest.mark.parametrize("overrides", [("n_firms=300", "start_year=2025", "end_year=2027", "policy=incentive_package"),
                                       ("scenario=example_csv", "end_year=2027"),  # user firm ids
                                       ("n_firms=200", "start_year=2025", "end_year=2026", "write_firm_panel=false")])
def test_run_tables_write_the_files_their_dataframes_wrote(overrides, tmp_path):
    from conftest import make_config
    from sim.model import ClusterModel

    model = ClusterModel(make_config(*overrides), lazy_firm_agents=True)
    while model.running:
        model.step()
    res = collect(model)
    for name in TABLES:
        t = res.table(name)
        assert isinstance(t, Table)  # not converted before it is read
        _same_arrow(t)
        _same_file(t, tmp_path)
    assert isinstance(res.adoptions, pd.DataFrame) and isinstance(res.table("adoptions"), pd.DataFrame)  # read: once
    if "scenario=example_csv" in overrides:
        assert "firm_id" in res.firms.columns and res.firms.columns.get_loc("firm_id") == res.firms.columns.get_loc("firm") + 1
    supported = res.adoptions["instrument"].astype(str) != "none"
    assert res.summary["supported_adoptions"] == int(supported.sum())
    from sim.params import SIZE_CLASSES

    by_size = pd.Series(pd.Categorical.from_codes(model.firms.size_class, SIZE_CLASSES)).value_counts(sort=False)
    assert res.summary["firms_by"]["size_class"] == {str(k): int(v) for k, v in by_size.items()}


def test_a_cli_run_imports_no_pandas_and_collects_garbage_again(tmp_path):
    """What ``python -m sim.run`` does (main with the collector paused), in a fresh process."""
    out = tmp_path / "run"
    code = (
        "import gc, sys\n"
        "gc.disable()\n"
        "import sim.run as run\n"
        f"sys.argv = ['sim/run.py', 'n_firms=300', 'start_year=2025', 'end_year=2026', 'hydra.run.dir={out}']\n"
        "run.main(gc_paused=True)\n"
        "print('pandas' in sys.modules, gc.isenabled())\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip().splitlines()[-1] == "False True"
    assert (out / "summary.json").exists()
    assert len(pd.read_parquet(out / "firms.parquet")) == 300 * 2


def test_libyaml_reads_every_shipped_config_file_as_pyyaml_does():
    """The config-file check parses with libyaml (sim.compose.check_config_files): the same
    data as PyYAML's own parser for every file a run can compose."""
    import yaml

    from sim.compose import safe_load_yaml

    if not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("PyYAML without libyaml: the check uses PyYAML's own parser")
    files = sorted((ROOT / "configs").rglob("*.yaml")) + sorted((ROOT / "experiments").rglob("*.yaml"))
    assert len(files) > 10
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert safe_load_yaml(text) == yaml.safe_load(text), f
