"""``tunecore dashboard`` (issue 19): the server in a real process, its JSON API against the views, the journal
follower, and each security case as a real request (``..``, absolute paths, a symlink out, files that are not
served, pickles never read, hostile values kept as data, a foreign Host, writes refused)."""

from __future__ import annotations

import http.client
import importlib.resources
import json
import os
import pickle
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tunecore
from tunecore import views
from tunecore.cli import main
from tunecore.dashboard.follower import JournalFollower
from tunecore.dashboard.server import STATIC
from tunecore.lock import ExperimentLock
from tunecore.storage import JOURNAL_FILE

HOSTILE = "<script>alert(1)</script>"
IMG = '<img src=x onerror="document.title=1">'
SECRET = "top-secret-outside-the-root"


def train(config):
    for i in range(1, 4):
        tunecore.report({"loss": (config["x"] - 0.3) ** 2 + 1 / i})


def make_experiment(storage, name, num_samples=3):
    """``3 * num_samples`` trials: every ``act`` (two of them hostile) ``num_samples`` times."""
    return tunecore.Tuner(
        train,
        param_space={"x": tunecore.uniform(0, 1), "act": tunecore.grid_search(["relu", HOSTILE, IMG])},
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor="inline", num_samples=num_samples, seed=3),
        run_config=tunecore.RunConfig(storage_path=str(storage), name=name, verbose=0, loggers=[]),
    ).fit()


