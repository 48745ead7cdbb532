"""``tunecore dashboard``: the experiments under a storage path, live in a browser, read-only.

A standard-library HTTP server (:mod:`tunecore.dashboard.server`) serves one static page with its script and
style (package data under ``static/``, no CDN) and JSON documents computed from each experiment's journal,
followed incrementally (:mod:`~tunecore.dashboard.follower`) and cached per version for every client
(:mod:`~tunecore.dashboard.live`). It never writes, locks or unpickles anything, and every path it opens is
confined to the storage root (:mod:`~tunecore.dashboard.paths`). See docs/dashboard.md.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING

from tunecore.errors import TuneError

if TYPE_CHECKING:
    from tunecore.dashboard.server import DashboardServer

DEFAULT_PORT = 8080


def make_server(storage: str | os.PathLike[str], host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> DashboardServer:
    """A server of the experiments under ``storage`` bound to ``host:port`` (port 0: any free one), not started.

    TuneError when ``storage`` is not a directory or the address cannot be bound (a port in use).
    """
    from tunecore.dashboard.paths import StorageRoot
    from tunecore.dashboard.server import Dashboard, DashboardServer

    root = StorageRoot(storage)
    try:
        return DashboardServer(Dashboard(root), host, port)
    except (OSError, OverflowError) as exc:
        raise TuneError(
            f"cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc}."
            f" Choose another port, e.g. --port {port + 1}"
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
    """Serve until interrupted (KeyboardInterrupt propagates, after the server is closed)."""
    server = make_server(storage, host, port)
    if host not in ("127.0.0.1", "localhost"):
        print(
            f"tunecore: warning: the dashboard listens on {host}: anyone who can reach this address can read"
            " the experiments (configs, results, errors)",
            file=sys.stderr,
        )
    threading.Thread(target=warm_up, name="tunecore-dashboard-warm-up", daemon=True).start()
    print(f"tunecore dashboard: serving {server.dashboard.root.path} at {server.url} (Ctrl+C stops it)", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
