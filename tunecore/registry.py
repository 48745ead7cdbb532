"""The registry of components by name: name -> factory, with its provider and a summary.

Plugins fill it through the registration hooks (see :mod:`tunecore.hookspecs`); the core builds
components from it by name. Names are unique per kind; when two distributions register the same name,
``dist:name`` selects one of them.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

import attrs

from tunecore.errors import ComponentError
from tunecore.suggest import did_you_mean, listing

KINDS: tuple[str, ...] = ("searcher", "scheduler", "stopper", "executor", "logger")
"""The kinds of component, in the order they are listed."""

FIRST_PARTY: dict[tuple[str, str], str] = {
    ("scheduler", "asha"): "tune-asha",
    ("scheduler", "hyperband"): "tune-asha",
    ("scheduler", "median"): "tune-asha",
    ("scheduler", "mo_asha"): "tune-asha",
    ("scheduler", "pbt"): "tune-pbt",
    ("scheduler", "pbt_replay"): "tune-pbt",
    ("scheduler", "pb2"): "tune-pbt",
    ("searcher", "optuna"): "tune-bayesopt",
    ("searcher", "hyperopt"): "tune-bayesopt",
    ("searcher", "skopt"): "tune-bayesopt",
    ("searcher", "bohb"): "tune-bayesopt",
    ("searcher", "evolution"): "tune-evolution",
    ("searcher", "regularized_evolution"): "tune-evolution",
    ("executor", "ray"): "tune-ray",
    ("logger", "tensorboard"): "tune-torch",
}
"""Components of the first-party plugins, so that an unknown name can say what to install."""

_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class Register(Protocol):
    """The ``register`` callable a registration hook receives."""

    def __call__(self, name: str, factory: Callable[..., Any], summary: str = "") -> None:
        """Register ``factory`` under ``name``; ``factory(**options)`` builds the component."""


@attrs.frozen
class ComponentInfo:
    """One registered component."""

    kind: str
    """One of :data:`KINDS`."""
    name: str
    """The name users select it by."""
    factory: Callable[..., Any] = attrs.field(eq=False, repr=False)
    """Called with the user's options to build the component."""
    summary: str
    """One line saying what it does."""
    dist: str
    """The distribution that provides it, e.g. ``"tune-asha"``."""
    version: str
    """That distribution's version."""

    @property
    def provider(self) -> str:
        """``"dist version"``, for messages."""
        return f"{self.dist} {self.version}".strip()

    @property
    def qualified_name(self) -> str:
        """``"dist:name"``: selects this component even when another distribution uses the name."""
        return f"{self.dist}:{self.name}"


def validate_registration(kind: str, name: Any, factory: Any) -> None:
    """Raise ValueError when a plugin registers a bad name or a non-callable factory."""
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise ValueError(
            f"{kind} name {name!r} is invalid: use letters, digits, '_', '-' or '.', starting with a letter"
        )
    if not callable(factory):
        raise ValueError(f"{kind} {name!r}: the factory must be callable, got {type(factory).__name__}")


