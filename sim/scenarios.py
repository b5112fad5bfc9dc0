"""The scenarios a user can run: every ``configs/scenario/*.yaml`` with its one-line
description and source.

    python -m sim.run scenario=list
    python -m sim.scenarios

Each scenario file sets ``scenario.description`` and ``scenario.source``; a file without
them is listed with its first comment line (and "source: not given") so nothing is hidden.
"""
from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "configs" / "scenario"


@dataclass(frozen=True)
class ScenarioInfo:
    name: str  # the config name: python -m sim.run scenario=<name>
    description: str
    source: str
    problem: str = ""  # a file that does not load says why


def _first_comment(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if s.startswith("#") and "@package" not in s:
            return s.lstrip("# ").strip()
        if s and not s.startswith("#"):
            break
    return ""


def available(directory: Path = SCENARIO_DIR) -> list[ScenarioInfo]:
    """Every scenario config in ``directory``, sorted by name."""
    out = []
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            node = OmegaConf.load(path)
            sc = node.get("scenario", {}) or {}
            desc = str(sc.get("description", "") or "").strip()
            src = str(sc.get("source", "") or "").strip()
            out.append(ScenarioInfo(path.stem, " ".join(desc.split()) or _first_comment(path) or "(no description)",
                                    " ".join(src.split()) or "not given"))
        except Exception as exc:  # noqa: BLE001 - a broken file is listed, not fatal
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            out.append(ScenarioInfo(path.stem, "(cannot be read)", "", problem=msg))
    return out


def format_table(infos: list[ScenarioInfo], width: int = 100) -> str:
    """A plain-text listing: name, description, source (wrapped under the name)."""
    if not infos:
        return "no scenarios found"
    w = max(len(i.name) for i in infos) + 2
    lines = [f"{len(infos)} scenarios (run one with: python -m sim.run scenario=<name>)", ""]
    for i in infos:
        body_w = max(width - w, 40)
        desc = textwrap.wrap(i.description, body_w, break_on_hyphens=False, break_long_words=False) or [""]
        lines.append(f"{i.name:<{w}}{desc[0]}")
        lines += [" " * w + d for d in desc[1:]]
        if i.problem:
            lines.append(" " * w + f"problem: {i.problem}")
        else:
            src = textwrap.wrap(f"source: {i.source}", body_w, break_on_hyphens=False, break_long_words=False)
            lines += [" " * w + s for s in src]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the scenario list; returns the exit code (0)."""
    sys.stdout.write(format_table(available()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
