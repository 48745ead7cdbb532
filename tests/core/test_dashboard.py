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
import textwrap
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
        found = re.search(r"http://(\[[0-9a-f:]+\]|[\d.]+):(\d+)/", line)
        assert found, (line, self.process.stderr.read() if self.process.poll() is not None else "")
        self.shown_host, self.port = found.group(1), int(found.group(2))
        self.host = self.shown_host.strip("[]")
        self.url = f"http://{self.shown_host}:{self.port}/"

    def request(self, path: str, method: str = "GET", headers: dict | None = None):
        """``(status, headers, body)`` of a raw request (the path is sent exactly as given)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            sent = {"Host": f"{self.shown_host}:{self.port}", **(headers or {})}
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

    def stop(self, signum: int = signal.SIGINT) -> tuple[int, str]:
        """Ctrl+C (or ``signum``): the exit status and stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
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


def test_the_follower_reads_whole_lines_up_to_its_limit_and_says_which_trials_changed(tmp_path):
    lines = [
        json.dumps({"event": "trial", "trial_id": f"t{i}", "config": {"x": "y" * (50 if i != 2 else 500)}, "path": "p"})
        for i in range(1, 5)
    ]
    (tmp_path / JOURNAL_FILE).write_text("".join(line + "\n" for line in lines))
    follower = JournalFollower(str(tmp_path))
    assert follower.poll(limit=len(lines[0]) + 10) and list(follower.trials) == ["t1"]  # one whole line
    assert follower.take_changed() == {"t1"} and follower.take_changed() == set()
    assert follower.poll(limit=100) and list(follower.trials) == ["t1", "t2"]  # a line longer than the limit: whole
    assert follower.size - follower.offset == len(lines[2]) + len(lines[3]) + 2  # what is left to read
    assert follower.poll() and follower.take_changed() == {"t2", "t3", "t4"} and follower.offset == follower.size


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


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_and_sigterm_stop_the_dashboard_cleanly(storage, signum, code):
    dashboard = Dashboard(storage)
    assert dashboard.request("/")[0] == 200
    status, err = dashboard.stop(signum)
    assert status == code and f"stopped ({signal.Signals(signum).name})" in err and "Traceback" not in err


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback (::1) to bind")
def test_an_ipv6_host_binds_and_keeps_the_loopback_host_check(storage):
    dashboard = Dashboard(storage, "--host", "::1")
    try:
        assert dashboard.url.startswith("http://[::1]:")
        assert dashboard.json("/api/experiments")["experiments"][0]["name"] == "demo"  # Host: [::1]:PORT
        assert dashboard.request("/api/experiments", headers={"Host": "attacker.example"})[0] == 403
    finally:
        _, err = dashboard.stop()
    assert "warning" not in err  # ::1 is loopback: nothing is exposed


def test_an_idle_kept_alive_connection_is_closed(storage):
    import threading

    from tunecore.dashboard import make_server

    server = make_server(storage, port=0, idle_timeout=0.5)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        host, port = server.socket.getsockname()[:2]
        with socket.create_connection((host, port), timeout=30) as connection:
            connection.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            received = b""
            while b"</html>" not in received:  # the page, then the connection is kept alive
                received += connection.recv(65536)
            assert b"200 OK" in received and b"Connection: close" not in received
            assert connection.recv(65536) == b""  # sent nothing more: closed by the server (not the 30 s timeout)
    finally:
        server.shutdown()
        server.server_close()


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


def test_a_run_begins_with_no_credit_earned_before_it_but_keeps_a_debt(monkeypatch):
    from tunecore.dashboard import live

    clock, used = [100.0], [0.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: clock[0])
    budget = live.CpuBudget(0.04, lambda: used[0])
    clock[0] += 3600.0  # idle before the run: BURST_S earned
    budget.restart()
    assert not budget.affords(0.01)  # the run has earned nothing yet
    clock[0] += 0.5
    assert budget.affords(0.01)
    used[0] += 0.5  # a dear step, not paid back yet when the next run begins
    clock[0] += 1.0
    budget.restart()
    clock[0] += 10.0  # 0.4 s earned, still 0.06 s owed
    assert not budget.affords(0.01)


