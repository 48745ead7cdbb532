"""The ``local`` executor (the default): trials run in persistent worker processes on this machine.

Each worker is a ``python -m tunecore.worker`` process (see :mod:`tunecore.worker` for the message
protocol) that receives the cloudpickled trainable once and then runs one trial at a time. The driver
multiplexes every worker's pipe and process handle in one event loop (:meth:`LocalExecutor.process`).
A worker's stdout and stderr are pipes read in that loop too: their lines go to the driver's own
``sys.stdout`` and ``sys.stderr`` (whatever those are at the time: a live console view, pytest's capture, a
notebook), so that a trial's prints do not reach the terminal behind the driver's back.
"""

from __future__ import annotations

import codecs
import math
import numbers
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection, wait
from typing import Any

import attrs

from tunecore.errors import ConfigError, TuneError
from tunecore.executors import (
    Action,
    CurrentLaunch,
    Executor,
    ExecutorHandler,
    Outcome,
    ResourceError,
    ResourcePool,
    ResourceRequest,
    Resources,
    TrialLaunch,
    pickle_by_value,
    pickle_trainable,
    requested_resources,
)
from tunecore.worker import ANSWER, END, EXIT, LAUNCH, PROTOCOL, READY, RESULT, STOP

_EPS = 1e-9
_CONTINUE, _STOP = Action.CONTINUE, Action.STOP  # module constants: an enum member lookup costs ~1 us on 3.11
_INLINE_INIT_BYTES = 60_000  # below a pipe's buffer: written at once without waiting for the worker
_MESSAGES, _EXITED = 0, 1  # what a registered file descriptor is, unless it is an _Output
_READ_BYTES = 1 << 16  # a pipe's default buffer
_READ_LIMIT = 1 << 20  # the most read from one output pipe per readiness: others get their turn
_HOLD_S = 0.2  # how long a partial line of output waits for its newline
_HOLD_CHARS = 1 << 16  # a partial line longer than this is written at once


@attrs.define(eq=False)
class _Output:
    """The driver's end of a worker's stdout or stderr pipe, and the partial line it holds."""

    fd: int
    name: str
    """``"stdout"`` or ``"stderr"``: the attribute of :mod:`sys` its text goes to."""
    decoder: codecs.IncrementalDecoder
    held: str = ""
    """The text after the last newline, written once its newline comes (or see ``since``)."""
    since: float = 0.0
    """When ``held`` stopped being empty: written anyway ``_HOLD_S`` later."""
    open: bool = True


@attrs.define(eq=False)
class _Worker:
    """One worker process and the driver's ends of its pipes."""

    slot: _Slot
    process: subprocess.Popen[bytes]
    inbox: Connection
    outbox: Connection
    poller: Any
    sentinel: int | None
    outputs: tuple[_Output, ...]
    output_poller: Any
    init_thread: threading.Thread | None = None
    ready: bool = False
    dead: bool = False
    owed: tuple[Any, ...] | None = None
    """An answer held back because the worker had already sent more (sent unless that was its trial's end)."""


@attrs.define(eq=False)
class _Slot:
    """A place for one worker: its fixed GPU devices, its current process and the trial it runs."""

    gpu_ids: tuple[str, ...] | None
    gpu_share: float
    worker: _Worker | None = None
    trial_id: str | None = None
    launch: CurrentLaunch = attrs.field(factory=CurrentLaunch)
    granted: Resources | None = None
    stop_requested: bool = False


