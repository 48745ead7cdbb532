"""``tunecore new-plugin NAME --kind KIND``: a new plugin distribution whose tests pass as generated.

The folder ``tune-NAME/`` holds ``pyproject.toml`` (the ``tunecore`` entry point), the package ``tune_NAME``
(``plugin.py`` registering the component, the component itself from :mod:`tunecore.scaffold.components`), a
README with every option, and ``tests/test_KIND.py`` running the kind's conformance suite and an experiment
that selects the component by name.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import attrs

from tunecore.errors import ConfigError
from tunecore.registry import KINDS
from tunecore.scaffold import files

SUITES = {
    "searcher": "SearcherConformance",
    "scheduler": "SchedulerConformance",
    "stopper": "StopperConformance",
    "logger": "LoggerConformance",
    "executor": "ExecutorConformance",
}
"""The conformance suite the generated test runs, by component kind."""

SUMMARIES = {
    "searcher": "Random search, to start a searcher from",
    "scheduler": "Stop trials that trail the best result at the same step",
    "stopper": "Stop a trial after patience results without improving",
    "logger": "Each trial's outcome as JSON in its directory",
    "executor": "Run each trial in a fresh process",
}
"""What each template component does (the registration's summary and the README's first line)."""

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*")


@attrs.frozen
class PluginNames:
    """The names of a new plugin, all from the one the user typed."""

    name: str
    """The component's name, as users select it (``TuneConfig(searcher="NAME")``)."""
    dist: str
    """The distribution: ``tune-NAME`` (``pip install tune-NAME``)."""
    package: str
    """The import package: ``tune_NAME``."""
    cls: str
    """The component's class: ``NameKind``, e.g. ``PatienceStopper``."""

    @classmethod
    def from_name(cls, name: str, kind: str) -> PluginNames:
        """Check ``name`` (a leading ``tune-`` is taken as the distribution's prefix) and derive the others."""
        if kind not in KINDS:
            raise ConfigError(f"--kind must be one of {', '.join(KINDS)}, got {kind!r}")
        bare = re.sub(r"^tune[-_]", "", name)
        if not _NAME.fullmatch(bare):
            raise ConfigError(
                f"plugin name {name!r} is not usable: use letters, digits, '_' and '-', starting with a letter"
                " (e.g. 'patience' makes the distribution tune-patience)"
            )
        words = [word for word in re.split(r"[-_]", bare) if word]
        if words[-1].lower() != kind:  # "patience" -> PatienceStopper, "my-stopper" -> MyStopper
            words.append(kind)
        return cls(
            name=bare,
            dist="tune-" + bare.replace("_", "-"),
            package="tune_" + bare.replace("-", "_"),
            cls="".join(word[:1].upper() + word[1:] for word in words),
        )


def component_source(kind: str, cls: str, name: str) -> str:
    """The template component of ``kind`` (:mod:`tunecore.scaffold.components`) with its class named ``cls``."""
    text = (resources.files("tunecore.scaffold.components") / f"{kind}.py").read_text(encoding="utf-8")
    return text.replace(f"Example{kind.capitalize()}", cls).replace(f"the example {kind}", f"the {name} {kind}")


def plugin_files(names: PluginNames, kind: str) -> dict[str, str]:
    """Every file of the new distribution, by its path inside the distribution's folder."""
    from tunecore import __version__

    major, minor = (int(part) for part in __version__.split(".")[:2])
    fill = {
        "name": names.name,
        "dist": names.dist,
        "package": names.package,
        "cls": names.cls,
        "kind": kind,
        "suite": SUITES[kind],
        "summary": SUMMARIES[kind],
        "core_minor": f"{major}.{minor}",
        "core_next": f"{major}.{minor + 1}",
        "numpy": ', "numpy>=1.24"' if kind == "searcher" else ', "cloudpickle>=2.2"' if kind == "executor" else "",
    }
    readme = files.README.format(
        usage=files.USAGE[kind].format(**fill),
        options=files.OPTIONS[kind],
        executors="" if kind == "executor" else ", on both local executors",
        **fill,
    )
    test = files.TEST.format(
        imports="\nimport os\n" if kind == "logger" else "",
        suite_body=files.SUITE_BODY[kind].format(**fill),
        experiment_test=files.EXPERIMENT_TEST[kind].format(**fill),
        **fill,
    )
    return {
        "pyproject.toml": files.PYPROJECT.format(**fill),
        "README.md": readme,
        f"{names.package}/__init__.py": files.PACKAGE_INIT.format(**fill),
        f"{names.package}/plugin.py": files.PLUGIN.format(**fill),
        f"{names.package}/{kind}.py": component_source(kind, names.cls, names.name),
        f"tests/test_{kind}.py": test,
    }


def new_plugin(name: str, kind: str, directory: str | Path = ".") -> Path:
    """Write the distribution folder ``tune-NAME`` for a component of ``kind`` under ``directory``; returns it.

    Raises :class:`tunecore.errors.ConfigError` for a bad name or kind, or when the folder exists.
    """
    names = PluginNames.from_name(name, kind)
    parent = Path(directory)
    if not parent.is_dir():
        raise ConfigError(f"--directory {str(parent)!r} is not a directory: create it first")
    root = parent / names.dist
    if root.exists():
        raise ConfigError(f"{root} exists already: choose another name, or remove it first")
    for relative, text in plugin_files(names, kind).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
