"""What following an experiment with ``tunecore dashboard`` costs it: throughput alone vs with polling clients.

Run: ``python benchmarks/dashboard_load.py [--trials 10000] [--clients 10] [--repeat 3]``. Each round runs a
``--trials``-trial ``inline`` experiment (one result per trial) in its own process, once alone and once while a
dashboard process serves it to ``--clients`` clients that poll as the page does (the summary every 500 ms with
its ETag; when its ``token`` changed, the trial table's rows changed since (``?since=``); when its ``charts``
generation changed, the five charts with their ETags). The clients run in a process of their own: the
load generator's CPU is reported apart, not charged to the dashboard. Prints each round's trials/s; the
dashboard process's CPU seconds during the run (sampled every 20 ms) and their share of the run; its CPU
seconds until the experiment's process exited (catching up once the run has ended costs the run nothing);
and the median ratio (with clients / alone): the issue's bar is a ratio of at least 0.95. On a shared
machine the ratio is noisy (the "alone" runs alone vary by 10%): the dashboard's CPU share is the steadier one.

``--change-cost 1000,10000`` measures instead what one change costs the dashboard (no HTTP, one process): an
experiment of N trials is followed as if it ran (its lock held), one more trial's records are appended, and the
CPU seconds of taking that version and computing every document once (the summary, the table's delta, the four
charts; importance has its own share) are printed, with the first version's and the whole table's.

``--follow RATE`` (with ``--trials`` and ``--clients``) measures how far behind the run the count the page
shows is, for an experiment of about RATE trials a second: e.g. ``--trials 2000 --follow 40`` (a minute).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tunecore.dashboard.live import LiveExperiment

EXPERIMENT = """
import sys, time
import tunecore

def train(config):
    tunecore.report({"loss": (config["x"] - 0.3) ** 2 + config["y"]})

started, wall = time.perf_counter(), time.time()
tunecore.Tuner(
    train,
    param_space={"x": tunecore.uniform(0, 1), "y": tunecore.loguniform(1e-3, 1.0)},
    tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor="inline", num_samples=int(sys.argv[2]), seed=0),
    run_config=tunecore.RunConfig(storage_path=sys.argv[1], name="load", verbose=0),
).fit()
print(time.perf_counter() - started, wall, time.time())
"""
CHARTS = [f"charts/{kind}" for kind in ("history", "curves", "parallel", "importance", "timeline")]


def client(
    host: str, port: int, stop: threading.Event, requests: list[int], shown: list[tuple[float, int]] | None = None
) -> None:
    """Poll like the page: the summary every 500 ms with its ETag; when its token changed, the table's delta;
    when its charts' generation changed, the charts. ``shown``: gets ``(when, trial count)`` at every poll."""
    connection = http.client.HTTPConnection(host, port, timeout=60)
    etags: dict[str, str] = {}
    seen: dict[str, object] = {"token": None, "charts": None}

    def get(path: str, keep: bool = True) -> bytes | None:
        headers = {"If-None-Match": etags[path]} if path in etags else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        requests.append(1)
        if response.status == 200:
            if keep:
                etags[path] = response.getheader("ETag") or ""
            return body
        return None

    base = "/api/experiments/load"
    while not stop.is_set():
        try:
            body = get(f"{base}/summary")
            summary = json.loads(body) if body else None
            if shown is not None and (summary is not None or shown):
                shown.append((time.time(), summary["num_trials"] if summary is not None else shown[-1][1]))
            if summary is not None and summary["token"] != seen["token"]:
                since = "" if seen["token"] is None else f"?since={seen['token']}"
                get(f"{base}/trials{since}", keep=False)
                seen["token"] = summary["token"]
            if summary is not None and summary["charts"] != seen["charts"]:
                seen["charts"] = summary["charts"]
                for chart in CHARTS:
                    get(f"{base}/{chart}")
        except (OSError, http.client.HTTPException):
            connection.close()  # the experiment directory is not there yet: 404s keep the connection
            connection = http.client.HTTPConnection(host, port, timeout=60)
        stop.wait(0.5)
    connection.close()


def run_experiment(storage: str, trials: int) -> tuple[float, float, float]:
    """Trials per second of one experiment run in its own process; when its ``fit`` began and ended (epoch s)."""
    done = subprocess.run(
        [sys.executable, "-c", EXPERIMENT, storage, str(trials)], capture_output=True, text=True, check=True
    )
    seconds, began, ended = map(float, done.stdout.strip().splitlines()[-1].split())
    return trials / seconds, began, ended


