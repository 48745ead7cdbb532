"""The ``ray`` executor: each running trial is a Ray actor placed by its resources, reused per shape.

The driver keeps the controller and storage. Ray places and starts the actors; results and answers go over
one authenticated TCP connection per actor (:mod:`tune_ray.wire`), so a result costs about what it costs
with the ``local`` executor. Capacity comes from the executor's own :class:`~tune_ray.ledger.Ledger`.
Checkpoints that travel (``checkpoint_sync="driver"``) go through Ray's object store
(:mod:`tune_ray.objects`), fetched and written in helper threads (:mod:`tune_ray.jobs`) while the driver's
thread goes on serving the other trials; each actor's messages are still handled in the order it sent them.
"""

from __future__ import annotations

import math
import numbers
import os
import secrets
import select
import socket
import time
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

import attrs

from tune_ray import objects, transfer, wire
from tune_ray.actor import TrialActor
from tune_ray.connect import RayConnection, connect
from tune_ray.connections import Frames, Handshakes, shut
from tune_ray.jobs import Job, Jobs
from tune_ray.ledger import Ledger, actor_options, from_ray_nodes, ray_bundle
from tune_ray.payload import pickle_trainable
from tune_ray.wire import ANSWER, END, HELLO, LAUNCH, LOG, RESULT, dumps, loads
from tunecore.errors import ConfigError, TuneError
from tunecore.executors import (
    Action,
    Executor,
    ExecutorHandler,
    Outcome,
    ResourceError,
    ResourceRequest,
    Resources,
    TrialLaunch,
    requested_resources,
)

SYNC_CHOICES = ("auto", "shared", "driver")
LIVENESS_INTERVAL_S = 1.0
"""How often Ray is asked which actors died (a dead node may not close its connections)."""
REFRESH_INTERVAL_S = 10.0
"""How often the node list is read again (nodes that joined)."""
MESSAGE_TIMEOUT_S = 60.0
"""Once the first bytes of a message from an actor arrived, the whole message must within this many seconds,
else its connection is taken for dead (its trial ends WORKER_DIED): a node that goes silent mid-message."""
DEATH_DETAIL_S = 2.0
"""After an actor's death is seen (its connection ended), its trial ends once Ray says why the actor died
(the reason goes into the trial's error) or after this many seconds; the driver's thread never waits."""
_DYING_POLL_S = 0.05
_READ_SIZE = 1 << 20
NODE_ID_LABEL = "ray.io/node-id"
"""The label Ray gives every node: its id (a placement group's bundles are pinned with it)."""
_CONTINUE, _STOP = Action.CONTINUE, Action.STOP
_FIX = (
    "lower the trial's request (tunecore.with_resources) or add nodes that have it"
    " (ray start --address=... --num-cpus=.. --num-gpus=.. --resources='{\"name\": amount}')"
)


@attrs.define(eq=False)
class _Actor:
    """One trial actor and the driver's end of its connection."""

    key: int
    handle: Any
    shape: Resources
    nodes: list[str]
    placement_group: Any
    serve_ref: Any
    deadline: float
    conn: Connection | None = None
    shared: bool = False
    node_id: str = ""
    run: _Run | None = None
    dead: bool = False
    """Killed (or gone) and forgotten: nothing of it is handled any more."""
    dying: _Dying | None = None
    """Its death was seen (its connection is closed); its trial ends in :meth:`RayExecutor._check_dying`."""
    fetching: bool = False
    """A checkpoint it sent is being fetched: its later messages wait in ``backlog``."""
    backlog: deque[tuple[Any, ...]] = attrs.field(factory=deque)
    """Messages received and not handled yet (in order)."""
    reader: Frames = attrs.field(factory=lambda: Frames(wire.MAX_MESSAGE_BYTES))

    @property
    def placing(self) -> bool:
        """Not connected yet (Ray has not placed or started it)."""
        return self.conn is None and not self.dead and self.dying is None


@attrs.define(eq=False)
class _Dying:
    """Why an actor is taken for dead, and until when its trial's end waits for Ray's own reason."""

    why: str
    deadline: float


@attrs.define(eq=False)
class _Run:
    """One launch running on an actor."""

    launch: TrialLaunch
    actor: _Actor
    stop_requested: bool = False
    sent: bool = False
    launch_ref: Any = None
    """The object holding the launch's checkpoint for the actor; dropped at its first message (restored)."""


@attrs.define(eq=False)
class _Waiting:
    """A launch that no alive node can hold (the nodes that could have left): it waits for one until
    ``deadline``, then ends ERRORED."""

    launch: TrialLaunch
    deadline: float
    stop_requested: bool = False


@attrs.define(eq=False)
class _Fetch:
    """A result's checkpoint on its way from the object store into the trial's directory."""

    actor: _Actor
    run: _Run
    message: tuple[Any, ...]
    target: str


