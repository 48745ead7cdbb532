"""The dashboard's HTTP server: the standard library's ``ThreadingHTTPServer``, GET only, read-only.

Routes (anything else is 404)::

    /                                         the page (static/index.html)
    /static/dashboard.js, /static/dashboard.css   the only other files served (package data)
    /api/experiments                          the ls table
    /api/experiments/NAME/summary             one experiment's ls line
    /api/experiments/NAME/trials              its trial table (?since=TOKEN: the rows changed since)
    /api/experiments/NAME/trials/TRIAL        one trial (config, results, checkpoints, error)
    /api/experiments/NAME/charts/KIND         plot data: history, curves, parallel, importance, timeline

Every response carries ``Content-Security-Policy: default-src 'self'`` (no inline script, nothing from
elsewhere) and ``X-Content-Type-Options: nosniff``; JSON documents carry an ETag (the experiment's version)
and a request with a matching ``If-None-Match`` is answered 304 with no body. Bound to loopback, requests
whose ``Host`` is not a loopback name are refused (a web page elsewhere cannot reach it by DNS rebinding).
A kept-alive connection that sends no request for :data:`IDLE_TIMEOUT_S` is closed (its thread ends).
"""

from __future__ import annotations

import http.server
import importlib.resources
import socket
import threading
import urllib.parse
from typing import Any

from tunecore.dashboard.live import LiveExperiment, encode, serving, serving_as
from tunecore.dashboard.paths import StorageRoot, is_plain_name
from tunecore.dashboard.payloads import CHARTS

