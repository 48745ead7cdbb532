"""docs/reference/ stays true: the TOML key tables match the config classes, the generated pages match the code."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

import tunecore
from tunecore import config_file, reference
from tunecore.config import CheckpointConfig, ExperimentSpec, FailureConfig, RunConfig, TuneConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / "docs" / "reference"
TOML_DOC = REFERENCE / "toml.md"

CLASSES: dict[str, type] = {
    "ExperimentSpec": ExperimentSpec,
    "TuneConfig": TuneConfig,
    "RunConfig": RunConfig,
    "CheckpointConfig": CheckpointConfig,
    "FailureConfig": FailureConfig,
}
TOML_TYPES = {"string": str, "integer": int, "float": float, "boolean": bool, "array": list, "table": dict}
PYTHON_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}
TOP_LEVEL_TABLES = {"experiment": "ExperimentSpec", "TuneConfig": "TuneConfig", "RunConfig": "RunConfig"}
"""The key tables of top-level keys and the class their keys are passed to."""
SECTIONS = {"CheckpointConfig": "checkpoint_config", "FailureConfig": "failure_config"}
"""Sub-table classes and the top-level key whose table holds their keys."""
FLATTENED = {"ExperimentSpec.tune_config", "ExperimentSpec.run_config"}
"""Fields a file does not name: their own fields are its top-level keys."""


# --- reading the document -------------------------------------------------------------------------


def marked_tables(text: str) -> dict[str, list[list[str]]]:
    """Rows of the tables that follow ``<!-- keys: NAME -->`` / ``<!-- python-only -->``, by NAME."""
    tables: dict[str, list[list[str]]] = {}
    for match in re.finditer(r"^<!-- (keys: (\w+)|python-only) -->\n((?:\|.*\n?)+)", text, re.MULTILINE):
        lines = match.group(3).strip().splitlines()[2:]  # skip the header and the |---| line
        tables[match.group(2) or "python-only"] = [
            [cell.strip() for cell in line.strip("|").split("|")] for line in lines
        ]
    return tables


def code(cell: str) -> str:
    found = re.fullmatch(r"`([^`]+)`", cell)
    assert found, f"expected one `code` span, got {cell!r}"
    return found.group(1)


def example_file(text: str) -> str:
    found = re.search(r"^<!-- example: experiment\.toml -->\n```toml\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert found, "docs/reference/toml.md has no <!-- example: experiment.toml --> block"
    return found.group(1)


# --- what the code accepts ------------------------------------------------------------------------


def owner_of(key: str) -> str:
    """The config class a top-level key of a file is passed to (as config_file.experiment_from_data does)."""
    if key in config_file._TUNE_KEYS:
        return "TuneConfig"
    if key in config_file._RUN_KEYS or key in SECTIONS.values():
        return "RunConfig"
    return "ExperimentSpec"


def schema_types(key: str) -> set[type]:
    return set(config_file._SCHEMA[key][0])


def annotation_types(field: attrs.Attribute) -> set[type]:
    """``int | None`` -> {int}: the TOML-writable types of a sub-table field's annotation."""
    annotation = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
    names = {part.strip().split("[")[0] for part in annotation.split("|")} - {"None"}
    return {PYTHON_TYPES[name] for name in names}


def default_of(field: attrs.Attribute) -> Any:
    if field.default is attrs.NOTHING:
        return attrs.NOTHING
    if isinstance(field.default, attrs.Factory):
        return field.default.factory()
    return field.default


def documented_default(cell: str) -> Any:
    """``required`` -> NOTHING, ``not set`` -> None, `` `literal` `` -> the TOML value."""
    if cell == "required":
        return attrs.NOTHING
    if cell == "not set":
        return None
    return tomllib.loads(f"value = {code(cell)}")["value"]


def same_default(documented: Any, actual: Any) -> bool:
    if attrs.has(type(actual)):  # a table default: the config class with all of its defaults
        return documented == {} and actual == type(actual)()
    return type(documented) is type(actual) and documented == actual


# --- the check ------------------------------------------------------------------------------------


