"""tunecore's pytest plugin (entry point ``tunecore`` of the ``pytest11`` group): fixtures for plugin authors.

Installed with tunecore, so every test session has them (``pytest --fixtures`` lists them):

* ``tunecore_plugins``: a function building an isolated set of plugins, the core's components plus exactly the
  plugins named or passed, installed or not: ``tunecore_plugins(tune_patience.plugin)`` or
  ``tunecore_plugins("tune-patience")``.
* ``tunecore_executor``: ``"inline"``, then ``"local"``: a test taking it runs once per local executor.
* ``tunecore_experiment``: a function running a small experiment on ``tunecore_executor`` in the test's
  temporary directory and returning its :class:`tunecore.ResultGrid`.

The module imports nothing of tunecore until a fixture is used, so that loading it costs a test session of
another project nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tunecore.plugins import Plugins
    from tunecore.results import ResultGrid

SUITE_MODULES = tuple(
    f"tunecore.testing.{name}"
    for name in ("executors", "loggers", "schedulers", "searchers", "spaces", "stoppers", "suite")
)
"""The conformance suites' modules: pytest rewrites their asserts (a failed check shows its values)."""

pytest.register_assert_rewrite(*SUITE_MODULES)

LOCAL_EXECUTORS = ("inline", "local")
"""The executors ``tunecore_executor`` runs a test on: in the test's process, and in worker processes."""


def isolated_plugins(*plugins: Any) -> Plugins:
    """The core's components plus exactly ``plugins``: modules (or objects) with hook implementations, or names of
    installed distributions or entry points. A module that an installed entry point loads counts as that
    distribution (its name and version are the installed ones); a broken plugin raises
    :class:`tunecore.errors.PluginLoadError` instead of being skipped with a warning."""
    from tunecore.plugins import load_plugins

    names = [plugin for plugin in plugins if isinstance(plugin, str)]
    objects = [plugin for plugin in plugins if not isinstance(plugin, str)]
    installed = _entry_points_by_module()
    for obj in objects:
        names.extend(installed.get(getattr(obj, "__name__", ""), ()))
    environ = {
        "TUNECORE_DISABLE_PLUGIN_AUTOLOAD": "1",
        "TUNECORE_PLUGINS": ",".join(names),
        "TUNECORE_STRICT_PLUGINS": "1",
    }
    extra = [(getattr(obj, "__name__", type(obj).__name__).rsplit(".", 1)[-1], obj) for obj in objects]
    loaded = load_plugins(environ, extra=extra)
    _check_found([plugin for plugin in plugins if isinstance(plugin, str)], loaded)
    return loaded


def _entry_points_by_module() -> dict[str, list[str]]:
    """The names of the installed ``tunecore`` entry points, by the module each loads."""
    from importlib import metadata

    from tunecore.plugins import ENTRY_POINT_GROUP

    found: dict[str, list[str]] = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry_point.module, []).append(entry_point.name)
    return found


def _check_found(names: list[str], loaded: Plugins) -> None:
    """Every name asked for was loaded: a misspelt or uninstalled one is an error, not an empty set of plugins."""
    from tunecore.registry import canonical_name

    known = {p.name for p in loaded.loaded} | {canonical_name(p.dist) for p in loaded.loaded}
    missing = [name for name in names if name not in known and canonical_name(name) not in known]
    if missing:
        installed = sorted({p.dist for p in loaded.loaded})
        raise LookupError(
            f"no installed tunecore plugin is called {', '.join(map(repr, missing))} (loaded: {installed}); "
            "pass the plugin's module instead, or install its distribution (pip install -e .)"
        )


@pytest.fixture
def tunecore_plugins() -> Callable[..., Plugins]:
    """A function building an isolated set of plugins: the core's components plus exactly the plugins given
    (modules, or names of installed distributions or entry points); see :func:`isolated_plugins`."""
    return isolated_plugins


@pytest.fixture(params=LOCAL_EXECUTORS)
def tunecore_executor(request: pytest.FixtureRequest) -> str:
    """The name of a local executor: a test taking this fixture runs once with ``inline``, once with ``local``."""
    return str(request.param)


_RUN_CONFIG_KEYS = frozenset(
    {"name", "stop", "stoppers", "loggers", "callbacks", "checkpoint_config", "failure_config", "verbose"}
)


@pytest.fixture
def tunecore_experiment(tunecore_executor: str, tmp_path: Path) -> Callable[..., ResultGrid]:
    """A function running a small experiment on ``tunecore_executor`` (two workers for ``local``) under the
    test's ``tmp_path``: ``tunecore_experiment(trainable, param_space, plugins=None, **options)``, where options
    are :class:`tunecore.TuneConfig` and :class:`tunecore.RunConfig` keywords (``seed=0``, ``loggers=[]`` and
    ``verbose=0`` unless given). Returns the :class:`tunecore.ResultGrid`."""

    def run(
        trainable: Any,
        param_space: dict[str, Any] | None = None,
        *,
        plugins: Plugins | None = None,
        **options: Any,
    ) -> ResultGrid:
        import tunecore

        run_options: dict[str, Any] = {"name": "experiment", "loggers": [], "verbose": 0}
        run_options |= {key: options.pop(key) for key in list(options) if key in _RUN_CONFIG_KEYS}
        options.setdefault("seed", 0)
        if tunecore_executor == "local":
            options.setdefault("executor_options", {"num_workers": 2})
        tuner = tunecore.Tuner(
            trainable,
            param_space=param_space or {},
            tune_config=tunecore.TuneConfig(executor=tunecore_executor, **options),
            run_config=tunecore.RunConfig(storage_path=str(tmp_path / tunecore_executor), **run_options),
            plugins=plugins,
        )
        return tuner.fit()

    return run
