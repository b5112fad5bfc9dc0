"""The one error type for bad input (a bad config value, an unknown scenario, a malformed
file, a bad command-line argument): ``str(err)`` is the one line a command prints before
exiting with code 2 (see :func:`report_bad_input`)."""
from __future__ import annotations

import sys
from typing import Callable


class BadInput(Exception):
    """Bad input from the user: ``str()`` is the one line to print."""


def report_bad_input(fn: Callable[..., int | None], *args, **kwargs) -> int:
    """Call a command's body; on :class:`BadInput` print ``error: <line>`` on stderr and
    return 2 (the exit code of bad input), else return the body's code (None -> 0)."""
    try:
        rc = fn(*args, **kwargs)
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if rc is None else rc


def read_yaml_mapping(path, what: str, expected: str) -> dict:
    """A user's YAML file that must hold a mapping (a design, a calibration's targets):
    :class:`BadInput` naming ``what = '<path>'`` when it is missing, not YAML or not a mapping
    (``expected``: what the mapping should hold)."""
    import yaml
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{what} = {str(path)!r}: no such file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise BadInput(f"{what} = {str(path)!r}: not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise BadInput(f"{what} = {str(path)!r}: must be a mapping ({expected})")
    return data
