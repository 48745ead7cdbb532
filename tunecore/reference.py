"""The reference pages of ``docs/reference`` for plugin authors, generated from the source.

The pages are built from the docstrings and signatures of :mod:`tunecore.hookspecs`, :mod:`tunecore.protocols`
and the modules a component uses (:mod:`tunecore.space`, :mod:`tunecore.options`, :mod:`tunecore.best`,
:mod:`tunecore.trial`, :mod:`tunecore.experiment`), so they say what the code says. Regenerate them after
changing any of them::

    python -m tunecore.reference docs/reference

``tests/core/test_reference_docs.py`` fails when the files on disk differ from what this module produces.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

COMMAND = "python -m tunecore.reference docs/reference"
"""The command that regenerates the reference pages."""

_ROLE = re.compile(r":(?:class|func|meth|data|mod|attr|exc|obj):`~?([^`]+)`")


def _markdown(text: str) -> str:
    """A docstring as Markdown: Sphinx roles and double backticks become plain code spans."""
    return _ROLE.sub(r"`\1`", text).replace("``", "`")


def _header(title: str, module: ModuleType) -> list[str]:
    return [
        f"# {title}",
        "",
        f"<!-- Generated from {module.__name__.replace('.', '/')}.py by `{COMMAND}`: do not edit by hand. -->",
        "",
        _markdown(inspect.getdoc(module) or ""),
        "",
    ]


def _parameter(source: str, arg: ast.arg, default: ast.expr | None, prefix: str = "") -> str:
    text = prefix + arg.arg
    if arg.annotation is not None:
        text += f": {_source(source, arg.annotation)}"
        return text + (f" = {_source(source, default)}" if default is not None else "")
    return text + (f"={_source(source, default)}" if default is not None else "")


def _arguments(source: str, args: ast.arguments) -> str:
    """The parameter list as PEP 8 writes it (``x: int = 1``, ``x=1``), on one line."""
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    parts = [_parameter(source, arg, default) for arg, default in zip(positional, defaults, strict=True)]
    if args.posonlyargs:
        parts.insert(len(args.posonlyargs), "/")
    if args.vararg is not None:
        parts.append(_parameter(source, args.vararg, None, "*"))
    elif args.kwonlyargs:
        parts.append("*")
    parts += [_parameter(source, arg, default) for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    if args.kwarg is not None:
        parts.append(_parameter(source, args.kwarg, None, "**"))
    return ", ".join(parts)


def _function(source: str, node: ast.FunctionDef, owner: str = "", level: str = "###") -> list[str]:
    returns = f" -> {_source(source, node.returns)}" if node.returns is not None else ""
    decorators = [f"@{_source(source, d)}" for d in node.decorator_list if ast.unparse(d) != "hookspec"]
    code = [*decorators, f"def {node.name}({_arguments(source, node.args)}){returns}"]
    lines = [f"{level} `{owner}{node.name}`", "", "```python", *code, "```", ""]
    doc = ast.get_docstring(node)
    if doc:
        lines += [_markdown(doc), ""]
    return lines


def _documented(body: Sequence[ast.stmt]) -> list[tuple[ast.stmt, str | None]]:
    """Statements of a module or class body, each with the string literal that follows it (its docstring)."""
    pairs: list[tuple[ast.stmt, str | None]] = []
    for index, node in enumerate(body):
        following = body[index + 1] if index + 1 < len(body) else None
        doc = None
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            doc = inspect.cleandoc(following.value.value)
        pairs.append((node, doc))
    return pairs


def _assigned_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    return None


def _source(source: str, node: ast.expr) -> str:
    """The expression as written (one line), falling back to its unparsed form."""
    return " ".join((ast.get_source_segment(source, node) or ast.unparse(node)).split())


def _attribute(
    source: str, node: ast.AnnAssign | ast.Assign, name: str, doc: str | None, owner: str = "", level: str = "###"
) -> list[str]:
    annotation = f": {_source(source, node.annotation)}" if isinstance(node, ast.AnnAssign) else ""
    value = f" = {_source(source, node.value)}" if node.value is not None else ""
    lines = [f"{level} `{owner}{name}`", "", "```python", f"{name}{annotation}{value}", "```", ""]
    if doc:
        lines += [_markdown(doc), ""]
    return lines


def _class(source: str, node: ast.ClassDef) -> list[str]:
    bases = ", ".join(_source(source, base) for base in node.bases)
    decorators = [f"@{_source(source, d)}" for d in node.decorator_list]
    signature = f"class {node.name}({bases})" if bases else f"class {node.name}"
    lines = [f"## `{node.name}`", "", "```python", *decorators, signature, "```", ""]
    doc = ast.get_docstring(node)
    if doc:
        lines += [_markdown(doc), ""]
    for member, member_doc in _documented(node.body):
        name = _assigned_name(member)
        if name is not None and not name.startswith("_"):
            assert isinstance(member, ast.AnnAssign | ast.Assign)
            lines += _attribute(source, member, name, member_doc, owner=f"{node.name}.")
        elif isinstance(member, ast.FunctionDef) and not member.name.startswith("_"):
            lines += _function(source, member, owner=f"{node.name}.")
    return lines


def _end(lines: list[str]) -> str:
    return "\n".join(lines).rstrip("\n") + "\n"


def hooks_markdown() -> str:
    """``docs/reference/hooks.md``: every hookspec of :mod:`tunecore.hookspecs`, signature and docstring."""
    from tunecore import hookspecs

    marker = f"{hookspecs.PROJECT_NAME}_spec"
    source = inspect.getsource(hookspecs)
    specs = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef) and hasattr(getattr(hookspecs, node.name, None), marker)
    ]
    lines = _header("Hook reference", hookspecs)
    for title, registration in (("Registration hooks", True), ("Experiment events", False)):
        lines += [f"## {title}", ""]
        for node in specs:
            if node.name.startswith("tunecore_register_") == registration:
                lines += _function(source, node)
    return _end(lines)


def module_markdown(module_name: str, title: str) -> str:
    """A page of every public class, function and documented constant defined in ``module_name``, in source
    order, each with its signature and docstring."""
    import importlib

    module = importlib.import_module(module_name)
    source = inspect.getsource(module)
    lines = _header(title, module)
    for node, doc in _documented(ast.parse(source).body):
        name = _assigned_name(node)
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            lines += _class(source, node)
        elif isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            lines += _function(source, node, level="##")
        elif name is not None and not name.startswith("_") and isinstance(node, ast.AnnAssign | ast.Assign) and doc:
            lines += _attribute(source, node, name, doc, level="##")
    return _end(lines)


def protocols_markdown() -> str:
    """``docs/reference/protocols.md``: every public class and constant of :mod:`tunecore.protocols`."""
    return module_markdown("tunecore.protocols", "Protocol reference")


PAGES: dict[str, Callable[[], str]] = {
    "hooks.md": hooks_markdown,
    "protocols.md": protocols_markdown,
    "space.md": lambda: module_markdown("tunecore.space", "Search space reference"),
    "options.md": lambda: module_markdown("tunecore.options", "Option checks reference"),
    "best.md": lambda: module_markdown("tunecore.best", "Scoring reference"),
    "pareto.md": lambda: module_markdown("tunecore.pareto", "Pareto dominance reference"),
    "trial.md": lambda: module_markdown("tunecore.trial", "Trial reference"),
    "experiment.md": lambda: module_markdown("tunecore.experiment", "Experiment reference"),
}
"""The generated pages: file name -> function returning its Markdown."""


def write(directory: str | Path) -> list[Path]:
    """Write every page of :data:`PAGES` into ``directory``; returns the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in PAGES.items():
        path = directory / name
        path.write_text(build(), encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tunecore.reference DIRECTORY``: write the reference pages into DIRECTORY."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0].startswith("-"):
        print(f"usage: {COMMAND.replace('docs/reference', 'DIRECTORY')}", file=sys.stderr)
        return 2
    for path in write(args[0]):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
