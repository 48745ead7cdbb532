"""The ``ray`` executor: each running trial is a Ray actor placed by its resources, reused per shape.

The driver keeps the controller and storage. Ray places and starts the actors; results and answers go over
one authenticated TCP connection per actor (:mod:`tune_ray.wire`), so a result costs about what it costs
with the ``local`` executor. Capacity comes from the executor's own :class:`~tune_ray.ledger.Ledger`.
"""

from __future__ import annotations

import math
import numbers
import os
import secrets
import select
import socket
import struct
import threading
import time
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge
from typing import Any

import attrs

from tune_ray import transfer
from tune_ray.actor import TrialActor
from tune_ray.connect import RayConnection, connect
from tune_ray.ledger import Ledger, actor_options, from_ray_nodes, ray_bundle
from tune_ray.payload import pickle_trainable
from tune_ray.wire import ANSWER, END, HELLO, LAUNCH, RESULT, dumps, loads
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
HANDSHAKE_TIMEOUT_S = 5.0
"""How long a new connection may take, in all, to authenticate and announce itself (in a helper thread: the
driver's thread never waits for a peer)."""
MAX_HANDSHAKES = 64
"""At most this many connections authenticate at once; more are closed at once."""
MESSAGE_TIMEOUT_S = 60.0
"""Once the first bytes of a message from an actor arrived, the whole message must within this many seconds,
else its connection is taken for dead (its trial ends WORKER_DIED): a node that goes silent mid-message."""
SEND_TIMEOUT_S = 60.0
"""A message to an actor that cannot be written within this many seconds ends its connection."""
KEEPALIVE_S = (30, 10, 3)
"""TCP keepalive of every connection: idle seconds, interval, probes (a vanished node is noticed)."""
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
    reader: _Frames = attrs.field(factory=lambda: _Frames())