class Registry:
    """Components by kind and name, with the distribution that provides each."""

    def __init__(self) -> None:
        self._by_kind: dict[str, dict[str, list[ComponentInfo]]] = {kind: {} for kind in KINDS}

    def add(self, info: ComponentInfo) -> None:
        """Add a component; a second provider of the same name is kept (and makes the name ambiguous)."""
        self._by_kind[info.kind].setdefault(info.name, []).append(info)

    def __iter__(self) -> Iterator[ComponentInfo]:
        for kind in KINDS:
            for name in sorted(self._by_kind[kind]):
                yield from self._by_kind[kind][name]

    def components(self, kind: str) -> list[ComponentInfo]:
        """Every component of ``kind``, sorted by name (several entries for an ambiguous name)."""
        _check_kind(kind)
        return [info for name in sorted(self._by_kind[kind]) for info in self._by_kind[kind][name]]

    def names(self, kind: str) -> list[str]:
        """The names of ``kind`` that can be selected."""
        _check_kind(kind)
        return sorted(self._by_kind[kind])

    def get(self, kind: str, name: str) -> ComponentInfo:
        """Look up a component by ``name`` or ``dist:name``; raise ComponentError with help if needed."""
        _check_kind(kind)
        dist, _, bare = name.rpartition(":")
        candidates = self._by_kind[kind].get(bare, [])
        if dist:
            wanted = canonical_name(dist)
            for info in candidates:
                if canonical_name(info.dist) == wanted:
                    return info
            providers = listing(info.qualified_name for info in candidates)
            raise ComponentError(
                f"{kind} '{bare}' is not provided by a distribution named '{dist}'. Providers of '{bare}': {providers}"
            )
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            both = " and ".join(info.provider for info in candidates)
            choices = " or ".join(f"'{info.qualified_name}'" for info in candidates)
            raise ComponentError(
                f"{kind} '{bare}' is registered by more than one distribution: {both}. Select one with {choices}."
            )
        raise ComponentError(self._unknown_message(kind, bare))

    def check_known(self, wanted: Iterable[tuple[str, str]]) -> None:
        """Raise one ComponentError naming every ``(kind, name)`` of ``wanted`` that cannot be looked up (an
        experiment naming several unknown components hears of all of them at once)."""
        problems = []
        for kind, name in wanted:
            try:
                self.get(kind, name)
            except ComponentError as exc:
                problems.append(str(exc))
        if len(problems) == 1:
            raise ComponentError(problems[0])
        if problems:
            raise ComponentError(f"{len(problems)} unknown components:\n" + "\n".join(f"- {p}" for p in problems))

    def create(self, kind: str, name: str, options: Mapping[str, Any] | None = None) -> Any:
        """Build the component ``name`` of ``kind`` with ``options``, checking them first."""
        info = self.get(kind, name)
        options = dict(options or {})
        check_options(info, options)
        try:
            return info.factory(**options)
        except (TypeError, ValueError) as exc:
            raise ComponentError(
                f"{kind} '{info.name}' (from {info.provider}) rejected its options {options!r}: {exc}"
            ) from exc

    def _unknown_message(self, kind: str, name: str) -> str:
        available = self.names(kind)
        message = f"unknown {kind} '{name}'."
        package = FIRST_PARTY.get((kind, name))
        if package:
            message = f"{kind} '{name}' is provided by {package}: pip install {package}."
        else:
            message += did_you_mean(name, available)
            other_kinds = [other for other in KINDS if other != kind and name in self._by_kind[other]]
            if other_kinds:
                message += f" '{name}' is a {other_kinds[0]}, not a {kind}."
        message += f" Available {kind}s: {listing(available)}."
        if not any(self._by_kind.values()):
            message += " No components were discovered at all: is tunecore installed (pip install tunecore)?"
        return message


def check_options(info: ComponentInfo, options: Mapping[str, Any]) -> None:
    """Raise ComponentError when ``options`` do not fit the factory's signature."""
    try:
        signature = inspect.signature(info.factory)
    except (TypeError, ValueError):  # builtins without a signature: let the call decide
        return
    params = signature.parameters.values()
    accepted_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    accepted = [
        p.name for p in params if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    label = f"{info.kind} '{info.name}' (from {info.provider})"
    if not accepted_any:
        for option in options:
            if option not in accepted:
                raise ComponentError(
                    f"{label} has no option '{option}'.{did_you_mean(option, accepted)}"
                    f" Accepted options: {listing(accepted)}."
                )
    missing = [
        p.name
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and p.name not in options
    ]
    if missing:
        raise ComponentError(
            f"{label} needs the option{'s' if len(missing) > 1 else ''} {listing(missing)}."
            f" Accepted options: {listing(accepted)}."
        )


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown component kind {kind!r}; kinds are {', '.join(KINDS)}")


def canonical_name(dist: str) -> str:
    """Normalise a distribution or plugin name: lower case, runs of ``-_.`` become ``-``."""
    return re.sub(r"[-_.]+", "-", dist.strip()).lower()
