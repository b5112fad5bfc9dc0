"""Where results go: every output location is checked before any work starts.

A location must be (or be able to become) a writable folder: not an existing file, not
under a file, on a writable file system, and — for a run folder from Hydra's pattern —
inside its results root unless the user gave an absolute ``hydra.run.dir``. A problem is
one line (:class:`BadInput`, exit code 2) and nothing is created.
"""
from __future__ import annotations

import errno
import os
import re
import tempfile
from pathlib import Path

from .errors import BadInput


def nearest_existing(path: Path) -> Path:
    """``path`` itself or its nearest existing ancestor (absolute)."""
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _probe_writable(folder: Path) -> str | None:
    """None if a file can be created in ``folder`` (tried and removed), else the reason."""
    try:
        fd, name = tempfile.mkstemp(prefix=".write-probe-", dir=folder)
    except OSError as exc:
        return exc.strerror or errno.errorcode.get(exc.errno, str(exc))
    os.close(fd)
    os.unlink(name)
    return None


def location_problem(path: Path) -> str | None:
    """What keeps ``path`` from being an output folder (None: fine). Creates nothing but a
    probe file it removes at once."""
    p = Path(os.path.abspath(path))
    if p.exists() and not p.is_dir():
        return f"{p} is an existing file, not a folder"
    a = nearest_existing(p)
    if not a.is_dir():
        return f"{a} is a file, a folder cannot be made under it"
    why = _probe_writable(a)
    if why is None:
        return None
    try:
        read_only = bool(os.statvfs(a).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    return f"{a} is on a read-only file system" if read_only else f"{a} is not writable ({why})"


def check_output_dir(path: Path, key: str = "out", _shown: Path | None = None) -> Path:
    """``path`` can be (or become) a writable folder; :class:`BadInput` naming ``key`` otherwise."""
    problem = location_problem(Path(path))
    if problem:
        raise BadInput(f"{key} = {str(_shown or path)!r}: {problem}; choose another location")
    return Path(path)


def check_output_file(path: Path, key: str = "--out") -> Path:
    """``path`` can be written as a file: not a folder, its folder can be made and written."""
    path = Path(path)
    if path.is_dir():
        raise BadInput(f"{key} = {str(path)!r}: is a folder; give a file name")
    check_output_dir(path.parent, key=key, _shown=path)
    if path.exists() and not os.access(path, os.W_OK):
        raise BadInput(f"{key} = {str(path)!r}: the existing file is not writable; choose another location")
    return path


# -- run folders from Hydra's pattern ----------------------------------------------------------
class OutputDir:
    """A job's output folder, the results root it must stay in (None: an absolute folder the
    user chose) and the values interpolated into its pattern (``{key: value}``)."""

    def __init__(self, path: Path, root: Path | None, pattern_keys: dict[str, str]):
        self.path, self.root, self.pattern_keys = path, root, pattern_keys


_INTERP = re.compile(r"\$\{([^}]+)\}")


def output_dir_of(hcfg, dir_key: str, subdir: str | None = None) -> OutputDir:
    """The folder of ``hydra.<dir_key>`` in a config composed with its ``hydra`` node (plus
    ``subdir``); its root is the pattern's literal part before the first interpolation."""
    from omegaconf import OmegaConf

    from .compose import bad_input

    group, key = dir_key.split(".")
    pattern = str(OmegaConf.to_container(hcfg.hydra[group], resolve=False)[key])
    with bad_input():
        path = Path(str(OmegaConf.select(hcfg, f"hydra.{dir_key}")))
    if subdir:
        path = path / subdir
    keys = {}
    for k in _INTERP.findall(pattern):
        try:
            keys[k] = str(OmegaConf.select(hcfg, k))
        except Exception:  # noqa: BLE001 - resolvers (now:...) are not keys
            pass
    literal = pattern.split("${", 1)[0]
    root = None if os.path.isabs(pattern) else Path(literal if "${" not in pattern else literal.rpartition("/")[0] or ".")
    return OutputDir(path, root, keys)


def run_dir(overrides: list[str]) -> OutputDir:
    """The output folder of a single run (``hydra.run.dir`` composed with ``overrides``)."""
    from .compose import bad_input, compose

    with bad_input():
        hcfg = compose(list(overrides), return_hydra_config=True)
    return output_dir_of(hcfg, "run.dir")


def check_run_dir(path: Path, root: Path | None, pattern_keys: dict[str, str] | None = None) -> None:
    """Raise :class:`BadInput` (one line naming the folder and what is wrong) when ``path``
    cannot be a run folder, or leaves its results ``root`` (e.g. ``policy.name=../x``)."""
    if root is not None:
        r, p = os.path.normpath(os.path.abspath(root)), os.path.normpath(os.path.abspath(path))
        if p != r and not p.startswith(r.rstrip(os.sep) + os.sep):
            bad = [f"{k} = {v!r}" for k, v in (pattern_keys or {}).items() if ".." in v or v.startswith("/")]
            raise BadInput(f"{'; '.join(bad) or 'output folder'}: the run folder {path} would leave the results folder "
                           f"{root}/; use a plain name (letters, digits, - _ .) or an absolute hydra.run.dir")
    problem = location_problem(path)
    if problem:
        raise BadInput(f"output folder {path}: {problem} (choose another with hydra.run.dir=... or hydra.sweep.dir=...)")
