"""Resolve ``"pkg.module:name"`` and ``"path/to/file.py:name"`` references to Python objects."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from tunecore.errors import ConfigError
from tunecore.suggest import did_you_mean


def resolve_reference(reference: str, base_dir: str | Path | None = None) -> Any:
    """Import and return the object named by ``reference``.

    ``"pkg.module:attr.sub"`` imports ``pkg.module``; ``"dir/file.py:attr"`` loads the file (relative
    paths are taken from ``base_dir``, default the current directory). Raises ConfigError with help.
    """
    module_part, sep, attr_path = reference.rpartition(":")
    if not sep or not module_part or not attr_path:
        raise ConfigError(
            f"trainable reference {reference!r} must look like 'package.module:function' or 'path/to/file.py:function'"
        )
    if module_part.endswith(".py") or "/" in module_part or "\\" in module_part:
        module = _load_file(Path(base_dir or ".") / module_part, reference)
    else:
        try:
            module = importlib.import_module(module_part)
        except ImportError as exc:
            raise ConfigError(f"cannot import module '{module_part}' of {reference!r}: {exc}") from exc
    target: Any = module
    for part in attr_path.split("."):
        if not hasattr(target, part):
            names = [n for n in dir(target) if not n.startswith("_")]
            raise ConfigError(
                f"'{module_part}' has no attribute '{attr_path}' (from {reference!r}).{did_you_mean(part, names)}"
            )
        target = getattr(target, part)
    return target


def _load_file(path: Path, reference: str) -> Any:
    path = path.resolve()
    if not path.is_file():
        raise ConfigError(f"the file of trainable reference {reference!r} does not exist: {path}")
    name = f"tunecore_user_{path.stem}_{abs(hash(str(path))):x}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise ConfigError(f"importing {path} (from {reference!r}) failed: {type(exc).__name__}: {exc}") from exc
    return module
