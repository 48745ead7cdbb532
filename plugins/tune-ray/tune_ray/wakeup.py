"""A wake-up for the driver's ``select()``: a helper thread makes a file descriptor readable."""

from __future__ import annotations

import socket


class Wakeup:
    """A socket pair: the driver waits on :attr:`fd`, any thread calls :meth:`wake`, and the driver calls
    :meth:`clear` before it collects what woke it (so that a wake-up after the clear is never lost)."""

    def __init__(self) -> None:
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)

    @property
    def fd(self) -> int:
        """Readable after :meth:`wake` until :meth:`clear`."""
        return self._read.fileno()

    def wake(self) -> None:
        """Make :attr:`fd` readable (from any thread)."""
        try:
            self._write.send(b"\0")
        except OSError:  # full (the driver is being woken already) or closed
            pass

    def clear(self) -> None:
        """Drain the pending wake-ups."""
        try:
            while self._read.recv(4096):
                pass
        except OSError:
            pass

    def close(self) -> None:
        """Close both ends."""
        self._read.close()
        self._write.close()