STATIC = {
    "index.html": "text/html; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
"""The files of ``tunecore/dashboard/static`` that are served, with their content types: no other file is."""
LOOPBACK = "127.0.0.1"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
"""The addresses to listen on that only this machine reaches: no warning, and only loopback ``Host`` names."""
IDLE_TIMEOUT_S = 60.0
"""A connection that sends no request for this many seconds is closed (a tab that was closed, or sleeps)."""
MAX_TOKEN = 64
"""A ``since`` longer than this is no token the server gave: the whole table is sent."""
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def static_file(name: str) -> bytes:
    """The bytes of a whitelisted static file, found through :mod:`importlib.resources` (package data)."""
    if name not in STATIC:
        raise KeyError(name)
    return importlib.resources.files("tunecore.dashboard").joinpath("static").joinpath(name).read_bytes()


class Dashboard:
    """What the server serves: the experiments under one storage root, each followed once for all clients."""

    def __init__(self, root: StorageRoot) -> None:
        self.root = root
        self._live: dict[str, LiveExperiment] = {}
        self._lock = threading.Lock()

    def experiment(self, name: str) -> LiveExperiment | None:
        """The followed experiment ``name``, or None when it is refused or gone (see :class:`StorageRoot`)."""
        path = self.root.resolve(name)
        with self._lock:
            live = self._live.get(name)
            if path is None:
                self._live.pop(name, None)
                return None
            if live is None or live.path != path:
                live = self._live[name] = LiveExperiment(name, path, self.root)
            return live

    def listing(self) -> tuple[str, bytes]:
        """``(version, JSON)`` of the ls table: every experiment's summary."""
        found = [live for live in map(self.experiment, self.root.names()) if live is not None]
        parts = [live.summary() for live in found]
        version = str(abs(hash(tuple((live.name, v) for live, (v, _) in zip(found, parts, strict=True)))))
        body = b'{"experiments":[' + b",".join(body for _, body in parts) + b"]}"
        return version, body


class Handler(http.server.BaseHTTPRequestHandler):
    """One request (the server's ``dashboard`` and ``check_host`` say what and for whom)."""

    server: DashboardServer
    server_version = "tunecore-dashboard"
    protocol_version = "HTTP/1.1"  # keep-alive: a poll does not cost a connection and a thread
    sys_version = ""

    def version_string(self) -> str:
        """The Server header: no Python version."""
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a request log per poll would drown the terminal."""

    def setup(self) -> None:
        """The connection, with the server's idle timeout (see :data:`IDLE_TIMEOUT_S`)."""
        self.request.settimeout(self.server.idle_timeout)  # what StreamRequestHandler.timeout would set
        super().setup()

    def handle_one_request(self) -> None:
        """One request, its CPU time counted in the dashboard's budgets (:data:`tunecore.dashboard.live.BUDGET`,
        a chart's in :data:`~tunecore.dashboard.live.CHART_BUDGET`)."""
        with serving():
            super().handle_one_request()

    def do_HEAD(self) -> None:
        """HEAD: as GET, without the body."""
        self._serve(body=False)

    def do_GET(self) -> None:
        """GET: a static file or a JSON document."""
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        if self.server.check_host and not _loopback_host(self.headers.get("Host", "")):
            return self._send(403, b"forbidden: not a loopback Host\n", "text/plain; charset=utf-8", body=body)
        target, _, query = self.path.split("#", 1)[0].partition("?")
        if not target.startswith("/"):
            return self._not_found(body)
        try:
            parts = [urllib.parse.unquote(p, errors="strict") for p in target[1:].split("/")]
        except UnicodeDecodeError:
            return self._not_found(body)
        if any(not is_plain_name(p) for p in parts if p) or "" in parts[:-1]:
            return self._not_found(body)  # "..", ".", "%2F", NUL, hidden names, "//": refused
        parts = [p for p in parts if p]
        if not parts:
            return self._send(200, static_file("index.html"), STATIC["index.html"], body=body)
        if parts[0] == "static" and len(parts) == 2 and parts[1] in STATIC and parts[1] != "index.html":
            return self._send(200, static_file(parts[1]), STATIC[parts[1]], body=body)
        if parts[0] == "api":
            since = urllib.parse.parse_qs(query).get("since", [None])[-1]
            found = self._document(parts[1:], since if since is None or len(since) <= MAX_TOKEN else "")
            if found is None:
                return self._not_found(body)
            version, document = found
            etag = f'"{version}"'
            if self.headers.get("If-None-Match") == etag:
                return self._send(304, b"", None, body=False, etag=etag)
            return self._send(200, document, "application/json", body=body, etag=etag)
        return self._not_found(body)

    def _document(self, parts: list[str], since: str | None) -> tuple[str, bytes] | None:
        dashboard = self.server.dashboard
        if parts == ["experiments"]:
            return dashboard.listing()
        if len(parts) < 3 or parts[0] != "experiments":
            return None
        live = dashboard.experiment(parts[1])
        if live is None:
            return None
        rest = parts[2:]
        if rest == ["summary"]:
            return live.summary()
        if rest == ["trials"]:
            return live.trials(since)
        if len(rest) == 2 and rest[0] == "trials":
            return live.trial(rest[1])
        if len(rest) == 2 and rest[0] == "charts" and rest[1] in CHARTS:
            if rest[1] != "importance":  # importance has its own budget: it counts as following, less its own
                serving_as("charts")
            return live.chart(rest[1])
        return None

    def _not_found(self, body: bool) -> None:
        self._send(404, encode({"error": "not found"}), "application/json", body=body)

    def _send(self, code: int, data: bytes, content_type: str | None, *, body: bool, etag: str | None = None) -> None:
        self.send_response(code)
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        if content_type:
            self.send_header("Content-Type", content_type)
        if etag:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(data) if code != 304 else 0))
        self.end_headers()
        if body and code != 304:
            self.wfile.write(data)

    def do_POST(self) -> None:
        """Read-only: every other method is refused."""
        self._send(405, b"read-only\n", "text/plain; charset=utf-8", body=True)

    do_PUT = do_DELETE = do_PATCH = do_POST


def _loopback_host(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name in _LOOPBACK_NAMES


class DashboardServer(http.server.ThreadingHTTPServer):
    """The HTTP server of one :class:`Dashboard` on an IPv4 address or name (a thread per connection, daemon
    threads); :class:`DashboardServer6` for an IPv6 address."""

    daemon_threads = True

    def __init__(self, dashboard: Dashboard, host: str, port: int, idle_timeout: float = IDLE_TIMEOUT_S) -> None:
        self.dashboard = dashboard
        self.check_host = host in LOOPBACK_HOSTS
        self.idle_timeout = idle_timeout
        super().__init__((host, port), Handler)

    @staticmethod
    def for_host(host: str) -> type[DashboardServer]:
        """The server class that listens on ``host``: :class:`DashboardServer6` for an IPv6 address (``::1``)."""
        return DashboardServer6 if ":" in host else DashboardServer

    @property
    def url(self) -> str:
        """The address to open in a browser."""
        host, port = self.socket.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"


class DashboardServer6(DashboardServer):
    """:class:`DashboardServer` on an IPv6 address (``--host ::1``, ``--host ::``)."""

    address_family = socket.AF_INET6
