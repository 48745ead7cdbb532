"""The trainable as bytes for the object store: the core's :func:`tunecore.executors.pickle_trainable`."""

from __future__ import annotations

from typing import Any

from tunecore.executors import pickle_trainable as _pickle


def pickle_trainable(trainable: Any) -> bytes:
    """Cloudpickle ``trainable`` for Ray actors: by value for modules tunecore loaded from a file, code that
    keeps its file names and lines for tracebacks (see :mod:`tunecore.executors.payload`)."""
    return _pickle(trainable, destination="Ray actors")
