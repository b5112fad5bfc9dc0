"""A run table as it is built: named columns of numpy arrays, turned into either a pandas
DataFrame (the results in memory: notebooks, comparisons, tests) or an Arrow table (what a run
folder's Parquet file holds) without one going through the other.

A command-line run only writes its tables, so it never imports pandas (~0.35 s of a run on a
2-core AMD EPYC) and converts nothing twice. :meth:`Table.to_arrow` gives exactly what
``pyarrow.Table.from_pandas(table.to_pandas(), preserve_index=False)`` gives -- the same
arrays, types and ``pandas`` schema metadata (pyarrow's ``pandas_compat.construct_metadata``
for these column kinds) -- so the files are byte for byte those ``DataFrame.to_parquet`` wrote,
and readers (``pandas.read_parquet``) get the same DataFrame back
(``tests/test_cli16_fast_tables.py`` checks both).

Column kinds: a numpy array (integers, floats, booleans, ``datetime64[ns]``, strings), a
categorical (integer codes, -1 missing, and its categories) and a nullable ``Int32``
(values and a missing mask).
"""
from __future__ import annotations

import functools
import json

import numpy as np

_ARRAY, _CATEGORICAL, _INT32_NULLABLE = "array", "categorical", "Int32"
#: pyarrow's logical ("pandas_type") name of each numpy kind (pandas_compat.get_logical_type)
_LOGICAL = {"b": "bool", "M": "datetime"}  # numbers: their numpy name


def _codes_dtype(n_categories: int):
    """The integer type pandas stores a categorical's codes in (``coerce_indexer_dtype``)."""
    for t in (np.int8, np.int16, np.int32):
        if n_categories < np.iinfo(t).max:
            return t
    return np.int64


class Table:
    """Columns in order; :meth:`add`, :meth:`categorical`, :meth:`nullable_int32` append one
    (``at``: insert before that position instead)."""

    def __init__(self):
        self.columns: list[tuple[str, str, np.ndarray, object]] = []

    def __len__(self) -> int:
        return len(self.columns[0][2]) if self.columns else 0

    @property
    def names(self) -> list[str]:
        return [c[0] for c in self.columns]

    def _put(self, column, at):
        self.columns.insert(len(self.columns) if at is None else at, column)
        return self

    def add(self, name: str, values, at: int | None = None) -> "Table":
        values = np.asarray(values)
        if values.dtype.kind == "U":  # strings: a pandas object column
            values = values.astype(object)
        return self._put((name, _ARRAY, values, None), at)

    def categorical(self, name: str, codes, categories, at: int | None = None) -> "Table":
        """Codes (-1: missing) into ``categories`` (a list; a numpy array keeps its dtype)."""
        cats = categories if isinstance(categories, np.ndarray) else (
            np.asarray(list(categories)) if len(categories) else np.zeros(0, dtype=object))
        return self._put((name, _CATEGORICAL, np.asarray(codes).astype(_codes_dtype(len(cats))), cats), at)

    def nullable_int32(self, name: str, values, missing, at: int | None = None) -> "Table":
        return self._put((name, _INT32_NULLABLE, np.asarray(values, dtype=np.int32), np.asarray(missing, dtype=bool)), at)

    def column(self, name: str) -> np.ndarray:
        """A column's values (a categorical's codes)."""
        return next(c[2] for c in self.columns if c[0] == name)

    def labels(self, name: str) -> np.ndarray:
        """A categorical column's values as labels (None where missing)."""
        _, _, codes, cats = next(c for c in self.columns if c[0] == name)
        out = np.asarray(cats, dtype=object)[np.maximum(codes, 0)] if len(cats) else np.full(len(codes), None, dtype=object)
        out[codes < 0] = None
        return out

    def dictionary_encoded(self) -> list[str]:
        """The columns worth dictionary-encoding in Parquet (few distinct values: categoricals,
        integers, booleans; not floats, dates or strings)."""
        return [n for n, kind, v, _ in self.columns if kind != _ARRAY or v.dtype.kind in "biu"]

    # -- conversions -------------------------------------------------------------------------
    def to_pandas(self):
        """The DataFrame (categoricals as ``pandas.Categorical``, ``Int32`` with ``<NA>``)."""
        import pandas as pd

        if not self.columns:
            return pd.DataFrame()
        data = {}
        for name, kind, values, extra in self.columns:
            if kind == _CATEGORICAL:
                data[name] = pd.Categorical.from_codes(values, pd.Index(extra))
            elif kind == _INT32_NULLABLE:
                data[name] = pd.arrays.IntegerArray(values.copy(), extra.copy())
            else:
                data[name] = values
        return pd.DataFrame(data)

    def to_arrow(self):
        """The Arrow table ``pyarrow.Table.from_pandas(self.to_pandas(), preserve_index=False)``
        would give, built from the arrays' buffers (``pyarrow.array`` would import pandas)."""
        import pyarrow as pa

        arrays, meta = [], []
        for name, kind, values, extra in self.columns:
            if kind == _CATEGORICAL:
                arrays.append(pa.DictionaryArray.from_arrays(_arrow_array(values, values != -1), _arrow_array(extra),
                                                             ordered=False))
                numpy_type, md, logical = str(values.dtype), {"num_categories": len(extra), "ordered": False}, "categorical"
            elif kind == _INT32_NULLABLE:
                arrays.append(_arrow_array(values, ~extra))
                numpy_type, md, logical = "Int32", None, "int32"
            else:
                arrays.append(_arrow_array(values))
                numpy_type, md = str(values.dtype), None
                logical = _LOGICAL.get(values.dtype.kind, numpy_type)
                if values.dtype.kind == "O":
                    logical = "unicode" if pa.types.is_string(arrays[-1].type) else "object"
            meta.append({"name": name, "field_name": name, "pandas_type": logical, "numpy_type": numpy_type, "metadata": md})
        pandas_meta = {"index_columns": [], "column_indexes": [], "columns": meta, "attributes": {},
                       "creator": {"library": "pyarrow", "version": pa.__version__}, "pandas_version": _pandas_version()}
        schema = pa.schema([pa.field(n, a.type) for n, a in zip(self.names, arrays)],
                           metadata={b"pandas": json.dumps(pandas_meta).encode("utf8")})
        return pa.Table.from_arrays(arrays, schema=schema)


