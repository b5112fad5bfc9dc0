"""Agent-based simulator of industrial-cluster climate transitions (see README.md)."""
import os as _os

# The engine's matrix products are small ([firms under review x 9] @ [9 x measures]); a second
# BLAS thread only adds synchronisation (measured: 1M firms x 120 steps, CPU time 12.1 s with
# OpenBLAS's default 2 threads vs 6.3 s with 1; identical results; docs/benchmark.md).
# Takes effect when ``sim`` is imported before numpy; an explicit setting is respected.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")
