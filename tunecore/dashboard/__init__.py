"""``tunecore dashboard``: the experiments under a storage path, live in a browser, read-only.

A standard-library HTTP server (:mod:`tunecore.dashboard.server`) serves one static page with its script and
style (package data under ``static/``, no CDN) and JSON documents computed from each experiment's journal,
followed incrementally (:mod:`~tunecore.dashboard.follower`) and cached per version for every client
(:mod:`~tunecore.dashboard.live`). It never writes, locks or unpickles anything, and every path it opens is
confined to the storage root (:mod:`~tunecore.dashboard.paths`). See docs/dashboard.md.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

from tunecore.errors import TuneError

if TYPE_CHECKING:
    from tunecore.dashboard.server import DashboardServer

DEFAULT_PORT = 8080


class Stopped(KeyboardInterrupt):
    """SIGTERM stopped the dashboard (as Ctrl+C does: :func:`serve` closes the server first)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        """The signal's number."""


def make_server(
    storage: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    idle_timeout: float | None = None,
) -> DashboardServer:
    """A server of the experiments under ``storage`` bound to ``host:port`` (port 0: any free one; an IPv6
    address such as ``::1`` too), not started; ``idle_timeout``: seconds before an idle connection is closed
    (default :data:`tunecore.dashboard.server.IDLE_TIMEOUT_S`).

    TuneError when ``storage`` is not a directory or the address cannot be bound (a port in use).
    """
    from tunecore.dashboard.paths import StorageRoot
    from tunecore.dashboard.server import IDLE_TIMEOUT_S, Dashboard, DashboardServer

    root = StorageRoot(storage)
    shown = f"[{host}]" if ":" in host else host
    try:
        server_class = DashboardServer.for_host(host)
        return server_class(Dashboard(root), host, port, IDLE_TIMEOUT_S if idle_timeout is None else idle_timeout)
    except (OSError, OverflowError) as exc:
        raise TuneError(
            f"cannot listen on {shown}:{port}: {getattr(exc, 'strerror', None) or exc}."
            f" Choose another port, e.g. --port {port + 1}, or another --host"
        ) from exc


def warm_up() -> None:
    """Import scikit-learn now (seconds of CPU), so that the first importance chart does not cost a running
    experiment that time; nothing when it is not installed."""
    import gc
    import importlib

    try:
        importlib.import_module("sklearn.ensemble")
    except ImportError:
        pass
    gc.freeze()  # the modules' objects are never collected: a full collection need not walk them (~0.2 s each)


def serve(storage: str | os.PathLike[str], host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    """Serve until interrupted: Ctrl+C (KeyboardInterrupt) or SIGTERM (:class:`Stopped`) propagates, after the
    server is closed."""
    from tunecore.dashboard.server import LOOPBACK_HOSTS

    server = make_server(storage, host, port)
    if host not in LOOPBACK_HOSTS:
        print(
            f"tunecore: warning: the dashboard listens on {host}: anyone who can reach this address can read"
            " the experiments (configs, results, errors)",
            file=sys.stderr,
        )
    threading.Thread(target=warm_up, name="tunecore-dashboard-warm-up", daemon=True).start()
    print(f"tunecore dashboard: serving {server.dashboard.root.path} at {server.url} (Ctrl+C stops it)", flush=True)

    def stop(signum: int, frame: object) -> None:
        raise Stopped(signum)

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if main_thread else None
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