@attrs.define(eq=False)
class _Put:
    """A launch's checkpoint on its way into the object store, for the actor that runs it."""

    actor: _Actor
    run: _Run


class _Unavailable(Exception):
    """Ray could not give a checkpoint's object (its owner, the actor, or its node died first)."""


def _fetch_checkpoint(shared: bytes, target: str) -> str:
    """(A helper thread.) The object whose reference is ``shared``, staged as a checkpoint for ``target``:
    the staging directory."""
    try:
        buffer = objects.fetch_shared(shared)
    except objects.BadReference:
        raise
    except Exception as exc:
        raise _Unavailable(_why(exc)) from exc
    try:
        return transfer.stage(buffer, target)
    finally:
        buffer.release()


def _check_positive(name: str, value: Any, integer: bool) -> None:
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive {'integer' if integer else 'number'}, got {value!r}")


class RayExecutor(Executor):
    """Runs each trial in a Ray actor on a Ray cluster; registered as ``ray``.

    Options:

    * ``address``: None (start a private Ray on this machine, bound to 127.0.0.1, shut down at the end),
      ``"auto"`` (the cluster ``ray start`` runs here), ``"host:port"`` or ``"ray://host:10001"``;
    * ``reuse_actors`` (True): keep an ended trial's actor for the next trial of the same resources;
    * ``max_concurrent``: at most this many trials of this experiment at once (default: what the cluster holds);
    * ``checkpoint_sync``: ``"shared"`` (every node sees the experiment's storage path), ``"driver"``
      (checkpoints travel through Ray's object store to the driver's storage, and back to whichever node
      resumes from them; logs over the connection as they grow), ``"auto"`` (shared on the nodes where the
      storage is visible, driver elsewhere);
    * ``start_timeout_s`` (60): a trial whose actor is not placed and connected in time ends ERRORED,
      naming its request and the cluster's nodes; so does a trial that no alive node can hold any more,
      when no node that can joins in that time;
    * ``log_to_driver`` (False): False sends a trial's stdout and stderr to ``<trial>/stdout.log``; True
      leaves them to Ray, which prints them on the driver.
    """

    shutdown_grace_s: float = 10.0
    """How long :meth:`shutdown` waits for Ray to confirm that the actors are dead."""

    def __init__(
        self,
        address: str | None = None,
        reuse_actors: bool = True,
        max_concurrent: int | None = None,
        checkpoint_sync: str = "auto",
        start_timeout_s: float = 60.0,
        log_to_driver: bool = False,
    ) -> None:
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise ConfigError(f"address must be None, 'auto', 'host:port' or 'ray://host:10001', got {address!r}")
        if max_concurrent is not None:
            _check_positive("max_concurrent", max_concurrent, integer=True)
        if checkpoint_sync not in SYNC_CHOICES:
            choices = ", ".join(map(repr, SYNC_CHOICES))
            raise ConfigError(f"checkpoint_sync must be one of {choices}, got {checkpoint_sync!r}")
        _check_positive("start_timeout_s", start_timeout_s, integer=False)
        for name, flag in (("reuse_actors", reuse_actors), ("log_to_driver", log_to_driver)):
            if not isinstance(flag, bool):
                raise ConfigError(f"{name} must be true or false, got {flag!r}")
        self.address = address
        self.reuse_actors = reuse_actors
        self.max_concurrent = None if max_concurrent is None else int(max_concurrent)
        self.checkpoint_sync = checkpoint_sync
        self.start_timeout_s = float(start_timeout_s)
        self.log_to_driver = log_to_driver
        self._ray: Any = None
        self._connection: RayConnection | None = None
        self._handler: ExecutorHandler | None = None
        self._ledger = Ledger([], {})
        self._actors: dict[int, _Actor] = {}
        self._idle: dict[Resources, list[_Actor]] = {}
        self._by_trial: dict[str, _Run] = {}
        self._by_fd: dict[int, _Actor | str | None] = {}  # None: the listener; "wake": handshakes; "jobs"
        self._handshakes: Handshakes | None = None
        self._jobs: Jobs | None = None
        self._waiting: dict[str, _Waiting] = {}
        self._given_up: set[Resources] = set()
        """Requests whose launch waited in vain for a node: the next ones fail at once (until one can fit)."""
        self._dying: set[_Actor] = set()
        self._poller = select.poll()
        self._listener: socket.socket | None = None
        self._authkey = b""
        self._payload_ref: Any = None
        self._marker: tuple[str, str] | None = None
        self._next_key = 0
        self._asked: tuple[dict[str, Any], Resources] | None = None
        self._next_liveness = self._next_refresh = 0.0
        self._started = self._closed = False

    # -- the Executor protocol ------------------------------------------------------------------------

    def start(self, trainable: Any, handler: ExecutorHandler) -> None:
        """Connect to Ray, read the cluster's nodes, refuse an impossible request, put the trainable in the
        object store and open the port the actors connect back to."""
        if self._started:
            raise TuneError("RayExecutor.start() was already called; create a new executor per experiment")
        self._started = True
        request = requested_resources(trainable)
        self._connection = connect(self.address, self.log_to_driver)
        self._ray = self._connection.ray
        try:
            self._ledger = Ledger(*from_ray_nodes(self._ray.nodes()))
            if not self._ledger.feasible(request):
                raise ResourceError(self._cannot_hold(f"each trial needs {request.describe()}"))
            self._payload_ref = self._ray.put(pickle_trainable(trainable))
            self._authkey = secrets.token_bytes(32)
            host = self._ray.util.get_node_ip_address()
            listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
            listener.bind((host, 0))
            listener.listen(128)
            self._listener = listener
            self._watch(listener.fileno(), None)
            self._handshakes = Handshakes()
            self._watch(self._handshakes.wake_fd, "wake")
            self._jobs = Jobs()
            self._watch(self._jobs.wake_fd, "jobs")
            self._handler = handler
            self._next_refresh = time.monotonic() + REFRESH_INTERVAL_S
        except BaseException:
            self.shutdown()
            raise

    def capacity(self, resources: ResourceRequest) -> int:
        """How many more trials of ``resources`` fit now, by the ledger (idle actors count as free).

        A request that no alive node can hold any more (the nodes that could have left) counts as 1 while
        none of its shape waits: the controller launches that trial, which waits up to ``start_timeout_s``
        for such a node and else ends ERRORED naming its request (a pending trial would wait forever)."""
        if not self._started or self._closed or self._handler is None:
            return 0
        request = self._as_request(resources)
        limit = 2**31 if self.max_concurrent is None else self.max_concurrent - self.running()
        if limit <= 0:
            return 0
        if not self._ledger.feasible(request):
            return 0 if any(waiting.launch.resources == request for waiting in self._waiting.values()) else 1
        return self._ledger.how_many(request, limit)

    def _as_request(self, resources: ResourceRequest) -> Resources:
        if isinstance(resources, Resources) or not isinstance(resources, dict):
            return Resources.coerce(resources)
        asked = self._asked
        if asked is not None and asked[0] == resources:
            return asked[1]
        request = Resources.coerce(resources)
        self._asked = (dict(resources), request)
        return request

    def launch(self, launch: TrialLaunch) -> None:
        """Run ``launch`` on an idle actor of its shape, or on a new actor placed by the ledger; a launch that
        no alive node can hold waits for one (:class:`_Waiting`)."""
        if not self._started or self._closed or self._handler is None:
            raise TuneError("RayExecutor.launch() needs start() first and cannot follow shutdown()")
        if launch.trial_id in self._by_trial or launch.trial_id in self._waiting:
            raise TuneError(f"trial {launch.trial_id} is already running")
        request = launch.resources
        if not self._ledger.feasible(request):
            self._refresh_nodes()  # a node may have joined since the last look
        if not self._ledger.feasible(request):
            now = time.monotonic()
            deadline = now if request in self._given_up else now + self.start_timeout_s
            self._waiting[launch.trial_id] = _Waiting(launch, deadline)
            return
        self._given_up.discard(request)
        self._start_run(launch, time.monotonic() + self.start_timeout_s)

    def _start_run(self, launch: TrialLaunch, deadline: float, stop_requested: bool = False) -> None:
        request = launch.resources
        idle = self._idle.get(request)
        if idle:
            actor = idle.pop()
            self._ledger.set_idle(actor.nodes, actor.shape, idle=False)
        else:
            actor = self._new_actor(launch, deadline)
        run = _Run(launch, actor, stop_requested)
        actor.run = run
        self._by_trial[launch.trial_id] = run
        if actor.conn is not None:
            self._send_launch(run)

    def process(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for messages from actors and finished transfers, handle every one ready,
        then check placements, waiting launches and deaths."""
        if self._handler is None or self._closed:
            return
        assert self._jobs is not None
        if not (self._by_trial or self._actors or self._waiting or self._jobs.pending):
            now = time.monotonic()  # nothing to hear from: wait, and see nodes that join
            if now >= self._next_refresh:
                self._next_refresh = now + REFRESH_INTERVAL_S
                self._refresh_nodes()
            time.sleep(min(max(timeout, 0.0), max(self._next_refresh - now, 0.0)))
            return
        now = time.monotonic()
        wait_s = max(timeout, 0.0)
        placing = [actor.deadline for actor in self._actors.values() if actor.placing]
        if placing:
            wait_s = min(wait_s, max(min(placing) - now, 0.0), LIVENESS_INTERVAL_S)
        if any(actor.reader.partial_since is not None for actor in self._actors.values()):
            wait_s = min(wait_s, LIVENESS_INTERVAL_S)  # a message is half-way: see whether it stalls
        if self._waiting:
            deadline = min(waiting.deadline for waiting in self._waiting.values())
            wait_s = min(wait_s, max(deadline - now, 0.0), LIVENESS_INTERVAL_S)
        if self._dying:
            wait_s = min(wait_s, _DYING_POLL_S)
        ready = self._poller.poll(math.ceil(wait_s * 1000))
        for target in [self._by_fd[fd] for fd, _ in ready if fd in self._by_fd]:
            if target is None:
                self._accept()
            elif target == "wake":
                assert self._handshakes is not None
                for conn, message in self._handshakes.done():
                    self._hello(conn, message)
            elif target == "jobs":
                for job in self._jobs.done():
                    self._job_done(job)
            elif isinstance(target, _Actor) and target.conn is not None:
                self._drain(target)
        now = time.monotonic()
        self._check_stalled(now)
        if placing:
            self._check_placements(now)
        if now >= self._next_liveness:
            self._next_liveness = now + LIVENESS_INTERVAL_S
            self._check_liveness()
            if self._waiting:
                self._refresh_nodes()  # a node that can hold a waiting launch is used within a second
        if now >= self._next_refresh:
            self._next_refresh = now + REFRESH_INTERVAL_S
            self._refresh_nodes()
        if self._waiting:
            self._check_waiting(now)
        if self._dying:
            self._check_dying(now)

    def stop(self, trial_id: str, force: bool = False) -> None:
        """Ask a trial to stop after its next result, or (``force``) kill its actor and end it now."""
        waiting = self._waiting.get(trial_id)
        if waiting is not None:
            waiting.stop_requested = True
            if force:
                del self._waiting[trial_id]
                assert self._handler is not None
                self._handler.on_trial_end(trial_id, Outcome.STOPPED, None)
            return
        run = self._by_trial.get(trial_id)
        if run is None:
            return
        if not force:
            run.stop_requested = True
            return
        self._kill(run.actor)
        self._by_trial.pop(trial_id, None)
        assert self._handler is not None
        self._handler.on_trial_end(trial_id, Outcome.STOPPED, None)

    def running(self) -> int:
        """How many launched trials have not ended yet."""
        return len(self._by_trial) + len(self._waiting)

    def shutdown(self) -> None:
        """Kill every actor (and placement group), wait for Ray to confirm and for transfers in progress,
        close the port; shut down or disconnect the Ray that tunecore started. Trials still running get no
        ``on_trial_end``."""
        if self._closed:
            return
        self._closed = True
        self._by_trial.clear()
        self._waiting.clear()
        actors = list(self._actors.values())
        for actor in actors:
            self._kill(actor)
        refs = [actor.serve_ref for actor in actors]
        if refs and self._ray is not None and self._ray.is_initialized():
            try:
                self._ray.wait(refs, num_returns=len(refs), timeout=self.shutdown_grace_s)
            except Exception:  # Ray itself is going away: nothing more to wait for
                pass
        if self._jobs is not None:  # fetches fail fast once their actors (the objects' owners) are dead
            for job in self._jobs.close():
                self._discard_job(job)
        for fd in list(self._by_fd):
            self._unwatch(fd)
        if self._handshakes is not None:
            self._handshakes.close()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._marker is not None:
            try:
                os.unlink(self._marker[0])
            except OSError:
                pass
        self._payload_ref = None
        if self._connection is not None:
            self._connection.close()

    # -- actors ---------------------------------------------------------------------------------------

    def _new_actor(self, launch: TrialLaunch, deadline: float) -> _Actor:
        request = launch.resources
        nodes = self._ledger.place(request)
        while nodes is None:
            victim = self._an_idle_actor()
            if victim is None:
                raise TuneError(
                    f"no room for trial {launch.trial_id} ({request.describe()}) now; ask capacity() before launching"
                )
            self._kill(victim)
            nodes = self._ledger.place(request)
        ray = self._ray
        if self.checkpoint_sync == "auto" and self._marker is None:
            self._marker = self._write_marker(os.path.dirname(os.path.abspath(launch.trial_dir)))
        names = self._ledger.ray_names
        options = actor_options(request.bundles[0], names)
        placement_group = None
        if len(request.bundles) == 1:
            strategy = ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy(nodes[0], soft=False)
        else:
            bundles = [ray_bundle(bundle, names) or {"CPU": 0.001} for bundle in request.bundles]
            try:  # each bundle on the node the ledger booked it on
                selector = [{NODE_ID_LABEL: node_id} for node_id in nodes]
                placement_group = ray.util.placement_group(bundles, strategy="PACK", bundle_label_selector=selector)
            except TypeError:  # a Ray without label selectors: the ledger follows Ray once placed (_hello)
                placement_group = ray.util.placement_group(bundles, strategy="PACK")
            strategy = ray.util.scheduling_strategies.PlacementGroupSchedulingStrategy(
                placement_group, placement_group_bundle_index=0
            )
        self._next_key += 1
        key = self._next_key
        remote = _remote_class(ray)
        handle = remote.options(
            **options, scheduling_strategy=strategy, max_restarts=0, max_task_retries=0, name=None
        ).remote()
        assert self._listener is not None
        address = self._listener.getsockname()[:2]
        serve_ref = handle.serve.remote(
            self._payload_ref,
            address,
            self._authkey,
            key,
            self.checkpoint_sync,
            self._marker,
            not self.log_to_driver,
            wire.MAX_MESSAGE_BYTES,
        )
        actor = _Actor(key, handle, request, nodes, placement_group, serve_ref, deadline)
        self._actors[key] = actor
        self._ledger.book(nodes, request)
        return actor

    @staticmethod
    def _write_marker(directory: str) -> tuple[str, str] | None:
        token = secrets.token_hex(16)
        path = os.path.join(directory, f".tune-ray-{token[:12]}")
        try:
            os.makedirs(directory, exist_ok=True)
            with open(path, "w") as file:
                file.write(token)
        except OSError:
            return None
        return path, token

    def _an_idle_actor(self) -> _Actor | None:
        for actors in self._idle.values():
            if actors:
                return actors[0]
        return None

    def _kill(self, actor: _Actor) -> None:
        """Kill ``actor`` now (its trial, if any, is the caller's to end) and give back what it held."""
        if actor.dead:
            return
        actor.dead = True
        self._dying.discard(actor)
        self._actors.pop(actor.key, None)
        idle = self._idle.get(actor.shape)
        if idle and actor in idle:
            idle.remove(actor)
            self._ledger.set_idle(actor.nodes, actor.shape, idle=False)
        self._ledger.unbook(actor.nodes, actor.shape)
        self._disconnect(actor)
        actor.backlog.clear()
        if actor.run is not None:
            self._by_trial.pop(actor.run.launch.trial_id, None)
            actor.run.launch_ref = None
            actor.run = None
        ray = self._ray
        try:
            ray.kill(actor.handle, no_restart=True)
        except Exception:  # already gone
            pass
        if actor.placement_group is not None:
            try:
                ray.util.remove_placement_group(actor.placement_group)
            except Exception:
                pass

    def _disconnect(self, actor: _Actor) -> None:
        """Close the driver's end of ``actor``'s connection (nothing more is read from it)."""
        if actor.conn is not None:
            self._unwatch(actor.conn.fileno())
            actor.conn.close()
            actor.conn = None

    def _send_launch(self, run: _Run) -> None:
        """Send the launch; a checkpoint for an actor that works in scratch goes into the object store first
        (in a helper thread: :meth:`_put_done` sends the launch)."""
        actor, launch = run.actor, run.launch
        run.sent = True
        if launch.checkpoint is None or actor.shared:
            self._send(actor, (LAUNCH, launch, None))
            return
        assert self._jobs is not None
        self._jobs.submit(_Put(actor, run), objects.put_shared, launch.checkpoint)

    def _send(self, actor: _Actor, message: tuple[Any, ...]) -> None:
        if actor.conn is None:
            return
        try:
            actor.conn.send_bytes(dumps(message))
        except OSError:  # gone, or not reading (SEND_TIMEOUT_S): its connection's end says so at the next poll
            shut(actor.conn)

    def _accept(self) -> None:
        """Take a new connection and authenticate it in a helper thread (:class:`Handshakes`)."""
        assert self._listener is not None
        try:
            sock, _ = self._listener.accept()
        except OSError:
            return
        assert self._handshakes is not None
        self._handshakes.start(sock, self._authkey)

    def _hello(self, conn: Connection, message: Any) -> None:
        """An authenticated connection announced itself (``message``): attach it to its actor."""
        actor = self._actors.get(message[1]) if message[0] == HELLO else None
        if actor is None or not actor.placing:
            conn.close()
            return
        actor.conn, actor.node_id, actor.shared = conn, message[2], bool(message[4])
        self._watch(conn.fileno(), actor)
        if actor.placement_group is not None:
            self._rebook(actor)
        if actor.run is not None and not actor.run.sent:
            self._send_launch(actor.run)

    def _rebook(self, actor: _Actor) -> None:
        """Book ``actor``'s placement group where Ray placed its bundles, if that is not where the ledger
        booked them."""
        try:
            table = self._ray.util.placement_group_table(actor.placement_group)["bundles_to_node_id"]
            placed = [table[index] for index in range(len(actor.shape.bundles))]
        except Exception:  # Ray cannot say now: keep the ledger's booking
            return
        if placed != actor.nodes:
            self._ledger.unbook(actor.nodes, actor.shape)
            actor.nodes = placed
            self._ledger.book(placed, actor.shape)

    # -- messages -------------------------------------------------------------------------------------

    def _drain(self, actor: _Actor) -> None:
        """Read what ``actor`` sent (never waiting for more) and handle each complete message, in order."""
        conn = actor.conn
        assert conn is not None
        try:
            data = os.read(conn.fileno(), _READ_SIZE)
        except OSError as exc:
            self._on_death(actor, f"its connection to the driver failed: {exc}")
            return
        if not data:
            self._on_death(actor, "its connection to the driver closed")
            return
        reader = actor.reader
        reader.feed(data, time.monotonic())
        while True:
            try:
                payload = reader.next()
                if payload is None:
                    break
                message = loads(payload)
            except Exception as exc:
                self._on_death(actor, f"it sent a message that cannot be read: {type(exc).__name__}: {exc}")
                break
            actor.backlog.append(message)
        self._pump(actor)

    def _pump(self, actor: _Actor) -> None:
        """Handle ``actor``'s messages received, in order, until one waits for its checkpoint to arrive."""
        while actor.backlog and not actor.fetching and not actor.dead:
            self._dispatch(actor, actor.backlog.popleft())

    def _check_stalled(self, now: float) -> None:
        """Connections whose message stopped half-way for MESSAGE_TIMEOUT_S are dead."""
        for actor in list(self._actors.values()):
            since = actor.reader.partial_since
            if actor.conn is not None and since is not None and now - since > MESSAGE_TIMEOUT_S:
                self._on_death(
                    actor,
                    f"a message from it stopped half-way ({actor.reader.pending} bytes) for more than"
                    f" {MESSAGE_TIMEOUT_S:g} s",
                )

    def _dispatch(self, actor: _Actor, message: tuple[Any, ...]) -> None:
        run = actor.run
        if run is None:
            return
        run.launch_ref = None  # the actor has restored the launch's checkpoint (or given up): the object can go
        handler = self._handler
        assert handler is not None
        kind = message[0]
        if kind == RESULT:
            if message[4] is not None:
                self._fetch(actor, message)
            else:
                self._deliver(actor, message, message[3], release=False)
        elif kind == LOG:
            self._append_log(run, message[1])
        elif kind == END:
            _, outcome, error = message
            self._end_run(actor)
            handler.on_trial_end(run.launch.trial_id, Outcome(outcome), error)

    def _deliver(self, actor: _Actor, message: tuple[Any, ...], checkpoint: str | None, release: bool) -> None:
        """Hand result ``message`` to the handler and answer it; ``release``: the actor holds its checkpoint in
        the object store until an answer, which it then gets even when no decision is due."""
        run = actor.run
        assert run is not None and self._handler is not None
        _, seq, result, _, _ = message
        decision = self._handler.on_result(run.launch.trial_id, result, checkpoint)
        if actor.run is not run:  # stopped by force from on_result
            return
        if result.get("done"):
            if release:
                self._send(actor, (ANSWER, seq, _CONTINUE.value))
            return
        action = _CONTINUE if decision is None else decision.action
        if run.stop_requested and action is _CONTINUE:
            action = _STOP
        self._send(actor, (ANSWER, seq, action.value))

    def _append_log(self, run: _Run, data: Any) -> None:
        """Add what the trial wrote on its node to ``<trial>/stdout.log`` (best effort: a log never fails a trial)."""
        if not isinstance(data, bytes):
            return
        try:
            os.makedirs(run.launch.trial_dir, exist_ok=True)
            with open(os.path.join(run.launch.trial_dir, "stdout.log"), "ab") as file:
                file.write(data)
        except OSError:
            pass

    # -- checkpoints through the object store ---------------------------------------------------------

    def _fetch(self, actor: _Actor, message: tuple[Any, ...]) -> None:
        """Start fetching result ``message``'s checkpoint (its reference) into the trial's directory, in a
        helper thread; ``actor``'s later messages wait for it (:meth:`_fetched`). A name that is not a plain
        directory name, or a reference that cannot be read, ends the trial ERRORED (its actor is killed)."""
        run = actor.run
        assert run is not None
        name, shared = message[3], message[4]
        if not isinstance(name, str) or name in ("", ".", "..") or os.path.basename(name) != name or "\0" in name:
            self._fail_run(actor, f"its actor sent a checkpoint named {name!r}, not a plain directory name")
            return
        if not isinstance(shared, bytes):
            self._fail_run(actor, f"its actor sent checkpoint {name!r} without a readable object reference")
            return
        actor.fetching = True
        target = os.path.join(run.launch.trial_dir, name)
        assert self._jobs is not None
        self._jobs.submit(_Fetch(actor, run, message, target), _fetch_checkpoint, shared, target)

    def _job_done(self, job: Job) -> None:
        if isinstance(job.context, _Fetch):
            self._fetched(job)
        else:
            self._put_done(job)

    def _fetched(self, job: Job) -> None:
        """A result's checkpoint is staged (or could not be): put it in place and deliver the result, then
        the actor's messages that waited for it."""
        fetch: _Fetch = job.context
        actor, run = fetch.actor, fetch.run
        current = not actor.dead and actor.run is run
        if current:
            actor.fetching = False
        name, trial_dir = fetch.message[3], run.launch.trial_dir
        try:
            staging = job.future.result()
        except objects.BadReference as exc:
            if current:
                self._fail_run(actor, f"its actor sent checkpoint {name!r} without a readable object reference: {exc}")
            return
        except _Unavailable as exc:
            if current:
                actor.backlog.clear()  # the trial did not end as it said: its last checkpoint is lost
                self._on_death(actor, f"its checkpoint {name!r} could not be fetched from Ray's object store: {exc}")
            return
        except Exception as exc:  # refused (TransferError) or not written (OSError)
            if current:
                self._fail_run(actor, f"its checkpoint {name!r} could not be written to {trial_dir}: {_why(exc)}")
            return
        if not current:
            transfer.discard(staging)
            return
        try:
            path = transfer.commit(staging, fetch.target)
        except OSError as exc:
            self._fail_run(actor, f"its checkpoint {name!r} could not be written to {trial_dir}: {_why(exc)}")
            return
        self._deliver(actor, fetch.message, path, release=True)
        self._pump(actor)

    def _put_done(self, job: Job) -> None:
        """A launch's checkpoint is in the object store (or could not be put there): send the launch."""
        put: _Put = job.context
        actor, run = put.actor, put.run
        try:
            ref, shared = job.future.result()
        except Exception as exc:
            if not actor.dead and actor.run is run:  # the actor never started it: it stays usable
                assert self._handler is not None
                self._end_run(actor)
                self._handler.on_trial_end(
                    run.launch.trial_id,
                    Outcome.ERRORED,
                    f"trial {run.launch.trial_id}: its checkpoint {run.launch.checkpoint} could not be sent to its"
                    f" node: {_why(exc)}",
                )
            return
        if actor.dead or actor.run is not run:
            return
        run.launch_ref = ref
        self._send(actor, (LAUNCH, run.launch, shared))

    @staticmethod
    def _discard_job(job: Job) -> None:
        """Clean up after a job whose result nobody will use (at shutdown)."""
        if isinstance(job.context, _Fetch) and job.future.done() and job.future.exception() is None:
            transfer.discard(job.future.result())

    # -- ends -----------------------------------------------------------------------------------------

    def _fail_run(self, actor: _Actor, why: str) -> None:
        """End ``actor``'s trial ERRORED because of what it sent, and kill the actor (it waits for an answer)."""
        run = actor.run
        assert run is not None and self._handler is not None
        self._kill(actor)
        self._handler.on_trial_end(run.launch.trial_id, Outcome.ERRORED, f"trial {run.launch.trial_id}: {why}")

    def _end_run(self, actor: _Actor) -> None:
        run = actor.run
        assert run is not None
        self._by_trial.pop(run.launch.trial_id, None)
        actor.run = None
        if self.reuse_actors and not self._closed and actor.dying is None:
            self._idle.setdefault(actor.shape, []).append(actor)
            self._ledger.set_idle(actor.nodes, actor.shape, idle=True)
        else:
            self._kill(actor)

    def _on_death(self, actor: _Actor, why: str) -> None:
        """``actor`` is taken for dead: stop reading it; its trial ends in :meth:`_check_dying` (not waiting here)."""
        if actor.dead or actor.dying is not None:
            return
        actor.dying = _Dying(why, time.monotonic() + DEATH_DETAIL_S)
        self._dying.add(actor)
        self._disconnect(actor)
        self._refresh_nodes()

    def _check_dying(self, now: float) -> None:
        """End the trials of dying actors once Ray says why they died (or DEATH_DETAIL_S passed), and once
        their checkpoint in transfer, if any, arrived (or could not)."""
        dying = [actor for actor in self._dying if not actor.fetching]
        refs = [actor.serve_ref for actor in dying if actor.serve_ref is not None]
        ready: set[Any] = set()
        if refs:
            try:
                ready = set(self._ray.wait(refs, num_returns=len(refs), timeout=0)[0])
            except Exception:  # Ray cannot say now: the deadlines decide
                pass
        for actor in dying:
            assert actor.dying is not None
            known = actor.serve_ref is not None and actor.serve_ref in ready
            if not known and now < actor.dying.deadline:
                continue
            why, run = actor.dying.why, actor.run
            detail = self._death_detail(actor) if known else ""
            self._kill(actor)
            if run is not None:
                assert self._handler is not None
                self._handler.on_trial_end(
                    run.launch.trial_id,
                    Outcome.WORKER_DIED,
                    f"the Ray actor running trial {run.launch.trial_id} (node {actor.node_id or '?'}) died: {why}"
                    + (f"\n{detail}" if detail else ""),
                )

    def _death_detail(self, actor: _Actor) -> str:
        """What Ray says about an actor whose ``serve`` call ended (its result is ready: no wait)."""
        try:
            self._ray.get(actor.serve_ref, timeout=0)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return ""

    def _check_placements(self, now: float) -> None:
        for actor in list(self._actors.values()):
            if not actor.placing or now < actor.deadline:
                continue
            run = actor.run
            self._kill(actor)
            if run is not None:
                assert self._handler is not None
                self._handler.on_trial_end(
                    run.launch.trial_id,
                    Outcome.ERRORED,
                    f"trial {run.launch.trial_id} ({run.launch.resources.describe()}) was not placed on the Ray"
                    f" cluster within start_timeout_s={self.start_timeout_s:g} s; the cluster has"
                    f" {self._ledger.describe()}. Other jobs may hold the resources, or the nodes that had them"
                    " are gone",
                )

    def _check_waiting(self, now: float) -> None:
        """Place the waiting launches that a node can hold now (as any launch: start_timeout_s to be placed);
        end those past their deadline ERRORED."""
        for trial_id, waiting in list(self._waiting.items()):
            request = waiting.launch.resources
            if self._ledger.feasible(request) and self._ledger.place_reclaiming(request) is not None:
                del self._waiting[trial_id]
                self._given_up.discard(request)
                self._start_run(waiting.launch, now + self.start_timeout_s, waiting.stop_requested)
            elif now >= waiting.deadline:
                del self._waiting[trial_id]
                if self._ledger.feasible(request):
                    why = (
                        f"trial {trial_id} ({request.describe()}) was not placed on the Ray cluster within"
                        f" start_timeout_s={self.start_timeout_s:g} s; the cluster has {self._ledger.describe()}"
                    )
                else:
                    self._given_up.add(request)
                    why = "ResourceError: " + self._cannot_hold(
                        f"trial {trial_id} needs {request.describe()}",
                        f"; the nodes that could have left, and none joined within start_timeout_s="
                        f"{self.start_timeout_s:g} s",
                    )
                assert self._handler is not None
                self._handler.on_trial_end(trial_id, Outcome.ERRORED, why)

    def _cannot_hold(self, needs: str, since: str = "") -> str:
        """The message for a request that no node of the cluster can hold."""
        return (
            f"{needs} but no node of the Ray cluster can hold it (each bundle must fit on one node{since}):"
            f" the cluster has {self._ledger.describe()}: {_FIX}"
        )

    def _check_liveness(self) -> None:
        actors = [actor for actor in self._actors.values() if actor.dying is None and not actor.dead]
        if not actors:
            return
        refs = [actor.serve_ref for actor in actors]
        ready, _ = self._ray.wait(refs, num_returns=len(refs), timeout=0)
        if not ready:
            return
        done = set(ready)
        for actor in actors:
            if actor.serve_ref in done:
                self._on_death(actor, "Ray reports it dead")

    def _refresh_nodes(self) -> None:
        """Read the nodes again; the actors on nodes that are gone are dying (their trials end WORKER_DIED)."""
        try:
            gone = set(self._ledger.refresh(*from_ray_nodes(self._ray.nodes())))
        except Exception:  # the cluster cannot be asked now: keep the last view
            return
        for actor in [actor for actor in self._actors.values() if gone.intersection(actor.nodes)]:
            self._on_death(actor, "Ray reports its node dead")

    def _watch(self, fd: int, target: _Actor | str | None) -> None:
        self._poller.register(fd, select.POLLIN)
        self._by_fd[fd] = target

    def _unwatch(self, fd: int) -> None:
        self._by_fd.pop(fd, None)
        try:
            self._poller.unregister(fd)
        except (KeyError, ValueError):
            pass


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


_REMOTE: dict[int, Any] = {}


def _remote_class(ray: Any) -> Any:
    """``ray.remote(TrialActor)``, made once per process."""
    found = _REMOTE.get(id(ray))
    if found is None:
        found = _REMOTE[id(ray)] = ray.remote(TrialActor)
    return found
