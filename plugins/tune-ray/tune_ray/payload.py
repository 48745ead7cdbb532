"""The trainable as bytes for the object store: cloudpickle, by value for modules loaded from a file."""

from __future__ import annotations

import sys
import types
from typing import Any

import cloudpickle

from tunecore.errors import TuneError
from tunecore.references import USER_MODULE_PREFIX
from tunecore.trainable import unwrap


def pickle_trainable(trainable: Any) -> bytes:
    """Cloudpickle ``trainable`` (with its ``with_parameters`` objects); modules tunecore loaded from a file
    (``tunecore run exp.toml`` with ``trainable = "train.py:train"``) go by value: actors cannot import them."""
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
        return cloudpickle.dumps(trainable, protocol=5)
    except Exception as exc:
        raise TuneError(
            f"the trainable cannot be sent to Ray actors: {type(exc).__name__}: {exc}. Objects such as locks,"
            " open files or clients cannot be pickled: create them inside the trainable instead"
        ) from exc
    finally:
        for module in added:
            cloudpickle.unregister_pickle_by_value(module)