def _bits(flags: np.ndarray):
    import pyarrow as pa

    return pa.py_buffer(np.packbits(flags, bitorder="little"))


def _arrow_array(values: np.ndarray, valid: np.ndarray | None = None):
    """The Arrow array ``pyarrow.array(values, from_pandas=True)`` gives (NaN and NaT are
    missing) with ``valid`` False also missing, from the buffers: numbers, booleans,
    ``datetime64[ns]`` and strings."""
    import pyarrow as pa

    kind = values.dtype.kind
    if kind in "fM":
        nan = np.isnat(values) if kind == "M" else np.isnan(values)
        if nan.any():
            valid = ~nan if valid is None else valid & ~nan
    n = len(values)
    validity, nulls = None, 0
    if valid is not None and not valid.all():
        validity, nulls = _bits(valid), int(n - np.count_nonzero(valid))
    if kind == "O" and n == 0:
        return pa.nulls(0)  # an empty object column: no type to infer
    if kind in "OU":
        if not all(isinstance(v, str) for v in values.tolist()):
            return pa.array(values, mask=None if valid is None else ~valid, from_pandas=True)
        encoded = [v.encode("utf-8") for v in values.tolist()]
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return pa.Array.from_buffers(pa.string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))],
                                     null_count=nulls)
    if kind == "b":
        return pa.Array.from_buffers(pa.bool_(), n, [validity, _bits(values)], null_count=nulls)
    arrow_type = pa.timestamp("ns") if kind == "M" else pa.from_numpy_dtype(values.dtype)
    data = np.ascontiguousarray(values).view(np.int64) if kind == "M" else np.ascontiguousarray(values)
    return pa.Array.from_buffers(arrow_type, n, [validity, pa.py_buffer(data)], null_count=nulls)


@functools.lru_cache(maxsize=1)
def _pandas_version() -> str:
    """The installed pandas' version (what ``DataFrame.to_parquet`` records), without
    importing pandas (looked up once: ~3 ms)."""
    import sys

    if "pandas" in sys.modules:
        return sys.modules["pandas"].__version__
    from importlib.metadata import version

    return version("pandas")


def write_parquet(table: Table, path) -> None:
    """``table`` as a Parquet file: what ``table.to_pandas().to_parquet(path, index=False)``
    writes (snappy), dictionary-encoding only :meth:`Table.dictionary_encoded` columns
    (pyarrow's default tries a dictionary on every column: ~40 % of writing the 32,174-firm
    panel, and nothing saved on its floats)."""
    import pyarrow.parquet as pq

    pq.write_table(table.to_arrow(), path, compression="snappy", use_dictionary=table.dictionary_encoded())
