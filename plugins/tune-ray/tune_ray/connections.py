"""The driver's end of the actors' connections: authenticating new ones in helper threads, cutting messages
from bytes as they arrive, and the socket options of every connection.

The driver's thread never waits on a peer: :class:`Handshakes` authenticates and reads the first message of
a connection in a helper thread, within HANDSHAKE_TIMEOUT_S in all, and :class:`Frames` takes the bytes that
are there (never blocking for the rest of a message) and refuses a message longer than the limit as soon as
its length arrives.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge
from typing import Any

from tune_ray import wire
from tune_ray.wakeup import Wakeup
from tune_ray.wire import loads

HANDSHAKE_TIMEOUT_S = 5.0
"""How long a new connection may take, in all, to authenticate and announce itself (in a helper thread: the
driver's thread never waits for a peer)."""
MAX_HANDSHAKES = 64
"""At most this many connections authenticate at once; more are closed at once."""
SEND_TIMEOUT_S = 60.0
"""A message to an actor that cannot be written within this many seconds ends its connection."""
KEEPALIVE_S = (30, 10, 3)
"""TCP keepalive of every connection: idle seconds, interval, probes (a vanished node is noticed)."""


class Frames:
    """Messages of one connection (:class:`multiprocessing.connection.Connection` framing: a 4-byte signed
    big-endian length, -1 then an 8-byte length for large ones), cut from bytes read as they come."""

    def __init__(self, limit: int = wire.MAX_MESSAGE_BYTES) -> None:
        self.limit = limit
        """The largest message accepted (a longer one is an error as soon as its length arrives)."""
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
        if size > self.limit:
            raise OSError(f"a message of {size} bytes, more than the limit of {self.limit} bytes")
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


class Handshakes:
    """Authenticates new connections in helper threads, each within HANDSHAKE_TIMEOUT_S in all (a peer that
    dribbles bytes cannot hold anything), reads their HELLO, and hands them to the driver's thread, which a
    byte on ``wake_fd`` wakes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: list[tuple[Connection, Any]] = []
        self._running = 0
        self._active: dict[threading.Thread, socket.socket] = {}
        self._closed = False
        self._wakeup = Wakeup()

    @property
    def wake_fd(self) -> int:
        return self._wakeup.fd

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
                shut_socket(sock)

        timer = threading.Timer(HANDSHAKE_TIMEOUT_S, expire)
        timer.daemon = True
        try:
            sock.setblocking(True)
            tune_socket(sock)
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
        self._wakeup.wake()

    def done(self) -> list[tuple[Connection, Any]]:
        """The connections authenticated since the last call, with their HELLO."""
        self._wakeup.clear()
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
            shut_socket(sock)
        for thread, _ in active:
            thread.join(HANDSHAKE_TIMEOUT_S)
        for conn, _ in ready:
            conn.close()
        self._wakeup.close()


def tune_socket(sock: socket.socket) -> None:
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


def shut_socket(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def shut(conn: Connection) -> None:
    """End ``conn``'s socket for both sides (its reader then sees the end at once)."""
    try:
        sock = socket.socket(fileno=os.dup(conn.fileno()))
    except OSError:
        return
    shut_socket(sock)
    sock.close()
