"""The driver's thread never waits on a peer: a slow-loris handshake is cut after HANDSHAKE_TIMEOUT_S in all
(in a helper thread, while real actors connect), and an authenticated peer that stops mid-message is dead
after MESSAGE_TIMEOUT_S. Fake peers over loopback sockets; no Ray cluster."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Client
from typing import Any

import pytest

from tests.ray.cluster import ray  # noqa: F401  (skips this module without Ray)
from tests.ray.drivers import Handler, bare_executor
from tune_ray import connections
from tune_ray import executor as module
from tune_ray.wire import HELLO, RESULT, dumps
from tunecore.executors import Outcome, Resources, TrialLaunch


@pytest.fixture
def executor(monkeypatch: pytest.MonkeyPatch) -> Iterator[module.RayExecutor]:
    """An executor listening on 127.0.0.1 with one placed actor (key 1) running trial t1, no Ray (so no
    reason for a death comes: a dying actor's trial ends after DEATH_DETAIL_S, made short here)."""
    monkeypatch.setattr(module, "DEATH_DETAIL_S", 0.2)
    made, _ = bare_executor("/nonexistent/t1")
    made._authkey = b"k" * 32
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    made._listener = listener
    made._watch(listener.fileno(), None)
    made._handshakes = connections.Handshakes()
    made._watch(made._handshakes.wake_fd, "wake")
    yield made
    made.shutdown()


def pump(executor: module.RayExecutor, until: Any, timeout: float) -> float:
    """Call process() until ``until()``; the seconds it took (fails after ``timeout``)."""
    start = time.monotonic()
    while not until():
        assert time.monotonic() - start < timeout, "timed out"
        before = time.monotonic()
        executor.process(0.05)
        assert time.monotonic() - before < 0.5, "process() blocked on a peer"
    return time.monotonic() - start


def an_actor(address: Any) -> Any:
    conn = Client(address, authkey=b"k" * 32)
    conn.send_bytes(dumps((HELLO, 1, "node", 0, True)))
    return conn


def test_a_slow_loris_handshake_neither_blocks_the_driver_nor_lasts(
    executor: module.RayExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connections, "HANDSHAKE_TIMEOUT_S", 1.5)
    address = executor._listener.getsockname()  # type: ignore[union-attr]
    loris = socket.create_connection(address)
    closed = threading.Event()

    def dribble() -> None:
        loris.recv(4096)  # the challenge
        try:
            loris.sendall(struct.pack("!i", 200))  # promises 200 bytes, then one every 0.2 s
            for _ in range(100):
                time.sleep(0.2)
                loris.sendall(b"x")
        except OSError:
            closed.set()

    threading.Thread(target=dribble, daemon=True).start()
    pump(executor, lambda: executor._handshakes._running == 1, 5)  # type: ignore[union-attr]
    real: list[Any] = []
    threading.Thread(target=lambda: real.append(an_actor(address)), daemon=True).start()
    actor = executor._actors[1]
    assert pump(executor, lambda: actor.conn is not None, 5) < 1.5  # while the loris still dribbles
    took = pump(executor, closed.is_set, 10)
    assert took < 4, f"the slow handshake lasted {took:.1f} s more"
    assert executor._handshakes._running == 0  # type: ignore[union-attr]
    real[0].close()
    loris.close()


def test_an_actor_that_stops_mid_message_is_dead_after_the_message_timeout(
    executor: module.RayExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "MESSAGE_TIMEOUT_S", 1.0)
    address = executor._listener.getsockname()  # type: ignore[union-attr]
    peers: list[Any] = []
    threading.Thread(target=lambda: peers.append(an_actor(address)), daemon=True).start()
    actor = executor._actors[1]
    pump(executor, lambda: actor.conn is not None, 5)
    raw = socket.socket(fileno=peers[0].fileno())
    whole = dumps((RESULT, 1, {"done": False, "x": "y" * 100_000}, None, None))
    raw.sendall(struct.pack("!i", len(whole)) + whole[:5000])  # then silence, no FIN (a node gone mute)
    handler: Handler = executor._handler  # type: ignore[assignment]
    took = pump(executor, lambda: bool(handler.ends), 10)
    assert 0.9 < took < 4
    [(trial, outcome, error)] = handler.ends
    assert (trial, outcome) == ("t1", Outcome.WORKER_DIED) and "stopped half-way" in str(error)
    assert actor.dead and executor.running() == 0
    raw.detach()
    peers[0].close()


def test_a_message_longer_than_the_limit_ends_its_trial_as_soon_as_its_length_arrives(
    executor: module.RayExecutor,
) -> None:
    address = executor._listener.getsockname()  # type: ignore[union-attr]
    peers: list[Any] = []
    threading.Thread(target=lambda: peers.append(an_actor(address)), daemon=True).start()
    actor = executor._actors[1]
    pump(executor, lambda: actor.conn is not None, 5)
    raw = socket.socket(fileno=peers[0].fileno())
    raw.sendall(struct.pack("!i", -1) + struct.pack("!Q", module.wire.MAX_MESSAGE_BYTES + 1) + b"x" * 1000)
    handler: Handler = executor._handler  # type: ignore[assignment]
    took = pump(executor, lambda: bool(handler.ends), 10)
    [(trial, outcome, error)] = handler.ends
    assert (trial, outcome) == ("t1", Outcome.WORKER_DIED) and took < 2
    assert f"more than the limit of {module.wire.MAX_MESSAGE_BYTES} bytes" in str(error)
    raw.detach()
    peers[0].close()


def test_messages_cut_anywhere_are_put_back_together(executor: module.RayExecutor) -> None:
    frames = connections.Frames()
    messages = [b"a", b"", b"x" * 70_000, b"end"]
    stream = b"".join(struct.pack("!i", len(m)) + m for m in messages)
    stream += struct.pack("!i", -1) + struct.pack("!Q", 3) + b"big"
    got = []
    for i in range(0, len(stream), 7):
        frames.feed(stream[i : i + 7], time.monotonic())
        while (payload := frames.next()) is not None:
            got.append(payload)
    assert got == [*messages, b"big"] and frames.partial_since is None and frames.pending == 0


class FakeRay:
    """ray.nodes() of a cluster whose nodes a test changes."""

    def __init__(self) -> None:
        self.node_list: list[dict[str, Any]] = [{"NodeID": "a", "Alive": True, "Resources": {"CPU": 1.0}}]
        self.asked = 0

    def nodes(self) -> list[dict[str, Any]]:
        self.asked += 1
        return list(self.node_list)


def test_with_nothing_running_process_waits_and_still_sees_nodes_that_join(monkeypatch: pytest.MonkeyPatch) -> None:
    from tune_ray.jobs import Jobs
    from tune_ray.ledger import Ledger, from_ray_nodes

    monkeypatch.setattr(module, "REFRESH_INTERVAL_S", 0.3)
    made = module.RayExecutor()
    fake = FakeRay()
    made._ray, made._handler, made._started, made._jobs = fake, Handler(), True, Jobs()  # type: ignore[assignment]
    made._ledger = Ledger(*from_ray_nodes(fake.nodes()))
    wide = Resources({"cpu": 1, "wide": 1})
    assert not made._ledger.feasible(wide)
    fake.node_list.append({"NodeID": "b", "Alive": True, "Resources": {"CPU": 1.0, "wide": 1.0}})
    calls, start = 0, time.monotonic()
    while time.monotonic() - start < 1.0:
        made.process(0.2)
        calls += 1
    assert calls <= 8, f"process() returned at once {calls} times: a busy loop"
    assert made._ledger.feasible(wide), "a node that joined while nothing ran was never seen"
    assert 2 <= fake.asked <= 6
    made.shutdown()


def test_an_actor_connects_back_over_ipv6(executor: module.RayExecutor) -> None:
    from tune_ray.actor import connect_back

    try:
        listener = socket.socket(socket.AF_INET6)
        listener.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    listener.listen(4)
    executor._unwatch(executor._listener.fileno())  # type: ignore[union-attr]
    executor._listener.close()  # type: ignore[union-attr]
    executor._listener = listener
    executor._watch(listener.fileno(), None)
    peers: list[Any] = []

    def actor() -> None:
        conn = connect_back(listener.getsockname()[:2], b"k" * 32, timeout=5)
        conn.send_bytes(dumps((HELLO, 1, "node", 0, True)))
        peers.append(conn)

    threading.Thread(target=actor, daemon=True).start()
    attached = executor._actors[1]
    pump(executor, lambda: attached.conn is not None, 5)
    pump(executor, lambda: bool(peers), 5)
    peers[0].close()


class Interrupting:
    def run(self, launch: Any, channel: Any) -> Any:
        raise KeyboardInterrupt


def test_a_base_exception_in_the_trainable_ends_the_trial_errored_not_the_actor(tmp_path: Any) -> None:
    from tune_ray.actor import ActorChannel, TrialActor

    launch = TrialLaunch(trial_id="t1", config={}, trial_dir=str(tmp_path))
    channel = ActorChannel(None)  # type: ignore[arg-type]
    outcome = TrialActor._run(Interrupting(), None, launch, None, None, channel, False)  # type: ignore[arg-type]
    assert outcome.kind is Outcome.ERRORED and "KeyboardInterrupt" in str(outcome.error)
