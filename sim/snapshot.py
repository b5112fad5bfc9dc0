"""Snapshots: a run's whole state at the start of a year, in one file, continued or forked
under another policy.

    python -m sim.run scenario=bajio_cpi policy=none snapshot_at=2030      # also writes <run>/snapshot-2030.simsnap
    python -m sim.compare from_snapshot=<file> policies=[carbon_price_2030,...] out=DIR

**The file.** ``SIMSNAP`` magic line, one line of JSON (the header), then the payload: the
model object pickled (protocol 5). The header names the format version, the code fingerprint
(SHA-256 of every ``sim/**/*.py``), numpy's version, the scenario, policy, seed, firms,
years, the snapshot year and month, the command's overrides, and the payload's length and
SHA-256. A pickle of the model rather than npz + JSON: the state is not only the firm table
but every mechanism's own books (plug-ins other people add), the registry, the series, the
adoption log, Mesa's and numpy's generators; a pickle keeps all of them, generic over the
firm table's fields and every generator's state, so a new field or stream (another helper's)
is saved without touching this module. It is loadable on another machine with the same code
(the fingerprint) and numpy's major version (checked); the awareness draws are counter-based
(``sim/draws.py``): only their key is state. A pickle runs code when loaded: load snapshots
you made or trust. A corrupt, truncated or incompatible file is bad input: one line, exit 2.

**Continuing** (``continue_run``) a snapshot under its own config gives the run tables of the
uninterrupted run exactly (``tests/test_snapshot.py``).

**A fork** under policy P continues the snapshot's history (taken under policy B) with P's
instruments from the snapshot year Y on. It equals, table for table, the full run of P from
the start year when P's instruments cannot act before Y, and the fork checks exactly that
before running (else bad input, one line): every config key but ``policy`` equal to the
snapshot's; every instrument whose parameters differ between B and P disabled under B and,
under P, starting at or after Y — the instruments with a ``start_year`` (``carbon_price``,
``cost_share``). The instruments without a start year (capex subsidy, green loan, workshops,
training) act from a run's first month, so a fork cannot change them (it would be a policy no
full run describes). Technically, each changed instrument is built afresh in the loaded model
with P's parameters (its child stream: the one the dormant instrument held, unused) and takes
the dormant one's place in the mechanism order and the grant channels.

**The rule, once** (:func:`fork_plan`; :func:`latest_fork_year` is the latest year it allows)
is also what shares histories in memory, without a file: ``sim.compare`` forks a seed's runs
from another run of the seed (``share_histories``), and the app continues its live run's kept
year-start states after a lever change (``sim/viz/state.py``).
"""
from __future__ import annotations

import hashlib
import json
import pickle
import sys
import time
from pathlib import Path

from .compose import BadInput

MAGIC = b"SIMSNAP\n"
FORMAT_VERSION = 1
SUFFIX = ".simsnap"
_PACKAGE = Path(__file__).resolve().parent


class SnapshotError(BadInput):
    """A snapshot that cannot be used (corrupt, incompatible, or a fork no full run equals)."""


