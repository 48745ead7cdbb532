"""How a component is named in configuration: a name, a ``{"name": ..., **options}`` mapping or an instance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from tunecore.errors import ConfigError

if TYPE_CHECKING:
    from tunecore.registry import Registry


@attrs.frozen
class ComponentSpec:
    """One component chosen by the user: by name with options, or a ready instance."""

    kind: str
    """``"searcher"``, ``"scheduler"``, ``"stopper"``, ``"executor"`` or ``"logger"``."""
    name: str | None = None
    """The registered name (or ``dist:name``), when chosen by name."""
    options: dict[str, Any] = attrs.field(factory=dict)
    """Options passed to the component's factory."""
    instance: Any = attrs.field(default=None, eq=False)
    """A ready-made component, when the user passed one."""

    def build(self, registry: Registry) -> Any:
        """The component: the instance itself, or a new one from the registry."""
        if self.instance is not None:
            return self.instance
        assert self.name is not None
        return registry.create(self.kind, self.name, self.options)

    def to_data(self) -> dict[str, Any]:
        """Plain data for experiment.json: ``{"name": ..., **options}`` or the instance's class."""
        if self.instance is not None:
            cls = type(self.instance)
            return {"instance": f"{cls.__module__}:{cls.__qualname__}"}
        return {"name": self.name, **self.options}


def component_spec(
    kind: str, value: Any, options: Mapping[str, Any] | None = None, *, where: str = ""
) -> ComponentSpec:
    """Normalise a user's choice of component; ``where`` names the setting in error messages."""
    where = where or kind
    options = dict(options or {})
    if isinstance(value, ComponentSpec):
        return attrs.evolve(value, options={**value.options, **options}) if options else value
    if isinstance(value, str):
        if not value.strip():
            raise ConfigError(f"{where}: the {kind} name is empty; give a registered name such as 'random'")
        return ComponentSpec(kind, name=value, options=options)
    if isinstance(value, Mapping):
        mapping = dict(value)
        name = mapping.pop("name", None)
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(
                f"{where}: a {kind} given as a mapping needs a 'name' key with the {kind}'s name,"
                f" e.g. {{'name': '...', **options}}; got keys {sorted(value)}"
            )
        clash = sorted(set(mapping) & set(options))
        if clash:
            raise ConfigError(
                f"{where}: option(s) {', '.join(clash)} given both in the mapping and in {kind}_options;"
                " give each option once"
            )
        return ComponentSpec(kind, name=name, options={**mapping, **options})
    if isinstance(value, type):
        raise ConfigError(
            f"{where}: got the class {value.__name__}, not an instance; pass {value.__name__}(...) or a registered name"
        )
    if options:
        raise ConfigError(
            f"{where}: options {sorted(options)} were given for a ready {kind} instance;"
            " pass them to its constructor instead"
        )
    return ComponentSpec(kind, instance=value)
