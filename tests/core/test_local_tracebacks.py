"""A trial failing in a ``local`` worker shows the user's file, line and source line, as ``inline`` does."""

from __future__ import annotations

import linecache
import os
import re
from pathlib import Path
from typing import Any

import pytest

import tunecore
from tunecore.references import resolve_reference

SOURCE = """\
import tunecore


def check(value):
    if value > 1:
        raise ValueError(f"value {value} is too large")


def train(config):
    tunecore.report({"loss": 1.0})
    check(config["value"])
"""


def fit(trainable: Any, tmp_path: Path, executor: str) -> str:
    """Run one failing trial; return its error.txt."""
    grid = tunecore.Tuner(
        trainable,
        param_space={"value": 2},
        tune_config=tunecore.TuneConfig(executor=executor),
        run_config=tunecore.RunConfig(name=executor, storage_path=str(tmp_path), loggers=[], verbose=0),
    ).fit()
    assert grid[0].status == "ERROR"
    return Path(grid[0].path, "error.txt").read_text()


def user_frames(error: str, filename: str) -> list[str]:
    """The traceback's frames in ``filename``: each 'File ..., line N, in name' line with its source line."""
    lines = error.splitlines()
    return [f"{line.strip()} | {lines[i + 1].strip()}" for i, line in enumerate(lines) if f'File "{filename}"' in line]


def test_a_file_reference_fails_with_the_same_user_frames_as_inline(tmp_path):
    source = tmp_path / "user_code.py"
    source.write_text(SOURCE)
    train = resolve_reference(f"{source}:train")
    local, inline = fit(train, tmp_path, "local"), fit(train, tmp_path, "inline")
    expected = [
        f'File "{source}", line 11, in train | check(config["value"])',
        f'File "{source}", line 6, in check | raise ValueError(f"value {{value}} is too large")',
    ]
    assert user_frames(local, str(source)) == user_frames(inline, str(source)) == expected
    assert "<dynamic-code>" not in local and local.rstrip().endswith("ValueError: value 2 is too large")


@pytest.fixture
def notebook_cell() -> Any:
    """A function whose file is not on disk, only in linecache (as a notebook cell's is)."""
    filename = f"<notebook-cell-{os.getpid()}>"
    linecache.cache[filename] = (len(SOURCE), None, SOURCE.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(SOURCE, filename, "exec"), namespace)
    yield filename, namespace["train"]
    linecache.cache.pop(filename, None)


def test_code_from_a_notebook_cell_shows_its_source_lines_too(tmp_path, notebook_cell):
    filename, train = notebook_cell
    error = fit(train, tmp_path, "local")
    assert user_frames(error, filename)[-1] == (
        f'File "{filename}", line 6, in check | raise ValueError(f"value {{value}} is too large")'
    )
    assert re.search(r"ValueError: value 2 is too large\s*$", error)
