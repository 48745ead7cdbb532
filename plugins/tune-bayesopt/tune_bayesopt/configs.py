"""Building the nested config of a suggestion: what ``tunecore.space.unflatten`` does, compiled once per space.

``unflatten`` walks the space on every call; a searcher suggesting thousands of configs builds a small tree
of closures at setup instead, so a suggestion costs a few microseconds on top of the library's own work.
Only spaces without ``sample_from`` and ``grid_search`` get here (the searchers refuse those).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tunecore.space import Domain, walk_space

Builder = Callable[[dict[str, Any]], Any]
"""Makes (part of) a config from the config values by parameter name."""

_IMMUTABLE = (str, int, float, complex, bool, bytes, type(None))


def config_builder(space: dict[str, Any]) -> Builder:
    """A function from ``{name: value}`` (every parameter) to the full nested config, constants copied."""
    names = {p.path: p.name for p in walk_space(space)}
    return _compile(space, (), names)


def _compile(obj: Any, path: tuple[Any, ...], names: dict[tuple[Any, ...], str]) -> Builder:
    if isinstance(obj, Domain):
        name = names[path]
        return lambda values: values[name]
    if isinstance(obj, dict):
        items = [(key, _compile(value, (*path, key), names)) for key, value in obj.items()]
        return lambda values: {key: build(values) for key, build in items}
    if isinstance(obj, list):
        parts = [_compile(value, (*path, index), names) for index, value in enumerate(obj)]
        return lambda values: [build(values) for build in parts]
    if isinstance(obj, _IMMUTABLE):
        return lambda values: obj
    return lambda values: copy.deepcopy(obj)
