"""A trial's ``stdout.log`` on a node, sent to the driver as it grows (``checkpoint_sync="driver"``).

The trial's output goes to a file of its scratch directory; :class:`LogShipper` sends what is new in it as
``(LOG, data)`` messages: before each result and at the end of the launch (so the driver's ``stdout.log``
holds everything printed before a result when that result arrives), and every :data:`INTERVAL_S` from a
helper thread, so what a trial printed before its actor died reaches the driver too, up to the last
fraction of a second.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tune_ray.wire import LOG

INTERVAL_S = 0.5
"""How often the helper thread looks for new output."""
CHUNK_BYTES = 1 << 20
"""At most this much output per message."""


class LogShipper:
    """Sends the growth of the file ``path`` through ``post`` (thread-safe), in order, from one offset on."""

    def __init__(self, path: str, post: Callable[[tuple[Any, ...]], None]) -> None:
        self.path = path
        self._post = post
        self._offset = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> LogShipper:
        """Start the helper thread; returns self."""
        self._thread = threading.Thread(target=self._loop, name="tune-ray-log", daemon=True)
        self._thread.start()
        return self

    def ship(self) -> None:
        """Send what was written since the last call (nothing when the file does not exist yet)."""
        with self._lock:
            try:
                file = open(self.path, "rb")
            except OSError:
                return
            with file:
                file.seek(self._offset)
                while data := file.read(CHUNK_BYTES):
                    self._post((LOG, data))
                    self._offset += len(data)

    def stop(self) -> None:
        """Stop the helper thread (waiting for it); calling it again does nothing."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def close(self) -> None:
        """Stop the helper thread, then send the rest."""
        self.stop()
        self.ship()

    def _loop(self) -> None:
        while not self._stopped.wait(INTERVAL_S):
            try:
                self.ship()
            except BaseException:  # the connection is gone: the trial's own thread finds out at its next message
                return
