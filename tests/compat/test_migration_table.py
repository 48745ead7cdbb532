"""docs/migrating-from-ray.md: every name of its tables resolves, and every tunecore name is exercised by a test.

The tables have the columns ``| Ray Tune | tunecore | notes |``; each name is a backticked span. A span of the
tunecore column is one of

* a Python reference, parsed with ``ast``: a dotted name (``tunecore.Tuner.restore``), an import statement, a call
  whose keywords must be parameters of the callee (``tunecore.TuneConfig(search_alg=...)``) and whose component
  names must be registered, with options the component takes (``executor="ray"``,
  ``executor_options={"address": ...}``, ``stoppers=[{"name": "max_iter", "max_iter": 10}]``), or an attribute of
  what a call returns (``tunecore.get_context().trial_id``, through the callee's return annotation);
* a command, ``tunecore <verb>``: a verb of the CLI's argparse parser.

Each must (a) resolve: import, attribute, keyword, registered component, verb; and (b) be used by a test under
``tests/`` other than this file: one test source holding every part of it (the name, imported or qualified, its
attributes, keywords, component names and options; a verb with the CLI). Ray's column is resolved against the
installed Ray (``tune.`` is ``ray.tune.``), except the spans marked ``(before Ray 2.7)`` or ``(since removed from
Ray)``, and must name every public name of Ray Tune's modules.
"""

from __future__ import annotations

import argparse
import ast
import functools
import importlib
import inspect
import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import attrs
import pytest

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "migrating-from-ray.md"
HEADER = ["Ray Tune", "tunecore", "notes"]
REMOVED = re.compile(r"\s*\((?:before Ray \d+\.\d+|since removed from Ray)\)")
COMPONENT_KEYWORDS = {
    "searcher": "searcher",
    "search_alg": "searcher",
    "scheduler": "scheduler",
    "executor": "executor",
}
COMPONENT_LISTS = {"stoppers": "stopper", "loggers": "logger"}
RAY_MODULES = ["ray.tune", "ray.tune.schedulers", "ray.tune.search", "ray.tune.stopper", "ray.tune.logger"]
RAY_NOT_NAMES = {"UNRESOLVED_SEARCH_SPACE", "UNDEFINED_SEARCH_SPACE", "UNDEFINED_METRIC_MODE", "pretty_print"}
"""Public names of those modules that a user does not meet: error-message constants and a printing helper."""


# --- the tables ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    line: int
    ray: str
    tunecore: str
    notes: str


def split_cells(line: str) -> list[str]:
    """The cells of a table line, split at the ``|`` outside backticks."""
    cells, current, quoted = [], "", False
    for char in line.strip().strip("|"):
        if char == "`":
            quoted = not quoted
        if char == "|" and not quoted:
            cells.append(current.strip())
            current = ""
        else:
            current += char
    return [*cells, current.strip()]


def table_rows(text: str) -> list[Row]:
    rows, inside = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("|"):
            inside = False
            continue
        cells = split_cells(line)
        if cells == HEADER:
            inside = True
        elif inside and not set(line) <= set("|-: "):
            assert len(cells) == 3, f"line {number} has {len(cells)} cells: {line}"
            rows.append(Row(number, *cells))
    return rows


def spans(cell: str, *, skip_removed: bool = False) -> list[str]:
    found = []
    for match in re.finditer(r"`([^`]+)`", cell):
        if skip_removed and REMOVED.match(cell, match.end()):
            continue
        found.append(match.group(1))
    return found


ROWS = table_rows(DOC.read_text())


# --- one span: what it names -----------------------------------------------------------------------------------


@dataclass
class Reference:
    """A Python name in the table, with what it asks of the code."""

    path: tuple[str, ...]
    keywords: dict[str, ast.expr] = field(default_factory=dict)
    returned: tuple[str, ...] = ()
    """Attributes of what the call returns (``get_context().trial_id``)."""
    imported: bool = False


@dataclass
class Command:
    verb: str


def dotted(node: ast.expr) -> tuple[str, ...]:
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        return (*dotted(node.value), node.attr)
    raise ValueError(f"not a dotted name: {ast.unparse(node)}")


def parse(span: str) -> list[Reference | Command]:
    if re.fullmatch(r"tunecore [a-z]+", span):
        return [Command(span.split()[1])]
    (statement,) = ast.parse(span).body
    if isinstance(statement, ast.Import):
        return [Reference(tuple(alias.name.split(".")), imported=True) for alias in statement.names]
    if isinstance(statement, ast.ImportFrom):
        module = tuple((statement.module or "").split("."))
        return [Reference((*module, alias.name), imported=True) for alias in statement.names]
    assert isinstance(statement, ast.Expr), span
    node: ast.expr = statement.value
    returned: tuple[str, ...] = ()
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Call):
        returned = (node.attr,)
        node = node.value
    if isinstance(node, ast.Call):
        keywords = {keyword.arg: keyword.value for keyword in node.keywords if keyword.arg is not None}
        return [Reference(dotted(node.func), keywords, returned)]
    return [Reference(dotted(node))]


