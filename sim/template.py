"""Population templates: build a run's population once and reuse it for every run that differs
only in its mechanisms' parameters.

A design search evaluates many candidates on the same scenarios (uncertainty sample x seed) and
a sweep of policy levers runs many policies on the same seeds: their models differ only in what
the mechanisms do (``policy.*``, ``scenario.programmes.*``), not in the firms. A model is built
in two phases (:class:`sim.model.ClusterModel`):

1. **the population** -- the seed's generators and their child streams, the energy paths and
   output growth, the catalogue, the firm table (synthetic or the user's CSV), the default
   energy zones, the awareness key, the lifetime streams, the network and the peer state. It
   is built from :func:`sim.mechanism_keys.without_mechanisms` of the config: every mechanism
   key replaced by a guard that raises :class:`~sim.mechanism_keys.MechanismKeyRead` when read, so this phase *cannot* depend on a
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
:func:`sim.mechanism_keys.population_key`, the whole config without the mechanism keys.

The same rule -- which keys are the mechanisms' -- tells a snapshot fork what it may change
(:func:`sim.snapshot.forked_instruments`: the policy only).
"""
from __future__ import annotations

from collections import OrderedDict

from .mechanism_keys import population_key


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
