"""Checkpoints through Ray's object store (checkpoint_sync="driver"), on a one-node Ray cluster: a directory
goes in and comes back whole, Ray's out-of-band pin is taken back (nothing stays in the store), an actor
keeps an object only until the driver answers its result, and what arrives is checked before it is written:
a refused archive, one that is no archive, or an object Ray lost ends only its trial."""

from __future__ import annotations

import io
import os
import pickle
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ray.cluster import local_cluster, object_store_bytes, object_store_drains, ray
from tests.ray.drivers import bare_executor, settle
from tune_ray import objects, transfer
from tune_ray.actor import ActorChannel, TrialActor
from tune_ray.wire import ANSWER, RESULT, loads
from tunecore.executors import Action, Outcome, TrialLaunch

MIB = 1024 * 1024


@pytest.fixture(scope="module", autouse=True)
def cluster() -> Iterator[Any]:
    with local_cluster({"num_cpus": 1}) as made:
        yield made


def a_checkpoint(directory: Path, size: int = MIB) -> Path:
    (directory / "sub").mkdir(parents=True)
    (directory / "weights").write_bytes(os.urandom(size))
    (directory / "sub" / "state.json").write_text('{"step": 3}')
    os.symlink("weights", directory / "latest")
    return directory


def put(blob: bytes) -> tuple[Any, bytes]:
    """``blob`` as an object of the store, as an actor would send it: its ref and the ref as bytes."""
    ref = ray.put(pickle.PickleBuffer(bytearray(blob)))
    return ref, objects.share(ref)


def test_a_directory_goes_through_the_store_whole_and_leaves_nothing_there(tmp_path: Path) -> None:
    source = a_checkpoint(tmp_path / "source", 4 * MIB)
    before = object_store_bytes()
    ref = objects.put_directory(str(source))
    shared = objects.share(ref)
    assert isinstance(shared, bytes) and len(shared) < 4096, "the reference, not the checkpoint"
    assert object_store_bytes() - before >= 4 * MIB
    received = objects.receive(shared)
    buffer = objects.fetch(received)
    target = transfer.unpack(buffer, str(tmp_path / "trial" / "checkpoint_000003"))
    buffer.release()
    assert (Path(target) / "weights").read_bytes() == (source / "weights").read_bytes()
    assert (Path(target) / "sub" / "state.json").read_text() == '{"step": 3}'
    assert os.readlink(Path(target) / "latest") == "weights"
    del ref, received  # both ends dropped theirs: share() left no pin behind
    assert object_store_drains(below=before + MIB) < before + MIB


class Capture:
    def __init__(self) -> None:
        self.sent: list[tuple[Any, ...]] = []

    def send_bytes(self, data: bytes) -> None:
        self.sent.append(loads(data))


