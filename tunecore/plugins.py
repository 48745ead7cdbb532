"""Plugin discovery: entry points in the ``tunecore`` group, loaded in isolation.

:func:`load_plugins` builds a fresh plugin manager and registry each time it is called; nothing is kept
in module state. A plugin that fails to import, declares a hook that does not exist, or fails while
registering is reported once (distribution, version, error) and skipped; the others load.

Environment variables:

``TUNECORE_DISABLE_PLUGIN_AUTOLOAD=1``
    Load only the core's own components plus the plugins named in ``TUNECORE_PLUGINS``.
``TUNECORE_PLUGINS=a,b``
    With autoload disabled, the plugins to load (entry-point or distribution names).
``TUNECORE_DISABLE_PLUGINS=a,b``
    Plugins never to load (entry-point or distribution names).
``TUNECORE_STRICT_PLUGINS=1``
    Re-raise a plugin's load error (as :class:`tunecore.errors.PluginLoadError`) instead of skipping it.
"""

from __future__ import annotations

import os
import traceback
import warnings
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any

import attrs
import pluggy

from tunecore import hookspecs
from tunecore.errors import PluginLoadError
from tunecore.events import Events
from tunecore.registry import KINDS, ComponentInfo, Registry, canonical_name, validate_registration
from tunecore.suggest import did_you_mean

ENTRY_POINT_GROUP = "tunecore"
CORE_DISTRIBUTION = "tunecore"
HOOK_PREFIX = "tunecore_"

hookimpl = pluggy.HookimplMarker(hookspecs.PROJECT_NAME)
"""Marks a plugin function as a hook implementation (optional for functions named ``tunecore_*``)."""

REGISTRATION_HOOKS: dict[str, str] = {kind: f"tunecore_register_{kind}s" for kind in KINDS}
"""Registration hook name per component kind."""


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded and was skipped."""


@attrs.frozen
class PluginInfo:
    """A plugin that loaded."""

    name: str
    """The entry-point name."""
    dist: str
    """The distribution that declares it."""
    version: str
    """That distribution's version."""
    module: str
    """The module holding its hook implementations."""


@attrs.frozen
class PluginFailure:
    """A plugin that was skipped because it failed to load or register."""

    name: str
    """The entry-point name."""
    dist: str
    """The distribution that declares it."""
    version: str
    """That distribution's version."""
    error: str
    """One line: the exception type and message."""
    traceback: str = attrs.field(repr=False)
    """The formatted traceback."""

    def describe(self) -> str:
        """One line for warnings and the CLI."""
        return f"plugin '{self.name}' from {self.dist} {self.version} failed to load and was skipped: {self.error}"


