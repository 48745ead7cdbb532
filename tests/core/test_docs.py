"""The Python examples in the README and the docs run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DOCUMENTS = ["README.md", "docs/running.md", "docs/search-space.md", "docs/components.md", "docs/classic-api.md"]


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), re.DOTALL | re.MULTILINE)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_python_examples_run(document, tmp_path, monkeypatch):
    blocks = python_blocks(ROOT / document)
    assert blocks, f"{document} has no python examples"
    monkeypatch.chdir(tmp_path)  # examples write ./tune_results
    namespace: dict = {"__name__": "__doc_example__"}
    for block in blocks:
        code = block.replace('"/tmp/tune_results"', repr(str(tmp_path / "tune_results")))
        exec(compile(code, f"{document} example", "exec"), namespace)
