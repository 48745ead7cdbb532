"""What following an experiment with ``tunecore dashboard`` costs it: throughput alone vs with polling clients.

Run: ``python benchmarks/dashboard_load.py [--trials 10000] [--clients 10] [--repeat 3]``. Each round runs a
``--trials``-trial ``inline`` experiment (one result per trial) in its own process, once alone and once while a
dashboard process serves it to ``--clients`` clients that poll as the page does (the summary every 500 ms with
its ETag; on a change the trial table and the five charts). The clients run in a process of their own: the
load generator's CPU is reported apart, not charged to the dashboard. Prints each round's trials/s; the
dashboard process's CPU seconds during the run (sampled every 20 ms) and their share of the run; its CPU
seconds until the experiment's process exited (catching up once the run has ended costs the run nothing);
and the median ratio (with clients / alone): the issue's bar is a ratio of at least 0.95. On a shared
machine the ratio is noisy (the "alone" runs alone vary by 10%): the dashboard's CPU share is the steadier one.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

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
DOCUMENTS = ["trials", *(f"charts/{kind}" for kind in ("history", "curves", "parallel", "importance", "timeline"))]


def client(host: str, port: int, stop: threading.Event, requests: list[int]) -> None:
    """Poll like the page: the summary every 500 ms with its ETag; on a change every other document."""
    connection = http.client.HTTPConnection(host, port, timeout=60)
    etags: dict[str, str] = {}

    def get(path: str) -> bool:
        headers = {"If-None-Match": etags[path]} if path in etags else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        requests.append(1)
        if response.status == 200:
            etags[path] = response.getheader("ETag") or ""
            return True
        return False

    while not stop.is_set():
        try:
            if get("/api/experiments/load/summary"):
                for document in DOCUMENTS:
                    get(f"/api/experiments/load/{document}")
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
    stop, requests = threading.Event(), []
    threads = [threading.Thread(target=client, args=(host, port, stop, requests)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    sys.stdin.read()
    stop.set()
    for thread in threads:
        thread.join()
    times = os.times()
    print(len(requests), times.user + times.system, flush=True)


def with_clients(trials: int, clients: int) -> tuple[float, int, float, float, float]:
    """Trials per second with a dashboard and its clients following the experiment; how many requests; the
    dashboard's CPU seconds during the run and in all (until the experiment's process exited); the clients'."""
    with tempfile.TemporaryDirectory() as storage:
        command = [sys.executable, "-m", "tunecore", "dashboard", storage, "--port", "0"]
        server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert server.stdout is not None
            found = re.search(r"http://([\d.]+):(\d+)/", server.stdout.readline())
            assert found, "the dashboard did not start"
            cpu0 = settled_cpu(server.pid)  # its start (importing scikit-learn) is not the experiment's cost
            generator = subprocess.Popen(
                [sys.executable, __file__, "--load", found.group(1), found.group(2), str(clients)],
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--load", nargs=3, metavar=("HOST", "PORT", "CLIENTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        return load(args.load[0], int(args.load[1]), int(args.load[2]))
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