class LocalExecutor(Executor):
    """Runs trials in persistent worker processes on this machine; registered as ``local``.

    Options:

    * ``num_workers``: how many worker processes (default: as many trials as the CPUs and GPUs fit,
      ``floor(num_cpus / cpu per trial)``, limited further by ``num_gpus / gpu per trial``);
    * ``num_cpus``: CPUs to share among running trials (default ``os.cpu_count()``);
    * ``num_gpus``: GPUs to share (default: the number of devices listed in ``CUDA_VISIBLE_DEVICES``, or 0);
    * ``memory``: bytes of memory to share (default: this machine's physical memory);
    * ``resources``: custom resources this machine has, e.g. ``{"accelerator_type_a100": 2}`` (default
      none: a trial asking for one is refused).

    Trials run at once only as far as these amounts allow, whatever ``num_workers`` is; a trial of several
    bundles needs their sum on this one machine. A request that can never fit is refused by :meth:`start`
    with a :class:`~tunecore.executors.ResourceError`. Each worker gets fixed GPU devices through
    ``CUDA_VISIBLE_DEVICES``: trials needing a fraction of a GPU share a device, whole counts get disjoint
    devices (bundles adding up to more than one GPU get whole devices, rounded up).
    """

    shutdown_grace_s: float = 1.0
    """How long :meth:`shutdown` waits for workers to exit before killing them."""

    def __init__(
        self,
        num_workers: int | None = None,
        num_cpus: float | None = None,
        num_gpus: float | None = None,
        memory: float | None = None,
        resources: dict[str, float] | None = None,
    ) -> None:
        if num_workers is not None and (
            isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 1
        ):
            raise ConfigError(f"num_workers must be a positive integer, got {num_workers!r}")
        _check_amount("num_cpus", num_cpus, allow_zero=False)
        _check_amount("num_gpus", num_gpus, allow_zero=True)
        _check_amount("memory", memory, allow_zero=True)
        self.num_workers = None if num_workers is None else int(num_workers)
        self.num_cpus = None if num_cpus is None else float(num_cpus)
        self.num_gpus = None if num_gpus is None else float(num_gpus)
        self.memory = None if memory is None else float(memory)
        self.resources = _check_custom(resources)
        self._handler: ExecutorHandler | None = None
        self._slots: list[_Slot] = []
        self._by_trial: dict[str, _Slot] = {}
        self._workers: set[_Worker] = set()
        self._events: Any = None  # made by start(): a poll object cannot be pickled (spec.pkl holds the executor)
        """Every live worker's pipe and process handle, registered once (not a new selector per wait)."""
        self._by_fd: dict[int, tuple[_Worker, int | _Output]] = {}
        """Registered file descriptor -> (its worker, ``_MESSAGES``, ``_EXITED`` (its process handle) or its output)."""
        self._held: set[_Output] = set()
        self._mid_line: dict[str, _Output] = {}
        """The output whose partial line ``sys.stdout`` / ``sys.stderr`` (by name) ends with, if any."""
        """The outputs holding a partial line."""
        self._pool = ResourcePool({})
        self._asked: tuple[dict[str, Any], Resources] | None = None  # the last request capacity() converted
        self._cpus = self._gpus = 0.0
        self._header = self._payload = b""
        self._env: dict[str, str] = {}
        self._cwd = ""
        self._started = self._closed = False

    # -- the Executor protocol ------------------------------------------------------------------------

    def start(self, trainable: Any, handler: ExecutorHandler) -> None:
        """Pickle ``trainable`` once and start every worker process without waiting for them."""
        if self._started:
            raise TuneError("LocalExecutor.start() was already called; create a new executor per experiment")
        request = requested_resources(trainable)
        cpu, gpu = request.cpu, request.gpu
        visible = _visible_devices()
        self._cpus = float(os.cpu_count() or 1) if self.num_cpus is None else self.num_cpus
        self._gpus = float(len(visible or ())) if self.num_gpus is None else self.num_gpus
        capacity = {"cpu": self._cpus, "gpu": self._gpus, "memory": _memory(self.memory), **self.resources}
        self._pool = ResourcePool(capacity, "the local executor", _FIX)
        self._pool.check_satisfiable(request)
        layout = _gpu_layout(gpu, self._gpus, visible)
        fit = self._pool.how_many(request, limit=len(layout) if gpu > _EPS else _most_workers(cpu, self._cpus))
        if fit < 1:
            raise ResourceError(
                f"each trial needs {request.describe()} but the {self._gpus:g} GPU of the local executor cannot be"
                f" split that way (fractions up to 1 share a device, larger amounts take whole devices): {_FIX}"
            )
        count = self.num_workers or fit
        self._payload = pickle_trainable(trainable)
        pythonpath = os.environ.get("PYTHONPATH")
        self._header = pickle.dumps((list(sys.path), pythonpath), PROTOCOL)
        self._env = dict(os.environ)
        self._env["PYTHONPATH"] = os.pathsep.join(filter(None, [_tunecore_root(), pythonpath]))
        self._cwd = os.getcwd()
        self._slots = [
            _Slot(layout[i], gpu) if i < len(layout) and gpu > _EPS else _Slot(None, 0.0) for i in range(count)
        ]
        self._handler = handler
        self._started = True
        self._events = select.poll()
        try:
            for slot in self._slots:
                self._spawn(slot)
        except BaseException:
            self.shutdown()
            raise

    def capacity(self, resources: ResourceRequest) -> int:
        """How many more trials needing ``resources`` fit now: idle workers, free CPUs, GPUs, memory, ..."""
        if not self._started or self._closed:
            return 0
        return self._fits(self._as_request(resources))

    def _fits(self, request: Resources) -> int:
        gpu = request.gpu
        free = sum(1 for slot in self._slots if slot.trial_id is None and slot.gpu_share + _EPS >= gpu)
        return self._pool.how_many(request, limit=free) if free else 0

    def _as_request(self, resources: ResourceRequest) -> Resources:
        if isinstance(resources, Resources) or not isinstance(resources, dict):
            return Resources.coerce(resources)
        asked = self._asked  # the controller asks about the same dict again and again: convert it once
        if asked is not None and asked[0] == resources:
            return asked[1]
        request = Resources.coerce(resources)
        self._asked = (dict(resources), request)
        return request

    def launch(self, launch: TrialLaunch) -> None:
        """Send ``launch`` to an idle worker (call :meth:`capacity` first)."""
        if not self._started or self._closed:
            raise TuneError("LocalExecutor.launch() needs start() first and cannot follow shutdown()")
        if launch.trial_id in self._by_trial:
            raise TuneError(f"trial {launch.trial_id} is already running")
        request = launch.resources
        if self._fits(request) < 1:
            raise TuneError(f"no capacity to launch trial {launch.trial_id} now; check capacity() first")
        gpu = request.gpu
        free = [slot for slot in self._slots if slot.trial_id is None and slot.gpu_share + _EPS >= gpu]
        slot = next((s for s in free if s.worker is not None and not s.worker.dead), free[0])
        if slot.worker is None or slot.worker.dead:
            self._spawn(slot)
        self._pool.acquire(request)
        slot.trial_id, slot.granted, slot.stop_requested = launch.trial_id, request, False
        slot.launch.begin(launch.token)
        self._by_trial[launch.trial_id] = slot
        assert slot.worker is not None
        message = (LAUNCH, launch)
        try:
            data = pickle.dumps(message, PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):  # e.g. a function in the config
            data = pickle_by_value(message)
        self._send_bytes(slot.worker, data)

    def process(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for worker messages or exits, then handle every one that is ready."""
        if not self._by_fd:
            return
        if self._held:  # wake up in time to write a partial line
            due = min(output.since for output in self._held) + _HOLD_S - time.monotonic()
            timeout = due if timeout is None else min(timeout, due)
        ready = self._events.poll(None if timeout is None else max(math.ceil(timeout * 1000), 0))
        # who is ready is settled first: a callback may end a worker and a new one reuse its pidfd number.
        # A worker's outputs were registered before its pipe: what it printed before a result comes first.
        for worker, role in [self._by_fd[fd] for fd, _ in ready if fd in self._by_fd]:
            if role is _MESSAGES:
                if not worker.dead:
                    self._drain(worker)
            elif role is _EXITED:
                if not worker.dead:
                    self._on_exit(worker)
            elif isinstance(role, _Output) and role.open:
                self._read_output(role)
        if self._held:
            now = time.monotonic()
            for output in [output for output in self._held if now >= output.since + _HOLD_S]:
                self._write_held(output)

    def stop(self, trial_id: str, force: bool = False) -> None:
        """Ask a trial to stop right after its next result, or (``force``) kill its worker and end it now."""
        slot = self._by_trial.get(trial_id)
        if slot is None or slot.worker is None:
            return
        worker = slot.worker
        if not force:
            if not slot.stop_requested:
                slot.stop_requested = True
                self._send(worker, (STOP, slot.launch.token))
            return
        self._release(slot)
        slot.worker = None
        if not worker.dead:
            worker.dead = True
            worker.process.kill()
            worker.process.wait()
            self._forget(worker)
        if not self._closed:
            self._spawn(slot)
        assert self._handler is not None
        self._handler.on_trial_end(trial_id, Outcome.STOPPED, None)

    def running(self) -> int:
        """How many launched trials have not ended yet."""
        return len(self._by_trial)

    def shutdown(self) -> None:
        """Ask workers to exit, kill those still there after ``shutdown_grace_s``, reap them all.

        Trials still running are abandoned without ``on_trial_end`` (as the ``inline`` executor does); the
        controller only shuts down with trials running when it is failing. Calling it again does nothing.
        """
        if self._closed:
            return
        self._closed = True
        workers = list(self._workers)  # every worker not reaped yet
        for worker in workers:
            if not worker.dead and (worker.init_thread is None or not worker.init_thread.is_alive()):
                self._send(worker, (EXIT,))
                worker.outbox.close()
        deadline = time.monotonic() + self.shutdown_grace_s
        exiting = [w.sentinel for w in workers if w.sentinel is not None and w.process.poll() is None]
        outputs = {output.fd: output for w in workers for output in w.outputs if output.open}
        while exiting and time.monotonic() < deadline:  # woken by each exit (Popen.wait(timeout) polls with sleeps)
            ready = set(wait([*exiting, *outputs], max(deadline - time.monotonic(), 0.0)))
            for output in [outputs[fd] for fd in ready if fd in outputs]:  # a full pipe would block its worker
                self._read_output(output)
                if not output.open:
                    del outputs[output.fd]
            exiting = [sentinel for sentinel in exiting if sentinel not in ready]
        for worker in workers:
            try:
                worker.process.wait(max(deadline - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                pass
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.kill()
            worker.process.wait()
            worker.dead = True
            self._forget(worker)
        for slot in self._slots:
            slot.worker = None
            if slot.trial_id is not None:
                self._release(slot)

    # -- workers ----------------------------------------------------------------------------------------

    def _spawn(self, slot: _Slot) -> None:
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        env = self._env
        if slot.gpu_ids is not None:
            env = {**env, "CUDA_VISIBLE_DEVICES": ",".join(slot.gpu_ids)}
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "tunecore.worker", str(to_worker_r), str(from_worker_w), str(os.getpid())],
                pass_fds=(to_worker_r, from_worker_w),
                cwd=self._cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=err_w,
            )
        except BaseException:
            for fd in (to_worker_w, from_worker_r, out_r, err_r):
                os.close(fd)
            raise
        finally:
            for fd in (to_worker_r, from_worker_w, out_w, err_w):
                os.close(fd)
        outputs = (_new_output(out_r, "stdout"), _new_output(err_r, "stderr"))
        output_poller = select.poll()
        for output in outputs:
            output_poller.register(output.fd, select.POLLIN)
        try:
            sentinel: int | None = os.pidfd_open(process.pid)
        except (AttributeError, OSError):  # no pidfd: the pipe's end of file tells the exit
            sentinel = None
        inbox = Connection(from_worker_r, writable=False)
        poller = select.poll()
        poller.register(from_worker_r, select.POLLIN)
        outbox = Connection(to_worker_w, readable=False)
        worker = _Worker(slot, process, inbox, outbox, poller, sentinel, outputs, output_poller)
        slot.worker = worker
        self._workers.add(worker)
        for output in outputs:  # before the pipe: see process()
            self._watch(output.fd, worker, output)
        self._watch(from_worker_r, worker, _MESSAGES)
        if sentinel is not None:
            self._watch(sentinel, worker, _EXITED)
        if len(self._header) + len(self._payload) <= _INLINE_INIT_BYTES:
            self._send_bytes(worker, self._header)
            self._send_bytes(worker, self._payload)
        else:  # a large trainable: do not wait here for this worker to read it
            worker.init_thread = threading.Thread(
                target=_send_init, args=(worker.outbox, self._header, self._payload), daemon=True
            )
            worker.init_thread.start()

    def _send(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        self._send_bytes(worker, pickle.dumps(message, PROTOCOL))

    @staticmethod
    def _send_bytes(worker: _Worker, data: bytes) -> None:
        if worker.init_thread is not None:
            worker.init_thread.join()
            worker.init_thread = None
        try:
            worker.outbox.send_bytes(data)
        except OSError:  # the worker is gone; process() reports its exit
            pass

    def _drain(self, worker: _Worker) -> None:
        recv, poll, dispatch = worker.inbox.recv_bytes, worker.poller.poll, self._dispatch
        try:
            while True:
                dispatch(worker, pickle.loads(recv()))
                if worker.dead or not poll(0):
                    return
        except (EOFError, OSError):
            self._on_exit(worker)

    def _dispatch(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        slot = worker.slot
        kind = message[0]
        if worker.owed is not None:  # an answer held back by the result before this message (see RESULT)
            owed, worker.owed = worker.owed, None
            if kind != END:
                self._send(worker, owed)
        handler = self._handler
        assert handler is not None
        if kind == RESULT:
            trial_id, token = slot.trial_id, slot.launch.token
            if trial_id is None:
                return
            result = message[2]
            done = result.get("done")  # read first: the handler may change the result
            decision = handler.on_result(trial_id, result, message[3])
            if done or worker.dead or not slot.launch.is_current(token) or slot.worker is not worker:
                return
            action = _CONTINUE if decision is None else decision.action
            if slot.stop_requested and action is _CONTINUE:
                action = _STOP
            if worker.poller.poll(0):
                # The worker sent more after this result without waiting for its answer: today that can only be
                # its trial's end (it waits for the answer before its next result), which makes the answer moot.
                # The answer is owed until the next message says so: not sending it saves a pipe write and
                # waking the worker, the largest cost of a short trial.
                worker.owed = (ANSWER, message[1], action.value)
                return
            self._send(worker, (ANSWER, message[1], action.value))
        elif kind == END:
            trial_id = slot.trial_id
            if trial_id is not None and slot.worker is worker:
                self._release(slot)
                if not worker.dead and (worker.output_poller.poll(0) or not self._held.isdisjoint(worker.outputs)):
                    self._drain_output(worker)  # the worker flushed its streams before the end: the trial's last words
                handler.on_trial_end(trial_id, Outcome(message[1]), message[2])
        elif kind == READY:
            worker.ready = True

    def _on_exit(self, worker: _Worker) -> None:
        if worker.dead:
            return
        worker.dead = True
        sent = []  # what the worker sent before it went: delivered once it is reaped
        try:
            while worker.poller.poll(0):
                sent.append(pickle.loads(worker.inbox.recv_bytes()))
        except (EOFError, OSError):
            pass
        try:
            returncode = worker.process.wait(2.0)
        except subprocess.TimeoutExpired:  # it closed its pipe but did not exit
            worker.process.kill()
            returncode = worker.process.wait()
        self._forget(worker)
        for message in sent:
            self._dispatch(worker, message)
        slot = worker.slot
        if slot.worker is not worker:  # the slot already has a new worker
            return
        slot.worker = None
        trial_id = slot.trial_id
        if trial_id is not None:
            self._release(slot)
        if worker.ready and not self._closed:  # replace it now; one that never got ready on the next launch
            self._spawn(slot)
        if trial_id is not None:
            assert self._handler is not None
            self._handler.on_trial_end(
                trial_id,
                Outcome.WORKER_DIED,
                f"worker process {worker.process.pid} died while running trial {trial_id} ({_describe(returncode)})",
            )

    def _forget(self, worker: _Worker) -> None:
        """Write what is left of a worker's output, release the driver's handles of it (exited and reaped)."""
        self._workers.discard(worker)
        self._drain_output(worker)
        for output in worker.outputs:
            if output.open:
                self._close_output(output)
        if worker.init_thread is not None:
            worker.init_thread.join()
            worker.init_thread = None
        worker.outbox.close()
        if not worker.inbox.closed:
            self._unwatch(worker.inbox.fileno())  # before closing: the number may be reused at once
            worker.inbox.close()
        if worker.sentinel is not None:
            self._unwatch(worker.sentinel)
            os.close(worker.sentinel)
            worker.sentinel = None

    def _watch(self, fd: int, worker: _Worker, role: int | _Output) -> None:
        self._events.register(fd, select.POLLIN)
        self._by_fd[fd] = (worker, role)

    def _unwatch(self, fd: int) -> None:
        if self._by_fd.pop(fd, None) is not None:
            self._events.unregister(fd)

    # -- the workers' stdout and stderr -----------------------------------------------------------------

    def _drain_output(self, worker: _Worker) -> None:
        """Write everything a worker has printed so far, partial lines included."""
        for output in worker.outputs:
            if output.open:
                self._read_output(output)
            if output.held:
                self._write_held(output)

    def _read_output(self, output: _Output) -> None:
        """Read what is in an output pipe without blocking; write its complete lines; close it at end of file."""
        chunks = []
        size = 0
        ended = False
        while size < _READ_LIMIT:
            try:
                data = os.read(output.fd, _READ_BYTES)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                ended = True
                break
            chunks.append(data)
            size += len(data)
            if len(data) < _READ_BYTES:  # most likely empty now; poll says if not
                break
        text = output.decoder.decode(b"".join(chunks), final=ended) if chunks or ended else ""
        if text:
            text = output.held + text
            cut = text.rfind("\n") + 1
            if cut:
                self._emit(output, text[:cut])
            if len(text) - cut > _HOLD_CHARS:
                self._emit(output, text[cut:])
                cut = len(text)
            if not output.held and cut < len(text):
                output.since = time.monotonic()
                self._held.add(output)
            output.held = text[cut:]
            if not output.held:
                self._held.discard(output)
        if ended:
            self._close_output(output)

    def _write_held(self, output: _Output) -> None:
        held, output.held = output.held, ""
        self._held.discard(output)
        if held:
            self._emit(output, held)

    def _emit(self, output: _Output, text: str) -> None:
        """Write ``text`` of ``output`` to its stream; on a line of its own when the stream ends with another
        output's partial line (written after its wait, see ``_HOLD_S``)."""
        other = self._mid_line.pop(output.name, None)
        if other is not None and other is not output:
            text = "\n" + text
        if not text.endswith("\n"):
            self._mid_line[output.name] = output
        _write(output.name, text)

    def _close_output(self, output: _Output) -> None:
        if output.held:
            self._write_held(output)
        output.open = False
        self._unwatch(output.fd)  # before closing: the number may be reused at once
        os.close(output.fd)

    # -- accounting -------------------------------------------------------------------------------------

    def _release(self, slot: _Slot) -> None:
        if slot.trial_id is not None:
            del self._by_trial[slot.trial_id]
        if slot.granted is not None:
            self._pool.release(slot.granted)
        slot.trial_id, slot.granted, slot.stop_requested = None, None, False
        slot.launch.end()


def _new_output(fd: int, name: str) -> _Output:
    os.set_blocking(fd, False)
    return _Output(fd, name, codecs.getincrementaldecoder("utf-8")(errors="replace"))


def _write(name: str, text: str) -> None:
    """Write ``text`` to ``sys.stdout`` or ``sys.stderr`` as they are now, and flush it."""
    stream = getattr(sys, name)
    if stream is None:  # e.g. pythonw
        return
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):  # closed, or a broken pipe: the output is lost, the experiment goes on
        pass