def ray_path(path: tuple[str, ...]) -> tuple[str, ...]:
    return ("ray", *path) if path[0] == "tune" else path


# --- (a) resolving ---------------------------------------------------------------------------------------------


def attribute(obj: Any, name: str) -> Any:
    """``getattr``, or for a class: an attrs field or a constructor argument (an attribute of its instances)."""
    if hasattr(obj, name):
        return getattr(obj, name)
    if inspect.isclass(obj):
        if attrs.has(obj) and name in attrs.fields_dict(obj):
            return attrs.fields_dict(obj)[name]
        if name in inspect.signature(obj).parameters:
            return inspect.signature(obj).parameters[name]
    raise AttributeError(f"{getattr(obj, '__name__', obj)!r} has no attribute {name!r}")


def resolve_path(path: tuple[str, ...]) -> tuple[list[Any], int]:
    """The objects along ``path`` (the module first) and how many parts name the module."""
    for size in range(len(path), 0, -1):
        name = ".".join(path[:size])
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is not None and (name == error.name or name.startswith(error.name + ".")):
                continue
            raise
        chain = [module]
        for part in path[size:]:
            chain.append(attribute(chain[-1], part))
        return chain, size
    raise LookupError(f"no module in {'.'.join(path)}")


def accepts(callee: Any, keyword: str) -> bool:
    parameters = inspect.signature(callee).parameters.values()
    return any(p.kind is p.VAR_KEYWORD for p in parameters) or any(
        p.name == keyword and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in parameters
    )


def literal(node: ast.expr) -> Any:
    return ast.literal_eval(node)


def components(reference: Reference) -> list[tuple[str, str, dict[str, Any]]]:
    """``(kind, name, options)`` of every component the call names."""
    found = []
    for keyword, kind in COMPONENT_KEYWORDS.items():
        node = reference.keywords.get(keyword)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            options = reference.keywords.get(f"{kind}_options")
            found.append((kind, node.value, {} if options is None else literal(options)))
    for keyword, kind in COMPONENT_LISTS.items():
        node = reference.keywords.get(keyword)
        for element in node.elts if isinstance(node, ast.List) else []:
            if isinstance(element, ast.Constant) and element.value is Ellipsis:
                continue
            value = literal(element)
            if isinstance(value, str):
                found.append((kind, value, {}))
            else:
                settings = dict(value)
                found.append((kind, settings.pop("name"), settings))
    return found


def check_reference(reference: Reference, path: tuple[str, ...], registry: Any) -> list[Any]:
    """Resolve the reference (raising what fails); return the objects along its path."""
    from tunecore.registry import check_options

    chain, _ = resolve_path(path)
    callee = chain[-1]
    for keyword in reference.keywords:
        assert accepts(callee, keyword), f"{'.'.join(path)} takes no keyword {keyword!r}"
    if reference.returned:
        returns = typing.get_type_hints(callee)["return"]
        for name in reference.returned:
            attribute(returns, name)
    if registry is not None:
        for kind, name, options in components(reference):
            check_options(registry.get(kind, name), options)
    return chain


@functools.cache
def cli_verbs() -> frozenset[str]:
    from tunecore.cli import build_parser

    parser = build_parser()
    (verbs,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return frozenset(verbs.choices)


def tunecore_names() -> Iterator[tuple[Row, str]]:
    for row in ROWS:
        for span in spans(row.tunecore):
            yield row, span


def test_the_tables_are_there():
    assert len(ROWS) >= 80
    assert all(row.ray and row.tunecore for row in ROWS)  # "(none)" / "none" where there is no name
    readme = (ROOT / "README.md").read_text()
    assert "(docs/migrating-from-ray.md)" in readme


@pytest.fixture(scope="module")
def registry() -> Any:
    from tunecore.plugins import load_plugins

    return load_plugins().registry


@pytest.mark.parametrize(("row", "span"), list(tunecore_names()), ids=lambda value: getattr(value, "line", value))
def test_every_tunecore_name_resolves(row, span, registry):
    for reference in parse(span):
        if isinstance(reference, Command):
            assert reference.verb in cli_verbs(), f"line {row.line}: no command tunecore {reference.verb}"
        else:
            check_reference(reference, reference.path, registry)


def test_the_names_in_the_notes_resolve():
    for row in ROWS:
        for span in spans(row.notes):
            if re.match(r"(tunecore|tune_[a-z]+)\.\w", span):
                for reference in parse(span):
                    assert isinstance(reference, Reference)
                    check_reference(reference, reference.path, None)


def test_every_ray_name_resolves_and_every_public_ray_name_is_listed():
    try:  # Ray Tune is installed for the benchmarks only (ray alone lacks pyarrow: ray.tune raises ImportError)
        import ray.tune  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"Ray Tune is not importable here ({exc}): pip install 'ray[tune]' to check the Ray column")
    seen: list[Any] = []
    failures = []
    for row in ROWS:
        for span in spans(row.ray, skip_removed=True):
            for reference in parse(span):
                assert isinstance(reference, Reference), span
                try:
                    seen.extend(check_reference(reference, ray_path(reference.path), None))
                except Exception as error:
                    failures.append(f"line {row.line}: {span}: {error!r}")
    assert not failures, "\n".join(failures)
    missing = []
    for module_name in RAY_MODULES:
        module = importlib.import_module(module_name)
        for name in set(module.__all__) - RAY_NOT_NAMES:
            if not any(getattr(module, name) is obj for obj in seen):
                missing.append(f"{module_name}.{name}")
    assert not missing, f"Ray Tune names the table does not list: {sorted(missing)}"


