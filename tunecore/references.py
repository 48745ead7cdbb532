"""Resolve ``"pkg.module:name"`` and ``"path/to/file.py:name"`` references to Python objects.

A file is loaded as a module named after its absolute path (:data:`USER_MODULE_PREFIX` + stem + a
digest of the path), the same name in every process: an experiment pickled with such a trainable is
unpickled by :func:`load_pickle`, which loads the file again from where it was.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import io
import os
import pickle
import re
import sys
from pathlib import Path
from typing import Any

from tunecore.errors import ConfigError, TuneError
from tunecore.suggest import did_you_mean

USER_MODULE_PREFIX = "tunecore_user_"
"""The name prefix of modules loaded from a file by a ``"path/to/file.py:name"`` reference."""


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


def user_module_name(path: str | os.PathLike[str]) -> str:
    """The module name a file is loaded under: the same for the same absolute path in every process."""
    path = Path(path).resolve()
    digest = hashlib.sha1(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    stem = re.sub(r"\W", "_", path.stem)
    return f"{USER_MODULE_PREFIX}{stem}_{digest}"


def user_modules_in(data: bytes) -> dict[str, str]:
    """The modules loaded from files that the pickle ``data`` refers to, as ``{module name: file}``."""
    modules = {}
    for name, module in sorted(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if name.startswith(USER_MODULE_PREFIX) and isinstance(file, str) and name.encode() in data:
            modules[name] = file
    return modules


def missing_user_modules(modules: dict[str, str]) -> dict[str, str]:
    """Those of ``modules`` (``{module name: file}``) whose file is gone and that are not loaded here."""
    return {name: file for name, file in modules.items() if name not in sys.modules and not os.path.isfile(file)}


def load_pickle(data: bytes, modules: dict[str, str]) -> Any:
    """Unpickle ``data``, loading the files of ``modules`` (``{module name: file}``) when it refers to them.

    Raises TuneError naming the file when one of them is missing or fails to import.
    """
    return _UserModuleUnpickler(io.BytesIO(data), modules).load()


class _UserModuleUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, modules: dict[str, str]) -> None:
        super().__init__(file)
        self._modules = modules

    def find_class(self, module: str, name: str) -> Any:
        if module.startswith(USER_MODULE_PREFIX) and module not in sys.modules and module in self._modules:
            file = self._modules[module]
            if not os.path.isfile(file):
                raise TuneError(f"the file {file} that the experiment's trainable was loaded from is missing")
            try:
                _load_file(Path(file), f"{file}:{name}", module)
            except ConfigError as exc:
                raise TuneError(str(exc)) from exc
        return super().find_class(module, name)


def _load_file(path: Path, reference: str, name: str | None = None) -> Any:
    path = path.resolve()
    if not path.is_file():
        raise ConfigError(f"the file of trainable reference {reference!r} does not exist: {path}")
    name = name or user_module_name(path)
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