def code_fingerprint() -> str:
    """SHA-256 (16 hex digits) of every Python file of the ``sim`` package, by relative path."""
    h = hashlib.sha256()
    for p in sorted(_PACKAGE.rglob("*.py")):
        h.update(str(p.relative_to(_PACKAGE)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _numpy_major() -> int:
    import numpy as np

    return int(np.__version__.split(".")[0])


def snapshot_month(start_year: int, year: int) -> int:
    """The last month a run from ``start_year`` has simulated at the start of ``year`` (-1:
    the start year itself, before the first step)."""
    return 12 * (year - start_year) - 1


def save(model, path: Path, overrides: list[str] | None = None) -> Path:
    """Write the model's state (taken at the start of its current year: right after
    December's step, or before the first step) to ``path`` atomically; returns the path."""
    from .results import _atomic_write_bytes

    if model.month % 12 != 11 and model.month != -1:
        raise ValueError(f"a snapshot is taken at the start of a year (after month 11, 23, ...), not at month {model.month}")
    payload = pickle.dumps(model, protocol=5)
    cfg = model.config
    header = {
        "format": "sim-snapshot", "format_version": FORMAT_VERSION, "code_fingerprint": code_fingerprint(),
        "numpy_major": _numpy_major(), "python": sys.version.split()[0],
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scenario": cfg.scenario.name, "policy": cfg.policy.name, "seed": cfg.seed, "n_firms": model.n_firms,
        "start_year": model.start_year, "end_year": model.end_year, "snapshot_year": model.start_year + (model.month + 1) // 12,
        "month": model.month, "overrides": list(overrides or []),
        "payload_bytes": len(payload), "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }

    def write(p):
        with open(p, "wb") as fh:
            fh.write(MAGIC + json.dumps(header).encode() + b"\n")
            fh.write(payload)

    path = Path(path)
    _atomic_write_bytes(path, write)
    return path


def read_header(path: Path) -> dict:
    """The header of a snapshot file; :class:`SnapshotError` if it is not a usable one."""
    return _read(path, header_only=True)[0]


def load(path: Path):
    """(header, model) of a snapshot file; :class:`SnapshotError` (one line) when the file is
    missing, not a snapshot, truncated, corrupt, or written by other code or numpy."""
    return _read(path, header_only=False)


def _read(path: Path, header_only: bool):
    path = Path(path)
    what = f"from_snapshot = {str(path)!r}"
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise SnapshotError(f"{what}: cannot read it ({exc.strerror or exc})") from None
    with fh:
        if fh.read(len(MAGIC)) != MAGIC:
            raise SnapshotError(f"{what}: not a snapshot file (written by python -m sim.run ... snapshot_at=YEAR)")
        try:
            header = json.loads(fh.readline().decode())
            assert isinstance(header, dict) and header.get("format") == "sim-snapshot"
        except Exception:  # noqa: BLE001 - any damage is one line
            raise SnapshotError(f"{what}: damaged header") from None
        if header.get("format_version") != FORMAT_VERSION:
            raise SnapshotError(f"{what}: snapshot format {header.get('format_version')}, this code reads {FORMAT_VERSION}")
        if header.get("code_fingerprint") != code_fingerprint():
            raise SnapshotError(f"{what}: written by other code (fingerprint {header.get('code_fingerprint')}, "
                                f"this code {code_fingerprint()}); re-create it with this version")
        if header.get("numpy_major") != _numpy_major():
            raise SnapshotError(f"{what}: written with numpy {header.get('numpy_major')}.x, this is numpy {_numpy_major()}.x")
        if header_only:
            return header, None
        payload = fh.read()
    if len(payload) != header.get("payload_bytes") or hashlib.sha256(payload).hexdigest() != header.get("payload_sha256"):
        raise SnapshotError(f"{what}: damaged or truncated ({len(payload):,} of {header.get('payload_bytes', 0):,} bytes, "
                            "checksum mismatch); re-create it")
    try:
        model = pickle.loads(payload)
    except Exception as exc:  # noqa: BLE001
        raise SnapshotError(f"{what}: cannot be loaded ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    return header, model


# -- running from a snapshot --------------------------------------------------------------------------
def continue_run(model, progress=None):
    """Step ``model`` to its end year and collect its tables (``sim.job.run_model``'s second half)."""
    from .job import finish

    return finish(model, progress)


def fork(model, header: dict, policy_cfg) -> object:
    """Switch the loaded ``model`` (a snapshot's) to the typed config ``policy_cfg`` (the
    snapshot's config with another policy), after checking that the fork equals the full run
    of that policy (:func:`forked_instruments`); returns the model."""
    from .mechanisms import REGISTRY

    engine, gov = model.engine, model.gov
    for name in forked_instruments(model.config, header, policy_cfg):
        old = model.instruments[name]
        i_mech = model.mechanisms.index(old)
        channels = list(gov.grant_instruments)
        stream = getattr(old, "stream", None)
        if stream is not None:  # the policy's child stream the dormant instrument held (unused)
            model.policy_streams[name] = stream
        new = REGISTRY[name](engine, getattr(policy_cfg.policy, name))
        model.policy_streams.pop(name, None)
        added = [g for g in gov.grant_instruments if g not in channels]
        gov.grant_instruments[:] = [new if g is old else g for g in channels] + [g for g in added if g is not new]
        model.mechanisms[i_mech] = new
        model.instruments[name] = new
        engine.forget(old)
        old.remove()
    model.config = policy_cfg
    return model


def forked_instruments(old_cfg, header: dict, policy_cfg) -> list[str]:
    """The policy instruments a fork of the snapshot (config ``old_cfg``, ``header``) under
    ``policy_cfg`` builds afresh; :class:`SnapshotError` (one line) when the fork would not
    equal the full run of that policy (module docstring)."""
    year = int(header["snapshot_year"])
    changed, _, refusal = fork_plan(old_cfg, policy_cfg, year)
    if refusal is not None:
        name, why = refusal
        if name is None:
            raise SnapshotError(f"policy {policy_cfg.policy.name!r}: a fork changes only the policy; {why} differ from the snapshot's")
        raise SnapshotError(
            f"policy {policy_cfg.policy.name!r}: policy.{name} differs from the snapshot's ({header['policy']}) and {why}; "
            f"a fork can only add instruments that start in {year} or later (carbon_price, cost_share with start_year >= {year})")
    return changed


def latest_fork_year(old_cfg, policy_cfg) -> int | None:
    """The latest year at whose start a run of ``old_cfg`` can be forked under ``policy_cfg``
    with the full run's result (the rule of :func:`forked_instruments`; valid at every year from
    the start year up to it), ``old_cfg.end_year`` when the configs have the same policy
    instruments, None when no fork is valid. Used by the app to share a history between runs."""
    if not same_but_policy(old_cfg, policy_cfg):
        return None
    return latest_policy_fork_year(old_cfg.policy, policy_cfg.policy, old_cfg.start_year, old_cfg.end_year)


def latest_policy_fork_year(old_policy, new_policy, start_year: int, end_year: int) -> int | None:
    """:func:`latest_fork_year` of two configs already known equal but for their policies
    (typed ``PolicyConfig``s; ``sim.compare`` knows that from their resolved texts)."""
    _, latest, refusal = policy_fork_plan(old_policy, new_policy, start_year)
    if refusal is not None:
        return None
    return end_year if latest is None else min(latest, end_year)


def same_but_policy(old_cfg, policy_cfg) -> bool:
    """Whether two typed configs are equal but for their policies (the scenario's programmes
    included): the rule of population templates (sim/mechanism_keys.py), the programmes kept."""
    from .mechanism_keys import without_mechanisms

    return without_mechanisms(policy_cfg, programmes=False) == without_mechanisms(old_cfg, programmes=False)


def fork_plan(old_cfg, policy_cfg, year: int | None = None) -> tuple[list[str], int | None, tuple | None]:
    """The fork rule, once: (the instruments that differ between the two configs, the first
    year any of them acts under ``policy_cfg`` (None: none differs), the refusal (instrument
    name or None for a non-policy key, why) when a fork at the start of ``year`` (None: any
    year) is not valid). A fork replaces policy instruments only: every other key is equal."""
    import dataclasses

    if not same_but_policy(old_cfg, policy_cfg):
        diff = [f.name for f in dataclasses.fields(old_cfg)
                if f.name != "policy" and getattr(old_cfg, f.name) != getattr(policy_cfg, f.name)]
        return [], None, (None, ", ".join(diff) or "the config")
    return policy_fork_plan(old_cfg.policy, policy_cfg.policy, old_cfg.start_year, year)


def policy_fork_plan(old_policy, new_policy, start_year: int, year: int | None = None):
    """:func:`fork_plan`'s instruments part: every instrument whose parameters differ is off
    under ``old_policy`` and, under ``new_policy``, on and starting at or after ``year`` (the
    instruments with a ``start_year``; ``cost_share.start_year = 0`` is the run's
    ``start_year``), checked in the order the model builds them."""
    from .mechanisms import POLICY_INSTRUMENTS, POLICY_LAST

    changed, latest = [], None
    for name in POLICY_INSTRUMENTS + POLICY_LAST:
        before, after = getattr(old_policy, name), getattr(new_policy, name)
        if before == after:
            continue
        start = getattr(after, "start_year", None)
        if before.enabled or start is None or not after.enabled:
            why = ("is enabled in the snapshot's policy" if before.enabled else
                   "has no start year (it acts from a run's first month)" if start is None else
                   "is switched off by the fork")
            return changed + [name], None, (name, why)
        first = start or start_year
        if year is not None and first < year:
            return changed + [name], None, (name, f"starts in {first}, before the snapshot's {year}")
        changed.append(name)
        latest = first if latest is None else min(latest, first)
    return changed, latest, None


def run_fork(path: Path, policy: str, progress=None):
    """Load the snapshot at ``path``, fork it under ``policy`` (a policy config name or
    ``policy=...`` overrides after the snapshot's own) and run it to the end: RunResults."""
    header, model = load(path)
    cfg = _policy_config(header, policy)
    return continue_run(fork(model, header, cfg), progress)


def _policy_config(header: dict, policy: str):
    from .compose import bad_input, check, compose
    from .params import to_config

    over = [o for o in header["overrides"] if not o.startswith(("policy=", "hydra.", "hydra/"))]
    with bad_input():
        return check(to_config(compose(over + [f"policy={policy}"])))


# -- python -m sim.compare from_snapshot=... ----------------------------------------------------------
OWN_KEYS = ("from_snapshot", "policies", "out")


def compare_command(argv: list[str], evaluate) -> int:
    """``python -m sim.compare from_snapshot=FILE policies=[...] [out=DIR]``: the snapshot's run
    continued under its own policy (the baseline) and forked under each policy, written as run
    folders ``<out>/runs/<policy>/seed=<seed>``, then the comparison tables of ``sim.compare``
    (``evaluate``: sim.compare's evaluation of finished runs, one seed)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from .outputs import check_output_dir
    from .results import write_run

    parser, own = OverridesParser.create(), {}
    for a in argv:
        key = a.split("=", 1)[0]
        if key not in OWN_KEYS or "=" not in a:
            raise BadInput(f"{a}: with from_snapshot= the config is the snapshot's; give only from_snapshot=FILE policies=[...] out=DIR")
        try:
            own[key] = parser.parse_override(a).value()
        except Exception as exc:  # noqa: BLE001
            raise BadInput(f"{a}: cannot parse ({str(exc).splitlines()[0]})") from None
    policies = own.get("policies")
    policies = [str(p) for p in (policies if isinstance(policies, list) else [policies])] if policies is not None else []
    if not policies:
        raise BadInput("policies: missing; e.g. policies=[carbon_price]")
    path = Path(str(own["from_snapshot"]))
    header = read_header(path)
    if header["policy"] in policies:
        raise BadInput(f"policies: {header['policy']!r} is the snapshot's own policy (the baseline)")
    configs = {p: _policy_config(header, p) for p in policies}  # every policy composed and checked first,
    _, model = load(path)
    for cfg in configs.values():  # ... and every fork, before anything runs or is written
        forked_instruments(model.config, header, cfg)
    out = check_output_dir(Path(str(own["out"])) if "out" in own else
                           Path("results") / "compare" / f"{header['scenario']}-from-{header['snapshot_year']}", "out")
    seed = header["seed"]
    dirs = {}
    for p in [header["policy"]] + policies:
        _, model = load(path)  # a fresh copy per fork
        if p != header["policy"]:
            fork(model, header, configs[p])
        res = continue_run(model)
        dirs[p] = write_run(out / "runs" / p / f"seed={seed}", res, _resolved(model))
    meta = {"scenario": header["scenario"], "n_firms": model.config.n_firms, "start_year": model.config.start_year,
            "end_year": model.config.end_year}
    text = evaluate(policies, seed, header["policy"], dirs, out, meta)
    print(f"Forked from {path} (snapshot of {header['scenario']} under {header['policy']!r} at the start of "
          f"{header['snapshot_year']}, seed {seed}): each policy's instruments act from {header['snapshot_year']}.\n")
    print(text)
    print(f"Written in {out}; runs under {out / 'runs'}")
    return 0


def _resolved(model) -> str:
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.structured(model.config))
