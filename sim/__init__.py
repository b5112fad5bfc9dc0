"""Agent-based simulator of industrial-cluster climate transitions (see README.md)."""
import os as _os
import sys as _sys

# The engine's matrix products are small ([firms under review x 9] @ [9 x measures]); a second
# BLAS thread only adds synchronisation (measured: 1M firms x 120 steps, CPU time 12.1 s with
# OpenBLAS's default 2 threads vs 6.3 s with 1; identical results; docs/benchmark.md).
# An explicit setting is respected. The environment takes effect when ``sim`` is imported
# before numpy; a process that loaded numpy first (``solara run`` does: the app's server)
# has its BLAS limited now instead, else an idle BLAS thread spins beside every product
# (measured: a 32,174-firm month's CPU time doubled, with the same wall time).
_BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
if "numpy" in _sys.modules and not any(_v in _os.environ for _v in _BLAS_VARS):
    from threadpoolctl import threadpool_limits as _limits

    _limits(1, user_api="blas")
for _var in _BLAS_VARS:
    _os.environ.setdefault(_var, "1")


def _defer_mesa_package() -> None:
    """Make ``import mesa`` cheap: Mesa's ``__init__`` imports every Mesa module (data
    collector, batch runner, spaces, experimental), hence pandas, SciPy's spatial package and
    NetworkX (~1 s of a command-line run); the engine needs only ``mesa.Model`` and
    ``mesa.Agent`` (``mesa/model.py``, ``mesa/agent.py``: numpy only). The ``mesa`` package is
    registered without running its ``__init__``; ``mesa.Model`` and ``mesa.Agent`` come from
    their modules, and the first use of any other name (``mesa.DataCollector``,
    ``mesa.__version__``...) runs Mesa's own ``__init__`` in the same module: everything Mesa
    offers stays there, loaded when used. Set ``SIM_EAGER_MESA=1`` to import Mesa as usual."""
    if "mesa" in _sys.modules or _os.environ.get("SIM_EAGER_MESA"):
        return
    import importlib.util

    spec = importlib.util.find_spec("mesa")
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return
    mod = importlib.util.module_from_spec(spec)
    state = {"loaded": False}

    def __getattr__(name):
        if name in ("Model", "Agent") and not state["loaded"]:
            import importlib as _il

            return getattr(_il.import_module(f"mesa.{name.lower()}"), name)
        if not state["loaded"]:
            state["loaded"] = True
            del mod.__dict__["__getattr__"]
            spec.loader.exec_module(mod)  # Mesa's own __init__, in this module
            return getattr(mod, name)
        raise AttributeError(f"module 'mesa' has no attribute {name!r}")

    mod.__getattr__ = __getattr__
    _sys.modules["mesa"] = mod


_defer_mesa_package()
