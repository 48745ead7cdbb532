"""What an actor sends is not trusted: a checkpoint's name that would write outside the trial's directory, or
a checkpoint without a readable object reference, ends only that trial ERRORED. No Ray cluster: the
executor's dispatch is driven directly (archives refused on arrival: tests/ray/test_object_store.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.ray.cluster import ray  # noqa: F401  (skips this module without Ray)
from tests.ray.drivers import Handler, bare_executor, settle
from tune_ray.wire import RESULT
from tunecore.executors import Outcome


def dispatch(tmp_path: Path, name: Any, reference: Any) -> Handler:
    """Hand t1's actor a result with checkpoint ``name`` and object ``reference``; the actor must be killed."""
    executor, actor = bare_executor(str(tmp_path / "exp" / "t1"))
    try:
        executor._dispatch(actor, (RESULT, 1, {"done": False}, name, reference))
        handler = settle(executor)  # bytes are read in a helper thread (the object store's part)
        assert actor.dead and executor.running() == 0 and not executor._actors
        return handler
    finally:
        executor.shutdown()


@pytest.mark.parametrize("name", ["/abs/victim", "../victim", "sub/victim", "", ".", "..", None, 3])
def test_a_checkpoint_name_that_is_not_plain_ends_the_trial_errored(tmp_path: Path, name: Any) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("mine")
    if name == "/abs/victim":
        name = str(victim)
    elif name == "../victim":
        name = "../../victim"
    handler = dispatch(tmp_path, name, b"a reference")
    assert handler.results == []
    [(trial, outcome, error)] = handler.ends
    assert (trial, outcome) == ("t1", Outcome.ERRORED) and "not a plain directory name" in str(error)
    assert os.listdir(victim) == ["keep"]
    assert not (tmp_path / "exp" / "t1").exists() or os.listdir(tmp_path / "exp" / "t1") == []


@pytest.mark.parametrize("reference", [b"checkpoint bytes, not a reference", "text", 3])
def test_a_checkpoint_without_an_object_reference_ends_the_trial_errored(tmp_path: Path, reference: Any) -> None:
    handler = dispatch(tmp_path, "checkpoint_000001", reference)
    [(_, outcome, error)] = handler.ends
    assert outcome is Outcome.ERRORED and "without a readable object reference" in str(error)
    assert not (tmp_path / "exp" / "t1").exists()
