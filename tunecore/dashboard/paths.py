"""Every path the dashboard opens is confined to its storage root.

An experiment is named in a URL by its directory's name: one path component (no ``/``, ``\\``, NUL, no
``.``/``..``, nothing hidden), joined to the root, resolved with :func:`os.path.realpath` (symlinks
followed) and accepted only when the result is still inside the root. A symlink that leads out of the
root is refused like ``..`` or an absolute path.
"""

from __future__ import annotations

import os

from tunecore.errors import TuneError
from tunecore.storage import EXPERIMENT_FILE, JOURNAL_FILE, STATE_FILE

_EXPERIMENT_FILES = (EXPERIMENT_FILE, JOURNAL_FILE, STATE_FILE)


class StorageRoot:
    """The storage path the dashboard serves (an experiment directory, or a directory of them)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        given = os.path.abspath(os.fspath(path))
        if not os.path.isdir(given):
            what = "is a file" if os.path.exists(given) else "does not exist"
            raise TuneError(
                f"{given} {what}: give the storage path that holds the experiments (default ./tune_results),"
                " e.g. tunecore dashboard tune_results"
            )
        self.path = os.path.realpath(given)
        """The root, resolved."""
        self.single = _is_experiment(self.path)
        """True when the root is itself an experiment directory (then it is the only one served)."""

    def names(self) -> list[str]:
        """The experiments' names, sorted (those that resolve outside the root are left out)."""
        if self.single:
            return [os.path.basename(self.path)]
        try:
            entries = sorted(os.listdir(self.path))
        except OSError:
            return []
        return [name for name in entries if self.resolve(name) is not None]

    def resolve(self, name: str) -> str | None:
        """The directory of the experiment ``name`` (resolved, inside the root), or None when it is refused."""
        if not is_plain_name(name):
            return None
        if self.single:
            return self.path if name == os.path.basename(self.path) else None
        path = os.path.realpath(os.path.join(self.path, name))
        if os.path.dirname(path) != self.path or not _is_experiment(path):
            return None  # out of the root (a symlink), nested, or no experiment
        return path

    def confined(self, path: str) -> str | None:
        """``path`` resolved, when it lies inside the root; else None."""
        resolved = os.path.realpath(path)
        return resolved if resolved == self.path or resolved.startswith(self.path + os.sep) else None


def is_plain_name(name: str) -> bool:
    """True for one path component that names nothing special: no separator, NUL, ``.``/``..``, not hidden."""
    return bool(name) and not name.startswith(".") and not any(c in name for c in ("/", "\\", "\0"))


def _is_experiment(path: str) -> bool:
    return os.path.isdir(path) and any(os.path.isfile(os.path.join(path, n)) for n in _EXPERIMENT_FILES)