@attrs.define(eq=False)
class _Run:
    """One launch running on an actor."""

    launch: TrialLaunch
    actor: _Actor
    stop_requested: bool = False
    sent: bool = False


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
      (checkpoints and logs travel over the connection to the driver's storage, and back to whichever node
      resumes from them), ``"auto"`` (shared on the nodes where the storage is visible, driver elsewhere);
    * ``start_timeout_s`` (60): a trial whose actor is not placed and connected in time ends ERRORED,
      naming its request and the cluster's nodes;
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
        self._by_fd: dict[int, _Actor | str | None] = {}  # None: the listener; "wake": handshakes done
        self._handshakes: _Handshakes | None = None
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
                raise ResourceError(
                    f"each trial needs {request.describe()} but no node of the Ray cluster can hold it (each"
                    f" bundle must fit on one node): the cluster has {self._ledger.describe()}: {_FIX}"
                )
            self._payload_ref = self._ray.put(pickle_trainable(trainable))
            self._authkey = secrets.token_bytes(32)
            host = self._ray.util.get_node_ip_address()
            listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
            listener.bind((host, 0))
            listener.listen(128)
            self._listener = listener
            self._watch(listener.fileno(), None)
            self._handshakes = _Handshakes()
            self._watch(self._handshakes.wake_fd, "wake")
            self._handler = handler
            self._next_refresh = time.monotonic() + REFRESH_INTERVAL_S
        except BaseException:
            self.shutdown()
            raise

    def capacity(self, resources: ResourceRequest) -> int:
        """How many more trials of ``resources`` fit now, by the ledger (idle actors count as free)."""
        if not self._started or self._closed or self._handler is None:
            return 0
        request = self._as_request(resources)
        limit = 2**31 if self.max_concurrent is None else self.max_concurrent - len(self._by_trial)
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
        """Run ``launch`` on an idle actor of its shape, or on a new actor placed by the ledger."""
        if not self._started or self._closed or self._handler is None:
            raise TuneError("RayExecutor.launch() needs start() first and cannot follow shutdown()")
        if launch.trial_id in self._by_trial:
            raise TuneError(f"trial {launch.trial_id} is already running")
        request = launch.resources
        idle = self._idle.get(request)
        if idle:
            actor = idle.pop()
            self._ledger.set_idle(actor.nodes, actor.shape, idle=False)
        else:
            actor = self._new_actor(launch)
        run = _Run(launch, actor)
        actor.run = run
        self._by_trial[launch.trial_id] = run
        if actor.conn is not None:
            self._send_launch(run)

    def process(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for messages from actors, handle every one ready, then check placements
        and deaths."""
        if not self._by_trial and not self._actors:  # nothing to hear from: wait, and see nodes that join
            if self._handler is None or self._closed:
                return
            now = time.monotonic()
            if now >= self._next_refresh:
                self._next_refresh = now + REFRESH_INTERVAL_S
                self._refresh_nodes()
            time.sleep(min(max(timeout, 0.0), max(self._next_refresh - now, 0.0)))
            return
        now = time.monotonic()
        wait_s = max(timeout, 0.0)
        placing = [a.deadline for a in self._actors.values() if a.conn is None and not a.dead]
        if placing:
            wait_s = min(wait_s, max(min(placing) - now, 0.0), LIVENESS_INTERVAL_S)
        if any(a.reader.partial_since is not None for a in self._actors.values()):
            wait_s = min(wait_s, LIVENESS_INTERVAL_S)  # a message is half-way: see whether it stalls
        ready = self._poller.poll(math.ceil(wait_s * 1000))
        for target in [self._by_fd[fd] for fd, _ in ready if fd in self._by_fd]:
            if target is None:
                self._accept()
            elif isinstance(target, str):
                assert self._handshakes is not None
                for conn, message in self._handshakes.done():
                    self._hello(conn, message)
            elif not target.dead:
                self._drain(target)
        now = time.monotonic()
        self._check_stalled(now)
        if placing:
            self._check_placements(now)
        if now >= self._next_liveness:
            self._next_liveness = now + LIVENESS_INTERVAL_S
            self._check_liveness()
        if now >= self._next_refresh:
            self._next_refresh = now + REFRESH_INTERVAL_S
            self._refresh_nodes()

    def stop(self, trial_id: str, force: bool = False) -> None:
        """Ask a trial to stop after its next result, or (``force``) kill its actor and end it now."""
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
        return len(self._by_trial)

    def shutdown(self) -> None:
        """Kill every actor (and placement group), wait for Ray to confirm, close the port; shut down or
        disconnect the Ray that tunecore started. Trials still running get no ``on_trial_end``."""
        if self._closed:
            return
        self._closed = True
        self._by_trial.clear()
        actors = list(self._actors.values())
        for actor in actors:
            self._kill(actor)
        refs = [actor.serve_ref for actor in actors]
        if refs and self._ray is not None and self._ray.is_initialized():
            try:
                self._ray.wait(refs, num_returns=len(refs), timeout=self.shutdown_grace_s)
            except Exception:  # Ray itself is going away: nothing more to wait for
                pass
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

    def _new_actor(self, launch: TrialLaunch) -> _Actor:
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
        )
        actor = _Actor(key, handle, request, nodes, placement_group, serve_ref, time.monotonic() + self.start_timeout_s)
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
        self._actors.pop(actor.key, None)
        idle = self._idle.get(actor.shape)
        if idle and actor in idle:
            idle.remove(actor)
            self._ledger.set_idle(actor.nodes, actor.shape, idle=False)
        self._ledger.unbook(actor.nodes, actor.shape)
        if actor.conn is not None:
            self._unwatch(actor.conn.fileno())
            actor.conn.close()
        if actor.run is not None:
            self._by_trial.pop(actor.run.launch.trial_id, None)
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

    def _send_launch(self, run: _Run) -> None:
        actor, launch = run.actor, run.launch
        blob = None
        if launch.checkpoint is not None and not actor.shared:
            blob = transfer.pack(launch.checkpoint)
        run.sent = True
        self._send(actor, (LAUNCH, launch, blob))

    def _send(self, actor: _Actor, message: tuple[Any, ...]) -> None:
        assert actor.conn is not None
        try:
            actor.conn.send_bytes(dumps(message))
        except OSError:  # gone, or not reading (SEND_TIMEOUT_S): its connection's end says so at the next poll
            _shut(actor.conn)

    def _accept(self) -> None:
        """Take a new connection and authenticate it in a helper thread (:class:`_Handshakes`)."""
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
        if actor is None or actor.dead or actor.conn is not None:
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

    def _drain(self, actor: _Actor) -> None:
        """Read what ``actor`` sent (never waiting for more) and handle each complete message."""
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
        while not actor.dead and actor.conn is conn:
            try:
                payload = reader.next()
                if payload is None:
                    return
                message = loads(payload)
            except Exception as exc:
                self._on_death(actor, f"it sent a message that cannot be read: {type(exc).__name__}: {exc}")
                return
            self._dispatch(actor, message)

    def _check_stalled(self, now: float) -> None:
        """Connections whose message stopped half-way for MESSAGE_TIMEOUT_S are dead."""
        for actor in list(self._actors.values()):
            since = actor.reader.partial_since
            if not actor.dead and since is not None and now - since > MESSAGE_TIMEOUT_S:
                self._on_death(
                    actor,
                    f"a message from it stopped half-way ({actor.reader.pending} bytes) for more than"
                    f" {MESSAGE_TIMEOUT_S:g} s",
                )

    def _dispatch(self, actor: _Actor, message: tuple[Any, ...]) -> None:
        run = actor.run
        if run is None:
            return
        handler = self._handler
        assert handler is not None
        kind = message[0]
        trial_id = run.launch.trial_id
        if kind == RESULT:
            _, seq, result, checkpoint, blob = message
            if blob is not None:
                checkpoint = self._receive_checkpoint(actor, checkpoint, blob)
                if checkpoint is None:
                    return
            done = result.get("done")
            decision = handler.on_result(trial_id, result, checkpoint)
            if done or actor.run is not run or actor.conn is None:
                return
            action = _CONTINUE if decision is None else decision.action
            if run.stop_requested and action is _CONTINUE:
                action = _STOP
            if actor.reader.pending or actor.conn.poll(0):  # it sent its end already (it waits for this answer)
                return
            self._send(actor, (ANSWER, seq, action.value))
        elif kind == END:
            _, outcome, error, log = message
            if log:
                os.makedirs(run.launch.trial_dir, exist_ok=True)
                with open(os.path.join(run.launch.trial_dir, "stdout.log"), "ab") as file:
                    file.write(log)
            self._end_run(actor)
            handler.on_trial_end(trial_id, Outcome(outcome), error)

    def _receive_checkpoint(self, actor: _Actor, name: Any, blob: Any) -> str | None:
        """Write a checkpoint sent as bytes under its trial's directory and return its path; a name that is
        not a plain directory name, or an archive that is refused or cannot be written, ends the trial
        ERRORED (its actor is killed) and returns None."""
        run = actor.run
        assert run is not None
        trial_dir = run.launch.trial_dir
        if not isinstance(name, str) or name in ("", ".", "..") or os.path.basename(name) != name or "\0" in name:
            self._fail_run(actor, f"its actor sent a checkpoint named {name!r}, not a plain directory name")
            return None
        if not isinstance(blob, bytes):
            self._fail_run(actor, f"its actor sent checkpoint {name!r} as {type(blob).__name__}, not bytes")
            return None
        try:
            return transfer.unpack(blob, os.path.join(trial_dir, name))
        except (transfer.TransferError, OSError) as exc:
            self._fail_run(
                actor, f"its checkpoint {name!r} could not be written to {trial_dir}: {type(exc).__name__}: {exc}"
            )
            return None

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
        if self.reuse_actors and not self._closed:
            self._idle.setdefault(actor.shape, []).append(actor)
            self._ledger.set_idle(actor.nodes, actor.shape, idle=True)
        else:
            self._kill(actor)

    def _on_death(self, actor: _Actor, why: str) -> None:
        if actor.dead:
            return
        run = actor.run
        detail = self._death_detail(actor)
        self._kill(actor)
        self._refresh_nodes()
        if run is not None:
            assert self._handler is not None
            self._handler.on_trial_end(
                run.launch.trial_id,
                Outcome.WORKER_DIED,
                f"the Ray actor running trial {run.launch.trial_id} (node {actor.node_id or '?'}) died: {why}"
                + (f"\n{detail}" if detail else ""),
            )

    def _death_detail(self, actor: _Actor) -> str:
        """What Ray says about an actor that died (waiting briefly for it)."""
        try:
            ready, _ = self._ray.wait([actor.serve_ref], timeout=1.0)
            if ready:
                self._ray.get(ready[0])
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return ""

    def _check_placements(self, now: float) -> None:
        for actor in list(self._actors.values()):
            if actor.dead or actor.conn is not None or now < actor.deadline:
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

    def _check_liveness(self) -> None:
        actors = [actor for actor in self._actors.values() if not actor.dead]
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
        """Read the nodes again; the trials of actors on nodes that are gone end WORKER_DIED."""
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


class _Frames:
    """Messages of one connection (:class:`multiprocessing.connection.Connection` framing: a 4-byte signed
    big-endian length, -1 then an 8-byte length for large ones), cut from bytes read as they come."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.partial_since: float | None = None
        """When the first bytes of the incomplete message at the front arrived (None: none is incomplete)."""

    @property
    def pending(self) -> int:
        """Bytes received and not yet handed out."""
        return len(self.buffer)

    def feed(self, data: bytes, now: float) -> None:
        if not self.buffer:
            self.partial_since = now
        self.buffer += data

    def next(self) -> bytes | None:
        """The next complete message, or None (then ``partial_since`` tells since when one is incomplete)."""
        buffer = self.buffer
        if len(buffer) < 4:
            return self._incomplete()
        start, size = 4, struct.unpack_from("!i", buffer)[0]
        if size == -1:
            if len(buffer) < 12:
                return self._incomplete()
            start, size = 12, struct.unpack_from("!Q", buffer, 4)[0]
        elif size < 0:
            raise OSError(f"a message header of {size} bytes")
        if len(buffer) < start + size:
            return self._incomplete()
        payload = bytes(buffer[start : start + size])
        del buffer[: start + size]
        self.partial_since = time.monotonic() if buffer else None
        return payload

    def _incomplete(self) -> bytes | None:
        if not self.buffer:
            self.partial_since = None
        return None


class _Handshakes:
    """Authenticates new connections in helper threads, each within HANDSHAKE_TIMEOUT_S in all (a peer that
    dribbles bytes cannot hold anything), reads their HELLO, and hands them to the driver's thread, which a
    byte on ``wake_fd`` wakes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: list[tuple[Connection, Any]] = []
        self._running = 0
        self._active: dict[threading.Thread, socket.socket] = {}
        self._closed = False
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)

    @property
    def wake_fd(self) -> int:
        return self._wake_read.fileno()

    def start(self, sock: socket.socket, authkey: bytes) -> None:
        with self._lock:
            if self._closed or self._running >= MAX_HANDSHAKES:
                sock.close()
                return
            self._running += 1
            thread = threading.Thread(target=self._handshake, args=(sock, authkey), name="tune-ray-handshake")
            thread.daemon = True
            self._active[thread] = sock
        thread.start()

    def _handshake(self, sock: socket.socket, authkey: bytes) -> None:
        settled = threading.Lock()  # held by whichever ends first: the handshake or its deadline
        conn: Connection | None = None

        def expire() -> None:
            if settled.acquire(blocking=False):
                _shut_socket(sock)

        timer = threading.Timer(HANDSHAKE_TIMEOUT_S, expire)
        timer.daemon = True
        try:
            sock.setblocking(True)
            _tune_socket(sock)
            conn = Connection(os.dup(sock.fileno()))
            timer.start()
            deliver_challenge(conn, authkey)
            answer_challenge(conn, authkey)
            message = loads(conn.recv_bytes(1 << 16))
            if not isinstance(message, tuple) or not message or not settled.acquire(blocking=False):
                raise EOFError
        except Exception:  # not one of this executor's actors, or too slow
            timer.cancel()
            if conn is not None:
                conn.close()
            sock.close()
            with self._lock:
                self._running -= 1
                self._active.pop(threading.current_thread(), None)
            return
        timer.cancel()
        sock.close()  # the connection keeps its own descriptor of the socket
        with self._lock:
            self._running -= 1
            self._active.pop(threading.current_thread(), None)
            if self._closed:
                conn.close()
                return
            self._ready.append((conn, message))
        try:
            self._wake_write.send(b"\0")
        except OSError:  # the pipe is full: the driver is being woken already
            pass

    def done(self) -> list[tuple[Connection, Any]]:
        """The connections authenticated since the last call, with their HELLO."""
        try:
            while self._wake_read.recv(4096):
                pass
        except OSError:
            pass
        with self._lock:
            ready, self._ready = self._ready, []
        return ready

    def close(self) -> None:
        """Refuse new connections, cut those authenticating and wait for their threads."""
        with self._lock:
            self._closed = True
            ready, self._ready = self._ready, []
            active = list(self._active.items())
        for _, sock in active:
            _shut_socket(sock)
        for thread, _ in active:
            thread.join(HANDSHAKE_TIMEOUT_S)
        for conn, _ in ready:
            conn.close()
        self._wake_read.close()
        self._wake_write.close()


def _tune_socket(sock: socket.socket) -> None:
    """No Nagle delay, TCP keepalive (KEEPALIVE_S), and writes that give up after SEND_TIMEOUT_S."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    idle, interval, count = KEEPALIVE_S
    for name, value in (("TCP_KEEPIDLE", idle), ("TCP_KEEPINTVL", interval), ("TCP_KEEPCNT", count)):
        option = getattr(socket, name, None)
        if option is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, option, value)
            except OSError:
                pass
    whole = int(SEND_TIMEOUT_S)
    sock.setsockopt(
        socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", whole, int((SEND_TIMEOUT_S - whole) * 1e6))
    )


def _shut_socket(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _shut(conn: Connection) -> None:
    """End ``conn``'s socket for both sides (its reader then sees the end at once)."""
    try:
        sock = socket.socket(fileno=os.dup(conn.fileno()))
    except OSError:
        return
    _shut_socket(sock)
    sock.close()


_REMOTE: dict[int, Any] = {}


def _remote_class(ray: Any) -> Any:
    """``ray.remote(TrialActor)``, made once per process."""
    found = _REMOTE.get(id(ray))
    if found is None:
        found = _REMOTE[id(ray)] = ray.remote(TrialActor)
    return found
