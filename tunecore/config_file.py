"""TOML experiment files: ``tunecore run experiment.toml``.

A file describes the same :class:`ExperimentSpec` as the Python API::

    trainable = "examples/quadratic.py:train"   # or "package.module:train"
    metric = "loss"
    mode = "min"
    num_samples = 8
    seed = 0

    [param_space]
    lr = { loguniform = [1e-4, 1e-1] }
    act = { choice = ["relu", "tanh"] }

    [searcher]
    name = "random"

    [[stoppers]]
    name = "max_iter"
    max_iter = 10

Every error names the file and the key, and says what was expected.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from tunecore.config import CheckpointConfig, ExperimentSpec, FailureConfig, RunConfig, TuneConfig
from tunecore.errors import ConfigError
from tunecore.references import resolve_reference
from tunecore.space import SpaceError, space_from_data
from tunecore.suggest import did_you_mean

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

_COMPONENT = (str, dict)
# key -> (accepted types, what to write)
_SCHEMA: dict[str, tuple[tuple[type, ...], str]] = {
    "trainable": ((str,), "a string 'package.module:function' or 'path/to/file.py:function'"),
    "metric": ((str, list), 'a result field name, e.g. metric = "loss"'),
    "mode": ((str, list), '"min" or "max"'),
    "num_samples": ((int,), "an integer, e.g. num_samples = 10 (-1 = until stopped)"),
    "seed": ((int,), "an integer, e.g. seed = 0"),
    "max_concurrent_trials": ((int,), "an integer, e.g. max_concurrent_trials = 4"),
    "time_budget_s": ((int, float), "a number of seconds, e.g. time_budget_s = 600"),
    "name": ((str,), 'a directory name, e.g. name = "my-experiment"'),
    "storage_path": ((str,), 'a directory path, e.g. storage_path = "./tune_results"'),
    "verbose": ((int,), "0, 1, 2 or 3"),
    "param_space": ((dict,), "a table: [param_space]"),
    "searcher": (_COMPONENT, 'a name or a table with name: [searcher] name = "random"'),
    "scheduler": (_COMPONENT, 'a name or a table with name: [scheduler] name = "fifo"'),
    "executor": (_COMPONENT, 'a name or a table with name: [executor] name = "local"'),
    "stoppers": ((list,), 'an array of tables: [[stoppers]] name = "max_iter"'),
    "loggers": ((list,), 'an array of names or tables, e.g. loggers = ["json", "csv"]'),
    "stop": ((dict,), "a table of result fields and values: [stop] training_iteration = 10"),
    "checkpoint_config": ((dict,), "a table: [checkpoint_config] num_to_keep = 2"),
    "failure_config": ((dict,), "a table: [failure_config] max_failures = 1"),
}
_TUNE_KEYS = (
    "metric",
    "mode",
    "num_samples",
    "seed",
    "searcher",
    "scheduler",
    "executor",
    "max_concurrent_trials",
    "time_budget_s",
)
_RUN_KEYS = ("name", "storage_path", "stop", "stoppers", "loggers", "verbose")


def load_experiment(path: str | Path, overrides: Sequence[str] = ()) -> ExperimentSpec:
    """Read an experiment file into an :class:`ExperimentSpec` (the trainable is imported).

    ``overrides`` are ``"key=value"`` strings applied before validation, as ``tunecore run --set`` gives
    them: the key may be dotted (``searcher.name``, ``param_space.lr``) and the value is a TOML value
    (``4``, ``"relu"``, ``{ loguniform = [1e-4, 1e-2] }``) or else taken as a plain string.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read experiment file {path}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    for override in overrides:
        apply_override(data, override)
    return experiment_from_data(data, source=str(path), base_dir=path.parent)


def apply_override(data: dict[str, Any], override: str) -> None:
    """Set ``key=value`` (dotted key, TOML value) in ``data``."""
    key, sep, raw = override.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {override!r}: write key=value, e.g. --set num_samples=20")
    try:
        value = tomllib.loads(f"value = {raw.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    parts = key.split(".")
    node = data
    for index, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif isinstance(child, str) and index == 0 and part in ("searcher", "scheduler", "executor"):
            child = node[part] = {"name": child}
        if not isinstance(child, dict):
            raise ConfigError(f"--set {override!r}: '{'.'.join(parts[: index + 1])}' is not a table")
        node = child
    node[parts[-1]] = value


def experiment_from_data(
    data: Mapping[str, Any], *, source: str = "<data>", base_dir: str | Path = "."
) -> ExperimentSpec:
    """Build an :class:`ExperimentSpec` from the plain data of an experiment file."""
    _check_keys(data, source)
    if "trainable" not in data:
        raise ConfigError(f"{source}: 'trainable' is missing; add e.g. trainable = \"my_module:train\"")
    try:
        trainable = resolve_reference(data["trainable"], base_dir)
        param_space = _param_space(data.get("param_space", {}))
        tune = TuneConfig(**{key: data[key] for key in _TUNE_KEYS if key in data})
        run = RunConfig(
            **{key: data[key] for key in _RUN_KEYS if key in data},
            checkpoint_config=_section(CheckpointConfig, "checkpoint_config", data, source),
            failure_config=_section(FailureConfig, "failure_config", data, source),
        )
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    return ExperimentSpec(trainable=trainable, param_space=param_space, tune_config=tune, run_config=run)


def _check_keys(data: Mapping[str, Any], source: str) -> None:
    for key, value in data.items():
        if key not in _SCHEMA:
            raise ConfigError(
                f"{source}: unknown key '{key}'.{did_you_mean(key, _SCHEMA)} Known keys: {', '.join(sorted(_SCHEMA))}."
            )
        types, expected = _SCHEMA[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(f"{source}: '{key}' must be {expected}; got {_describe(value)}")


def _param_space(data: dict[str, Any]) -> dict[str, Any]:
    try:
        return space_from_data(data)
    except SpaceError as exc:
        raise ConfigError(f"in [param_space]: {exc}") from exc  # the caller adds the file's name


def _section(cls: type, key: str, data: Mapping[str, Any], source: str) -> Any:
    table = data.get(key, {})
    fields = [field.name for field in attrs.fields(cls)]
    for option in table:
        if option not in fields:
            raise ConfigError(
                f"unknown key '{option}' in [{key}].{did_you_mean(option, fields)} Known keys: {', '.join(fields)}."
            )
    return cls(**table)


def _describe(value: Any) -> str:
    kind = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
    return f"{kind} ({value!r})" if not isinstance(value, dict | list) else kind
