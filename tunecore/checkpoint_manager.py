"""Driver-side bookkeeping of every trial's checkpoints: which to keep, which to delete, which are pinned.

The policy comes from :class:`~tunecore.config.CheckpointConfig`. With ``num_to_keep=None`` every checkpoint
is kept. Otherwise each trial keeps at most ``num_to_keep`` checkpoints:

* its latest checkpoint is always kept (a resume or a retry continues from it);
* the others are ranked by ``result[checkpoint_score_attribute]`` (best first by
  ``checkpoint_score_order``; a missing, non-numeric, NaN or infinite score ranks worst, ties go to the
  newer one) or, without a score attribute, by recency, and the worst beyond the limit are deleted;
* a pinned checkpoint (:meth:`CheckpointManager.pin`, counted) is never deleted: it stays over the limit
  and is deleted when its last pin is released if it is still beyond the limit then.

A failed delete never interrupts an experiment: a missing directory counts as deleted, any other
``OSError`` is reported once per manager with a :class:`CheckpointDeleteWarning` (every failure is listed
in :attr:`CheckpointManager.failed_deletes`) and the checkpoint is dropped from the bookkeeping anyway.
The manager is not thread-safe; the controller calls it from one thread.
"""

from __future__ import annotations

import json
import numbers
import os
import re
import shutil
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from tunecore import jsonutil
from tunecore.config import MODES, CheckpointConfig
from tunecore.options import finite_float

STATE_VERSION = 1
"""The version of the dict written by :meth:`CheckpointManager.save`."""

_ITERATION_IN_NAME = re.compile(r"checkpoint_(\d+)$")


class CheckpointDeleteWarning(RuntimeWarning):
    """A checkpoint directory could not be deleted (the experiment goes on; the directory stays on disk)."""


def remove_directory(path: str) -> None:
    """Delete the directory ``path`` and its files; a directory that is already gone is not an error."""
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass


def score_of(result: Mapping[str, Any], attribute: str) -> float | None:
    """``result[attribute]`` as a finite float, or None when it is missing, non-numeric, NaN or infinite."""
    return finite_float(result.get(attribute))


def _normalize(path: str | os.PathLike[str]) -> str:
    return os.path.normpath(os.fspath(path))


def _iteration(path: str, result: Mapping[str, Any]) -> int:
    value = result.get("training_iteration")
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    match = _ITERATION_IN_NAME.search(os.path.basename(path))
    if match:
        return int(match.group(1))
    raise ValueError(f"checkpoint {path}: its result has no integer 'training_iteration'")


@attrs.define(slots=True)
class _Entry:
    path: str
    iteration: int
    result: dict[str, Any]
    score: float | None
    seq: int


