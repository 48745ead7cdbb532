"""JSON for results: never fails on the values trainables report.

Objects with ``tolist()`` (numpy scalars and arrays, torch or jax tensors) become numbers and lists, NaN
and infinities are written as ``NaN`` / ``Infinity`` (Python's json reads them back), anything else as
its ``repr``; odd keys and reference cycles are converted instead of raising.
"""

from __future__ import annotations

import json
import os
import tempfile
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any


def to_json_value(value: Any) -> Any:
    """A JSON-ready stand-in for a value :mod:`json` cannot encode (the ``default=`` of ``json.dumps``).

    Objects with a ``tolist()`` method — numpy scalars and arrays, and torch or jax tensors — become
    Python numbers and lists; anything else becomes its ``repr``.
    """
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and not isinstance(value, type):
        try:
            plain = tolist()
        except Exception:
            return repr(value)
        if type(plain) is not type(value):
            return plain
    return repr(value)


_ENCODER = json.JSONEncoder(default=to_json_value)
"""What :func:`dumps` encodes with (the settings of ``json.dumps``: NaN allowed, ASCII, ``", "`` and ``": "``)."""

_C_ENCODER = (
    None
    if c_make_encoder is None
    else c_make_encoder(None, to_json_value, encode_basestring_ascii, None, ": ", ", ", False, False, True)
)
"""The same settings, made once: ``JSONEncoder.encode`` makes its C encoder anew at every call (~1 us, a third
of a journal record's cost). It has no cycle check: a cycle ends in RecursionError, which :func:`dumps` handles."""


def _encode(value: Any) -> str:
    """``json.dumps(value, default=to_json_value)`` without building an encoder per call."""
    if _C_ENCODER is None or isinstance(value, str):  # no C accelerator (PyPy); a bare string
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))


def dumps(result: Any) -> str:
    """One JSON line (without the newline) for a result; never raises.

    NaN and infinities are written as ``NaN``, ``Infinity`` and ``-Infinity`` (Python's JSON dialect,
    read back by ``json.loads`` and pandas). Non-string keys are written as strings, cycles as ``"<cycle>"``.
    """
    try:
        return _encode(result)
    except (TypeError, ValueError, RecursionError):  # odd keys or a cycle: convert by hand, then encode
        return _encode(_plain(result, set()))


def _plain(value: Any, seen: set[int]) -> Any:
    if isinstance(value, (dict, list, tuple)):
        if id(value) in seen:
            return "<cycle>"
        seen.add(id(value))
        try:
            if isinstance(value, dict):
                return {_json_key(k): _plain(v, seen) for k, v in value.items()}
            return [_plain(v, seen) for v in value]
        finally:
            seen.discard(id(value))
    if value is None or isinstance(value, (str, int, float)):
        return value
    converted = to_json_value(value)
    return converted if isinstance(converted, str) else _plain(converted, seen)


def _json_key(key: Any) -> str | int | float | bool | None:
    return key if key is None or isinstance(key, (str, int, float)) else str(key)


def write_atomic(path: str | os.PathLike[str], value: Any, *, indent: int | None = 2) -> None:
    """Write ``value`` as JSON to ``path`` through a temporary file and a rename: never half written."""
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            # dumps, not dump: json.dump always takes the pure-Python encoder, ~10x slower for a big state.json
            file.write(json.dumps(value, default=to_json_value, indent=indent))
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def read_lines(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The records of a JSON-lines file; a torn (incomplete) last line is ignored."""
    with open(path, encoding="utf-8") as file:
        return parse_lines(file.read(), os.fspath(path))


def parse_lines(text: str, name: str) -> list[dict[str, Any]]:
    """The records of JSON-lines ``text`` (read from ``name``, for errors); a torn last line is ignored."""
    lines = text.split("\n")
    try:  # fast path: one parse for the whole file (several times faster than a parse per line)
        return json.loads("[" + ",".join(line for line in lines if line.strip()) + "]")
    except json.JSONDecodeError:
        pass  # a torn or garbled line: find it line by line
    records = []
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number >= len(lines) - 2:  # the last line, possibly torn by a crash mid-write
                break
            raise ValueError(f"{name}: line {number + 1} is not valid JSON") from None
    return records
