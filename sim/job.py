"""One job: build, run and collect a model. ``run_model`` is the one pure entry point every
caller uses (CLI task, sweeps, comparisons, tests, notebooks)."""
from __future__ import annotations

from .params import to_config


def run_model(config, progress=None, observers=(), pause_at_month: int | None = None, at_pause=None, populations=None):
    """Build, run and collect one model. ``config``: DictConfig or :class:`Config`.
    ``populations``: a :class:`sim.template.PopulationCache` to build the model on a copy of
    its population's template (runs that differ only in mechanism keys share one; the tables
    are those of a fresh build).
    ``progress(year, model)`` is called after each simulated year; each of ``observers`` is
    called once with the model's :class:`~sim.engine.Engine` before the first step (to
    subscribe to its events, e.g. :class:`sim.outcomes.AssessmentRecorder`); ``at_pause(model)``
    once the model has simulated month ``pause_at_month`` (-1: before the first step), e.g. to
    write a snapshot (:mod:`sim.snapshot`)."""
    from .model import ClusterModel

    # the model validates the config before building anything; Firm views are not needed for tables
    config = to_config(config)
    model = ClusterModel(config, lazy_firm_agents=True) if populations is None else populations.model(config)
    for observe in observers:
        observe(model.engine)
    if at_pause is not None and pause_at_month is not None:
        while model.running and model.month < pause_at_month:
            _step(model, progress)
        at_pause(model)
    return finish(model, progress)


def _step(model, progress) -> None:
    model.step()
    if progress is not None and model.month % 12 == 11:
        progress(model.year, model)


def finish(model, progress=None):
    """Step ``model`` to its end and collect its tables (also a snapshot's continuation)."""
    from .results import collect

    while model.running:
        _step(model, progress)
    results = collect(model)
    # mesa 3.3.1 keeps every model alive in a class-level id counter (``Agent._ids``); a
    # process that runs many models (sweeps, notebooks) would keep all of them in memory
    from mesa.agent import Agent

    Agent._ids.pop(model, None)
    return results
