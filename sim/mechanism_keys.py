"""Which config keys only parameterise mechanisms, and the config without them.

``policy.*`` (the government's instruments) and ``scenario.programmes.*`` (the scenario's
programme and finance actors) configure mechanisms only: the population of a run -- firms,
network, streams, prices -- never reads them (:class:`sim.model.ClusterModel` builds it from
:func:`without_mechanisms`, whose guards raise when read). Population templates
(``sim/template.py``) share a population between runs with equal :func:`population_key`; a
snapshot fork (``sim/snapshot.py``) may change the policy only.
"""
from __future__ import annotations

import dataclasses

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
