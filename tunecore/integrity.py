"""Cross-checks of an experiment directory before a resume runs anything, and ``--repair``.

The journal is the record a resume continues from. It must explain everything else in the directory:
every trial directory belongs to a trial the journal created (a trial's creation is flushed before
anything can create its directory), the newest snapshot saw no more records than the journal holds,
state.json lists no trial the journal lacks, and no trial is created twice. A directory that fails a
check (an emptied or truncated journal, two runs in one directory) is refused: resuming it would reuse
trial ids and directories and lose results.

:func:`repair` sets aside (renames, never deletes) what the journal does not explain, so that a resume
can go on from the journal alone: ``t00004`` becomes ``t00004.unjournaled``, a snapshot ahead of the
journal ``snapshot.0.unjournaled`` (the components are then rebuilt by replaying the whole journal).
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from typing import Any

import attrs
import cloudpickle

from tunecore.errors import TuneError
from tunecore.storage import SNAPSHOT_FILES, STATE_FILE, TRIAL_ROW_FILES, read_journal, read_snapshot

SET_ASIDE_SUFFIX = ".unjournaled"
"""Added to the names of files and directories that :func:`repair` sets aside."""
_TRIAL_DIRECTORY = re.compile(r"t\d{5,}")


@attrs.frozen
class Inconsistency:
    """One way the files of an experiment directory disagree with its journal."""

    message: str
    """What is wrong, for people."""
    set_aside: tuple[str, ...] = ()
    """Names in the experiment directory that :func:`repair` renames; empty when it cannot repair this."""


def find_inconsistencies(
    path: str, records: list[dict[str, Any]], snapshot_records: int | None
) -> list[Inconsistency]:
    """Everything in the experiment at ``path`` that its journal ``records`` do not explain.

    ``snapshot_records`` is how many journal records the newest valid snapshot saw (None without one).
    """
    found = []
    created = Counter(r.get("trial_id") for r in records if r.get("event") == "trial")
    twice = sorted(str(trial_id) for trial_id, count in created.items() if count > 1)
    if twice:
        found.append(
            Inconsistency(
                f"the journal creates trial(s) {_names(twice)} more than once: two runs wrote into this directory"
                " and their records cannot be told apart"
            )
        )
    if snapshot_records is not None and snapshot_records > len(records):
        found.append(
            Inconsistency(
                f"the journal holds {len(records)} records but the newest snapshot saw {snapshot_records}:"
                " the journal was emptied or truncated",
                tuple(name for name in SNAPSHOT_FILES if os.path.exists(os.path.join(path, name))),
            )
        )
    unexplained = sorted(name for name in _trial_directories(path) if name not in created)
    if unexplained:
        found.append(
            Inconsistency(
                f"trial directories {_names(unexplained)} are not in the journal (it was emptied or truncated,"
                " or they were copied in): resuming would reuse their ids and write over their files",
                tuple(unexplained),
            )
        )
    for name in TRIAL_ROW_FILES:
        strangers = sorted(_row_trials(os.path.join(path, name), tail_only=True) - set(created))
        if strangers:
            found.append(
                Inconsistency(
                    f"{name} holds results of trial(s) {_names(strangers)} that the journal lacks: the resumed"
                    " trials of those ids would be mixed with them",
                    (name,),
                )
            )
    listed = _state_trials(path)
    if listed - set(created):
        found.append(
            Inconsistency(
                f"{STATE_FILE} lists trial(s) {_names(sorted(listed - set(created)))} that the journal lacks",
                (STATE_FILE,),
            )
        )
    return found


def check(path: str, records: list[dict[str, Any]], snapshot_records: int | None) -> None:
    """Raise TuneError describing every inconsistency of the experiment at ``path``, if there is one."""
    found = find_inconsistencies(path, records, snapshot_records)
    if not found:
        return
    repairable = all(problem.set_aside for problem in found)
    way_forward = (
        f" Nothing was changed. `tunecore resume {path} --repair` (Tuner.restore(path, repair=True)) renames what"
        f" the journal does not explain to *{SET_ASIDE_SUFFIX} and resumes from the journal alone"
        if repairable
        else " Nothing was changed. This cannot be repaired: start a new experiment (the trial directories keep"
        " their files)"
    )
    raise TuneError(
        f"the experiment {path} is inconsistent: " + "; ".join(problem.message for problem in found) + "." + way_forward
    )


def repair(path: str) -> list[str]:
    """Set aside what the journal of the experiment at ``path`` does not explain; the names set aside.

    Raises TuneError when an inconsistency cannot be repaired (the directory is then left as it was).
    Call it only while holding the experiment's lock.
    """
    records = read_journal(path)
    found = find_inconsistencies(path, records, snapshot_journal_records(path))
    for problem in found:
        if not problem.set_aside:
            raise TuneError(f"the experiment {path} cannot be repaired: {problem.message}. Start a new experiment")
    moved = []
    for problem in found:
        for name in problem.set_aside:
            if name in TRIAL_ROW_FILES:
                continue  # rewritten below, whatever the problem
            target = _free_name(path, name + SET_ASIDE_SUFFIX)
            os.rename(os.path.join(path, name), os.path.join(path, target))
            moved.append(target)
    created = {str(r.get("trial_id")) for r in records if r.get("event") == "trial"}
    for name in TRIAL_ROW_FILES:  # results of trials set aside (or never journaled) go with them
        file = os.path.join(path, name)
        if os.path.exists(file) and _row_trials(file) - created:
            target = _free_name(path, name + SET_ASIDE_SUFFIX)
            os.rename(file, os.path.join(path, target))
            _copy_rows(os.path.join(path, target), file, created)
            moved.append(target)
    return moved


_TAIL_BYTES = 1 << 16
"""How much of the end of a logger file the resume check reads (the rows of the newest trials are there)."""


def _row_trials(file: str, tail_only: bool = False) -> set[str]:
    """The trial ids the rows of a ``json`` or ``csv`` logger file name (of its last 64 KiB with ``tail_only``)."""
    try:
        with open(file, "rb") as handle:
            header = handle.readline()
            if tail_only:
                handle.seek(max(handle.seek(0, os.SEEK_END) - _TAIL_BYTES, len(header)))
                handle.readline()  # a partial line
            else:
                handle.seek(len(header))
            body = handle.read().decode("utf-8", "replace")
    except OSError:
        return set()
    if file.endswith(".csv"):
        columns = next(csv.reader([header.decode("utf-8", "replace")]), [])
        if "trial_id" not in columns:
            return set()
        index = columns.index("trial_id")
        return {row[index] for row in csv.reader(body.splitlines()) if len(row) > index and row[index]}
    ids = set()
    for line in [header.decode("utf-8", "replace"), *body.splitlines()]:
        try:
            ids.add(str(json.loads(line)["trial_id"]))
        except (ValueError, KeyError, TypeError):
            continue  # a torn line
    return ids


def _copy_rows(source: str, target: str, trial_ids: set[str]) -> None:
    """Write to ``target`` the header and the rows of ``source`` whose trial is one of ``trial_ids``."""
    with open(source, encoding="utf-8", newline="") as reader, open(target, "w", encoding="utf-8", newline="") as out:
        if source.endswith(".csv"):
            rows = csv.reader(reader)
            columns = next(rows, None)
            if columns is None:
                return
            writer = csv.writer(out, lineterminator="\n")  # as the csv logger writes
            writer.writerow(columns)
            index = columns.index("trial_id") if "trial_id" in columns else -1
            writer.writerows(row for row in rows if index >= 0 and len(row) > index and row[index] in trial_ids)
            return
        for line in reader:
            try:
                keep = str(json.loads(line)["trial_id"]) in trial_ids
            except (ValueError, KeyError, TypeError):
                keep = False
            if keep:
                out.write(line if line.endswith("\n") else line + "\n")


def snapshot_journal_records(path: str) -> int | None:
    """How many journal records the newest valid snapshot of ``path`` saw, or None without a snapshot."""
    snapshot = read_snapshot(path)
    if snapshot is None:
        return None
    return int(load_snapshot_state(path, snapshot[1])["journal_records"])


def load_snapshot_state(path: str, payload: bytes) -> dict[str, Any]:
    """The components' state saved in a snapshot payload; TuneError if it cannot be unpickled."""
    try:
        state = cloudpickle.loads(payload)
    except Exception as exc:
        raise TuneError(
            f"the state snapshot of {path} cannot be loaded ({type(exc).__name__}: {exc}): resume from the same"
            " environment (the same plugins and versions) that ran the experiment"
        ) from exc
    if not isinstance(state, dict) or "journal_records" not in state:
        raise TuneError(f"the state snapshot of {path} is not one tunecore wrote")
    return state


def _trial_directories(path: str) -> list[str]:
    with os.scandir(path) as entries:
        return [e.name for e in entries if _TRIAL_DIRECTORY.fullmatch(e.name) and e.is_dir(follow_symlinks=False)]


def _state_trials(path: str) -> set[str]:
    """The trial ids state.json lists (none when it is missing or unreadable: resume does not need it)."""
    try:
        with open(os.path.join(path, STATE_FILE), encoding="utf-8") as file:
            state = json.load(file)
        return {str(trial["trial_id"]) for trial in state["trials"]}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _free_name(path: str, name: str) -> str:
    candidate, counter = name, 1
    while os.path.lexists(os.path.join(path, candidate)):
        counter += 1
        candidate = f"{name}_{counter}"
    return candidate


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
