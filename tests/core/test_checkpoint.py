"""Directory checkpoints: creation, reading back, and storing into a trial directory."""

from __future__ import annotations

import os

import pytest

from tunecore.checkpoint import Checkpoint, store_checkpoint


def test_from_dict_round_trip_and_move_into_the_trial(tmp_path):
    checkpoint = Checkpoint.from_dict({"step": 3, "weights": [1, 2]})
    source = checkpoint.path
    stored = store_checkpoint(checkpoint, str(tmp_path / "t1"), 3)
    assert stored.path == str(tmp_path / "t1" / "checkpoint_000003")
    assert stored.to_dict() == {"step": 3, "weights": [1, 2]}
    assert not os.path.exists(source)  # tunecore's own temporary directory was moved, not copied
    assert os.listdir(tmp_path / "t1") == ["checkpoint_000003"]  # no staging directory left


def test_user_directories_are_copied_and_readable(tmp_path):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "model.bin").write_bytes(b"\x00\x01")
    stored = store_checkpoint(Checkpoint.from_directory(user), str(tmp_path / "t1"), 7)
    assert (user / "model.bin").exists()  # still the user's
    with stored.as_directory() as directory:
        assert open(os.path.join(directory, "model.bin"), "rb").read() == b"\x00\x01"
    copy = stored.to_directory(tmp_path / "copy")
    assert os.listdir(copy) == ["model.bin"]


def test_bad_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="is not a directory"):
        Checkpoint.from_directory(tmp_path / "nope")
    with pytest.raises(TypeError, match="needs a dict"):
        Checkpoint.from_dict([1, 2])
    (tmp_path / "d").mkdir()
    with pytest.raises(ValueError, match=r"was not created with Checkpoint\.from_dict"):
        Checkpoint.from_directory(tmp_path / "d").to_dict()
