"""Issue 16: a run folder's config.yaml is emitted by libyaml when that gives the text
``OmegaConf.to_yaml(cfg, resolve=True)`` gives; where the two emitters can differ, OmegaConf's
own path writes it."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf
from omegaconf._utils import get_omega_conf_dumper

from sim.compose import compose, libyaml_yaml, resolved_yaml

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not hasattr(yaml, "CDumper"), reason="PyYAML without libyaml")


def _python_emitter(container) -> str:
    """What ``OmegaConf.to_yaml`` does with a container (omegaconf/omegaconf.py)."""
    return yaml.dump(container, default_flow_style=False, allow_unicode=True, sort_keys=False,
                     Dumper=get_omega_conf_dumper())


@pytest.mark.parametrize("overrides", [[f"scenario={p.stem}"] for p in sorted((REPO / "configs" / "scenario").glob("*.yaml"))]
                         + [[f"policy={p.stem}"] for p in sorted((REPO / "configs" / "policy").glob("*.yaml"))]
                         + [[f"measures={p.stem}"] for p in sorted((REPO / "configs" / "measures").glob("*.yaml"))])
def test_every_shipped_config_is_written_by_libyaml_as_omegaconf_writes_it(overrides):
    cfg = compose(overrides)
    container = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    assert libyaml_yaml(container) is not None  # the fast path is taken for shipped configs
    assert resolved_yaml(cfg) == OmegaConf.to_yaml(cfg, resolve=True)


_PRINTABLE = [chr(i) for i in range(32, 127)] + list("áéíóúñÑüçàøßœ€£°±µ§«»“”‘’–—…·中文日本語한국어") \
    + [" "] * 20 + list("-:#'\"{}[],&*!|>%@`?")
_OTHER = list("\t\n\r\x00\x07\x1b\x7f\x85\xa0\u2028\u2029\ufeff") + ["\U0001F600", "\U0001D518"]


def _fuzz(rng: random.Random, depth: int = 0):
    def text():
        pool = _PRINTABLE + (_OTHER if rng.random() < 0.3 else [])
        return "".join(rng.choice(pool) for _ in range(rng.choice([0, 1, 5, 30, 79, 80, 81, 130, 400])))

    r = rng.random()
    if r < 0.55 or depth > 3:
        return rng.choice([text(), text(), 1, -3, 2**70, 1.5, float("inf"), -0.0, 1e-300, True, None, "yes",
                           "1e3", "0x1f", "~", "null", ""])
    if r < 0.75:
        return [_fuzz(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {(text() or "k")[:rng.choice([8, 40, 70, 200])]: _fuzz(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def test_libyaml_text_is_omegaconfs_whenever_it_is_used():
    rng = random.Random(16)
    used = 0
    for _ in range(1500):
        container = {"root": _fuzz(rng), "more": [_fuzz(rng) for _ in range(3)]}
        text = libyaml_yaml(container)
        if text is not None:
            used += 1
            assert text == _python_emitter(container), container
    assert used > 300  # the comparison is exercised, not skipped


@pytest.mark.parametrize("value", ["a\tb", "line one\nline two", "smile \U0001F600", "nbsp\xa0here"])
def test_strings_the_emitters_may_write_differently_fall_back_to_omegaconf(value):
    assert libyaml_yaml({"description": value}) is None
    cfg = compose([])
    cfg.scenario.description = value
    assert resolved_yaml(cfg) == OmegaConf.to_yaml(cfg, resolve=True)


def test_a_long_key_falls_back_a_long_value_does_not():
    long = "a long name " * 10
    assert libyaml_yaml({long: 1}) is None
    assert libyaml_yaml({"k": long}) == _python_emitter({"k": long})
