"""Shipping the trainable to where trials run: cloudpickle, by value where the far side cannot import it.

Every executor that runs trials in other processes (``local``'s workers, Ray actors, a plugin's) sends the
trainable once with :func:`pickle_trainable`: modules tunecore loaded from a file (``trainable =
"train.py:train"`` in a TOML experiment) travel by value, and code objects keep their file name, line numbers
and (for a file that is not on disk, such as a notebook cell) their source lines, so that a trial's traceback
on the far side shows the user's own code. The far side loads it with ``pickle.loads``. It runs the same
Python version (marshal carries the code objects), as a Ray cluster requires too.
"""

from __future__ import annotations

import io
import linecache
import marshal
import os
import sys
import types
from collections import ChainMap
from typing import Any, ClassVar

import cloudpickle

from tunecore.errors import TuneError
from tunecore.references import USER_MODULE_PREFIX
from tunecore.trainable import unwrap

PROTOCOL = 5
"""The pickle protocol used."""


def pickle_trainable(trainable: Any, destination: str = "worker processes") -> bytes:
    """The trainable (with its ``with_parameters`` objects) as bytes for ``pickle.loads`` on the far side.

    A TuneError says what cannot be pickled, naming ``destination`` (e.g. ``"Ray actors"``).
    """
    names = {name for name in list(sys.modules) if name.startswith(USER_MODULE_PREFIX)}
    module_name = getattr(unwrap(trainable), "__module__", None)
    if isinstance(module_name, str) and module_name.startswith(USER_MODULE_PREFIX):
        names.add(module_name)
    registered = set(cloudpickle.list_registry_pickle_by_value())
    added = [
        sys.modules[name] for name in sorted(names - registered) if isinstance(sys.modules.get(name), types.ModuleType)
    ]
    for module in added:
        cloudpickle.register_pickle_by_value(module)
    try:
        return pickle_by_value(trainable)
    except Exception as exc:
        raise TuneError(
            f"the trainable cannot be sent to {destination}: {type(exc).__name__}: {exc}. Objects such as "
            "locks, open files or clients cannot be pickled: create them inside the trainable instead"
        ) from exc
    finally:
        for module in added:
            cloudpickle.unregister_pickle_by_value(module)


def pickle_by_value(obj: Any) -> bytes:
    """Cloudpickle ``obj`` (e.g. a launch whose config holds a function), keeping where its code comes from."""
    buffer = io.BytesIO()
    _SourceKeepingPickler(buffer, protocol=PROTOCOL).dump(obj)
    return buffer.getvalue()


def restore_code(data: bytes, source_lines: list[str] | None) -> types.CodeType:
    """Rebuild a code object :func:`pickle_by_value` marshalled, with its real file name (for tracebacks).

    ``source_lines`` are the sender's :mod:`linecache` lines of a file that is not on disk (e.g. a notebook
    cell): they are registered here, so that tracebacks show the source lines too.
    """
    code = marshal.loads(data)
    if not isinstance(code, types.CodeType):
        raise TypeError(f"expected a marshalled code object, got {type(code).__name__}")
    if source_lines is not None and code.co_filename not in linecache.cache:
        linecache.cache[code.co_filename] = (sum(map(len, source_lines)), None, source_lines, code.co_filename)
    return code


def _reduce_code(code: types.CodeType) -> tuple[Any, tuple[bytes, list[str] | None]]:
    """Ship a code object whole (cloudpickle renames its file ``<dynamic-code>``)."""
    filename = code.co_filename
    lines = None if os.path.isfile(filename) else linecache.getlines(filename)
    return restore_code, (marshal.dumps(code), lines or None)


class _SourceKeepingPickler(cloudpickle.Pickler):
    """cloudpickle, but code objects pickled by value keep their file name (see :func:`_reduce_code`)."""

    dispatch_table: ClassVar[ChainMap[Any, Any]] = ChainMap(
        {types.CodeType: _reduce_code}, cloudpickle.Pickler.dispatch_table
    )