class TunecorePluginManager(pluggy.PluginManager):
    """A pluggy manager that also accepts undecorated functions named ``tunecore_*`` as hook impls."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        """Accept ``@hookimpl`` functions and plain callables whose name starts with ``tunecore_``."""
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith(HOOK_PREFIX):
            method = getattr(plugin, name, None)
            if callable(method) and not isinstance(method, type):
                return {}
        return opts


@attrs.define
class Plugins:
    """The result of discovery: the plugin manager, the registry and what failed."""

    manager: TunecorePluginManager
    """The pluggy manager holding every loaded plugin."""
    registry: Registry
    """Components by kind and name."""
    loaded: list[PluginInfo]
    """Plugins that loaded, in load order."""
    failures: list[PluginFailure]
    """Plugins that were skipped, with their errors."""

    @property
    def events(self) -> Events:
        """The typed facade through which the core broadcasts experiment events."""
        return Events(self.manager)

    def create(self, kind: str, name: str, options: Mapping[str, Any] | None = None) -> Any:
        """Build a component by name; see :meth:`Registry.create`."""
        return self.registry.create(kind, name, options)


def new_manager() -> TunecorePluginManager:
    """A plugin manager that knows the tunecore hooks and nothing else."""
    manager = TunecorePluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    return manager


def load_plugins(environ: Mapping[str, str] | None = None, *, extra: Iterable[tuple[str, Any]] = ()) -> Plugins:
    """Discover and load plugins from entry points (and ``extra`` ``(name, module_or_object)`` pairs).

    An ``extra`` object that an entry point has loaded already (the plugin under test, installed in development
    mode) is kept once, as the installed distribution's.

    ``environ`` defaults to ``os.environ``; see the module docstring for the variables it reads.
    """
    environ = os.environ if environ is None else environ
    selection = _Selection.from_environ(environ)
    plugins = Plugins(manager=new_manager(), registry=Registry(), loaded=[], failures=[])
    for entry_point, dist, version in _entry_points():
        if not selection.allows(entry_point.name, dist):
            continue
        _load_one(plugins, entry_point.name, dist, version, entry_point.load, selection.strict)
    for name, obj in extra:
        if plugins.manager.is_registered(obj):  # installed too (a plugin in development): it is loaded already
            continue
        _load_one(plugins, name, "(in-process)", "", lambda obj=obj: obj, selection.strict)
    return plugins


def _load_one(plugins: Plugins, name: str, dist: str, version: str, load: Any, strict: bool) -> None:
    manager = plugins.manager
    plugin = None
    try:
        plugin = load()
        manager.register(plugin, name=f"{dist}:{name}")
        _check_hook_names(manager, plugin)
        staged = _call_registration_hooks(manager, plugin, dist, version)
    except Exception as exc:
        if plugin is not None and manager.is_registered(plugin):
            manager.unregister(plugin)
        failure = PluginFailure(
            name=name,
            dist=dist,
            version=version,
            error=f"{type(exc).__name__}: {exc}",
            traceback="".join(traceback.format_exception(exc)),
        )
        plugins.failures.append(failure)
        if strict:
            raise PluginLoadError(failure.describe()) from exc
        warnings.warn(failure.describe(), PluginLoadWarning, stacklevel=3)
        return
    for info in staged:
        plugins.registry.add(info)
    module = getattr(plugin, "__name__", type(plugin).__name__)
    plugins.loaded.append(PluginInfo(name=name, dist=dist, version=version, module=module))


def _check_hook_names(manager: pluggy.PluginManager, plugin: Any) -> None:
    known = [name for name in dir(manager.hook) if name.startswith(HOOK_PREFIX)]
    for caller in manager.get_hookcallers(plugin) or []:
        if not caller.has_spec():
            spec_names = [name for name in known if getattr(manager.hook, name).has_spec()]
            raise PluginLoadError(
                f"'{caller.name}' is not a tunecore hook.{did_you_mean(caller.name, spec_names)}"
                " The hooks are listed in tunecore.hookspecs."
            )


def _call_registration_hooks(
    manager: pluggy.PluginManager, plugin: Any, dist: str, version: str
) -> list[ComponentInfo]:
    """Call the plugin's own registration hooks (and no other plugin's) and collect what it registers."""
    staged: list[ComponentInfo] = []
    seen: set[tuple[str, str]] = set()
    for kind, hook_name in REGISTRATION_HOOKS.items():

        def register(name: str, factory: Any, summary: str = "", *, _kind: str = kind) -> None:
            validate_registration(_kind, name, factory)
            if (_kind, name) in seen:
                raise ValueError(f"registers {_kind} '{name}' twice")
            seen.add((_kind, name))
            summary = summary or _first_line(getattr(factory, "__doc__", None))
            staged.append(ComponentInfo(_kind, name, factory, summary, dist, version))

        for impl in getattr(manager.hook, hook_name).get_hookimpls():
            if impl.plugin is plugin:
                impl.function(**{arg: register for arg in impl.argnames})
    return staged


def _first_line(doc: str | None) -> str:
    return doc.strip().splitlines()[0].strip() if doc and doc.strip() else ""


def _entry_points() -> list[tuple[metadata.EntryPoint, str, str]]:
    """Entry points of the group with their distribution, deduplicated, the core's first."""
    found: dict[tuple[str, str], tuple[metadata.EntryPoint, str, str]] = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = entry_point.dist
        name = dist.metadata["Name"] if dist is not None else "(unknown)"
        version = dist.version if dist is not None else ""
        found.setdefault((canonical_name(name), entry_point.name), (entry_point, name, version))
    return sorted(
        found.values(), key=lambda item: (canonical_name(item[1]) != CORE_DISTRIBUTION, item[1], item[0].name)
    )


@attrs.frozen
class _Selection:
    autoload: bool
    allowed: frozenset[str]
    blocked: frozenset[str]
    strict: bool

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> _Selection:
        return cls(
            autoload=not _flag(environ.get("TUNECORE_DISABLE_PLUGIN_AUTOLOAD")),
            allowed=_names(environ.get("TUNECORE_PLUGINS")),
            blocked=_names(environ.get("TUNECORE_DISABLE_PLUGINS")),
            strict=_flag(environ.get("TUNECORE_STRICT_PLUGINS")),
        )

    def allows(self, entry_point: str, dist: str) -> bool:
        keys = {canonical_name(entry_point), canonical_name(dist)}
        if keys & self.blocked:
            return False
        return self.autoload or canonical_name(dist) == CORE_DISTRIBUTION or bool(keys & self.allowed)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _names(value: str | None) -> frozenset[str]:
    return frozenset(canonical_name(part) for part in (value or "").split(",") if part.strip())