@attrs.define
class CheckpointManager:
    """Keeps, ranks, pins and deletes the checkpoints of every trial according to a :class:`CheckpointConfig`.

    ``delete`` removes one checkpoint directory (default: :func:`remove_directory`). Every operation on a
    trial costs O(k log k) for its k kept checkpoints (``num_to_keep`` plus any pinned over the limit);
    nothing scans all trials.
    """

    config: CheckpointConfig = attrs.field()
    """The policy: ``num_to_keep``, ``checkpoint_score_attribute`` and ``checkpoint_score_order``."""
    delete: Callable[[str], None] = attrs.field(default=remove_directory)
    """Removes one checkpoint directory."""
    _trials: dict[str, dict[str, _Entry]] = attrs.field(init=False, factory=dict, repr=False)
    _owner: dict[str, str] = attrs.field(init=False, factory=dict, repr=False)
    _pins: dict[str, int] = attrs.field(init=False, factory=dict, repr=False)
    _launch_holds: dict[str, str] = attrs.field(init=False, factory=dict, repr=False)
    _seq: int = attrs.field(init=False, default=0, repr=False)
    _warned: bool = attrs.field(init=False, default=False, repr=False)
    _failed: list[str] = attrs.field(init=False, factory=list, repr=False)

    @config.validator
    def _check_config(self, _: attrs.Attribute, value: Any) -> None:
        if not isinstance(value, CheckpointConfig):
            raise TypeError(f"CheckpointManager needs a CheckpointConfig, got {type(value).__name__}")

    @property
    def failed_deletes(self) -> list[str]:
        """The paths whose deletion failed with an ``OSError`` (they are no longer tracked), oldest first."""
        return list(self._failed)

    # -- registering and the policy -------------------------------------------------------------------

    def register(self, trial_id: str, path: str | os.PathLike[str], result: Mapping[str, Any]) -> list[str]:
        """Record a new checkpoint of ``trial_id`` made with ``result``; return the paths deleted now.

        The new checkpoint becomes the trial's latest. Registering a path the trial already has replaces
        that entry (it becomes the latest); a path of another trial is a ``ValueError``, as is a result
        without an integer ``training_iteration`` (unless the directory is named ``checkpoint_<N>``).
        """
        path = _normalize(path)
        if not isinstance(result, Mapping):
            raise TypeError(f"checkpoint {path}: result must be a mapping, got {type(result).__name__}")
        owner = self._owner.get(path)
        if owner is not None and owner != trial_id:
            raise ValueError(f"checkpoint {path} is already registered for trial {owner!r}, not {trial_id!r}")
        entry = self._entry(path, dict(result))
        entries = self._trials.setdefault(trial_id, {})
        entries.pop(path, None)
        entries[path] = entry
        self._owner[path] = trial_id
        return self._enforce(trial_id)

    def _entry(self, path: str, result: dict[str, Any]) -> _Entry:
        attribute = self.config.checkpoint_score_attribute
        score = score_of(result, attribute) if attribute is not None else None
        self._seq += 1
        return _Entry(path, _iteration(path, result), result, score, self._seq)

    def _rank(self, entry: _Entry) -> tuple[Any, ...]:
        """Larger is better: valid scores above invalid ones, then by score, then newer above older."""
        if self.config.checkpoint_score_attribute is None:
            return (entry.seq,)
        if entry.score is None:
            return (0, 0.0, entry.seq)
        return (1, entry.score if self.config.checkpoint_score_order == "max" else -entry.score, entry.seq)

    def _enforce(self, trial_id: str) -> list[str]:
        """Delete the unpinned checkpoints of ``trial_id`` beyond the limit; return their paths."""
        limit = self.config.num_to_keep
        entries = self._trials.get(trial_id)
        if limit is None or not entries or len(entries) <= limit:
            return []
        latest = next(reversed(entries))
        others = sorted((e for p, e in entries.items() if p != latest), key=self._rank, reverse=True)
        doomed = sorted((e for e in others[limit - 1 :] if not self._pins.get(e.path)), key=lambda e: e.seq)
        for entry in doomed:  # bookkeeping first, so that a failing delete leaves a consistent state
            del entries[entry.path]
            del self._owner[entry.path]
        return [entry.path for entry in doomed if self._delete(entry.path)]

    def _delete(self, path: str) -> bool:
        """Delete one directory; True when it is gone (or was already), False (and a warning) on an OSError."""
        try:
            self.delete(path)
        except FileNotFoundError:
            return True
        except OSError as error:
            self._failed.append(path)
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"could not delete checkpoint {path}: {error}; the experiment goes on and the directory"
                    " stays (further failures are listed in CheckpointManager.failed_deletes, not warned)",
                    CheckpointDeleteWarning,
                    stacklevel=4,
                )
            return False
        return True

    # -- pins -----------------------------------------------------------------------------------------

    def pin(self, path: str | os.PathLike[str]) -> None:
        """Keep ``path`` (of any trial) until a matching :meth:`unpin`; pins are counted."""
        path = _normalize(path)
        self._pins[path] = self._pins.get(path, 0) + 1

    def unpin(self, path: str | os.PathLike[str]) -> list[str]:
        """Release one pin of ``path``; after the last one, delete it if it is beyond the limit. Return deletions.

        Unpinning a path that is not pinned is a ``ValueError``.
        """
        path = _normalize(path)
        count = self._pins.get(path, 0)
        if count <= 0:
            raise ValueError(f"checkpoint {path} is not pinned")
        if count > 1:
            self._pins[path] = count - 1
            return []
        del self._pins[path]
        owner = self._owner.get(path)
        return self._enforce(owner) if owner is not None else []

    def hold_for_launch(self, trial_id: str, path: str | os.PathLike[str], *, pinned: bool = False) -> None:
        """Keep ``path`` until the launch of ``trial_id`` that starts from it has loaded it (:meth:`release_launch`).

        ``pinned``: the caller already holds a pin on ``path`` (e.g. the restart decision's) and hands it over.
        """
        if not pinned:
            self.pin(path)
        self._launch_holds[trial_id] = _normalize(path)

    def release_launch(self, trial_id: str) -> list[str]:
        """The launch of ``trial_id`` has loaded its checkpoint (a first result) or ended: release its pin.

        Returns the paths deleted now; nothing happens when the launch holds no checkpoint.
        """
        path = self._launch_holds.pop(trial_id, None)
        return [] if path is None else self.unpin(path)

    # -- queries --------------------------------------------------------------------------------------

    def latest(self, trial_id: str) -> str | None:
        """The trial's newest kept checkpoint, or None."""
        entries = self._trials.get(trial_id)
        return next(reversed(entries)) if entries else None

    def checkpoints(self, trial_id: str) -> list[tuple[str, dict[str, Any]]]:
        """The trial's kept checkpoints with their results, oldest first."""
        return [(e.path, e.result) for e in self._trials.get(trial_id, {}).values()]

    def best(self, trial_id: str, metric: str, mode: str) -> tuple[str, dict[str, Any]] | None:
        """The kept checkpoint with the best ``result[metric]`` (``mode`` "max" or "min"; ties: the newest).

        None when the trial has no checkpoint with a finite numeric ``metric``.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        best: tuple[float, int, _Entry] | None = None
        for entry in self._trials.get(trial_id, {}).values():
            score = score_of(entry.result, metric)
            if score is None:
                continue
            key = (score if mode == "max" else -score, entry.seq, entry)
            if best is None or key[:2] > best[:2]:
                best = key
        return (best[2].path, best[2].result) if best is not None else None

    # -- forgetting -----------------------------------------------------------------------------------

    def rollback(self, trial_id: str, iteration: int) -> None:
        """Forget (not delete) the trial's checkpoints with ``training_iteration > iteration``."""
        entries = self._trials.get(trial_id)
        if not entries:
            return
        for path in [p for p, e in entries.items() if e.iteration > iteration]:
            del entries[path]
            del self._owner[path]
        if not entries:
            del self._trials[trial_id]

    def forget(self, trial_id: str) -> None:
        """Drop the trial's bookkeeping (nothing is deleted; pins, which belong to paths, stay)."""
        for path in self._trials.pop(trial_id, {}):
            del self._owner[path]

    # -- persistence ----------------------------------------------------------------------------------

    def save(self) -> dict[str, Any]:
        """The bookkeeping as JSON-ready data: per trial its checkpoints (path, iteration, score, result) and the pins.

        Results are converted with :mod:`tunecore.jsonutil` (NaN stays NaN, numpy values become numbers);
        scores are finite floats or None.
        """
        return {
            "version": STATE_VERSION,
            "trials": {
                trial_id: [
                    {
                        "path": e.path,
                        "iteration": e.iteration,
                        "score": e.score,
                        "result": json.loads(jsonutil.dumps(e.result)),
                    }
                    for e in entries.values()
                ]
                for trial_id, entries in self._trials.items()
            },
            "pins": dict(self._pins),
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Replace the bookkeeping with what :meth:`save` returned.

        Scores are recomputed from the saved results with this manager's config; the policy is applied to
        a trial at its next :meth:`register` or :meth:`unpin` (restoring deletes nothing).
        """
        if not isinstance(state, Mapping) or state.get("version") != STATE_VERSION:
            raise ValueError(f"not a CheckpointManager state of version {STATE_VERSION}")
        trials: dict[str, dict[str, _Entry]] = {}
        owner: dict[str, str] = {}
        for trial_id, items in state.get("trials", {}).items():
            entries: dict[str, _Entry] = {}
            for item in items:
                path = _normalize(item["path"])
                if owner.get(path, trial_id) != trial_id:
                    raise ValueError(f"checkpoint {path} is saved for both {owner[path]!r} and {trial_id!r}")
                entry = self._entry(path, {"training_iteration": item["iteration"], **(item.get("result") or {})})
                entry.iteration = int(item["iteration"])
                entries.pop(path, None)
                entries[path] = entry
                owner[path] = trial_id
            if entries:
                trials[trial_id] = entries
        pins = {_normalize(p): int(n) for p, n in state.get("pins", {}).items() if int(n) > 0}
        self._trials, self._owner, self._pins = trials, owner, pins
