"""Every number a scenario or policy file sets says where it comes from.

The brief of the project: a number that is not a free parameter cites its public source
next to it; a free parameter is labelled as such and gets an uncertainty range; a policy
lever is a choice of the policy being evaluated. This test reads every numeric value of
``configs/scenario/*.yaml`` and ``configs/policy/*.yaml`` written as ``key: number`` on its
own line (flow mappings such as ``{us: 400, mx: 80}`` are not read) and requires, in its inline comment or the comment lines directly above it:

* a source: the word "source", a seed document (``*.txt``), a web address, or a publication
  year (an organisation's report of a year), or
* "free parameter" together with a range ("range 1-4", "0.2-0.6", "+-30 %"), or
* "lever": a policy choice (the thing a comparison or a design search varies).

A comment block heads the values listed under it without comments of their own.

A zero marked "none", "no basis", "no such" or "unused" says the thing is absent. The
run's frame (``start_year``, ``end_year``, ``start_month``, ``n_firms``, ``seed``) is a setting of the
scenario, not a claim about the world, and needs no annotation.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
SIM = CONFIGS.parent / "sim"
PY_FILES = sorted((SIM / "mechanisms").glob("*.py")) + [SIM / "params.py"]
FILES = sorted((CONFIGS / "scenario").glob("*.yaml")) + sorted((CONFIGS / "policy").glob("*.yaml"))

NUMBER_LINE = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w.]*):\s*(-?\d[\d_.eE+-]*)\s*(?:#(.*))?$")
SOURCE = re.compile(r"source|\.txt\b|https?://|\b(19|20)\d\d\b", re.I)
FREE = re.compile(r"free parameter", re.I)
RANGE = re.compile(r"range|\d\s*(?:-|–|to)\s*\d|±|\+-|\[[^\]]*,[^\]]*\]", re.I)
LEVER = re.compile(r"\blever\b", re.I)
FRAME = {"start_year", "end_year", "start_month", "n_firms", "seed"}
#: a zero that says the thing does not exist here ("none: no such credit in this jurisdiction")
ABSENT = re.compile(r"\b(none|no basis|no such|unused)\b", re.I)


def annotated(comment: str) -> bool:
    return bool(SOURCE.search(comment) or LEVER.search(comment)
                or (FREE.search(comment) and RANGE.search(comment)))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def group_comment(lines: list[str], i: int) -> list[str]:
    """The comment lines heading line ``i``'s group: directly above it, or above the run of
    uncommented sibling values (same indentation) it closes."""
    block, j = [], i - 1
    while j >= 0:
        prev = lines[j]
        if prev.lstrip().startswith("#"):
            block.append(prev)
        elif block or not prev.strip() or _indent(prev) != _indent(lines[i]) or "#" in prev:
            break  # the comment block ended, a blank line, another level or a sibling with its own note
        j -= 1
    return block


PY_FIELD = re.compile(r"^\s+([A-Za-z_]\w*): (?:int|float)(?:\s*\|\s*None)? = (-?\d[\d_.eE+-]*)\s*(?:#(.*))?$")


def unannotated(path: Path, pattern: re.Pattern = NUMBER_LINE) -> list[str]:
    """'file:line: key: value' of every numeric value without a source, range or lever label."""
    lines = path.read_text().splitlines()
    bad = []
    for i, line in enumerate(lines):
        m = pattern.match(line)
        if not m or m.group(1) in FRAME:
            continue
        block = [m.group(3) or ""] + group_comment(lines, i)
        note = " ".join(block)
        if float(m.group(2).replace("_", "")) == 0 and ABSENT.search(note):
            continue
        if not annotated(note):
            bad.append(f"{path.relative_to(CONFIGS.parent)}:{i + 1}: {line.strip()}")
    return bad


def test_checker_catches_an_unsourced_number(tmp_path):
    f = tmp_path / "configs" / "x.yaml"
    f.parent.mkdir()
    f.write_text("a: 1  # assumption\n"  # no source, no range, not a lever: caught
                 "b: 2  # free parameter\n"  # free but no range: caught
                 "c: 3  # free parameter (range 1-5)\n"
                 "# source: 004_x.txt\n"
                 "d: 4\n"
                 "e: 5  # lever: the package's share\n"
                 "end_year: 2030\n")
    global CONFIGS
    saved, CONFIGS = CONFIGS, tmp_path / "configs"
    try:
        bad = unannotated(f)
    finally:
        CONFIGS = saved
    assert [b.split(": ", 1)[1] for b in bad] == ["a: 1  # assumption", "b: 2  # free parameter"]


def test_checker_reads_python_fields(tmp_path):
    f = tmp_path / "configs" / "m.py"
    f.parent.mkdir()
    f.write_text("class Params:\n"
                 "    #: share of X (assumption)\n"
                 "    x_share: float = 0.5\n"  # caught
                 "    #: months (free parameter, range 6-18)\n"
                 "    offer_months: int = 12\n"
                 "    budget_usd: float = 0.0  # 0 = none\n"
                 "    name: str = 'a'\n")
    global CONFIGS
    saved, CONFIGS = CONFIGS, tmp_path / "configs"
    try:
        bad = unannotated(f, PY_FIELD)
    finally:
        CONFIGS = saved
    assert [b.split(": ", 1)[1] for b in bad] == ["x_share: float = 0.5"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_number_has_a_source_a_range_or_is_a_lever(path):
    bad = unannotated(path)
    assert not bad, "numbers without a source, a free-parameter range or a lever label:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", PY_FILES, ids=lambda p: p.name)
def test_every_parameter_default_has_a_source_a_range_or_is_a_lever(path):
    bad = unannotated(path, PY_FIELD)
    assert not bad, "parameter defaults without a source, a free-parameter range or a lever label:\n" + "\n".join(bad)
