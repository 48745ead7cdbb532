"""The far side: a Ray actor that runs trials of one trainable, one at a time, with the core's TrialRunner.

:meth:`TrialActor.serve` is the actor's only Ray method and lasts its whole life: it connects back to the
driver (:mod:`tune_ray.wire`), announces itself, loads the trainable, then runs each launch it receives.
Reports are pipelined exactly as in the ``local`` executor: result *k* is written to the connection and the
trial goes on; its next ``report()`` waits for the answer to *k*. When the driver's experiment directory is
not visible on this node (``checkpoint_sync="driver"``, or ``"auto"`` deciding so), the trial works in a
scratch directory of this node: its checkpoints travel through Ray's object store (:mod:`tune_ray.objects`,
the connection carries their references) and its log over the connection as it grows
(:mod:`tune_ray.logship`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import struct
import sys
import tempfile
import threading
import traceback
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge
from typing import Any

import attrs
import cloudpickle

from tune_ray import objects, transfer
from tune_ray.logship import LogShipper
from tune_ray.wire import ANSWER, END, EXIT, HELLO, LAUNCH, MAX_MESSAGE_BYTES, RESULT, dumps, loads
from tunecore.executors import Action, CurrentLaunch, Outcome, TrialLaunch, TrialOutcome, TrialRunner

SCRATCH_ENV = "TUNE_RAY_SCRATCH_DIR"
"""Environment variable of a node: where trials keep their files when the driver's storage is not visible
there (default: ``<temp dir>/tune-ray``). Each node uses ``<that>/<node id>/``."""

_CONTINUE_VALUE = Action.CONTINUE.value


class ActorExit(BaseException):
    """The driver asked the actor to exit, or its connection is gone: the actor ends."""


class ActorChannel:
    """The pipelined :class:`~tunecore.executors.ReportChannel` of a trial actor."""

    def __init__(self, conn: Connection, max_message: int = MAX_MESSAGE_BYTES) -> None:
        self.conn = conn
        self.max_message = max_message
        self.launch = CurrentLaunch()
        self.scratch: str | None = None
        """The trial's directory on this node when checkpoints travel through the object store (else None)."""
        self.log: LogShipper | None = None
        """Sends the trial's log to the driver as it grows (scratch only)."""
        self._held: dict[int, Any] = {}
        """Object refs of checkpoints sent, by result seq, kept until the driver answers that result."""
        self._send_lock = threading.Lock()
        self._seq = 0
        self._awaiting = 0
        self._action: Action | None = None
        self._last_sent: str | None = None

    def begin(self, token: int, scratch: str | None) -> None:
        """Serve the launch ``token``."""
        self.launch.begin(token)
        self.scratch = scratch
        self._last_sent = None
        self._awaiting = 0
        self._action = None

    def end(self) -> None:
        """The launch ended: late answers are stale."""
        self.launch.end()
        self._awaiting = 0

    def action(self) -> Action:
        """Wait for the answer to the previous result (CONTINUE when none is due)."""
        while self._awaiting and self._action is None:
            self.handle(self.receive())
        return Action.CONTINUE if self._action is None else self._action

    def send(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> Action:
        """Write the result without waiting: the log so far first; a checkpoint in scratch goes into the object
        store and the message holds its reference."""
        self._seq += 1
        if self.log is not None:
            self.log.ship()
        shared = None
        sent = None
        if checkpoint is not None and self.scratch is not None:
            ref = objects.put_directory(checkpoint, temp_dir=self.scratch)
            self._held[self._seq] = ref
            shared = objects.share(ref)
            sent, checkpoint = checkpoint, os.path.basename(checkpoint)
        self.post((RESULT, self._seq, result, checkpoint, shared))
        if sent is not None:  # in the object store now: the scratch directory keeps only the latest
            previous, self._last_sent = self._last_sent, sent
            if previous is not None and previous != sent and _inside(previous, self.scratch):
                shutil.rmtree(previous, ignore_errors=True)
        self._awaiting = 0 if result.get("done") else self._seq
        return Action.CONTINUE

    def handle(self, message: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """Apply an answer or exit; return a launch message."""
        kind = message[0]
        if kind == ANSWER:
            for seq in [seq for seq in self._held if seq <= message[1]]:  # the driver has their checkpoints
                del self._held[seq]
            if message[1] == self._awaiting:
                self._awaiting = 0
                if message[2] != _CONTINUE_VALUE:
                    self._action = Action(message[2])
        elif kind == LAUNCH:
            return message
        elif kind == EXIT:
            raise ActorExit
        return None

    def receive(self) -> tuple[Any, ...]:
        """The next message from the driver (blocking)."""
        try:
            result: tuple[Any, ...] = loads(self.conn.recv_bytes(self.max_message))
        except (EOFError, OSError):  # gone, or a message longer than max_message
            raise ActorExit from None
        return result

    def post(self, message: tuple[Any, ...]) -> None:
        """Send ``message`` to the driver (from any thread)."""
        data = dumps(message)
        try:
            with self._send_lock:
                self.conn.send_bytes(data)
        except OSError:
            raise ActorExit from None


@attrs.define
class _Redirect:
    """The process's stdout and stderr sent to a file for one trial (file descriptors 1 and 2), Python's
    streams line-buffered meanwhile (each printed line is in the file at once, as on a terminal)."""

    path: str
    saved: tuple[int, int] = (-1, -1)
    buffering: list[tuple[Any, bool]] = attrs.field(factory=list)

    def __enter__(self) -> _Redirect:
        _flush()
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        target = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.saved = (os.dup(1), os.dup(2))
        os.dup2(target, 1)
        os.dup2(target, 2)
        os.close(target)
        streams: tuple[Any, ...] = (sys.stdout, sys.stderr)
        for stream in streams:
            try:
                self.buffering.append((stream, bool(stream.line_buffering)))
                stream.reconfigure(line_buffering=True)
            except (AttributeError, OSError, ValueError):  # not a TextIOWrapper: left as it is
                pass
        return self

    def __exit__(self, *exc: object) -> None:
        _flush()
        for stream, line_buffering in self.buffering:
            try:
                stream.reconfigure(line_buffering=line_buffering)
            except (AttributeError, OSError, ValueError):
                pass
        self.buffering.clear()
        for fd, saved in zip((1, 2), self.saved, strict=True):
            os.dup2(saved, fd)
            os.close(saved)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass


def scratch_base() -> str:
    """Where trials keep their files on this node when the driver's storage is not visible here."""
    return os.environ.get(SCRATCH_ENV) or os.path.join(tempfile.gettempdir(), "tune-ray")


def _marker_visible(marker: tuple[str, str] | None) -> bool:
    """True when the driver's marker file (path, content) is readable here: its storage is shared."""
    if marker is None:
        return False
    try:
        with open(marker[0]) as file:
            return file.read() == marker[1]
    except OSError:
        return False


class TrialActor:
    """Runs trials in a Ray actor; created by :class:`~tune_ray.executor.RayExecutor` (``ray.remote`` of it)."""

    def serve(
        self,
        payload: bytes,
        address: tuple[str, int],
        authkey: bytes,
        actor_key: int,
        sync: str,
        marker: tuple[str, str] | None,
        capture_output: bool,
        max_message: int = MAX_MESSAGE_BYTES,
    ) -> str:
        """Connect to the driver and run the launches it sends until told to exit; return why it ended."""
        import ray

        node_id = ray.get_runtime_context().get_node_id()
        shared = sync == "shared" or (sync == "auto" and _marker_visible(marker))
        conn = connect_back(address, authkey)
        _no_delay(conn)
        channel = ActorChannel(conn, max_message)
        channel.post((HELLO, actor_key, node_id, os.getpid(), shared))
        runner: TrialRunner | None = None
        init_error = None
        try:
            runner = TrialRunner(cloudpickle.loads(payload))
        except Exception:
            init_error = f"the trainable could not be unpickled in Ray actor {os.getpid()}:\n{traceback.format_exc()}"
        scratch_root = os.path.join(scratch_base(), node_id)
        if not shared:
            clean_stale(scratch_root)
        try:
            while True:
                message = channel.handle(channel.receive())
                if message is None:
                    continue
                launch: TrialLaunch = message[1]
                scratch = None if shared else os.path.join(scratch_root, f"{launch.trial_id}-{launch.token}")
                outcome = self._run(runner, init_error, launch, message[2], scratch, channel, capture_output)
                channel.post((END, outcome.kind.value, outcome.error))
        except ActorExit:
            pass
        finally:
            if runner is not None:
                runner.close()
            conn.close()
        ray.actor.exit_actor()  # the driver is gone or done: this process ends with it
        return "exit"

    @staticmethod
    def _run(
        runner: TrialRunner | None,
        init_error: str | None,
        launch: TrialLaunch,
        checkpoint_ref: bytes | None,
        scratch: str | None,
        channel: ActorChannel,
        capture_output: bool,
    ) -> TrialOutcome:
        channel.begin(launch.token, scratch)
        lock: int | None = None
        try:
            if scratch is not None:
                try:
                    lock = _own(scratch)
                    launch = _restore_in_scratch(launch, checkpoint_ref, scratch)
                except Exception:
                    error = f"trial {launch.trial_id}: its checkpoint could not be restored on this node:\n"
                    return TrialOutcome(Outcome.ERRORED, error=error + traceback.format_exc())
            if runner is None:
                return TrialOutcome(Outcome.ERRORED, error=init_error)
            log_path = os.path.join(launch.trial_dir, "stdout.log")
            if scratch is not None and capture_output:
                channel.log = LogShipper(log_path, channel.post).start()
            try:
                if capture_output:
                    with _Redirect(log_path):
                        outcome = runner.run(launch, channel)
                else:
                    outcome = runner.run(launch, channel)
            except ActorExit:
                raise
            except BaseException:  # SystemExit, KeyboardInterrupt...: the trial's error, not the actor's death
                outcome = TrialOutcome(Outcome.ERRORED, error=traceback.format_exc())
            if channel.log is not None:
                channel.log.close()  # the rest of the log, before the end
            return outcome
        finally:
            if channel.log is not None:
                channel.log.stop()
                channel.log = None
            channel.end()
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            if lock is not None:
                os.close(lock)


LOCK_NAME = ".tune-ray-lock"
"""In each launch's scratch directory: a file its actor holds locked (``flock``) while the launch runs."""


def _own(scratch: str) -> int:
    """Create ``scratch`` and lock it for this process (the descriptor to close when done): the lock file
    appears already locked (renamed into place), so :func:`clean_stale` never takes a live launch's."""
    os.makedirs(scratch, exist_ok=True)
    temporary = os.path.join(scratch, f"{LOCK_NAME}.{os.getpid()}")
    fd = os.open(temporary, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.rename(temporary, os.path.join(scratch, LOCK_NAME))
    return fd


def clean_stale(scratch_root: str) -> list[str]:
    """Remove the launch directories under ``scratch_root`` whose actor is gone (killed: its lock is free);
    those of live actors, and any without a lock file, are left. The paths removed."""
    removed: list[str] = []
    try:
        entries = os.listdir(scratch_root)
    except OSError:
        return removed
    for entry in entries:
        path = os.path.join(scratch_root, entry)
        try:
            fd = os.open(os.path.join(path, LOCK_NAME), os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: a live actor's
            os.close(fd)
            continue
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)
        removed.append(path)
    return removed


def _inside(path: str, directory: str | None) -> bool:
    if directory is None:
        return False
    return os.path.commonpath([os.path.abspath(path), os.path.abspath(directory)]) == os.path.abspath(directory)


def _restore_in_scratch(launch: TrialLaunch, checkpoint_ref: bytes | None, scratch: str) -> TrialLaunch:
    """``launch`` working in ``scratch``, its checkpoint (an object of the object store, ``checkpoint_ref``
    its reference from :func:`tune_ray.objects.share`) unpacked there."""
    os.makedirs(scratch, exist_ok=True)
    checkpoint = launch.checkpoint
    if checkpoint is not None:
        if checkpoint_ref is None:
            raise RuntimeError(
                f"the driver sent no object for checkpoint {checkpoint} (the driver's storage is not visible here)"
            )
        buffer = objects.fetch(objects.receive(checkpoint_ref))
        try:
            checkpoint = transfer.unpack(buffer, os.path.join(scratch, "restored", os.path.basename(checkpoint)))
        finally:
            buffer.release()
    return attrs.evolve(launch, trial_dir=scratch, checkpoint=checkpoint, token=launch.token)


def connect_back(address: tuple[str, int], authkey: bytes, timeout: float = 60.0) -> Connection:
    """The authenticated connection to the driver at ``address`` (IPv4 or IPv6, as the address says)."""
    sock = socket.create_connection((address[0], address[1]), timeout=timeout)
    sock.settimeout(None)  # a blocking descriptor, as Connection needs; the handshake's reads time out
    _io_timeout(sock, timeout)
    conn = Connection(os.dup(sock.fileno()))
    try:
        answer_challenge(conn, authkey)
        deliver_challenge(conn, authkey)
    except BaseException:
        conn.close()
        raise
    finally:
        _io_timeout(sock, 0.0)
        sock.close()
    return conn


def _io_timeout(sock: socket.socket, seconds: float) -> None:
    """Blocking reads and writes on ``sock`` (and its duplicates) fail after ``seconds`` (0: never)."""
    whole = int(seconds)
    value = struct.pack("ll", whole, int((seconds - whole) * 1e6))
    for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
        sock.setsockopt(socket.SOL_SOCKET, option, value)


def _no_delay(conn: Connection) -> None:
    """Small messages go out at once (no Nagle delay); TCP keepalive notices a driver whose machine vanished."""
    try:
        sock = socket.socket(fileno=os.dup(conn.fileno()))
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            for name, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
                if hasattr(socket, name):
                    sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
        finally:
            sock.close()
    except OSError:
        pass
