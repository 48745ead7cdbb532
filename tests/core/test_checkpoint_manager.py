"""CheckpointManager: which checkpoint directories are kept, pinned, forgotten and deleted on disk."""

from __future__ import annotations

import json
import math
import os
import warnings

import pytest

from tunecore.checkpoint_manager import CheckpointDeleteWarning, CheckpointManager, score_of
from tunecore.config import CheckpointConfig


def make(root, trial: str, iteration: int) -> str:
    """Create ``root/trial/checkpoint_<iteration>`` with one file and return its path."""
    path = os.path.join(str(root), trial, f"checkpoint_{iteration:06d}")
    os.makedirs(path)
    with open(os.path.join(path, "state.txt"), "w") as file:
        file.write(str(iteration))
    return path


def on_disk(root, trial: str) -> list[int]:
    """The iterations of the checkpoint directories left in ``root/trial``."""
    directory = os.path.join(str(root), trial)
    return sorted(int(name.split("_")[1]) for name in os.listdir(directory) if name.startswith("checkpoint_"))


def add(manager: CheckpointManager, root, trial: str, iteration: int, **metrics) -> list[int]:
    """Make and register one checkpoint; return the iterations the manager deleted."""
    deleted = manager.register(trial, make(root, trial, iteration), {"training_iteration": iteration, **metrics})
    return [int(os.path.basename(p).split("_")[1]) for p in deleted]


def kept(manager: CheckpointManager, trial: str) -> list[int]:
    return [result["training_iteration"] for _, result in manager.checkpoints(trial)]


def kept_paths(manager: CheckpointManager, trial: str) -> list[str]:
    return [p for p, _ in manager.checkpoints(trial)]


def test_latest_n_without_score(tmp_path):
    manager = CheckpointManager(CheckpointConfig(num_to_keep=2))
    assert [add(manager, tmp_path, "t", i) for i in range(1, 6)] == [[], [], [1], [2], [3]]
    assert on_disk(tmp_path, "t") == [4, 5]
    assert kept(manager, "t") == [4, 5]
    assert manager.latest("t") == os.path.join(str(tmp_path), "t", "checkpoint_000005")
    assert manager.latest("other") is None
    assert manager.checkpoints("other") == []


def test_num_to_keep_one_keeps_only_the_latest(tmp_path):
    manager = CheckpointManager(CheckpointConfig(num_to_keep=1, checkpoint_score_attribute="acc"))
    assert add(manager, tmp_path, "t", 1, acc=0.9) == []
    assert add(manager, tmp_path, "t", 2, acc=0.1) == [1]  # the latest wins even against a better score
    assert on_disk(tmp_path, "t") == [2]


def test_best_n_by_max_keeps_the_latest_even_when_it_is_the_worst(tmp_path):
    config = CheckpointConfig(num_to_keep=3, checkpoint_score_attribute="acc", checkpoint_score_order="max")
    manager = CheckpointManager(config)
    scores = {1: 0.5, 2: 0.9, 3: 0.7, 4: 0.8, 5: 0.1}
    deleted = [add(manager, tmp_path, "t", i, acc=s) for i, s in scores.items()]
    assert deleted == [[], [], [], [1], [3]]
    assert on_disk(tmp_path, "t") == [2, 4, 5]  # the two best plus the latest (the worst score)
    assert kept(manager, "t") == [2, 4, 5]
    assert manager.latest("t").endswith("checkpoint_000005")


def test_best_n_by_min_keeps_the_latest_even_when_it_is_the_worst(tmp_path):
    config = CheckpointConfig(num_to_keep=3, checkpoint_score_attribute="loss", checkpoint_score_order="min")
    manager = CheckpointManager(config)
    scores = {1: 0.5, 2: 0.9, 3: 0.7, 4: 0.8, 5: 1.5}
    deleted = [add(manager, tmp_path, "t", i, loss=s) for i, s in scores.items()]
    assert deleted == [[], [], [], [2], [4]]
    assert on_disk(tmp_path, "t") == [1, 3, 5]


def test_equal_scores_keep_the_newer(tmp_path):
    manager = CheckpointManager(CheckpointConfig(num_to_keep=2, checkpoint_score_attribute="acc"))
    for i in (1, 2, 3):
        add(manager, tmp_path, "t", i, acc=0.5)
    assert on_disk(tmp_path, "t") == [2, 3]


