"""Slow work of the driver (checkpoints into and out of Ray's object store) in helper threads.

The driver's thread submits a job with what it needs to know when it is done (``context``), goes on serving
results, and is woken through :attr:`Jobs.wake_fd` (a socket it polls with the connections) when jobs are
done; :meth:`Jobs.done` hands them back on the driver's thread. Jobs only compute: the driver's thread
decides what their results mean (the executor's state is never touched from a helper thread).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import attrs

from tune_ray.wakeup import Wakeup

THREADS = 4
"""At most this many jobs run at once."""


@attrs.define(eq=False)
class Job:
    """One submitted job: its future, and what the driver's thread needs to handle its result."""

    future: Future[Any]
    context: Any


class Jobs:
    """Runs functions in helper threads and hands back the jobs done (on the caller's thread)."""

    def __init__(self, threads: int = THREADS) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._threads = threads
        self._lock = threading.Lock()
        self._done: list[Job] = []
        self._pending: dict[Future[Any], Job] = {}
        self._wakeup = Wakeup()

    @property
    def wake_fd(self) -> int:
        """Readable when jobs are done."""
        return self._wakeup.fd

    @property
    def pending(self) -> int:
        """Jobs submitted and not handed back by :meth:`done` yet."""
        with self._lock:
            return len(self._pending) + len(self._done)

    def submit(self, context: Any, function: Callable[..., Any], *args: Any) -> Job:
        """Run ``function(*args)`` in a helper thread."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="tune-ray-transfer")
        future = self._pool.submit(function, *args)
        job = Job(future, context)
        with self._lock:
            self._pending[future] = job
        future.add_done_callback(self._finished)  # not a closure over the job: no cycle keeps its result alive
        return job

    def _finished(self, future: Future[Any]) -> None:
        with self._lock:
            job = self._pending.pop(future, None)
            if job is None:  # closed meanwhile
                return
            self._done.append(job)
        self._wakeup.wake()

    def done(self) -> list[Job]:
        """The jobs finished since the last call, in the order they finished."""
        self._wakeup.clear()
        with self._lock:
            done, self._done = self._done, []
        return done

    def close(self) -> list[Job]:
        """Wait for every job still running; return those never handed back (for the caller to clean up)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._lock:
            left = [*self._done, *self._pending.values()]
            self._done, self._pending = [], {}
        self._wakeup.close()
        return left
