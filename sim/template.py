"""Population templates: build a run's population once and reuse it for every run that differs
only in its mechanisms' parameters.

A design search evaluates many candidates on the same scenarios (uncertainty sample x seed) and
a sweep of policy levers runs many policies on the same seeds: their models differ only in what
the mechanisms do (``policy.*``, ``scenario.programmes.*``), not in the firms. A model is built
in two phases (:class:`sim.model.ClusterModel`):

1. **the population** -- the seed's generators and their child streams, the energy paths and
   output growth, the catalogue, the firm table (synthetic or the user's CSV), the default
   energy zones, the awareness key, the lifetime streams, the network and the peer state. It
   is built from :func:`without_mechanisms` of the config: every mechanism key replaced by a
   guard that raises :class:`MechanismKeyRead` when read, so this phase *cannot* depend on a
   mechanism parameter (a future edit that reads one fails every build, loudly);
2. **the run** -- the agents and every mechanism (built from the run's own config, their
   streams spawned in the same order as always), the bookkeeping, and the initial stock with
   its emissions calibration. The initial stock is part of the run, not of the template: the
   mechanisms' ``setup`` hooks (a carbon price already in force, infrastructure, credits) and
   their ``available`` / ``capex_factor`` / ``extra_value_usd_per_yr`` answers shape it
   (``docs/architecture.md``), so a policy can change which measures a firm has at the start.

A fresh build is phase 1 then phase 2 on one object; a templated build deep-copies a pristine
phase-1 model (never stepped, never given a mechanism) and runs phase 2 on the copy. Both run
the same code on equal state, so their tables are equal, adoption for adoption
(``tests/test_template.py``; ``benchmarks/run_hashes.py --template``). A run whose config
differs from the template's in any key outside the mechanisms' (``seed``, ``n_firms``, a price,
a capex, ``behaviour.*`` ...) gets its own template: the cache is keyed by
:func:`population_key`, the whole config without the mechanism keys.

The same rule -- which keys are the mechanisms' -- tells a snapshot fork what it may change
(:func:`sim.snapshot.forked_instruments`: the policy only).
"""
from __future__ import annotations

import dataclasses
from collections import OrderedDict

#: config keys that only parameterise mechanisms (their values never reach the population)
MECHANISM_KEYS = ("policy", "scenario.programmes")


class MechanismKeyRead(RuntimeError):
    """The population phase of a build read a mechanism key (a bug: see sim/template.py)."""


class _Unset:
    """Stands for the mechanism keys while the population is built: any read raises."""

    __slots__ = ("key",)

    def __init__(self, key: str):
        self.key = key

    def _refuse(self, *_a, **_k):
        raise MechanismKeyRead(f"{self.key} was read while building the population; the population may not depend on "
                               "a mechanism's parameters (sim/template.py)")

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        self._refuse()

    __getitem__ = __iter__ = __len__ = __contains__ = __bool__ = _refuse

    def __eq__(self, other):
        return isinstance(other, _Unset) and other.key == self.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return f"<{self.key}: not part of the population>"

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (_Unset, (self.key,))


def without_mechanisms(cfg, programmes: bool = True):
    """A shallow copy of the typed config ``cfg`` with ``policy`` (and, if ``programmes``,
    ``scenario.programmes``) replaced by guards that raise :class:`MechanismKeyRead` when read."""
    scenario = dataclasses.replace(cfg.scenario, programmes=_Unset("scenario.programmes")) if programmes else cfg.scenario
    return dataclasses.replace(cfg, policy=_Unset("policy"), scenario=scenario)


def population_key(cfg) -> str:
    """The identity of ``cfg``'s population: the whole config but the mechanism keys (equal
    keys, equal populations; any other difference, another template)."""
    return repr(without_mechanisms(cfg))


class PopulationCache:
    """Pristine population templates of one process, least recently used dropped beyond
    ``max_templates`` (a 32,174-firm template holds ~16 MB)."""

    def __init__(self, max_templates: int = 8):
        self.max_templates = max_templates
        self._templates: OrderedDict[str, object] = OrderedDict()
        self.built = self.reused = 0

    def model(self, config, lazy_firm_agents: bool = True):
        """The model of ``config`` (a checked typed :class:`~sim.params.Config`) at month 0,
        built on its population's template (built first if this process has none)."""
        from .model import ClusterModel
        from .params import validate

        validate(config)
        key = population_key(config)
        template = self._templates.get(key)
        if template is None:
            template = self._templates[key] = ClusterModel.population(config)
            self.built += 1
            while len(self._templates) > self.max_templates:
                self._templates.popitem(last=False)
        else:
            self._templates.move_to_end(key)
            self.reused += 1
        return ClusterModel.from_population(template, config, lazy_firm_agents)

    def clear(self) -> None:
        self._templates.clear()