@pytest.mark.parametrize("order", ["max", "min"])
def test_nan_missing_non_numeric_and_infinite_scores_rank_worst(tmp_path, order):
    config = CheckpointConfig(num_to_keep=2, checkpoint_score_attribute="score", checkpoint_score_order=order)
    manager = CheckpointManager(config)
    add(manager, tmp_path, "t", 1, score=float("nan"))
    add(manager, tmp_path, "t", 2)  # no score at all
    add(manager, tmp_path, "t", 3, score="high")
    add(manager, tmp_path, "t", 4, score=float("inf"))
    add(manager, tmp_path, "t", 5, score=float("-inf"))
    add(manager, tmp_path, "t", 6, score=True)
    add(manager, tmp_path, "t", 7, score=0.3)
    add(manager, tmp_path, "t", 8, score=float("nan"))  # the latest: kept although unscored
    assert on_disk(tmp_path, "t") == [7, 8]
    add(manager, tmp_path, "t", 9, score=0.2)
    assert on_disk(tmp_path, "t") == [7, 9]  # the unscored former latest goes before a real score


def test_unscored_checkpoints_go_oldest_first(tmp_path):
    manager = CheckpointManager(CheckpointConfig(num_to_keep=3, checkpoint_score_attribute="acc"))
    add(manager, tmp_path, "t", 1, acc=0.1)
    add(manager, tmp_path, "t", 2)
    add(manager, tmp_path, "t", 3, acc=float("nan"))
    assert add(manager, tmp_path, "t", 4, acc=0.0) == [2]
    assert add(manager, tmp_path, "t", 5, acc=0.0) == [3]
    assert on_disk(tmp_path, "t") == [1, 4, 5]


def test_score_of():
    assert score_of({"a": 3}, "a") == 3.0
    assert score_of({"a": 2.5}, "a") == 2.5
    for bad in (float("nan"), float("inf"), "1", None, True, [1]):
        assert score_of({"a": bad}, "a") is None
    assert score_of({}, "a") is None


def test_pinned_checkpoint_survives_beyond_the_limit_and_goes_on_unpin(tmp_path):
    manager = CheckpointManager(CheckpointConfig(num_to_keep=2))
    add(manager, tmp_path, "t", 1)
    add(manager, tmp_path, "t", 2)
    first = manager.checkpoints("t")[0][0]
    manager.pin(first)
    assert add(manager, tmp_path, "t", 3) == []  # 1 is beyond the limit but pinned
    assert on_disk(tmp_path, "t") == [1, 2, 3]
    assert add(manager, tmp_path, "t", 4) == [2]
    assert on_disk(tmp_path, "t") == [1, 3, 4]
    assert kept(manager, "t") == [1, 3, 4]
    assert manager.unpin(first) == [first]
    assert on_disk(tmp_path, "t") == [3, 4]
    assert kept(manager, "t") == [3, 4]


def test_unpin_keeps_a_checkpoint_that_is_no_longer_beyond_the_limit(tmp_path):
    manager = CheckpointManager(CheckpointConfig(num_to_keep=2))
    add(manager, tmp_path, "t", 1)
    add(manager, tmp_path, "t", 2)
    first = manager.latest("t").replace("000002", "000001")
    manager.pin(first)
    add(manager, tmp_path, "t", 3)
    manager.rollback("t", 2)  # back to 2: only 1 and 2 are tracked, within the limit
    assert manager.unpin(first) == []
    assert on_disk(tmp_path, "t") == [1, 2, 3]  # rollback forgets, the caller deletes
    assert kept(manager, "t") == [1, 2]


def test_pin_on_another_trials_checkpoint(tmp_path):
    manager = CheckpointManager(CheckpointConfig(num_to_keep=2, checkpoint_score_attribute="acc"))
    add(manager, tmp_path, "donor", 1, acc=0.9)
    add(manager, tmp_path, "donor", 2, acc=0.8)
    add(manager, tmp_path, "other", 1, acc=0.1)
    donated = manager.latest("donor")
    manager.pin(donated)  # PBT: the other trial will restart from the donor's latest checkpoint
    assert add(manager, tmp_path, "donor", 3, acc=0.95) == []  # 2 is beyond the limit but pinned
    assert add(manager, tmp_path, "donor", 4, acc=0.97) == [1]
    assert on_disk(tmp_path, "donor") == [2, 3, 4]
    assert add(manager, tmp_path, "other", 2, acc=0.2) == []
    assert manager.unpin(donated) == [donated]
    assert on_disk(tmp_path, "donor") == [3, 4]
    assert on_disk(tmp_path, "other") == [1, 2]