def test_an_actor_keeps_a_sent_checkpoint_in_the_store_until_answered_and_none_in_scratch(tmp_path: Path) -> None:
    scratch = tmp_path / "node" / "t1-7"
    channel = ActorChannel(Capture())  # type: ignore[arg-type]
    channel.begin(7, str(scratch))
    outside = tmp_path / "users-own"
    outside.mkdir()
    before = object_store_bytes()
    for index in range(1, 4):
        channel.send("t1", {"done": False}, str(a_checkpoint(scratch / f"checkpoint_{index:06d}")))
    channel.send("t1", {"done": False}, str(outside))  # not the actor's to remove
    channel.send("t1", {"done": False}, str(a_checkpoint(scratch / "checkpoint_000004")))
    assert sorted(p.name for p in scratch.iterdir()) == ["checkpoint_000004"], "scratch keeps only the latest"
    assert outside.is_dir()
    names = [message[3] for message in channel.conn.sent]  # type: ignore[attr-defined]
    assert names == [*(f"checkpoint_{index:06d}" for index in range(1, 4)), "users-own", "checkpoint_000004"]
    assert object_store_bytes() - before >= 4 * MIB, "the objects of unanswered results went away"
    channel.handle((ANSWER, 3, Action.CONTINUE.value))  # the driver has the first three
    assert object_store_drains(below=before + 2 * MIB) < before + 2 * MIB
    channel.handle((ANSWER, 5, Action.CONTINUE.value))
    assert object_store_drains(below=before + MIB // 2) < before + MIB // 2


def test_a_refused_archive_ends_only_its_trial_errored_and_leaves_no_staging(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("base")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/hostname"  # e.g. a link to pretrained weights
        tar.addfile(info)
    handler = deliver(tmp_path, buffer.getvalue())
    [(trial, outcome, error)] = handler.ends
    assert (trial, outcome) == ("t1", Outcome.ERRORED)
    assert "checkpoint_000001" in str(error) and "only relative links" in str(error)
    assert not (tmp_path / "exp" / "t1").exists() or os.listdir(tmp_path / "exp" / "t1") == []


def test_an_object_that_is_not_an_archive_ends_the_trial_errored(tmp_path: Path) -> None:
    handler = deliver(tmp_path, b"not a tar" * 100)
    [(_, outcome, error)] = handler.ends
    assert outcome is Outcome.ERRORED and "could not be written" in str(error) and "not a tar archive" in str(error)


def deliver(tmp_path: Path, blob: bytes) -> Any:
    """Hand t1's actor a result whose checkpoint is the object ``blob``; process until the trial ends."""
    executor, actor = bare_executor(str(tmp_path / "exp" / "t1"), ray)
    try:
        ref, shared = put(blob)
        executor._dispatch(actor, (RESULT, 1, {"done": False}, "checkpoint_000001", shared))
        handler = settle(executor)
        del ref
        assert actor.dead and executor.running() == 0 and handler.results == []
        return handler
    finally:
        executor.shutdown()


@ray.remote(num_cpus=0)
class _Owner:
    def put(self) -> bytes:
        self.ref, shared = put(transfer.pack(os.path.dirname(transfer.__file__)))
        return shared


def test_a_checkpoint_whose_owner_died_before_the_driver_took_it_ends_the_trial_worker_died(tmp_path: Path) -> None:
    owner = _Owner.remote()  # type: ignore[attr-defined]
    shared = ray.get(owner.put.remote())
    ray.kill(owner)
    deadline = time.monotonic() + 30
    while True:  # until this process knows the object is lost (Ray learns of an owner's death asynchronously)
        try:
            ray.get(objects.receive(shared), timeout=1)
        except ray.exceptions.OwnerDiedError:
            break
        except ray.exceptions.GetTimeoutError:  # neither there nor known lost yet (seen in a full run): ask again
            pass
        assert time.monotonic() < deadline, "the object outlived its owner"
        time.sleep(0.2)
    executor, actor = bare_executor(str(tmp_path / "exp" / "t1"), ray)
    try:
        executor._dispatch(actor, (RESULT, 1, {"done": True}, "checkpoint_000001", shared))
        handler = settle(executor)
    finally:
        executor.shutdown()
    [(_, outcome, error)] = handler.ends
    assert outcome is Outcome.WORKER_DIED and "could not be fetched from Ray's object store" in str(error)
    assert handler.results == [] and not (tmp_path / "exp" / "t1" / "checkpoint_000001").exists()


class Posted(ActorChannel):
    def __init__(self) -> None:
        super().__init__(None)  # type: ignore[arg-type]


def test_a_checkpoint_that_cannot_be_restored_on_the_node_ends_errored_with_the_traceback(tmp_path: Path) -> None:
    launch = TrialLaunch(trial_id="t1", config={}, trial_dir="/driver/exp/t1", checkpoint="/driver/exp/t1/ck")
    scratch = tmp_path / "scratch" / "t1-1"
    _ref, shared = put(b"not a tar" * 100)  # kept while the node restores it
    outcome = TrialActor._run(None, None, launch, shared, str(scratch), Posted(), False)
    assert outcome.kind is Outcome.ERRORED
    assert "could not be restored" in str(outcome.error) and "Traceback" in str(outcome.error)
    assert "TransferError" in str(outcome.error)
    assert not scratch.exists()


def test_in_scratch_a_checkpoint_without_its_object_is_an_error_not_the_drivers_path(tmp_path: Path) -> None:
    launch = TrialLaunch(trial_id="t1", config={}, trial_dir="/driver/exp/t1", checkpoint=str(tmp_path))
    scratch = tmp_path / "scratch" / "t1-1"
    outcome = TrialActor._run(None, None, launch, None, str(scratch), Posted(), False)
    assert outcome.kind is Outcome.ERRORED and "sent no object" in str(outcome.error)
