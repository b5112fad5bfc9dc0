"""One job: build, run and collect a model. ``run_model`` is the one pure entry point every
caller uses (CLI task, sweeps, comparisons, tests, notebooks)."""
from __future__ import annotations

from .params import to_config


def run_model(config, progress=None, observers=()):
    """Build, run and collect one model. ``config``: DictConfig or :class:`Config`.
    ``progress(year, model)`` is called after each simulated year; each of ``observers`` is
    called once with the model's :class:`~sim.engine.Engine` before the first step (to
    subscribe to its events, e.g. :class:`sim.outcomes.AssessmentRecorder`)."""
    from .model import ClusterModel
    from .results import collect

    # the model validates the config before building anything; Firm views are not needed for tables
    model = ClusterModel(to_config(config), lazy_firm_agents=True)
    for observe in observers:
        observe(model.engine)
    while model.running:
        model.step()
        if progress is not None and model.month % 12 == 11:
            progress(model.year, model)
    results = collect(model)
    # mesa 3.3.1 keeps every model alive in a class-level id counter (``Agent._ids``); a
    # process that runs many models (sweeps, notebooks) would keep all of them in memory
    from mesa.agent import Agent

    Agent._ids.pop(model, None)
    return results