class CpuSampler(threading.Thread):
    """Samples a process's CPU seconds every 20 ms, so that what it used during the run alone can be told
    (the dashboard's catching up once the run has ended costs the run nothing)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [(time.time(), cpu_seconds(pid))], threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.02):
            self.samples.append((time.time(), cpu_seconds(self.pid)))

    def between(self, began: float, ended: float) -> float:
        """CPU seconds used from ``began`` to ``ended`` (from the last sample before to the first after)."""
        before = max((c for t, c in self.samples if t <= began), default=self.samples[0][1])
        after = min((c for t, c in self.samples if t >= ended), default=self.samples[-1][1])
        return after - before


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settled_cpu(pid: int, timeout: float = 20.0) -> float:
    """The process's CPU seconds once it has stopped using CPU for half a second (its start is over)."""
    deadline, last = time.monotonic() + timeout, -1.0
    while time.monotonic() < deadline:
        now = cpu_seconds(pid)
        if now == last:
            return now
        last = now
        time.sleep(0.5)
    return last


def load(host: str, port: int, clients: int) -> None:
    """The load generator (its own process, so that its CPU is not charged to the dashboard): ``clients``
    threads polling until stdin closes; then prints how many requests were made and its CPU seconds."""
    stop, requests = threading.Event(), list[int]()
    threads = [threading.Thread(target=client, args=(host, port, stop, requests)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    sys.stdin.read()
    stop.set()
    for thread in threads:
        thread.join()
    times = os.times()
    print(len(requests), times.user + times.system, flush=True)


def start_dashboard(storage: str) -> tuple[subprocess.Popen[str], str, int]:
    """``tunecore dashboard STORAGE --port 0`` in its own process, with the address it listens on."""
    command = [sys.executable, "-m", "tunecore", "dashboard", storage, "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    found = re.search(r"http://([\d.]+):(\d+)/", server.stdout.readline())
    if not found:
        server.terminate()
        server.wait()
        raise SystemExit("the dashboard did not start")
    return server, found.group(1), int(found.group(2))


def with_clients(trials: int, clients: int) -> tuple[float, int, float, float, float]:
    """Trials per second with a dashboard and its clients following the experiment; how many requests; the
    dashboard's CPU seconds during the run and in all (until the experiment's process exited); the clients'."""
    with tempfile.TemporaryDirectory() as storage:
        server, host, port = start_dashboard(storage)
        try:
            cpu0 = settled_cpu(server.pid)  # its start (importing scikit-learn) is not the experiment's cost
            generator = subprocess.Popen(
                [sys.executable, __file__, "--load", host, str(port), str(clients)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            sampler = CpuSampler(server.pid)
            sampler.start()
            rate, began, ended = run_experiment(storage, trials)
            total = cpu_seconds(server.pid) - cpu0
            sampler.stop.set()
            sampler.join()
            out, _ = generator.communicate("")
            requests, client_cpu = out.split()
            return rate, int(requests), sampler.between(began, ended), total, float(client_cpu)
        finally:
            server.terminate()
            server.wait()


def follow(trials: int, rate: float, clients: int) -> None:
    """How far behind the run the count the page shows is: a ``trials``-trial experiment at about ``rate``
    trials a second (a sleep per trial) followed by a dashboard and ``clients`` clients (the first one records
    the count at each poll); the lag at a poll is how long ago the first trial not counted yet was created
    (when the trial before it reported; none yet: 0), over the trials after the first 200 (the start)."""
    slow = EXPERIMENT.replace("def train(config):\n", f"def train(config):\n    time.sleep({1 / rate!r})\n")
    with tempfile.TemporaryDirectory() as storage:
        server, host, port = start_dashboard(storage)
        try:
            settled_cpu(server.pid)
            stop, requests, shown = threading.Event(), list[int](), list[tuple[float, int]]()
            threads = [
                threading.Thread(target=client, args=(host, port, stop, requests, shown if i == 0 else None))
                for i in range(clients)
            ]
            for thread in threads:
                thread.start()
            done = subprocess.run([sys.executable, "-c", slow, storage, str(trials)], capture_output=True, text=True)
            stop.set()
            for thread in threads:
                thread.join()
            done.check_returncode()
            reported: dict[str, float] = {}
            with open(os.path.join(storage, "load", "journal.jsonl"), encoding="utf-8") as journal:
                for line in journal:
                    record = json.loads(line)
                    if record["event"] == "result":
                        reported.setdefault(record["trial_id"], record["result"]["timestamp"])
        finally:
            server.terminate()
            server.wait()
    stamps = sorted(reported.values())
    # the count includes the trial running now: the trial before it, when it reported, started the next one
    lags = [max(0.0, when - stamps[count - 1]) for when, count in shown if 200 < count <= len(stamps)]
    lags += [0.0] * (not lags)
    changes = [when for (_, before), (when, count) in itertools.pairwise(shown) if count != before]
    gaps = [b - a for a, b in itertools.pairwise(changes)] or [0.0]
    span = stamps[-1] - stamps[0]
    print(
        f"{trials} trials at {trials / span:.0f} a second, {clients} clients: the count behind the run by"
        f" {statistics.median(lags):.2f} s at the median, {max(lags):.2f} s at most"
        f" ({max(lags[2 * len(lags) // 3 :] or [0.0]):.2f} s over the last third); {len(changes)} changes of"
        f" the count shown, the largest gap between them {max(gaps):.2f} s; the run {span:.0f} s",
        flush=True,
    )


def change_cost(sizes: list[int]) -> None:
    """Print what one change costs the dashboard at each experiment size (see the module's docstring)."""
    import shutil

    from tunecore.dashboard.live import LiveExperiment
    from tunecore.dashboard.paths import StorageRoot
    from tunecore.lock import ExperimentLock

    for size in sizes:
        with tempfile.TemporaryDirectory() as storage:
            subprocess.run([sys.executable, "-c", EXPERIMENT, storage, str(size + 1)], check=True, capture_output=True)
            source, grown = os.path.join(storage, "load"), os.path.join(storage, "grow")
            with open(os.path.join(source, "journal.jsonl"), "rb") as file:
                lines = file.read().splitlines(keepends=True)
            last = max(i for i, line in enumerate(lines) if line.startswith(b'{"event": "trial"'))
            os.mkdir(grown)
            shutil.copy(os.path.join(source, "experiment.json"), grown)
            with open(os.path.join(grown, "journal.jsonl"), "wb") as file:
                file.writelines(lines[:last])
            lock = ExperimentLock.acquire(grown, "run")  # as while it runs: state.json is not read
            try:
                live = LiveExperiment("grow", grown, StorageRoot(storage))
                cpu = time.thread_time()
                live.take()
                while live.behind():  # caught up (a version reads a chunk while it runs)
                    live.take()
                documents(live, None)
                first = time.thread_time() - cpu
                token = json.loads(live.summary()[1])["token"]
                with open(os.path.join(grown, "journal.jsonl"), "ab") as file:
                    file.writelines(lines[last:])
                cpu = time.thread_time()
                live.take()
                parts = documents(live, token)
                change = time.thread_time() - cpu
                cpu = time.thread_time()
                live.trials(None)
                table = time.thread_time() - cpu
            finally:
                lock.release()
            shown = ", ".join(f"{name} {seconds:.4f}" for name, seconds in parts.items())
            print(
                f"{size} trials: one change ({len(lines) - last} records) costs {change:.4f} CPU s ({shown});"
                f" the first version {first:.3f} CPU s; the whole table (a new client) {table:.4f} CPU s",
                flush=True,
            )


def documents(live: LiveExperiment, since: str | None) -> dict[str, float]:
    """Compute every document of ``live`` once (the table as the delta ``since``): CPU seconds of each."""
    spent: dict[str, float] = {}
    for name in ("summary", "table", "history", "curves", "parallel", "timeline"):
        cpu = time.thread_time()
        if name == "summary":
            live.summary()
        elif name == "table":
            live.trials(since)
        else:
            live.chart(name)
        spent[name] = time.thread_time() - cpu
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--load", nargs=3, metavar=("HOST", "PORT", "CLIENTS"), help=argparse.SUPPRESS)
    parser.add_argument("--change-cost", metavar="SIZES", help="e.g. 1000,10000: what one change costs at each size")
    parser.add_argument(
        "--follow", type=float, metavar="RATE", help="how far behind a run of --trials at RATE trials/s the count is"
    )
    args = parser.parse_args()
    if args.load:
        return load(args.load[0], int(args.load[1]), int(args.load[2]))
    if args.change_cost:
        return change_cost([int(size) for size in args.change_cost.split(",")])
    if args.follow:
        return follow(args.trials, args.follow, args.clients)
    ratios, shares = [], []
    for round_ in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory() as storage:
            alone = run_experiment(storage, args.trials)[0]
        followed, requests, cpu, total, client_cpu = with_clients(args.trials, args.clients)
        ratios.append(followed / alone)
        shares.append(cpu / (args.trials / followed))
        print(
            f"round {round_}: alone {alone:,.0f} trials/s, with {args.clients} clients {followed:,.0f} trials/s"
            f" ({requests} requests; the dashboard used {cpu:.2f} CPU s during the run, {shares[-1]:.1%} of it,"
            f" {total:.2f} until the run's process exited; the clients' process {client_cpu:.2f} CPU s),"
            f" ratio {followed / alone:.3f}",
            flush=True,
        )
    ratio, share = statistics.median(ratios), statistics.median(shares)
    verdict = "within" if ratio >= 0.95 else "OVER"
    print(
        f"median ratio {ratio:.3f} (range {min(ratios):.3f}-{max(ratios):.3f}), dashboard CPU {share:.1%} of the run"
        f" (range {min(shares):.1%}-{max(shares):.1%}): {verdict} the 5% budget ({args.trials} trials,"
        f" {args.clients} clients)"
    )


if __name__ == "__main__":
    main()
