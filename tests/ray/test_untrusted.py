"""What an actor sends is not trusted: a checkpoint's name or archive that would write outside the trial's
directory, or that cannot be written, ends only that trial ERRORED. No Ray cluster: the executor's dispatch
and the actor's launch are driven directly."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.ray.cluster import ray  # noqa: F401  (skips this module without Ray)
from tune_ray import executor as module
from tune_ray import transfer
from tune_ray.actor import ActorChannel, TrialActor
from tune_ray.wire import RESULT
from tunecore.executors import Outcome, TrialLaunch


class Handler:
    def __init__(self) -> None:
        self.results: list[tuple[str, Any]] = []
        self.ends: list[tuple[str, Outcome, str | None]] = []

    def on_result(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> None:
        self.results.append((trial_id, checkpoint))

    def on_trial_end(self, trial_id: str, outcome: Outcome, error: str | None) -> None:
        self.ends.append((trial_id, outcome, error))


class NoLedger:
    def unbook(self, nodes: list[str], shape: Any) -> None:
        pass

    def set_idle(self, nodes: list[str], shape: Any, idle: bool) -> None:
        pass


def dispatch(tmp_path: Path, name: Any, blob: Any) -> tuple[Handler, Any]:
    executor = module.RayExecutor()
    handler = Handler()
    executor._handler = handler  # type: ignore[assignment]
    executor._ledger = NoLedger()  # type: ignore[assignment]
    launch = TrialLaunch(trial_id="t1", config={}, trial_dir=str(tmp_path / "exp" / "t1"))
    actor = module._Actor(1, None, launch.resources, [], None, None, 0.0)
    actor.run = module._Run(launch, actor)
    executor._actors[1] = actor
    executor._by_trial["t1"] = actor.run
    executor._dispatch(actor, (RESULT, 1, {"done": False}, name, blob))
    assert actor.dead and executor.running() == 0 and not executor._actors
    return handler, executor


def a_checkpoint(tmp_path: Path) -> bytes:
    source = tmp_path / "from-the-worker"
    source.mkdir(exist_ok=True)
    (source / "x").write_text("from the worker")
    return transfer.pack(str(source))


@pytest.mark.parametrize("name", ["/abs/victim", "../victim", "sub/victim", "", ".", "..", None, 3])
def test_a_checkpoint_name_that_is_not_plain_ends_the_trial_errored(tmp_path: Path, name: Any) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("mine")
    if name == "/abs/victim":
        name = str(victim)
    elif name == "../victim":
        name = "../../victim"
    handler, _ = dispatch(tmp_path, name, a_checkpoint(tmp_path))
    assert handler.results == []
    [(trial, outcome, error)] = handler.ends
    assert (trial, outcome) == ("t1", Outcome.ERRORED) and "not a plain directory name" in str(error)
    assert os.listdir(victim) == ["keep"]
    assert not (tmp_path / "exp" / "t1").exists() or os.listdir(tmp_path / "exp" / "t1") == []


def test_a_refused_archive_ends_only_its_trial_errored_and_leaves_no_staging(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("base")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/hostname"  # e.g. a link to pretrained weights
        tar.addfile(info)
    handler, _ = dispatch(tmp_path, "checkpoint_000001", buffer.getvalue())
    [(trial, outcome, error)] = handler.ends
    assert (trial, outcome) == ("t1", Outcome.ERRORED)
    assert "checkpoint_000001" in str(error) and "only relative links" in str(error)
    assert not (tmp_path / "exp" / "t1").exists() or os.listdir(tmp_path / "exp" / "t1") == []


def test_a_blob_that_is_not_an_archive_ends_the_trial_errored(tmp_path: Path) -> None:
    handler, _ = dispatch(tmp_path, "checkpoint_000001", b"not a tar" * 100)
    [(_, outcome, error)] = handler.ends
    assert outcome is Outcome.ERRORED and "could not be written" in str(error)


class Posted(ActorChannel):
    def __init__(self) -> None:
        super().__init__(None)  # type: ignore[arg-type]


def test_a_checkpoint_that_cannot_be_restored_on_the_node_ends_errored_with_the_traceback(tmp_path: Path) -> None:
    launch = TrialLaunch(trial_id="t1", config={}, trial_dir="/driver/exp/t1", checkpoint="/driver/exp/t1/ck")
    scratch = tmp_path / "scratch" / "t1-1"
    outcome, log = TrialActor._run(None, None, launch, b"not a tar", str(scratch), Posted(), False)
    assert outcome.kind is Outcome.ERRORED and log is None
    assert "could not be restored" in str(outcome.error) and "Traceback" in str(outcome.error)
    assert "TransferError" in str(outcome.error)
    assert not scratch.exists()


def test_in_scratch_a_checkpoint_without_its_bytes_is_an_error_not_the_drivers_path(tmp_path: Path) -> None:
    launch = TrialLaunch(trial_id="t1", config={}, trial_dir="/driver/exp/t1", checkpoint=str(tmp_path))
    scratch = tmp_path / "scratch" / "t1-1"
    outcome, _ = TrialActor._run(None, None, launch, None, str(scratch), Posted(), False)
    assert outcome.kind is Outcome.ERRORED and "sent no bytes" in str(outcome.error)