def test_a_running_experiment_first_seen_is_read_by_the_runs_limit_out_of_its_own_share(tmp_path, monkeypatch):
    from tunecore.dashboard import live
    from tunecore.dashboard.paths import StorageRoot

    make_experiment(tmp_path, "big")
    path = str(tmp_path / "big")
    clock = [100.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(live, "RUN_READ_BYTES", 1024)
    monkeypatch.setattr(live, "BUDGET", live.CpuBudget(live.CPU_SHARE, live.charged_cpu))
    clock[0] += 3600.0  # the dashboard idle before the run: credit up to BURST_S earned
    lock = ExperimentLock.acquire(path, "run")
    try:
        experiment = live.LiveExperiment("big", path, StorageRoot(str(tmp_path)))
        experiment.take()
        lines = (tmp_path / "big" / JOURNAL_FILE).read_bytes().splitlines(keepends=True)
        read = sum(map(len, lines)) - experiment.behind()
        assert 0 < read <= 1024 + max(map(len, lines))  # whole lines up to the run's limit, not the whole journal
        assert not live.BUDGET.affords(0.001)  # what it earned while nothing ran is not the run's to spend
    finally:
        lock.release()


def test_one_slow_read_is_not_extrapolated_to_the_next_larger_ones():
    from tunecore.dashboard import live

    cost = live.ReadingCost()
    assert cost.expected(1 << 18) == 0.0  # nothing read yet
    for _ in range(3):
        cost.record(0.003, 13_000)  # ~0.1 ms a trial
    cost.record(0.035, 13_000)  # the same read, a full garbage collection in it (the 30 s stall of issue 19)
    expected = cost.expected(1 << 18)
    assert expected == pytest.approx(0.003 * (1 << 18) / live.GROWTH_FLOOR_BYTES)  # not 8 times 0.035 s
    for _ in range(live.READ_RATES):
        cost.record(0.01, 1 << 18)  # reading got dearer for good: the estimate follows
    assert cost.expected(1 << 18) == pytest.approx(0.01)


def test_documents_are_strict_json_whichever_encoder_path():
    from tunecore.dashboard.live import encode

    assert encode({"a": [1, 2.5, None, "x"]}) == b'{"a":[1,2.5,null,"x"]}'
    assert json.loads(encode({"a": [float("nan"), float("inf"), -float("inf")], 1: (2,)})) == {
        "a": ["NaN", "Infinity", "-Infinity"],
        "1": [2],
    }
    assert json.loads(encode({(1, 2): object}))  # a key JSON has no form for: as strict() writes it


def test_the_index_followed_record_by_record_is_what_the_views_compute(tmp_path):
    """The journal of a real experiment appended a few records at a time (a trial retried, one failed): after
    each step the index's table, counts, best and history are the views' of the whole journal so far, and
    the deltas since each earlier token rebuild the same table."""
    from tunecore.dashboard import payloads
    from tunecore.dashboard.index import TrialIndex
    from tunecore.plot import data as plot_data

    make_experiment(tmp_path, "source", num_samples=4)
    lines = (tmp_path / "source" / JOURNAL_FILE).read_bytes().splitlines(keepends=True)
    retried = [
        json.dumps({"event": "status", "trial_id": "t00002", "status": "PENDING", "error": "Boom 1"}),
        json.dumps({"event": "status", "trial_id": "t00003", "status": "ERROR", "error": "Boom 2"}),
        json.dumps({"event": "config", "trial_id": "t00004", "config": {"x": 0.5, "act": "relu", "new": 1}}),
    ]
    lines[len(lines) // 2 : len(lines) // 2] = [(line + "\n").encode() for line in retried]
    path = tmp_path / "grow"
    path.mkdir()
    (path / "experiment.json").write_bytes((tmp_path / "source" / "experiment.json").read_bytes())
    follower = JournalFollower(str(path))
    index = TrialIndex(str(path), "loss", "min")
    rows: dict[str, list] = {}
    tokens = []
    for step in range(0, len(lines), 5):
        with (path / JOURNAL_FILE).open("ab") as journal:
            journal.writelines(lines[step : step + 5])
        follower.poll()
        index.update(follower.trials, follower.take_changed(), running=step % 2 == 0)
        grid = payloads.grid_of(str(path), follower.trials, "loss", "min")
        running = step % 2 == 0
        shown = views.trial_table(grid)  # no process holds the lock: as the index's rows when not running
        table = payloads.table(index)
        expected_rows = [[row[c] for c in shown.columns] for row in shown.rows]
        if not running:
            assert (table["columns"], table["rows"]) == (shown.columns, expected_rows)
        assert index.counts() == views.count_statuses(grid, running=running)
        assert index.best() == views.best_of(grid)
        if len(grid):
            assert payloads.chart(index, "history") == {
                "kind": "history",
                **attrs_asdict(plot_data.history(grid)),
                "shown": "",
            }
        for token in tokens:  # every earlier client's delta brings it to the same rows
            delta = payloads.table(index, token)
            if not delta["full"]:
                assert {row[0] for row in delta["rows"]} <= set(follower.trials)
        delta = payloads.table(index, tokens[-1] if tokens else None)
        rows = {} if delta["full"] else rows
        rows.update({row[0]: row for row in delta["rows"]})
        assert sorted(rows.values()) == sorted(table["rows"])
        tokens.append(table["token"])
    assert index.entries["t00004"].result.config["new"] == 1 and "config/new" in index.columns


def attrs_asdict(value):
    import attrs

    return attrs.asdict(value, recurse=True)


def test_the_table_delta_api(server):
    full = server.json("/api/experiments/demo/trials")
    assert full["full"] and len(full["rows"]) == 9 and full["sort"] == ["loss", "min"]
    same = server.json(f"/api/experiments/demo/trials?since={full['token']}")
    assert (same["full"], same["rows"], same["token"]) == (False, [], full["token"])
    for stale in ("nonsense", "0.0", "x" * 100, full["token"] + "9"):
        assert server.json(f"/api/experiments/demo/trials?since={stale}")["full"]  # an unknown token: every row
    assert server.json("/api/experiments/demo/summary")["token"] == full["token"]


def test_charts_show_a_fixed_number_of_trials_and_say_which(tmp_path, monkeypatch):
    from tunecore.dashboard import payloads
    from tunecore.dashboard.index import TrialIndex

    make_experiment(tmp_path, "big", num_samples=40)  # 120 trials
    follower = JournalFollower(str(tmp_path / "big"))
    follower.poll()
    index = TrialIndex(str(tmp_path / "big"), "loss", "min")
    index.update(follower.trials, follower.take_changed(), running=False)
    uncut = payloads.chart(index, "history")["best"]
    improvements = [b for a, b in zip([None, *uncut], uncut, strict=False) if a != b]
    monkeypatch.setattr(payloads, "CHART_BEST", 10)
    monkeypatch.setattr(payloads, "MAX_TIMELINE", 7)
    monkeypatch.setattr(payloads, "MAX_HISTORY_POINTS", 20)
    curves = payloads.chart(index, "curves")
    best = [entry.result.trial_id for entry in index.top(10)]
    assert sorted(c["trial_id"] for c in curves["curves"]) == sorted(best)
    assert curves["shown"] == "the best 10 and 0 running of 120 trials"
    assert sorted(payloads.chart(index, "parallel")["trial_ids"]) == sorted(best)
    timeline = payloads.chart(index, "timeline")
    assert len(timeline["bars"]) == 7 and timeline["shown"] == "the 7 trials created last of 120"
    history = payloads.chart(index, "history")
    assert len(history["x"]) <= 20 and history["shown"].endswith("(every improvement of the best kept)")
    assert len(uncut) == 120 and len(improvements) > 1
    assert set(improvements) <= set(history["best"])  # every improvement of the best is still there
    assert min(history["best"]) == index.best()[0] and history["x"][-1] == 120


def test_the_trial_page_shows_every_attempts_error(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        import tunecore

        def train(config):
            raise RuntimeError("attempt failed")

        tunecore.Tuner(
            train,
            param_space={"x": tunecore.uniform(0, 1)},
            tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor="inline", num_samples=1, seed=0),
            run_config=tunecore.RunConfig(storage_path=sys.argv[1], name="flaky", verbose=0, loggers=[],
                                          failure_config=tunecore.FailureConfig(max_failures=2)),
        ).fit()
        """
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, capture_output=True)
    dashboard = Dashboard(tmp_path)
    try:
        page = dashboard.json("/api/experiments/flaky/trials/t00001")
    finally:
        dashboard.stop()
    assert page["num_failures"] == 3 and page["status"] == "ERROR"
    assert [e["title"] for e in page["errors"]] == ["Failure # 1", "Failure # 2", "Failure # 3"]
    assert all("attempt failed" in e["traceback"] and e["at"] for e in page["errors"]), page["errors"]


def test_a_charts_cpu_is_charged_to_the_charts_budget_and_the_rest_to_following(storage):
    import threading

    from tunecore.dashboard import live, make_server

    server = make_server(storage, port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        port = server.socket.getsockname()[1]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def get(path: str) -> None:
            connection.request("GET", path)
            response = connection.getresponse()
            assert response.status == 200 and response.read()

        follow, charts = live.dashboard_cpu("follow"), live.dashboard_cpu("charts")
        get("/api/experiments/demo/summary")
        get("/api/experiments/demo/trials")
        assert live.dashboard_cpu("follow") > follow and live.dashboard_cpu("charts") == charts
        follow = live.dashboard_cpu("follow")
        for kind in ("history", "curves", "parallel", "timeline"):
            get(f"/api/experiments/demo/charts/{kind}")
        assert live.dashboard_cpu("charts") > charts and live.dashboard_cpu("follow") == follow
        connection.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_small_running_experiment_gets_its_first_importance_once_its_share_covers_a_small_one(tmp_path, monkeypatch):
    """The first importance of a run was taken to cost 0.2 CPU s whatever the size: 13 s of "computing…" for a
    run of a few trials, whose importance costs ~0.08 s. It is now estimated from the number of trials."""
    from tunecore.dashboard import live
    from tunecore.dashboard.paths import StorageRoot

    make_experiment(tmp_path, "small")  # 9 trials
    path = str(tmp_path / "small")
    clock = [100.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(live, "IMPORTANCE_BUDGET", live.CpuBudget(live.IMPORTANCE_SHARE, lambda: 0.0))
    lock = ExperimentLock.acquire(path, "run")
    try:
        experiment = live.LiveExperiment("small", path, StorageRoot(str(tmp_path)))
        experiment.take()  # the run is seen: the budgets start from nothing
        assert b"computing" in experiment.chart("importance")[1]
        clock[0] += 4.0  # 0.06 CPU s earned: not enough for 9 trials' estimate (0.0809 s)
        assert b"computing" in experiment.chart("importance")[1]
        clock[0] += 2.0  # 0.09 CPU s: enough (a 0.2 s estimate would wait 13 s)
        document = json.loads(experiment.chart("importance")[1])
        assert "computing" not in document.get("note", "") and (document.get("names") or document.get("note"))
    finally:
        lock.release()
