"""One process at a time per experiment directory: an OS lock on ``<experiment>/lock``.

The lock is ``fcntl.flock`` on a file inside the experiment directory, held open for the whole run or
resume. The file records who holds it (host, pid, what it does, since when) so that a refusal can name
them. The operating system releases the lock when its process dies, however it dies: a lock left by a
killed process never blocks a resume. The file is removed when the lock is released.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time

import attrs

from tunecore.errors import TuneError

LOCK_FILE = "lock"
_HOLDER_WAIT_S = 0.5  # a new holder writes its name right after locking: wait this long to read it


@attrs.frozen
class LockHolder:
    """Who holds an experiment's lock, as its lock file says."""

    host: str
    """The holder's host name."""
    pid: int
    """The holder's process id."""
    purpose: str
    """What it does with the experiment: ``"run"`` or ``"resume"``."""
    since: str
    """When it took the lock (local time, ``YYYY-mm-dd HH:MM:SS``)."""

    def describe(self) -> str:
        """``process 123 on host-a (resume since 2024-05-01 12:00:00)``."""
        return f"process {self.pid} on {self.host} ({self.purpose} since {self.since})"


class ExperimentLock:
    """The exclusive lock on one experiment directory, held from :meth:`acquire` until :meth:`release`."""

    def __init__(self, directory: str, fd: int) -> None:
        self.directory = directory
        """The experiment directory (absolute)."""
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, directory: str, purpose: str) -> ExperimentLock:
        """Lock ``directory`` for this process; TuneError naming the holder if another process has it."""
        directory = os.path.abspath(directory)
        file = os.path.join(directory, LOCK_FILE)
        while True:
            try:
                fd = os.open(file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise TuneError(f"cannot lock the experiment {directory}: {exc.strerror or exc} ({file})") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _wait_for_holder(fd) if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK) else None
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                    raise TuneError(f"cannot lock the experiment {directory}: {exc.strerror or exc}") from exc
                who = holder.describe() if holder else "another process"
                raise TuneError(
                    f"the experiment {directory} is in use by {who}: one process at a time may run or resume it."
                    " Wait for that process to end (or stop it), then try again"
                ) from None
            if _same_file(fd, file):
                break
            os.close(fd)  # the previous holder removed the file between our open and our lock: lock the new one
        holder = LockHolder(socket.gethostname(), os.getpid(), purpose, time.strftime("%Y-%m-%d %H:%M:%S"))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(attrs.asdict(holder)).encode(), 0)
        return cls(directory, fd)

    @property
    def held(self) -> bool:
        """True until :meth:`release`."""
        return self._fd is not None

    def release(self) -> None:
        """Remove the lock file and release the lock (idempotent)."""
        if self._fd is None:
            return
        try:
            os.unlink(os.path.join(self.directory, LOCK_FILE))
        except OSError:
            pass  # the directory was removed (a run that failed before launching a trial)
        os.close(self._fd)  # closing releases the flock
        self._fd = None


def _wait_for_holder(fd: int) -> LockHolder | None:
    deadline = time.monotonic() + _HOLDER_WAIT_S
    while True:
        holder = _parse_holder(os.pread(fd, 4096, 0))
        if holder is not None or time.monotonic() >= deadline:
            return holder
        time.sleep(0.01)


def _parse_holder(data: bytes) -> LockHolder | None:
    try:
        fields = json.loads(data)
        return LockHolder(str(fields["host"]), int(fields["pid"]), str(fields["purpose"]), str(fields["since"]))
    except (ValueError, KeyError, TypeError):
        return None


def _same_file(fd: int, path: str) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False
