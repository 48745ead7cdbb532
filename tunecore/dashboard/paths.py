"""Every path the dashboard opens is confined to its storage root.

An experiment is named in a URL by its directory's name: one path component (no ``/``, ``\\``, NUL, no
``.``/``..``, nothing hidden), joined to the root, resolved with :func:`os.path.realpath` (symlinks
followed) and accepted only when the result is still inside the root. A symlink that leads out of the
root is refused like ``..`` or an absolute path.
"""

from __future__ import annotations

import os

from tunecore.views import is_experiment, storage_directory


class StorageRoot:
    """The storage path the dashboard serves (an experiment directory, or a directory of them)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        given = storage_directory(path, "dashboard")  # TuneError when it is not a directory: ls's rule and words
        self.path = os.path.realpath(given)
        """The root, resolved."""
        self.single = is_experiment(self.path)
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
        if os.path.dirname(path) != self.path or not is_experiment(path):
            return None  # out of the root (a symlink), nested, or no experiment
        return path

    def confined(self, path: str) -> str | None:
        """``path`` resolved, when it lies inside the root; else None."""
        resolved = os.path.realpath(path)
        return resolved if resolved == self.path or resolved.startswith(self.path + os.sep) else None


def is_plain_name(name: str) -> bool:
    """True for one path component that names nothing special: no separator, NUL, ``.``/``..``, not hidden."""
    return bool(name) and not name.startswith(".") and not any(c in name for c in ("/", "\\", "\0"))
