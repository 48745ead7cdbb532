"""The worker process of the ``local`` executor, started as ``python -m tunecore.worker IN_FD OUT_FD DRIVER_PID``.

A worker runs trials of one trainable, one at a time, for its whole life. It talks to the driver over two
pipes (``IN_FD`` to read, ``OUT_FD`` to write), framed by :class:`multiprocessing.connection.Connection`;
every message but the trainable itself is a small tuple pickled with protocol 5, whose first item says
what it is.

The driver first sends a header ``(sys_path, pythonpath)`` (its ``sys.path``, and the ``PYTHONPATH`` to
restore in this process's environment), then the cloudpickled trainable as raw bytes. Then:

* driver to worker: ``(ANSWER, seq, action)`` the driver's answer to result ``seq`` (an :class:`Action`
  value), ``(LAUNCH, launch)`` run a :class:`~tunecore.executors.TrialLaunch`, ``(STOP, token)`` stop
  the trial of launch ``token`` right after its next result, ``(EXIT,)`` exit when idle (or at the next report);
* worker to driver: ``(READY, pid, error)`` the trainable was unpickled (``error`` is None) or not,
  ``(RESULT, seq, result, checkpoint)`` a result (``seq`` counts every result this worker sent),
  ``(END, kind, error)`` the running trial ended (``kind``: an :class:`~tunecore.executors.Outcome` value).

Reports are pipelined (:class:`~tunecore.executors.ReportChannel`): result ``k`` is sent without
waiting; the next ``report()`` first waits for the answer to ``k`` and, unless it is CONTINUE, ends the
trial without sending anything. Answers name the result (``seq`` is never reused by a worker) and stop
requests the launch's token, so those meant for an earlier launch are ignored
(:mod:`tunecore.executors.tokens`).

Its stdout and stderr are pipes that the driver reads (here line-buffered, UTF-8) and writes to its own
``sys.stdout`` and ``sys.stderr``.

The worker exits on ``EXIT``, when its input pipe reaches end of file, or (checked by a watchdog thread,
even during a trial) when the driver process is gone.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from tunecore.executors import Action, CurrentLaunch, Outcome, TrialLaunch, TrialOutcome, TrialRunner
from tunecore.executors.payload import restore_code  # noqa: F401  (older payloads name it here)
from tunecore.executors.tokens import NO_LAUNCH

# Driver to worker.
ANSWER = 0
"""``(ANSWER, seq, action_value)``: the decision about result ``seq``."""
LAUNCH = 1
"""``(LAUNCH, trial_launch)``: run a trial."""
STOP = 2
"""``(STOP, token)``: stop the trial of launch ``token`` right after its next result."""
EXIT = 3
"""``(EXIT,)``: exit."""

# Worker to driver.
RESULT = 0
"""``(RESULT, seq, result, checkpoint)``: a result of the running trial."""
END = 1
"""``(END, kind, error)``: the running trial ended."""
READY = 2
"""``(READY, pid, error)``: the trainable was unpickled (``error`` None) or could not be (a traceback)."""

PROTOCOL = 5
"""The pickle protocol of every message."""
WATCHDOG_INTERVAL_S = 0.5
"""How often the watchdog thread checks that the driver process is still there."""

_CONTINUE_VALUE = Action.CONTINUE.value


class WorkerExit(BaseException):
    """Raised inside a trial when the driver asked the worker to exit or is gone; ends the worker."""


class WorkerChannel:
    """The pipelined :class:`~tunecore.executors.ReportChannel` of a worker process."""

    def __init__(self, inbox: Connection, outbox: Connection) -> None:
        self._inbox = inbox
        self._outbox = outbox
        self._poller = select.poll()
        self._poller.register(inbox.fileno(), select.POLLIN)
        self._seq = 0
        self._awaiting = 0
        self._launch = CurrentLaunch()
        self._action: Action | None = None
        self._stop = False

    def begin(self, token: int) -> None:
        """Start serving the launch ``token``."""
        self._launch.begin(token)
        self._awaiting = 0
        self._action = None
        self._stop = False

    def end(self) -> None:
        """The launch ended: answers and stop requests for it are stale from now on."""
        self.begin(NO_LAUNCH)

    def action(self) -> Action:
        """Wait for the answer to the previous result (with none due, read what has arrived: a stop)."""
        if self._action is None:
            if self._awaiting:
                while self._awaiting and self._action is None:
                    self.handle(self.receive())
            else:
                while self._poller.poll(0):
                    self.handle(self.receive())
        return Action.CONTINUE if self._action is None else self._action

    def send(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> Action:
        """Send a result (its answer is awaited at the next report; a final one gets none); STOP when
        the driver asked to stop the trial."""
        self._seq += 1
        self.post((RESULT, self._seq, result, checkpoint))
        self._awaiting = 0 if result.get("done") else self._seq
        return Action.STOP if self._stop else Action.CONTINUE

    def handle(self, message: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """Apply an answer, stop or exit message; return a launch message, ignore stale ones."""
        kind = message[0]
        if kind == ANSWER:
            if message[1] == self._awaiting:
                self._awaiting = 0
                if message[2] != _CONTINUE_VALUE:
                    self._action = Action(message[2])
        elif kind == STOP:
            if self._launch.is_current(message[1]):
                self._stop = True
        elif kind == LAUNCH:
            return message
        elif kind == EXIT:
            raise WorkerExit
        return None

    def receive(self) -> tuple[Any, ...]:
        """The next message from the driver (blocking)."""
        return pickle.loads(self.receive_bytes())

    def receive_bytes(self) -> bytes:
        """The next raw message from the driver (blocking)."""
        try:
            return self._inbox.recv_bytes()
        except (EOFError, OSError):
            raise WorkerExit from None

    def post(self, message: tuple[Any, ...]) -> None:
        """Send ``message`` to the driver."""
        try:
            self._outbox.send_bytes(pickle.dumps(message, PROTOCOL))
        except OSError:
            raise WorkerExit from None


def _watch_driver(driver_pid: int) -> None:
    while True:
        if os.getppid() != driver_pid:
            os._exit(1)
        time.sleep(WATCHDOG_INTERVAL_S)


def _load_trainable(channel: WorkerChannel) -> tuple[TrialRunner | None, str | None]:
    sys_path, pythonpath = channel.receive()
    sys.path[:] = sys_path
    if pythonpath is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = pythonpath
    payload = channel.receive_bytes()
    try:
        return TrialRunner(pickle.loads(payload)), None
    except BaseException as exc:  # report any failure (even SystemExit at import) through the trials
        if isinstance(exc, KeyboardInterrupt):
            raise
        return None, (
            f"the trainable could not be unpickled in worker process {os.getpid()}:\n{traceback.format_exc()}"
        )


def _run(
    runner: TrialRunner | None, init_error: str | None, launch: TrialLaunch, channel: WorkerChannel
) -> TrialOutcome:
    if runner is None:
        return TrialOutcome(Outcome.ERRORED, error=init_error)
    try:
        return runner.run(launch, channel)
    except SystemExit:
        return TrialOutcome(Outcome.ERRORED, error=traceback.format_exc())


def serve(inbox: Connection, outbox: Connection) -> None:
    """Run the worker: load the trainable, then run the trials the driver launches until told to exit."""
    channel = WorkerChannel(inbox, outbox)
    runner: TrialRunner | None = None
    try:
        runner, init_error = _load_trainable(channel)
        channel.post((READY, os.getpid(), init_error))
        while True:
            message = channel.handle(channel.receive())
            if message is None:
                continue
            launch: TrialLaunch = message[1]
            channel.begin(launch.token)
            outcome = _run(runner, init_error, launch, channel)
            channel.end()
            _flush()
            channel.post((END, outcome.kind.value, outcome.error))
    except WorkerExit:
        pass
    finally:
        if runner is not None:
            runner.close()
        _flush()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m tunecore.worker IN_FD OUT_FD DRIVER_PID``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print(
            "usage: python -m tunecore.worker IN_FD OUT_FD DRIVER_PID (started by the local executor)", file=sys.stderr
        )
        return 2
    in_fd, out_fd, driver_pid = (int(arg) for arg in args)
    for fd in (in_fd, out_fd):  # a trainable's own subprocesses must not hold the pipes open
        os.set_inheritable(fd, False)
    # Ctrl-C reaches the whole process group: the driver decides what happens to the trials. A Python
    # handler (unlike SIG_IGN) is not inherited by the trainable's own subprocesses.
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    for stream in (sys.stdout, sys.stderr):  # pipes the driver reads line by line, as UTF-8
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8", errors=stream.errors, line_buffering=True)
    threading.Thread(target=_watch_driver, args=(driver_pid,), name="tunecore-watchdog", daemon=True).start()
    serve(Connection(in_fd, writable=False), Connection(out_fd, readable=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
