"""The Python examples of docs/pytorch.md run as written, in order (```py blocks are shown, not run)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

DOC = Path(__file__).parents[2] / "docs" / "pytorch.md"


def test_the_pytorch_guide_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), re.DOTALL | re.MULTILINE)
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__doc_example__"}
    for number, block in enumerate(blocks, 1):
        code = block.replace('"/tmp/tune_results"', repr(str(tmp_path / "tune_results")))
        exec(compile(code, f"docs/pytorch.md example {number}", "exec"), namespace)
    assert list((tmp_path / "tune_results" / "digits-asha").glob("t*/events.out.tfevents.*"))