def _send_init(outbox: Connection, header: bytes, payload: bytes) -> None:
    try:
        outbox.send_bytes(header)
        outbox.send_bytes(payload)
    except OSError:  # the worker died first; the driver reports its exit
        pass


_FIX = (
    "lower the trial's request (tunecore.with_resources) or give the local executor more"
    " (its num_cpus, num_gpus, memory and resources={name: amount} options)"
)


def _most_workers(cpu: float, cpus: float) -> int:
    """The most workers for trials of ``cpu`` CPUs each when nothing else limits them."""
    return math.floor(cpus / cpu + _EPS) if cpu > _EPS else max(1, math.floor(cpus + _EPS))


def _memory(memory: float | None) -> float:
    """``memory``, or this machine's physical memory (unlimited where the system does not say)."""
    if memory is not None:
        return memory
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return math.inf


def _check_custom(resources: Any) -> dict[str, float]:
    if resources is None:
        return {}
    if not isinstance(resources, dict):
        raise ConfigError(f"resources must be a dict of custom resources such as {{'tpu': 4}}, got {resources!r}")
    for name, amount in resources.items():
        if not isinstance(name, str) or not name:
            raise ConfigError(f"resources: names are non-empty strings, got {name!r}")
        if name.lower() in ("cpu", "gpu", "memory"):
            option = {"cpu": "num_cpus", "gpu": "num_gpus", "memory": "memory"}[name.lower()]
            raise ConfigError(f"resources: {name!r} is not a custom resource: use the {option} option")
        _check_amount(f"resources[{name!r}]", amount, allow_zero=True)
    return {name: float(amount) for name, amount in resources.items()}