def test_double_pin_needs_two_unpins(tmp_path):
    manager = CheckpointManager(CheckpointConfig(num_to_keep=1))
    add(manager, tmp_path, "t", 1)
    first = manager.latest("t")
    manager.pin(first)
    manager.pin(first)
    add(manager, tmp_path, "t", 2)
    assert manager.unpin(first) == []
    assert on_disk(tmp_path, "t") == [1, 2]
    assert manager.unpin(first) == [first]
    assert on_disk(tmp_path, "t") == [2]
    with pytest.raises(ValueError, match="is not pinned"):
        manager.unpin(first)


def test_pin_before_register_and_on_untracked_paths(tmp_path):
    manager = CheckpointManager(CheckpointConfig(num_to_keep=1))
    path = make(tmp_path, "t", 1)
    manager.pin(path)
    manager.register("t", path, {"training_iteration": 1})
    add(manager, tmp_path, "t", 2)
    assert on_disk(tmp_path, "t") == [1, 2]
    manager.pin(str(tmp_path / "nowhere"))
    assert manager.unpin(str(tmp_path / "nowhere")) == []


def test_rollback_forgets_later_checkpoints_and_the_policy_goes_on(tmp_path):
    manager = CheckpointManager(CheckpointConfig(num_to_keep=3))
    for i in (1, 2, 3, 4):
        add(manager, tmp_path, "t", i)
    assert kept(manager, "t") == [2, 3, 4]
    manager.rollback("t", 2)
    assert kept(manager, "t") == [2]
    assert manager.latest("t").endswith("checkpoint_000002")
    assert on_disk(tmp_path, "t") == [2, 3, 4]  # nothing deleted
    for i in (3, 4):
        os.rename(os.path.join(str(tmp_path), "t", f"checkpoint_{i:06d}"), str(tmp_path / f"old_{i}"))
    assert [add(manager, tmp_path, "t", i) for i in (3, 4, 5)] == [[], [], [2]]
    assert kept(manager, "t") == [3, 4, 5]
    manager.rollback("t", 0)
    assert manager.latest("t") is None
    manager.rollback("unknown", 3)  # no-op


def test_registering_the_same_path_again_makes_it_the_latest(tmp_path):
    manager = CheckpointManager(CheckpointConfig(num_to_keep=2))
    add(manager, tmp_path, "t", 1)
    second = make(tmp_path, "t", 2)
    manager.register("t", second, {"training_iteration": 2, "v": "a"})
    manager.register("t", second, {"training_iteration": 2, "v": "b"})
    assert [r["v"] for _, r in manager.checkpoints("t")[1:]] == ["b"]
    assert on_disk(tmp_path, "t") == [1, 2]


def test_best(tmp_path):
    manager = CheckpointManager(CheckpointConfig())
    add(manager, tmp_path, "t", 1, loss=0.5, acc=0.1)
    add(manager, tmp_path, "t", 2, loss=float("nan"), acc=0.7)
    add(manager, tmp_path, "t", 3, loss=0.5, acc="x")
    path, result = manager.best("t", "loss", "min")
    assert path.endswith("checkpoint_000003") and result["training_iteration"] == 3  # a tie: the newer
    assert manager.best("t", "acc", "max")[1]["training_iteration"] == 2
    assert manager.best("t", "missing", "max") is None
    assert manager.best("nobody", "loss", "min") is None
    with pytest.raises(ValueError, match="mode"):
        manager.best("t", "loss", "lowest")


def test_forget_drops_the_bookkeeping_only(tmp_path):
    manager = CheckpointManager(CheckpointConfig(num_to_keep=1))
    add(manager, tmp_path, "t", 1)
    manager.forget("t")
    assert manager.checkpoints("t") == []
    add(manager, tmp_path, "t", 2)
    assert on_disk(tmp_path, "t") == [1, 2]  # 1 was forgotten, so the policy no longer sees it
    manager.forget("unknown")


