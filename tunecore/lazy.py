"""Re-exporting a package's public names, each imported on first use (PEP 562 module ``__getattr__``).

``import tunecore`` and ``import tunecore.executors`` stay cheap and free of import cycles: a name is imported
from its module the first time it is looked up, then kept in the package's namespace.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any


def import_export(package: str, exports: Mapping[str, str], namespace: dict[str, Any], name: str) -> Any:
    """The value of ``package.name`` from the module ``exports`` names for it, kept in ``namespace``;
    AttributeError for a name the package does not export."""
    module = exports.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    namespace[name] = value
    return value
