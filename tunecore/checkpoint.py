"""Directory-based checkpoints: what a trainable saves and what it resumes from."""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

DICT_FILE = "checkpoint.pkl"
"""The file that holds a checkpoint created with :meth:`Checkpoint.from_dict`."""


@attrs.frozen
class Checkpoint:
    """A checkpoint: a directory of files. Create one with :meth:`from_directory` or :meth:`from_dict`."""

    path: str
    """The directory holding the checkpoint's files."""
    owned: bool = attrs.field(default=False, eq=False, repr=False)
    """True when tunecore made the directory (``from_dict``) and may move it instead of copying it."""

    @classmethod
    def from_directory(cls, path: str | os.PathLike[str]) -> Checkpoint:
        """A checkpoint made of the files in ``path`` (copied into the trial's directory when reported)."""
        path = Path(path)
        if not path.is_dir():
            raise ValueError(f"Checkpoint.from_directory: {path} is not a directory")
        return cls(str(path.resolve()))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checkpoint:
        """A checkpoint holding ``data`` (pickled into a fresh temporary directory)."""
        if not isinstance(data, dict):
            raise TypeError(f"Checkpoint.from_dict needs a dict, got {type(data).__name__}")
        directory = tempfile.mkdtemp(prefix="tunecore-ckpt-")
        with open(os.path.join(directory, DICT_FILE), "wb") as file:
            pickle.dump(data, file, protocol=pickle.HIGHEST_PROTOCOL)
        return cls(directory, owned=True)

    def to_dict(self) -> dict[str, Any]:
        """The dict of a checkpoint created with :meth:`from_dict`."""
        file = Path(self.path) / DICT_FILE
        if not file.is_file():
            raise ValueError(f"checkpoint {self.path} was not created with Checkpoint.from_dict (no {DICT_FILE})")
        with open(file, "rb") as handle:
            return pickle.load(handle)

    def to_directory(self, path: str | os.PathLike[str] | None = None) -> str:
        """Copy the checkpoint's files to ``path`` (a new temporary directory by default); return it."""
        target = Path(path) if path is not None else Path(tempfile.mkdtemp(prefix="tunecore-ckpt-"))
        shutil.copytree(self.path, target, dirs_exist_ok=True)
        return str(target)

    @contextlib.contextmanager
    def as_directory(self) -> Iterator[str]:
        """Use the checkpoint's files in place, read-only (``with ckpt.as_directory() as d: ...``)."""
        yield self.path


def store_checkpoint(checkpoint: Checkpoint, trial_dir: str, iteration: int) -> Checkpoint:
    """Put ``checkpoint`` into ``trial_dir/checkpoint_<iteration>`` and return it from there.

    The files are staged in a hidden directory and renamed into place, so a crash never leaves a half
    written checkpoint under the final name. Directories tunecore made (:meth:`Checkpoint.from_dict`) are
    moved; a user's directory is copied, so that it can still be used (or removed by its own
    ``TemporaryDirectory``) afterwards. A checkpoint already at the target is kept as it is.
    """
    os.makedirs(trial_dir, exist_ok=True)
    target = os.path.join(trial_dir, f"checkpoint_{iteration:06d}")
    source = os.path.abspath(checkpoint.path)
    if source == target:
        return checkpoint
    staging = os.path.join(trial_dir, f".staging_checkpoint_{iteration:06d}")
    shutil.rmtree(staging, ignore_errors=True)
    moved = False
    if checkpoint.owned:
        with contextlib.suppress(OSError):  # another file system: copy instead
            os.rename(source, staging)
            moved = True
    if not moved:
        shutil.copytree(source, staging)
    shutil.rmtree(target, ignore_errors=True)
    os.rename(staging, target)
    return Checkpoint(target)