class Touch:
    """Unpickling this creates ``path``: the marker that something was unpickled."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


class Dashboard:
    """A ``tunecore dashboard`` process on a free port, and requests to it."""

    def __init__(self, storage, *extra: str) -> None:
        command = [sys.executable, "-m", "tunecore", "dashboard", str(storage), "--port", "0", *extra]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        found = re.search(r"http://([\d.]+):(\d+)/", line)
        assert found, (line, self.process.stderr.read() if self.process.poll() is not None else "")
        self.host, self.port = found.group(1), int(found.group(2))
        self.url = f"http://{self.host}:{self.port}/"

    def request(self, path: str, method: str = "GET", headers: dict | None = None):
        """``(status, headers, body)`` of a raw request (the path is sent exactly as given)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            sent = {"Host": f"{self.host}:{self.port}", **(headers or {})}
            for name, value in sent.items():
                connection.putheader(name, value)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def json(self, path: str):
        status, _, body = self.request(path)
        assert status == 200, (path, status, body)
        return json.loads(body)

    def stop(self) -> tuple[int, str]:
        """Ctrl+C: the exit status and stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return self.process.returncode, err


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    """A storage root with one experiment (hostile configs, a booby-trapped pickle), a symlink to an experiment
    outside the root, and a secret file beside the root."""
    base = tmp_path_factory.mktemp("dashboard")
    root = base / "root"
    make_experiment(root, "demo")
    outside = base / "outside"
    make_experiment(outside, "elsewhere", num_samples=1)
    (base / "secret.txt").write_text(SECRET)
    os.symlink(outside / "elsewhere", root / "evil")
    marker = base / "unpickled"
    for name in ("spec.pkl", "snapshot.0", "trap.pkl"):
        (root / "demo" / name).write_bytes(pickle.dumps(Touch(str(marker))))
    return root


@pytest.fixture(scope="module")
def server(storage):
    dashboard = Dashboard(storage)
    yield dashboard
    dashboard.stop()


def test_the_api_serves_what_the_views_compute(server, storage):
    grid = tunecore.ResultGrid.from_path(storage / "demo")
    expected = views.summarize(storage / "demo")
    listing = server.json("/api/experiments")
    assert [e["name"] for e in listing["experiments"]] == ["demo"]  # "evil" leads out of the root: not listed
    summary = server.json("/api/experiments/demo/summary")
    assert summary == listing["experiments"][0]
    assert (summary["num_trials"], summary["trials"], summary["state"]) == (9, expected.trials, "finished")
    assert (summary["best_value"], summary["best_trial"]) == (expected.best_value, expected.best_trial)
    table = server.json("/api/experiments/demo/trials")
    shown = views.trial_table(grid)
    assert table["columns"] == shown.columns
    assert table["rows"] == [[row[c] for c in shown.columns] for row in shown.rows]
    trial = server.json(f"/api/experiments/demo/trials/{expected.best_trial}")
    best = grid.get_best_result()
    assert (trial["config"], trial["history"], trial["status"]) == (best.config, best.metrics_history, "TERMINATED")
    history = server.json("/api/experiments/demo/charts/history")
    assert history["x"] == list(range(1, 10)) and min(history["best"]) == expected.best_value
    assert len(server.json("/api/experiments/demo/charts/curves")["curves"]) == 9
    assert len(server.json("/api/experiments/demo/charts/parallel")["trial_ids"]) == 9
    assert len(server.json("/api/experiments/demo/charts/timeline")["bars"]) == 9
    importance = server.json("/api/experiments/demo/charts/importance")
    assert importance.get("names") or importance.get("note")


def test_an_unchanged_document_costs_a_304_without_a_body(server):
    status, headers, _ = server.request("/api/experiments/demo/trials")
    assert status == 200 and headers["ETag"]
    again = server.request("/api/experiments/demo/trials", headers={"If-None-Match": headers["ETag"]})
    assert again[0] == 304 and again[2] == b""


@pytest.mark.parametrize("path", ["/", "/static/dashboard.js", "/static/dashboard.css", "/api/experiments", "/nothing"])
def test_every_response_carries_the_security_headers(server, path):
    _, headers, _ = server.request(path)
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../demo/journal.jsonl",
        "/static/..%2Fdashboard.py",
        "/static/%2E%2E/%2E%2E/secret.txt",
        "/api/experiments/../summary",
        "/api/experiments/..%2F..%2Fsecret.txt/summary",
        "/api/experiments/%2E%2E/summary",
        "/api/experiments/%2Fetc%2Fpasswd/summary",
        "/api/experiments//etc/summary",
        "//etc/passwd",
        "/api/experiments/demo/trials/..%2F..%2F..%2Fsecret.txt",
        "/api/experiments/demo%00/summary",
        "http://127.0.0.1/../secret.txt",
    ],
)
def test_paths_that_leave_the_root_are_refused(server, path):
    status, _, body = server.request(path)
    assert status == 404, (path, status)
    assert SECRET.encode() not in body and b'"event"' not in body


@pytest.mark.parametrize(
    "path",
    ["/api/experiments/evil/summary", "/api/experiments/evil/trials", "/api/experiments/evil/charts/history"],
)
def test_a_symlink_leading_out_of_the_root_is_refused(server, path):
    assert server.request(path)[0] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/static/server.py",
        "/static/__init__.py",
        "/static/index.html.bak",
        "/journal.jsonl",
        "/demo/journal.jsonl",
        "/api/experiments/demo/spec.pkl",
        "/api/experiments/demo/files/spec.pkl",
        "/api/experiments/demo/trials/t00001/checkpoint_000001",
        "/api/experiments/demo/charts/contour",
        "/api/experiments/demo/trials/t99999",
    ],
)
def test_only_whitelisted_files_and_documents_are_served(server, path):
    assert server.request(path)[0] == 404


def test_nothing_is_unpickled_on_behalf_of_a_request(server, storage):
    for path in ["/", "/api/experiments", "/api/experiments/demo/summary", "/api/experiments/demo/trials"]:
        server.request(path)
    for kind in ("history", "curves", "parallel", "importance", "timeline"):
        server.request(f"/api/experiments/demo/charts/{kind}")
    for trial in server.json("/api/experiments/demo/trials")["rows"]:
        server.request(f"/api/experiments/demo/trials/{trial[0]}")
    server.request("/api/experiments/demo/spec.pkl")
    assert not (storage.parent / "unpickled").exists()


def test_hostile_config_strings_are_data_in_json(server):
    _, headers, body = server.request("/api/experiments/demo/trials")
    assert headers["Content-Type"] == "application/json"
    values = {value for row in json.loads(body)["rows"] for value in row}
    assert HOSTILE in values and IMG in values  # shown as text by the page: see test_dashboard_browser.py


def test_a_foreign_host_header_and_writes_are_refused(server):
    assert server.request("/api/experiments", headers={"Host": "attacker.example:80"})[0] == 403
    assert server.request("/api/experiments", method="POST")[0] == 405
    assert server.request("/api/experiments", method="DELETE")[0] == 405


def test_following_never_takes_the_lock_nor_writes(server, storage):
    journal = storage / "demo" / JOURNAL_FILE
    before = journal.stat()
    server.json("/api/experiments/demo/summary")
    lock = ExperimentLock.acquire(str(storage / "demo"), "resume")  # a run could start now
    lock.release()
    after = journal.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_the_follower_reads_appended_lines_only_and_waits_for_a_partial_one(tmp_path):
    trial = json.dumps({"event": "trial", "trial_id": "t1", "config": {"x": 1}, "path": "t1"})
    result = json.dumps({"event": "result", "trial_id": "t1", "result": {"loss": 2.0, "training_iteration": 1}})
    journal = tmp_path / JOURNAL_FILE
    follower = JournalFollower(str(tmp_path))
    assert not follower.poll()  # no journal yet
    journal.write_text(trial + "\n" + result[:10])
    assert follower.poll() and list(follower.trials) == ["t1"] and follower.trials["t1"].history == []
    assert follower.offset == len(trial) + 1
    assert not follower.poll()  # nothing new
    with journal.open("a") as file:
        file.write(result[10:] + "\n")
    assert follower.poll() and follower.trials["t1"].history == [{"loss": 2.0, "training_iteration": 1}]
    assert follower.records == 2 and follower.offset == journal.stat().st_size
    journal.write_text(trial + "\n")  # replaced by a shorter one: read again from the start
    assert follower.poll() and follower.trials["t1"].history == [] and follower.records == 1


def test_a_running_experiment_is_followed_incrementally(tmp_path):
    make_experiment(tmp_path, "grow", num_samples=1)
    path = tmp_path / "grow"
    follower = JournalFollower(str(path))
    follower.poll()
    offset = follower.offset
    with (path / JOURNAL_FILE).open("a") as file:  # what a resume appends
        file.write(json.dumps({"event": "trial", "trial_id": "t00004", "config": {"x": 0.3}, "path": "t00004"}) + "\n")
    assert follower.poll() and len(follower.trials) == 4 and follower.offset > offset


def test_the_static_files_ship_as_package_data():
    files = importlib.resources.files("tunecore.dashboard").joinpath("static")
    for name in STATIC:
        text = files.joinpath(name).read_text(encoding="utf-8")
        assert text and not re.search(r"(src|href)=\"(https?:)?//", text), name  # nothing from a CDN
    page = files.joinpath("index.html").read_text(encoding="utf-8")
    assert re.findall(r'(?:src|href)="([^"#]+)"', page) == ["/static/dashboard.css", "/static/dashboard.js"]
    assert "<script>" not in page and "<style" not in page  # nothing inline: the CSP forbids it
    assert "innerHTML" not in files.joinpath("dashboard.js").read_text(encoding="utf-8")


def test_ctrl_c_stops_the_dashboard_with_130(storage):
    dashboard = Dashboard(storage)
    assert dashboard.request("/")[0] == 200
    status, err = dashboard.stop()
    assert status == 130 and "stopped" in err and "Traceback" not in err


def test_a_host_other_than_loopback_warns(storage):
    dashboard = Dashboard(storage, "--host", "127.0.0.2")  # another loopback address: nothing is exposed
    try:
        assert dashboard.request("/")[0] == 200  # the user chose the address: any Host is accepted
    finally:
        _, err = dashboard.stop()
    assert "warning" in err and "127.0.0.2" in err


def test_a_missing_storage_path_is_a_one_line_error(tmp_path, capsys):
    assert main(["dashboard", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_a_port_in_use_is_a_one_line_error(storage, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        assert main(["dashboard", str(storage), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in err and time.monotonic() - started < 10


def test_the_cpu_budget_is_earned_before_it_is_spent(monkeypatch):
    from tunecore.dashboard import live

    clock, used = [100.0], [0.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: clock[0])
    budget = live.CpuBudget(0.04, lambda: used[0])
    assert not budget.affords(0.02)  # nothing earned yet
    clock[0] += 1.0  # 0.04 s earned
    assert budget.affords(0.02)
    used[0] += 0.5  # a dear version: paid back before the next one
    clock[0] += 10.0
    assert not budget.affords(0.02)
    clock[0] += 5.0
    assert budget.affords(0.02)
    clock[0] += 3600.0  # an idle hour does not buy a burst: credit is kept up to BURST_S (or the cost asked)
    assert budget.affords(0.02)
    used[0] += live.BURST_S + 0.05
    assert not budget.affords(0.01)


def test_documents_are_strict_json_whichever_encoder_path():
    from tunecore.dashboard.live import encode

    assert encode({"a": [1, 2.5, None, "x"]}) == b'{"a":[1,2.5,null,"x"]}'
    assert json.loads(encode({"a": [float("nan"), float("inf"), -float("inf")], 1: (2,)})) == {
        "a": ["NaN", "Infinity", "-Infinity"],
        "1": [2],
    }
    assert json.loads(encode({(1, 2): object}))  # a key JSON has no form for: as strict() writes it