# --- (b) exercised by a test -----------------------------------------------------------------------------------


def clues(reference: Reference | Command) -> list[str]:
    """Regular expressions that one test source must all match for the name to count as exercised."""
    if isinstance(reference, Command):
        return [r"\bcli\b|[\"']tunecore[\"']", rf"[\"']{reference.verb}[\"']"]
    _, size = resolve_path(reference.path)
    module, attributes = ".".join(reference.path[:size]), reference.path[size:]
    if not attributes:
        return [rf"^\s*(?:import|from) {re.escape(module)}\b"]
    first = attributes[0]
    found = [
        rf"\b{re.escape(module)}\.{first}\b"
        rf"|from {re.escape(module)}(?:\.\w+)* import (?:\([^)]*|[^\n]*)\b{first}\b"
    ]
    found += [rf"\.{name}\b|\bdef {name}\b" for name in (*attributes[1:], *reference.returned)]
    found += [rf"\b{keyword}\s*=" for keyword in reference.keywords]
    for _, name, options in components(reference):
        found.append(rf"[\"']{re.escape(name)}[\"']")
        found += [rf"[\"']{key}[\"']|\b{key}\s*=" for key in options]
    return found


def test_sources() -> dict[Path, str]:
    here = Path(__file__).resolve()
    return {
        path: path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path.resolve() != here
    }


test_sources.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def exercised(reference: Reference | Command, sources: dict[Path, str]) -> bool:
    patterns = [re.compile(clue, re.MULTILINE) for clue in clues(reference)]
    return any(all(pattern.search(text) for pattern in patterns) for text in sources.values())


def test_every_tunecore_name_is_exercised_by_a_test():
    sources = test_sources()
    unexercised = [
        f"line {row.line}: {span}"
        for row, span in tunecore_names()
        if not all(exercised(reference, sources) for reference in parse(span))
    ]
    assert not unexercised, "names of docs/migrating-from-ray.md that no test uses:\n" + "\n".join(unexercised)


def test_the_checks_can_fail(registry):
    from tunecore.errors import ComponentError

    with pytest.raises(AssertionError, match="takes no keyword 'searchr'"):
        check_reference(parse('tunecore.TuneConfig(searchr="random")')[0], ("tunecore", "TuneConfig"), registry)
    with pytest.raises(ComponentError):
        (reference,) = parse('tunecore.RunConfig(stoppers=["max_iters"])')
        check_reference(reference, reference.path, registry)
    with pytest.raises(ComponentError, match="has no option 'adress'"):
        (reference,) = parse('tunecore.TuneConfig(executor="local", executor_options={"adress": 1})')
        check_reference(reference, reference.path, registry)
    with pytest.raises(AttributeError, match="no attribute 'trial_name'"):
        (reference,) = parse("tunecore.get_context().trial_name")
        check_reference(reference, reference.path, registry)
    assert "nope" not in cli_verbs() and "report" in cli_verbs()
    # A name no test source holds with all its parts: the attribute exists, but nothing calls it so.
    sources = {Path("a.py"): "import tunecore\ntunecore.Tuner(train)\n", Path("b.py"): "x.restore()\n"}
    assert not exercised(parse("tunecore.Tuner.restore")[0], sources)
    assert exercised(parse("tunecore.Tuner.restore")[0], {Path("c.py"): "tunecore.Tuner.restore(path)\n"})
    assert not exercised(parse('tunecore.TuneConfig(searcher="random")')[0], {Path("d.py"): "tunecore.TuneConfig()"})
    assert exercised(parse("tunecore plot")[0], {Path("e.py"): 'from tunecore.cli import main\nmain(["plot"])'})
    with pytest.raises(AttributeError):
        resolve_path(("tunecore", "Tuner", "no_such_method"))