def test_save_restore_round_trip_continues_the_same_policy(tmp_path):
    config = CheckpointConfig(num_to_keep=2, checkpoint_score_attribute="acc")
    manager = CheckpointManager(config)
    add(manager, tmp_path, "a", 1, acc=0.9)
    add(manager, tmp_path, "a", 2, acc=0.1)
    add(manager, tmp_path, "a", 3, acc=float("nan"))
    assert on_disk(tmp_path, "a") == [1, 3]
    add(manager, tmp_path, "b", 1, acc=0.05)
    pinned = manager.latest("b")
    manager.pin(pinned)
    manager.pin(pinned)
    state = manager.save()
    text = json.dumps(state)
    assert json.loads(text)["pins"] == {pinned: 2}
    assert [c["score"] for c in state["trials"]["a"]] == [0.9, None]

    restored = CheckpointManager(config)
    restored.restore(json.loads(text))
    assert restored.save() == json.loads(text)
    assert restored.latest("a") == manager.latest("a")
    assert math.isnan(restored.checkpoints("a")[1][1]["acc"])
    assert kept(restored, "a") == [1, 3]
    assert add(restored, tmp_path, "a", 4, acc=0.2) == [3]  # NaN ranks worst after the restore too
    assert add(restored, tmp_path, "a", 5, acc=0.3) == [4]
    assert on_disk(tmp_path, "a") == [1, 5]
    add(restored, tmp_path, "b", 2, acc=0.1)
    add(restored, tmp_path, "b", 3, acc=0.2)
    assert on_disk(tmp_path, "b") == [1, 2, 3]  # 1 is beyond the limit but still pinned twice
    assert restored.unpin(pinned) == []
    assert restored.unpin(pinned) == [pinned]
    assert on_disk(tmp_path, "b") == [2, 3]


def test_restore_rejects_foreign_state():
    manager = CheckpointManager(CheckpointConfig())
    with pytest.raises(ValueError, match="version"):
        manager.restore({"trials": {}})


def test_num_to_keep_none_deletes_nothing(tmp_path):
    calls: list[str] = []
    manager = CheckpointManager(CheckpointConfig(checkpoint_score_attribute="acc"), delete=calls.append)
    for i in range(1, 11):
        assert add(manager, tmp_path, "t", i, acc=-i) == []
    manager.pin(manager.latest("t"))
    assert manager.unpin(manager.latest("t")) == []
    assert calls == []
    assert on_disk(tmp_path, "t") == list(range(1, 11))
    assert kept(manager, "t") == list(range(1, 11))


def test_a_missing_directory_counts_as_deleted(tmp_path):
    manager = CheckpointManager(CheckpointConfig(num_to_keep=1))
    add(manager, tmp_path, "t", 1)
    os.rename(manager.latest("t"), str(tmp_path / "moved"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert add(manager, tmp_path, "t", 2) == [1]


def test_failed_deletes_warn_once_and_the_experiment_goes_on(tmp_path):
    def refuse(path: str) -> None:
        raise PermissionError(13, "Permission denied", path)

    manager = CheckpointManager(CheckpointConfig(num_to_keep=1), delete=refuse)
    add(manager, tmp_path, "t", 1)
    with pytest.warns(CheckpointDeleteWarning, match="could not delete checkpoint .*checkpoint_000001") as record:
        assert add(manager, tmp_path, "t", 2) == []
        assert add(manager, tmp_path, "t", 3) == []
    assert len(record) == 1
    assert [os.path.basename(p) for p in manager.failed_deletes] == ["checkpoint_000001", "checkpoint_000002"]
    assert kept(manager, "t") == [3]
    assert on_disk(tmp_path, "t") == [1, 2, 3]


def test_bad_input_is_a_clear_error(tmp_path):
    with pytest.raises(TypeError, match="CheckpointConfig"):
        CheckpointManager({"num_to_keep": 2})
    manager = CheckpointManager(CheckpointConfig())
    path = make(tmp_path, "a", 1)
    manager.register("a", path, {"training_iteration": 1})
    with pytest.raises(ValueError, match="already registered for trial 'a'"):
        manager.register("b", path, {"training_iteration": 1})
    odd = os.path.join(str(tmp_path), "a", "odd")
    with pytest.raises(ValueError, match="training_iteration"):
        manager.register("a", odd, {})
    named = manager.register("a", make(tmp_path, "a", 7), {})
    assert named == [] and manager.checkpoints("a")[-1][1] == {}
    manager.rollback("a", 6)
    assert kept_paths(manager, "a") == [path]