def _check_amount(name: str, value: Any, allow_zero: bool) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        raise ConfigError(f"{name} must be a {'number >= 0' if allow_zero else 'positive number'}, got {value!r}")


def _visible_devices() -> list[str] | None:
    value = os.environ.get("CUDA_VISIBLE_DEVICES")
    if value is None or not value.strip():
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _gpu_layout(gpu: float, num_gpus: float, visible: list[str] | None) -> list[tuple[str, ...]]:
    """The devices of each worker slot for trials needing ``gpu`` each (empty when ``gpu`` is 0)."""
    if gpu <= _EPS or num_gpus <= _EPS:
        return []
    wanted = math.ceil(num_gpus - _EPS)
    if visible is not None and wanted > len(visible):
        raise ConfigError(f"num_gpus={num_gpus:g} but CUDA_VISIBLE_DEVICES lists only {len(visible)} devices")
    ids = visible[:wanted] if visible is not None else [str(i) for i in range(wanted)]
    count = math.floor(num_gpus / gpu + _EPS)
    if gpu < 1 - _EPS:
        per_device = math.floor(1 / gpu + _EPS)
        return [(ids[i // per_device],) for i in range(min(count, len(ids) * per_device))]
    whole = math.ceil(gpu - _EPS)
    return [tuple(ids[i * whole : (i + 1) * whole]) for i in range(min(count, len(ids) // whole))]


def _tunecore_root() -> str:
    import tunecore

    return os.path.dirname(os.path.dirname(os.path.abspath(tunecore.__file__)))


def _describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"
