"""The executor conformance suite (tunecore.testing.executors) over ``inline``, ``local`` and the example
executor of docs/plugins.md ("Writing an executor"), with real worker processes."""

from __future__ import annotations

import atexit
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from tunecore.builtin.inline_executor import InlineExecutor
from tunecore.builtin.local_executor import LocalExecutor
from tunecore.executors import Executor, Outcome
from tunecore.protocols import CONTINUE, Decision
from tunecore.testing.executors import ExecutorConformance
from tunecore.testing.trainables import conformance_trainable

DOC = Path(__file__).parents[2] / "docs" / "plugins.md"
TEXT = DOC.read_text()


class TestInlineConformance(ExecutorConformance):
    max_slots = 1
    runs_in_background = False
    isolates_crashes = False
    accounts_resources = False

    def make_executor(self, slots: int) -> Executor:
        return InlineExecutor()


class TestLocalConformance(ExecutorConformance):
    max_slots = 2

    def make_executor(self, slots: int) -> Executor:
        executor = LocalExecutor(num_workers=slots, num_cpus=slots)
        executor.shutdown_grace_s = 0.2
        return executor


# The documented example executor, written out as the module its trial processes import, and the documented
# conformance class run as it is written (it defines TestSubprocessExecutor here).
(_EXAMPLE,) = re.findall(r"<!-- executor example: subprocess_executor\.py -->\n```python\n(.*?)```", TEXT, re.DOTALL)
(_SUITE,) = re.findall(r"<!-- executor conformance -->\n```python\n(.*?)```", TEXT, re.DOTALL)
_EXAMPLE_DIR = tempfile.mkdtemp(prefix="tunecore-doc-executor-")
atexit.register(shutil.rmtree, _EXAMPLE_DIR, True)
Path(_EXAMPLE_DIR, "subprocess_executor.py").write_text(_EXAMPLE)
sys.path.insert(0, _EXAMPLE_DIR)
exec(compile(_SUITE, f"{DOC} (conformance example)", "exec"), globals())


class _Recorder:
    def __init__(self) -> None:
        self.ends: list[tuple[str, Outcome, str | None]] = []
        self.results: list[dict[str, Any]] = []

    def on_result(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> Decision:
        self.results.append(result)
        return CONTINUE

    def on_trial_end(self, trial_id: str, outcome: Outcome, error: str | None) -> None:
        self.ends.append((trial_id, outcome, error))


def test_the_documented_example_runs_with_spawned_processes(tmp_path: Path) -> None:
    from subprocess_executor import SubprocessExecutor  # type: ignore[import-not-found]

    from tunecore.executors import TrialLaunch

    executor = SubprocessExecutor(num_cpus=1, start_method="spawn")
    handler = _Recorder()
    executor.start(conformance_trainable, handler)
    try:
        executor.launch(TrialLaunch("t1", {"n": 2}, str(tmp_path)))
        while executor.running():
            executor.process(1.0)
    finally:
        executor.shutdown()
    assert [r["i"] for r in handler.results] == [1, 2]
    assert handler.ends == [("t1", Outcome.COMPLETED, None)]