def reference_problems(
    text: str, classes: dict[str, type] | None = None, schema: dict[str, Any] | None = None
) -> list[str]:
    """Every way the key tables of ``text`` disagree with ``classes`` and the keys a file accepts."""
    classes = CLASSES if classes is None else classes
    accepted = set(config_file._SCHEMA if schema is None else schema)
    tables = marked_tables(text)
    problems: list[str] = []
    expected_tables = {*TOP_LEVEL_TABLES, *SECTIONS, "python-only"}
    if set(tables) != expected_tables:
        problems.append(f"marked tables are {sorted(tables)}, expected {sorted(expected_tables)}")

    def check_rows(table: str, keys_and_types: dict[str, set[type]], owner: Any) -> set[str]:
        seen: set[str] = set()
        for row in tables.get(table, []):
            if len(row) != 5:
                problems.append(f"[{table}] row {row} does not have 5 cells")
                continue
            key, toml_type, default, python, _meaning = row
            key = code(key)
            seen.add(key)
            if key not in keys_and_types:
                problems.append(f"[{table}] documents '{key}', which the code does not accept")
                continue
            cls_name = owner(key)
            cls = classes[cls_name]
            if python != f"`{cls_name}({key}=...)`":
                problems.append(f"[{table}] '{key}': Python equivalent {python}, expected `{cls_name}({key}=...)`")
            fields = attrs.fields_dict(cls)
            if key not in fields:
                problems.append(f"[{table}] '{key}' is not a field of {cls_name}")
                continue
            types = {TOML_TYPES.get(word.split()[0], object) for word in toml_type.split(" or ")}
            if types != keys_and_types[key]:
                problems.append(
                    f"[{table}] '{key}': TOML type '{toml_type}' but the code accepts {keys_and_types[key]}"
                )
            actual = default_of(fields[key])
            if not same_default(documented_default(default), actual):
                problems.append(f"[{table}] '{key}': default {default} but {cls_name}.{key} defaults to {actual!r}")
        return seen

    top_level = {key: schema_types(key) if key in config_file._SCHEMA else {object} for key in accepted}
    seen_top: set[str] = set()
    for table, cls_name in TOP_LEVEL_TABLES.items():
        in_table = {key: types for key, types in top_level.items() if owner_of(key) == cls_name}
        seen_top |= check_rows(table, in_table, owner_of)
    for key in sorted(accepted - seen_top):
        problems.append(f"the file key '{key}' has no row in docs/reference/toml.md")

    for cls_name in SECTIONS:
        fields = attrs.fields_dict(classes[cls_name])
        seen = check_rows(cls_name, {name: annotation_types(f) for name, f in fields.items()}, lambda _, c=cls_name: c)
        for name in sorted(set(fields) - seen):
            problems.append(f"{cls_name}.{name} has no row in the [{cls_name}] table")

    python_only: set[str] = set()
    for row in tables.get("python-only", []):
        cls_name, _, name = code(row[0]).partition(".")
        python_only.add(f"{cls_name}.{name}")
        if cls_name not in classes or name not in attrs.fields_dict(classes[cls_name]):
            problems.append(f"python-only row {cls_name}.{name} is not a config field")
        elif name in accepted:
            problems.append(f"python-only row {cls_name}.{name} is a key of experiment files")
    for cls_name in ("ExperimentSpec", "TuneConfig", "RunConfig"):
        for name in attrs.fields_dict(classes[cls_name]):
            in_file = (name in seen_top and owner_of(name) == cls_name) or f"{cls_name}.{name}" in FLATTENED
            if not in_file and f"{cls_name}.{name}" not in python_only:
                problems.append(f"{cls_name}.{name} is neither a file key nor a python-only row")
    return problems


# --- the tests ------------------------------------------------------------------------------------


def test_toml_reference_matches_the_config_classes():
    assert reference_problems(TOML_DOC.read_text(encoding="utf-8")) == []


def test_top_level_keys_reach_the_classes_the_reference_says():
    # the routing the check assumes (owner_of) is what config_file does: every key lands in one class
    routed = {*config_file._TUNE_KEYS, *config_file._RUN_KEYS, *SECTIONS.values(), "trainable", "param_space"}
    assert routed == set(config_file._SCHEMA)


def test_a_missing_row_fails():
    text = TOML_DOC.read_text(encoding="utf-8")
    without = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("| `time_budget_s` |"))
    assert "the file key 'time_budget_s' has no row in docs/reference/toml.md" in reference_problems(without)
    without = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("| `fail_fast` |"))
    assert "FailureConfig.fail_fast has no row in the [FailureConfig] table" in reference_problems(without)


def test_a_row_for_nothing_and_a_wrong_default_fail():
    text = TOML_DOC.read_text(encoding="utf-8")
    extra = text.replace(
        "| `verbose` | integer | `1` |",
        "| `quiet` | boolean | `false` | `RunConfig(quiet=...)` | no |\n| `verbose` | integer | `1` |",
    )
    assert "[RunConfig] documents 'quiet', which the code does not accept" in reference_problems(extra)
    wrong = text.replace("| `num_samples` | integer | `1` |", "| `num_samples` | integer | `10` |")
    assert any("'num_samples': default `10`" in problem for problem in reference_problems(wrong))
    wrong_type = text.replace("| `seed` | integer |", "| `seed` | string |")
    assert any("'seed': TOML type 'string'" in problem for problem in reference_problems(wrong_type))


def test_a_new_config_field_without_a_row_fails():
    @attrs.frozen
    class TuneConfigPlus(TuneConfig):
        new_option: int = 3

    @attrs.frozen
    class CheckpointConfigPlus(CheckpointConfig):
        keep_every: int = 0

    text = TOML_DOC.read_text(encoding="utf-8")
    problems = reference_problems(text, {**CLASSES, "TuneConfig": TuneConfigPlus})
    assert problems == ["TuneConfig.new_option is neither a file key nor a python-only row"]
    problems = reference_problems(text, {**CLASSES, "CheckpointConfig": CheckpointConfigPlus})
    assert problems == ["CheckpointConfig.keep_every has no row in the [CheckpointConfig] table"]
    # and a new key of experiment files without a row
    problems = reference_problems(text, schema={**config_file._SCHEMA, "resume": ((bool,), "a boolean")})
    assert "the file key 'resume' has no row in docs/reference/toml.md" in problems


def test_the_complete_example_is_valid_and_complete(tmp_path):
    text = example_file(TOML_DOC.read_text(encoding="utf-8"))
    data = tomllib.loads(text)
    assert set(data) == set(config_file._SCHEMA), "the complete example should use every key"
    for cls_name, key in SECTIONS.items():
        assert set(data[key]) == set(attrs.fields_dict(CLASSES[cls_name])), f"[{key}] should set every key"
    (tmp_path / "experiment.toml").write_text(text, encoding="utf-8")
    (tmp_path / "train.py").write_text("def train(config):\n    return {'loss': config['lr']}\n", encoding="utf-8")

    spec = tunecore.load_experiment(tmp_path / "experiment.toml")

    assert spec.trainable.__name__ == "train"
    tune, run = spec.tune_config, spec.run_config
    for key in config_file._TUNE_KEYS:
        value = getattr(tune, key)
        expected = data[key]
        if key in ("searcher", "scheduler", "executor"):
            value, expected = value.to_data(), expected if isinstance(expected, dict) else {"name": expected}
        assert value == expected, key
    assert run.name == data["name"] and run.storage_path == data["storage_path"] and run.verbose == data["verbose"]
    assert run.stop == data["stop"]
    assert attrs.asdict(run.checkpoint_config) == data["checkpoint_config"]
    assert attrs.asdict(run.failure_config) == data["failure_config"]
    # every component the example names exists and accepts its options
    plugins = tunecore.load_plugins({"TUNECORE_DISABLE_PLUGIN_AUTOLOAD": "1"})
    specs = [tune.component(kind) for kind in ("searcher", "scheduler", "executor")]
    specs += [*run.stopper_specs(), *run.logger_specs()]
    assert [spec.name for spec in run.logger_specs()] == ["json", "csv", "console"]
    for component in specs:
        assert component.name is not None
        plugins.create(component.kind, component.name, component.options)


@pytest.mark.parametrize("page", sorted(reference.PAGES))
def test_generated_reference_is_up_to_date(page):
    on_disk = (REFERENCE / page).read_text(encoding="utf-8") if (REFERENCE / page).exists() else None
    assert on_disk == reference.PAGES[page](), f"docs/reference/{page} is out of date: run `{reference.COMMAND}`"


def test_hook_reference_lists_every_hookspec():
    from tunecore import hookspecs

    text = reference.hooks_markdown()
    names = [name for name in vars(hookspecs) if hasattr(getattr(hookspecs, name), "tunecore_spec")]
    assert len(names) == 14
    for name in names:
        doc = (getattr(hookspecs, name).__doc__ or "").strip().splitlines()[0].replace("``", "`")
        assert f"### `{name}`" in text and f"def {name}(" in text and doc in text, name


def test_protocol_reference_lists_every_public_name():
    from tunecore import protocols

    text = reference.protocols_markdown()
    exported = ["Searcher", "Scheduler", "Stopper", "Logger", "Decision", "Action", "CONTINUE", "PAUSE", "STOP"]
    for name in [*exported, "FINISHED", "Finished"]:
        assert f"## `{name}`" in text, name
    for cls in (protocols.Searcher, protocols.Scheduler, protocols.Stopper, protocols.Decision):
        for member in vars(cls):
            if not member.startswith("_") and member not in ("__attrs_attrs__",):
                assert f"### `{cls.__name__}.{member}`" in text, f"{cls.__name__}.{member}"
    assert "### `Decision.action`" in text and "checkpoint: Any = None" in text
    assert "Returned by `Searcher.suggest` when the searcher has nothing more to propose." in text


def test_generator_writes_the_pages(tmp_path, capsys):
    assert reference.main([str(tmp_path / "out")]) == 0
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(reference.PAGES)
    assert (tmp_path / "out" / "hooks.md").read_text(encoding="utf-8") == reference.hooks_markdown()
    assert reference.main([]) == 2
    assert "usage: python -m tunecore.reference DIRECTORY" in capsys.readouterr().err
