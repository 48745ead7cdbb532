"""Durability: the driver killed (SIGKILL) or interrupted (SIGINT, SIGTERM), workers killed, trials failing,
damaged files. Every experiment must end with each trial run to its end exactly once.

The driver runs in a subprocess (tests/core/data/crash_experiment.py) wherever it is killed; the journal is
read here with a reader of this file, independent of tunecore's own.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tunecore
from tunecore.builtin.searchers import RandomSearcher
from tunecore.errors import TuneError
from tunecore.lock import LOCK_FILE

SCRIPT = Path(__file__).parent / "data" / "crash_experiment.py"
TRIALS, ITERATIONS, EVERY, SEED = 8, 12, 3, 1234  # as in crash_experiment.py
SLEEP = {"local": 0.05, "inline": 0.025}
"""Seconds per iteration in the crash experiments: 8 trials x 12 iterations make 2.4 s of work on 2 workers
(local) or 1 (inline), so that two kills at most 1.2 s after their start always land before the end."""
RUN_TIMEOUT_S = 60
WORKERS_GONE_S = 3.0
"""Workers must exit this soon after their driver died (their watchdog looks every 0.5 s)."""


@pytest.fixture(scope="module", autouse=True)
def core_components_only():
    """The core's components only, here and in the subprocesses: installed plugins change nothing."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("TUNECORE_")]:
            patch.delenv(name)
        patch.setenv("TUNECORE_DISABLE_PLUGIN_AUTOLOAD", "1")
        yield


# --- reading what the experiment left ----------------------------------------------------------------


def journal_records(path: Path) -> list[dict]:
    """The journal's records; only a last line without its newline (torn by a kill) may be incomplete."""
    file = path / "journal.jsonl"
    if not file.exists():
        return []
    lines = file.read_text(encoding="utf-8").split("\n")
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            assert number == len(lines), f"journal line {number} of {len(lines)} is garbled: {line[:80]!r}"
    return records


def journal_state(path: Path) -> dict[str, dict]:
    """Per trial: status, results (training_iteration) and checkpoints (iteration) that count now."""
    trials: dict[str, dict] = {}
    for record in journal_records(path):
        kind, trial = record.get("event"), trials.get(record.get("trial_id"))
        if kind == "trial":
            trials[record["trial_id"]] = {"status": "PENDING", "iterations": [], "checkpoints": [], "errors": 0}
        elif trial is None:
            continue
        elif kind == "status":
            trial["status"] = record["status"]
            trial["errors"] += bool(record.get("error"))
        elif kind == "result":
            iteration = record["result"]["training_iteration"]
            trial["iterations"].append(iteration)
            if record.get("checkpoint"):
                trial["checkpoints"].append(iteration)
        elif kind == "rollback":
            trial["iterations"] = [i for i in trial["iterations"] if i <= record["iteration"]]
            trial["checkpoints"] = [i for i in trial["checkpoints"] if i <= record["iteration"]]
        elif kind == "checkpoint_deleted":
            trial["checkpoints"].remove(int(record["checkpoint"].rsplit("_", 1)[1]))
    return trials


def read_starts(side: Path) -> list[list[tuple[str, int, int]]]:
    """The side file's ``(trial_id, start_iteration, context start_iteration)`` lines, one list per run."""
    runs: list[list[tuple[str, int, int]]] = []
    for line in side.read_text().splitlines():
        if line.startswith("# run"):
            runs.append([])
        else:
            trial_id, start, context_start, _pid = line.split()
            runs[-1].append((trial_id, int(start), int(context_start)))
    return runs


def reference_xs(count: int) -> list[float]:
    """The configs an uninterrupted run with the experiment's seed proposes, in order."""
    searcher = RandomSearcher()
    searcher.setup({"x": tunecore.uniform(0, 1)}, "loss", "min", SEED, count)
    return [searcher.suggest(f"t{i:05d}")["x"] for i in range(1, count + 1)]


def check_complete(path: Path, trials: int = TRIALS, iterations: int = ITERATIONS) -> tunecore.ResultGrid:
    """Exactly ``trials`` trials, all TERMINATED, each with iterations 1..N once, the seeded configs, checkpoints
    that load, and nothing left unfinished in the journal."""
    grid = tunecore.ResultGrid.from_path(path)
    assert [r.trial_id for r in grid] == [f"t{i:05d}" for i in range(1, trials + 1)]
    assert [r.config["x"] for r in grid] == reference_xs(trials)
    for result in grid:
        assert result.status == "TERMINATED", (result.trial_id, result.status, result.error)
        history = result.metrics_history
        assert [r["training_iteration"] for r in history] == list(range(1, iterations + 1)), result.trial_id
        assert [r["step"] for r in history] == list(range(1, iterations + 1)), result.trial_id
        assert [r["trial_id"] for r in history] == [result.trial_id] * iterations
        kept = [(c.to_dict()["iteration"], r["training_iteration"]) for c, r in result.best_checkpoints]
        assert kept == [(i, i) for i in range(EVERY, iterations + 1, EVERY)], result.trial_id
        assert result.checkpoint is not None and result.checkpoint.to_dict()["iteration"] == iterations
        on_disk = sorted(p.name for p in Path(result.path).iterdir() if p.name.startswith(("checkpoint_", ".")))
        assert on_disk == [f"checkpoint_{i:06d}" for i in range(EVERY, iterations + 1, EVERY)], result.trial_id
    state = journal_state(path)
    assert {t["status"] for t in state.values()} == {"TERMINATED"}
    return grid


def tree_digest(path: Path) -> dict[str, str]:
    """Every file under ``path`` and a hash of its bytes (but the lock file: who held the directory last)."""
    return {
        str(file.relative_to(path)): hashlib.sha256(file.read_bytes()).hexdigest()
        for file in sorted(path.rglob("*"))
        if file.is_file() and file.relative_to(path) != Path(LOCK_FILE)
    }


# --- processes -----------------------------------------------------------------------------------


def start_driver(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """Start crash_experiment.py in its own session (a signal to its group reaches it and its workers only)."""
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def worker_pids(driver_pid: int) -> set[int]:
    """The live ``python -m tunecore.worker IN OUT DRIVER_PID`` processes of ``driver_pid``."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = [a for a in Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0") if a]
        except OSError:
            continue
        if b"tunecore.worker" in argv and argv[-1] == str(driver_pid).encode() and is_alive(int(entry)):
            found.add(int(entry))
    return found


def is_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not reaped by its new parent, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def assert_workers_gone(driver_pid: int, seen: set[int]) -> None:
    """The workers seen before the driver ended, and any of its workers found now, all exit soon."""
    deadline = time.monotonic() + WORKERS_GONE_S
    while True:
        left = {pid for pid in seen if is_alive(pid)} | worker_pids(driver_pid)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not left, f"worker processes {sorted(left)} outlived their driver {driver_pid}"


def wait_for_lines(file: Path, count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not (file.exists() and len(file.read_text().splitlines()) >= count):
        assert time.monotonic() < deadline, f"{file} did not reach {count} lines"
        time.sleep(0.01)


def mark_run(side: Path, number: int) -> None:
    with open(side, "a") as file:
        file.write(f"# run {number}\n")


def run_to_end(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    assert done.returncode == 0, done.stderr
    return done


def check_restarts(runs: list[list[tuple[str, int, int]]], states: list[dict[str, dict]]) -> None:
    """Run k+1 starts no trial that ended before it; a trial continues from its latest journaled checkpoint.

    ``states[k]`` is the journal as run k left it (killed or interrupted).
    """
    assert all(start == 0 for _, start, _ in runs[0])
    for number, starts in enumerate(runs[1:], 1):
        before = states[number - 1]
        assert len({trial_id for trial_id, _, _ in starts}) == len(starts), f"a trial started twice in run {number}"
        for trial_id, start, context_start in starts:
            previous = before.get(trial_id)
            assert previous is None or previous["status"] not in ("TERMINATED", "ERROR"), (number, trial_id)
            expected = previous["checkpoints"][-1] if previous and previous["checkpoints"] else 0
            assert start == expected and start % EVERY == 0, (number, trial_id, start, previous)
            assert context_start == start, (trial_id, start, context_start)


# --- 1. the driver killed at random moments ----------------------------------------------------------------


@pytest.mark.parametrize(("executor", "kills"), [("local", 4), ("inline", 3)])
def test_driver_killed_at_random_moments_resumes_to_completion(tmp_path, executor, kills):
    rng = random.Random(f"durability-{executor}")
    delays = [rng.uniform(0.3, 1.2) for _ in range(kills)]
    side, path = tmp_path / "starts.txt", tmp_path / "exp"
    states: list[dict[str, dict]] = []
    killed = 0
    for number in range(kills + 1):
        mark_run(side, number)
        if tunecore.Tuner.can_restore(path):
            args = ["resume", str(path)]
        else:  # killed before the experiment was written: nothing ran, start again
            assert not journal_state(path), "an experiment ran without experiment.json and spec.pkl"
            shutil.rmtree(path, ignore_errors=True)
            args = ["run", str(tmp_path), "exp", str(side), "--executor", executor, "--sleep", str(SLEEP[executor])]
        driver = start_driver(*args, cwd=tmp_path)
        seen: set[int] = set()
        if number < kills:
            deadline = time.monotonic() + delays[number]
            while driver.poll() is None and time.monotonic() < deadline:
                seen |= worker_pids(driver.pid)
                time.sleep(0.01)
            seen |= worker_pids(driver.pid)
            if driver.poll() is None:
                driver.kill()
        out, err = driver.communicate(timeout=RUN_TIMEOUT_S)
        assert_workers_gone(driver.pid, seen)
        if driver.returncode == -signal.SIGKILL:
            killed += 1
        else:
            assert driver.returncode == 0, err
            assert out.strip() == f"DONE {TRIALS}"
            break
        states.append(journal_state(path))
    else:
        pytest.fail("the experiment was still running after the last kill")
    assert killed >= 2, f"only {killed} kills landed before the experiment ended (delays {delays})"
    check_complete(path)
    check_restarts(read_starts(side), states)


# --- 2. SIGINT: graceful, then twice --------------------------------------------------------------------


def interrupt_run(tmp_path: Path, signals: int) -> tuple[subprocess.CompletedProcess[str], float]:
    """Start the local experiment with slow trials (0.2 s per iteration), send SIGINT ``signals`` times to its
    process group (as Ctrl+C does) while two trials run; return how it ended and how long after the first
    signal. The trials are fast (0.02 s per iteration) from then on."""
    side, slow = tmp_path / "starts.txt", tmp_path / "slow"
    slow.touch()
    mark_run(side, 0)
    args = ["run", str(tmp_path), "exp", str(side), "--sleep", "0.02", "--slow-flag", str(slow)]
    driver = start_driver(*args, cwd=tmp_path)
    wait_for_lines(side, 3)  # two trials running: fit() has its signal handlers
    time.sleep(random.Random(f"sigint-{signals}").uniform(0.1, 0.6))
    seen = worker_pids(driver.pid)
    assert len(seen) == 2
    sent = time.monotonic()
    for _ in range(signals):
        os.killpg(driver.pid, signal.SIGINT)
        time.sleep(0.05)
    out, err = driver.communicate(timeout=RUN_TIMEOUT_S)
    elapsed = time.monotonic() - sent
    assert_workers_gone(driver.pid, seen)
    slow.unlink()
    return subprocess.CompletedProcess(driver.args, driver.returncode, out, err), elapsed


def test_sigint_stops_gracefully_and_resume_completes(tmp_path):
    done, elapsed = interrupt_run(tmp_path, signals=1)
    path = tmp_path / "exp"
    assert done.returncode == 0, done.stderr
    assert f"tunecore resume {path}" in done.stderr and "SIGINT" in done.stderr
    assert elapsed < 1.5  # the running trials (2.4 s each) stopped at their next report
    state = journal_state(path)
    assert {t: s["status"] for t, s in state.items()} == {"t00001": "PENDING", "t00002": "PENDING"}
    assert all(0 < len(s["iterations"]) < ITERATIONS for s in state.values())
    mark_run(tmp_path / "starts.txt", 1)
    run_to_end("resume", str(path), cwd=tmp_path)
    check_complete(path)
    check_restarts(read_starts(tmp_path / "starts.txt"), [state])


def test_double_sigint_exits_at_once_and_the_experiment_still_resumes(tmp_path):
    done, elapsed = interrupt_run(tmp_path, signals=2)
    path = tmp_path / "exp"
    assert done.returncode != 0
    assert "KeyboardInterrupt" in done.stderr
    assert elapsed < 1.5  # at once: not at the end of the running trials (2.4 s each)
    state = journal_state(path)
    assert list(state) == ["t00001", "t00002"]
    assert {s["status"] for s in state.values()} <= {"RUNNING", "PENDING"}
    mark_run(tmp_path / "starts.txt", 1)
    run_to_end("resume", str(path), cwd=tmp_path)
    check_complete(path)
    check_restarts(read_starts(tmp_path / "starts.txt"), [state])




class SecondSigintInSuggest(RandomSearcher):
    """The random searcher; while proposing t00003, after advancing, it sends SIGINT to this process twice (a
    user pressing Ctrl+C twice): the second KeyboardInterrupt is raised before the trial is journaled."""

    def __init__(self, flag: str) -> None:
        super().__init__()
        self.flag = flag

    def suggest(self, trial_id):
        config = super().suggest(trial_id)
        handler = signal.getsignal(signal.SIGINT)
        tuner_handler = callable(handler) and handler is not signal.default_int_handler  # never into pytest's
        if trial_id == "t00003" and tuner_handler and not os.path.exists(self.flag):
            Path(self.flag).touch()
            os.kill(os.getpid(), signal.SIGINT)  # first: a graceful stop
            os.kill(os.getpid(), signal.SIGINT)  # second: KeyboardInterrupt, here
        return config


def one_report(config):
    tunecore.report({"loss": config["x"]})


def test_a_second_sigint_between_suggest_and_the_journal_loses_no_trial(tmp_path):
    searcher = SecondSigintInSuggest(str(tmp_path / "signalled"))
    tuner = tunecore.Tuner(
        one_report,
        param_space={"x": tunecore.uniform(0, 1)},
        tune_config=tunecore.TuneConfig(
            metric="loss", mode="min", num_samples=TRIALS, seed=SEED, executor="inline", searcher=searcher
        ),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=[], verbose=0),
    )
    with pytest.raises(KeyboardInterrupt):
        tuner.fit()
    assert (tmp_path / "signalled").exists() and list(journal_state(tmp_path / "exp")) == ["t00001", "t00002"]
    grid = tunecore.Tuner.restore(tmp_path / "exp").fit()
    assert [r.config["x"] for r in grid] == reference_xs(TRIALS)  # actual: 7 trials, the 3rd config skipped


# --- in-process experiments --------------------------------------------------------------------------------


def append_line(file: str, line: str) -> None:
    fd = os.open(file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)


def steps(config):
    """Counts to ``config["iterations"]``, checkpointing every ``config["every"]`` iterations.

    Each start appends ``trial_id id start_iteration pid`` to ``config["side"]``; the number of lines of the
    trial is its attempt. ``config["plan"]`` maps ``str(id)`` to ``[attempt, iteration, what]`` entries:
    ``raise``, ``kill`` (SIGKILL this process, a worker: never ``config["driver"]``, the test's process) or
    ``sigterm`` (SIGTERM this process, the driver with the inline executor, only while a Tuner handles it) or
    ``hold`` (sleep 2 s: keeps the trial running while another one fails).
    ``config["wait_for"]``: before failing, wait until the trial of that id has started.
    """
    checkpoint = tunecore.get_checkpoint()
    start = checkpoint.to_dict()["iteration"] if checkpoint is not None else 0
    trial_id = tunecore.get_context().trial_id
    append_line(config["side"], f"{trial_id} {config['id']} {start} {os.getpid()}")
    with open(config["side"]) as file:
        attempt = sum(line.split()[0] == trial_id for line in file)
    plan = {
        iteration: what for number, iteration, what in config["plan"].get(str(config["id"]), ()) if number == attempt
    }
    for iteration in range(start + 1, config["iterations"] + 1):
        time.sleep(config["sleep"])
        what = plan.get(iteration)
        if what is not None and config.get("wait_for") is not None:
            wait_for_trial(config["side"], config["wait_for"])
        if what == "hold":
            time.sleep(2.0)
        if what == "raise":
            raise RuntimeError(f"planned failure of attempt {attempt} at iteration {iteration}")
        if what == "kill" and os.getpid() != config["driver"]:  # only a worker process
            os.kill(os.getpid(), signal.SIGKILL)
        if what == "sigterm" and callable(signal.getsignal(signal.SIGTERM)):  # only into Tuner's handler
            os.kill(os.getpid(), signal.SIGTERM)
        saved = None
        if iteration % config["every"] == 0:
            saved = tunecore.Checkpoint.from_dict({"iteration": iteration})
        tunecore.report(
            {"loss": 1.0 / iteration, "step": iteration, "score": config["scores"][iteration - 1]}, checkpoint=saved
        )


def wait_for_trial(side: str, config_id: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(side) as file:
            if any(int(line.split()[1]) == config_id for line in file):
                return
        time.sleep(0.005)
    raise AssertionError(f"trial with id {config_id} never started")


def steps_tuner(
    tmp_path: Path,
    ids: int,
    *,
    executor: str = "local",
    plan=None,
    wait_for=None,
    every: int = EVERY,
    scores=None,
    sleep: float = 0.0,
    failure_config=None,
    checkpoint_config=None,
) -> tunecore.Tuner:
    return tunecore.Tuner(
        steps,
        param_space={
            "id": tunecore.grid_search(list(range(ids))),
            "side": str(tmp_path / "starts.txt"),
            "plan": plan or {},
            "wait_for": wait_for,
            "iterations": ITERATIONS,
            "every": every,
            "sleep": sleep,
            "scores": scores or [0.0] * ITERATIONS,
            "driver": os.getpid(),
        },
        tune_config=tunecore.TuneConfig(
            metric="loss",
            mode="min",
            seed=SEED,
            executor=executor,
            executor_options={"num_workers": 2} if executor == "local" else {},
        ),
        run_config=tunecore.RunConfig(
            name="exp",
            storage_path=str(tmp_path),
            loggers=[],
            verbose=0,
            failure_config=failure_config or tunecore.FailureConfig(),
            checkpoint_config=checkpoint_config or tunecore.CheckpointConfig(),
        ),
    )


def starts_of(tmp_path: Path) -> dict[int, list[tuple[int, int]]]:
    """Per config id: ``(start_iteration, pid)`` of each start, in order."""
    starts: dict[int, list[tuple[int, int]]] = {}
    for line in (tmp_path / "starts.txt").read_text().splitlines():
        _trial_id, config_id, start, pid = line.split()
        starts.setdefault(int(config_id), []).append((int(start), int(pid)))
    return starts


def check_counts(grid: tunecore.ResultGrid, ids: int) -> None:
    assert sorted(r.config["id"] for r in grid) == list(range(ids))
    for result in grid:
        assert result.status == "TERMINATED", (result.trial_id, result.error)
        assert [r["training_iteration"] for r in result.metrics_history] == list(range(1, ITERATIONS + 1))
        assert result.checkpoint is not None and result.checkpoint.to_dict()["iteration"] == ITERATIONS


# --- 3. a worker killed during a trial, 4. retries ----------------------------------------------------------



def iterations_of(result) -> list[int]:
    return [r["training_iteration"] for r in result.metrics_history]


@pytest.fixture(scope="module")
def worker_killed(tmp_path_factory):
    """Two trials on two workers; trial id 1 SIGKILLs its worker at iteration 8 of its first attempt."""
    tmp_path = tmp_path_factory.mktemp("worker-killed")
    plan = {"1": [[1, 8, "kill"]]}
    grid = steps_tuner(tmp_path, 2, plan=plan, failure_config=tunecore.FailureConfig(max_failures=1)).fit()
    return tmp_path, grid


def test_worker_sigkill_retries_the_trial_from_its_latest_checkpoint_in_a_new_worker(worker_killed):
    tmp_path, grid = worker_killed
    assert [r.status for r in grid] == ["TERMINATED", "TERMINATED"]
    starts = starts_of(tmp_path)
    assert [start for start, _ in starts[0]] == [0]
    assert [start for start, _ in starts[1]] == [0, 6]  # killed at 8: its checkpoint at 6
    (_, first_pid), (_, second_pid) = starts[1]
    assert first_pid != second_pid and not is_alive(first_pid)
    victim = next(r for r in grid if r.config["id"] == 1)
    assert victim.error is None  # it ended TERMINATED: its failure is history, kept in error.txt
    error_txt = (Path(victim.path) / "error.txt").read_text()
    assert error_txt.startswith("Failure # 1 ") and f"worker process {first_pid} died" in error_txt
    assert "SIGKILL" in error_txt
    assert journal_state(tmp_path / "exp")[victim.trial_id]["errors"] == 1
    for result in grid:
        assert result.checkpoint is not None and result.checkpoint.to_dict()["iteration"] == ITERATIONS
    assert iterations_of(next(r for r in grid if r.config["id"] == 0)) == list(range(1, ITERATIONS + 1))


def test_a_trial_retried_after_its_worker_died_reports_each_iteration_once(worker_killed):
    _, grid = worker_killed
    victim = next(r for r in grid if r.config["id"] == 1)
    assert iterations_of(victim) == list(range(1, ITERATIONS + 1))  # actual: 1..13, step 7 twice


@pytest.fixture(scope="module")
def failed_twice(tmp_path_factory):
    """One trial that raises on its first two attempts (at iterations 5 and 8) with max_failures=2."""
    tmp_path = tmp_path_factory.mktemp("failed-twice")
    plan = {"0": [[1, 5, "raise"], [2, 8, "raise"]]}
    failures = tunecore.FailureConfig(max_failures=2)
    return tmp_path, steps_tuner(tmp_path, 1, executor="inline", plan=plan, failure_config=failures).fit()


def test_a_trial_failing_twice_succeeds_on_its_third_attempt_from_its_checkpoint(failed_twice):
    tmp_path, grid = failed_twice
    assert len(grid) == 1 and grid[0].status == "TERMINATED"
    assert [start for start, _ in starts_of(tmp_path)[0]] == [0, 3, 6]
    assert journal_state(tmp_path / "exp")["t00001"]["errors"] == 2
    error_txt = (tmp_path / "exp" / "t00001" / "error.txt").read_text()
    assert "RuntimeError: planned failure of attempt 2 at iteration 8" in error_txt
    assert grid[0].checkpoint.to_dict()["iteration"] == ITERATIONS


def test_a_trial_retried_after_raising_reports_each_iteration_once(failed_twice):
    _, grid = failed_twice
    assert iterations_of(grid[0]) == list(range(1, ITERATIONS + 1))  # actual: 1..14, steps 4 and 7 twice


def test_a_failure_beyond_max_failures_ends_the_trial_in_error(tmp_path):
    plan = {"0": [[1, 5, "raise"], [2, 8, "raise"], [3, 10, "raise"]]}
    failures = tunecore.FailureConfig(max_failures=2)
    grid = steps_tuner(tmp_path, 1, executor="inline", plan=plan, failure_config=failures).fit()
    assert grid[0].status == "ERROR" and "attempt 3 at iteration 10" in grid[0].error
    assert [start for start, _ in starts_of(tmp_path)[0]] == [0, 3, 6]
    assert journal_state(tmp_path / "exp")["t00001"]["errors"] == 3


@pytest.mark.parametrize(("option", "from_iteration"), [("resume_errored", 6), ("restart_errored", 0)])
def test_an_errored_trial_runs_again_on_restore_when_asked(tmp_path, option, from_iteration):
    grid = steps_tuner(tmp_path, 2, executor="inline", plan={"0": [[1, 8, "raise"]]}).fit()
    assert sorted(r.status for r in grid) == ["ERROR", "TERMINATED"]
    assert len(tunecore.Tuner.restore(tmp_path / "exp").fit()) == 2  # without the option: left as it is
    assert [start for start, _ in starts_of(tmp_path)[0]] == [0]
    grid = tunecore.Tuner.restore(tmp_path / "exp", **{option: True}).fit()
    check_counts(grid, 2)
    starts = starts_of(tmp_path)
    assert [start for start, _ in starts[0]] == [0, from_iteration] and len(starts[1]) == 1


def test_fail_fast_stops_the_experiment_and_resume_errored_completes_it(tmp_path):
    plan = {"0": [[1, 7, "raise"]], "1": [[1, 3, "hold"]]}  # id 1 is still running when id 0 fails
    tuner = steps_tuner(
        tmp_path, 4, plan=plan, wait_for=1, sleep=0.01, failure_config=tunecore.FailureConfig(fail_fast=True)
    )
    grid = tuner.fit()
    assert len(grid) == 2 and grid.num_errors == 1  # the first failure stopped it: nothing more was created
    statuses = {r.config["id"]: r.status for r in grid}
    assert statuses == {0: "ERROR", 1: "PENDING"}  # the trial running next to it was left unfinished
    state = journal_state(tmp_path / "exp")
    grid = tunecore.Tuner.restore(tmp_path / "exp", resume_errored=True).fit()
    check_counts(grid, 4)
    starts = starts_of(tmp_path)
    assert [start for start, _ in starts[0]] == [0, 6]
    assert [start for start, _ in starts[1]] == [0, max([0, *state["t00002"]["checkpoints"]])]
    assert [start for start, _ in starts[2]] == [0] and [start for start, _ in starts[3]] == [0]


# --- SIGTERM inside the driver (inline executor): a graceful stop at a known moment ---------------------------



@pytest.fixture(scope="module")
def sigterm_interrupted(tmp_path_factory):
    """Two trials inline; SIGTERM reaches the driver just before trial id 1 reports iteration 6 (a checkpoint).

    Returns the directory, the grid after the interruption, what fit() printed, the grid after the resume.
    """
    tmp_path = tmp_path_factory.mktemp("sigterm")
    tuner = steps_tuner(tmp_path, 2, executor="inline", plan={"1": [[1, 6, "sigterm"]]})
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        interrupted = tuner.fit()
    resumed = tunecore.Tuner.restore(tmp_path / "exp").fit()
    return tmp_path, interrupted, stderr.getvalue(), resumed


def test_sigterm_stops_gracefully_and_the_trial_continues_from_its_checkpoint(sigterm_interrupted):
    tmp_path, interrupted, stderr, resumed = sigterm_interrupted
    assert "Interrupted by SIGTERM" in stderr and f"tunecore resume {tmp_path / 'exp'}" in stderr
    assert [(r.config["id"], r.status) for r in interrupted] == [(0, "TERMINATED"), (1, "PENDING")]
    assert iterations_of(interrupted[1]) == list(range(1, 7))
    check_counts(resumed, 2)
    starts = starts_of(tmp_path)
    assert [start for start, _ in starts[0]] == [0] and [start for start, _ in starts[1]] == [0, 6]


def test_only_the_last_result_of_a_resumed_trial_may_be_done(sigterm_interrupted):
    *_, resumed = sigterm_interrupted
    history = resumed[1].metrics_history
    assert [r["training_iteration"] for r in history if r["done"]] == [history[-1]["training_iteration"]] == [12]


# --- 5. num_to_keep with a score --------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["max", "min"])
@pytest.mark.parametrize("interrupted", [False, True], ids=["straight", "interrupted"])
def test_num_to_keep_keeps_the_latest_and_the_best_on_disk(tmp_path, order, interrupted):
    scores = [float(s) for s in random.Random(f"scores-{order}").sample(range(100), ITERATIONS)]
    better = max if order == "max" else min
    scores[-1] = better(scores[:-1]) - (1 if order == "max" else -1)  # the latest is not the best
    best = 1 + scores.index(better(scores[:-1]))
    plan = {"1": [[1, 8, "sigterm"]]} if interrupted else {}
    config = tunecore.CheckpointConfig(num_to_keep=2, checkpoint_score_attribute="score", checkpoint_score_order=order)
    tuner = steps_tuner(tmp_path, 2, executor="inline", every=1, scores=scores, plan=plan, checkpoint_config=config)
    with contextlib.redirect_stderr(io.StringIO()):
        grid = tuner.fit()
    if interrupted:
        assert [r.status for r in grid] == ["TERMINATED", "PENDING"]
        grid = tunecore.Tuner.restore(tmp_path / "exp").fit()
    check_counts(grid, 2)
    records = journal_records(tmp_path / "exp")
    for result in grid:
        on_disk = sorted(p.name for p in Path(result.path).iterdir() if p.name.startswith(("checkpoint_", ".")))
        assert on_disk == [f"checkpoint_{i:06d}" for i in sorted({best, ITERATIONS})], result.trial_id
        kept = [(Path(c.path).name, r["training_iteration"]) for c, r in result.best_checkpoints]
        assert kept == [(f"checkpoint_{i:06d}", i) for i in sorted({best, ITERATIONS})]
        assert [c.to_dict()["iteration"] for c, _ in result.best_checkpoints] == sorted({best, ITERATIONS})
        assert Path(result.checkpoint.path).name == f"checkpoint_{ITERATIONS:06d}"
        assert Path(result.get_best_checkpoint("score", order).path).name == f"checkpoint_{best:06d}"
        names = [
            r["checkpoint"] for r in records if r["event"] == "checkpoint_deleted" and r["trial_id"] == result.trial_id
        ]
        assert len(names) == len(set(names)) == ITERATIONS - 2


# --- 6. damaged files -------------------------------------------------------------------------------------

SNAPSHOT_HEADER = struct.Struct("<4sQQI")  # magic, sequence number, payload length, crc32 (tunecore/storage.py)


def run_script(*args: str, cwd: Path, module: bool = False) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run crash_experiment.py (or ``python -m tunecore``) to its end; return how it ended and its pid."""
    command = [sys.executable, "-m", "tunecore", *args] if module else [sys.executable, str(SCRIPT), *args]
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = process.communicate(timeout=RUN_TIMEOUT_S)
    return subprocess.CompletedProcess(command, process.returncode, out, err), process.pid


def starts_by_pid(side: Path, pid: int) -> list[tuple[str, int, int]]:
    """The side file's start lines written by process ``pid`` (the driver, with the inline executor)."""
    found = []
    for line in side.read_text().splitlines():
        if not line.startswith("#") and int(line.split()[3]) == pid:
            trial_id, start, context_start, _ = line.split()
            found.append((trial_id, int(start), int(context_start)))
    return found


@pytest.fixture(scope="module")
def crashed(tmp_path_factory) -> Path:
    """An inline experiment whose driver SIGKILLed itself at iteration 5 of t00003 (checkpoint at 3); its
    components were snapshotted at every trial creation and end (both snapshot files written)."""
    tmp_path = tmp_path_factory.mktemp("crashed")
    args = ["run", str(tmp_path), "exp", str(tmp_path / "starts.txt"), "--executor", "inline", "--sleep", "0.002"]
    args.append("--snapshot-every-trial")
    done, _ = run_script(*args, "--kill-driver-at", "t00003:5", cwd=tmp_path)
    assert done.returncode == -signal.SIGKILL, done.stderr
    state = journal_state(tmp_path / "exp")
    assert [(t, s["status"]) for t, s in state.items()] == [
        ("t00001", "TERMINATED"),
        ("t00002", "TERMINATED"),
        ("t00003", "RUNNING"),
    ]
    return tmp_path / "exp"


@pytest.fixture
def crashed_copy(crashed: Path, tmp_path: Path) -> Path:
    """A copy of the crashed experiment to resume or damage (its trials append to the original's side file)."""
    copy = tmp_path / "exp"
    shutil.copytree(crashed, copy)
    return copy


def resume_and_check(
    path: Path, *extra: str, trials: int = TRIALS, module: bool = False
) -> subprocess.CompletedProcess[str]:
    """Resume ``path`` in a subprocess; it completes, and restarts only what it should, where it should."""
    before = journal_state(path)
    args = ["resume", str(path), *extra]
    done, pid = run_script(*args, cwd=path.parent, module=module)
    assert done.returncode == 0, done.stderr
    check_complete(path, trials=trials)
    side = Path(next(r for r in journal_records(path) if r["event"] == "trial")["config"]["side"])
    check_restarts([[], starts_by_pid(side, pid)], [before])
    return done


def snapshots_by_age(path: Path) -> list[Path]:
    """snapshot.0 and snapshot.1, newest first (by their sequence numbers)."""
    files = [path / "snapshot.0", path / "snapshot.1"]
    return sorted(files, key=lambda f: SNAPSHOT_HEADER.unpack_from(f.read_bytes())[1], reverse=True)


def garble(file: Path, offset: int) -> None:
    data = bytearray(file.read_bytes())
    data[offset] ^= 0xFF
    file.write_bytes(bytes(data))


@pytest.mark.parametrize("which", ["newest", "oldest"])
def test_resume_uses_the_other_snapshot_when_one_is_damaged(crashed_copy, which):
    newest, oldest = snapshots_by_age(crashed_copy)
    garble(newest if which == "newest" else oldest, SNAPSHOT_HEADER.size + 20)
    resume_and_check(crashed_copy)  # the older snapshot predates t00003: the searcher is replayed to match


def test_both_snapshots_damaged_is_an_error_naming_them_and_nothing_is_written(crashed_copy):
    newest, oldest = snapshots_by_age(crashed_copy)
    garble(newest, SNAPSHOT_HEADER.size + 20)
    oldest.write_bytes(oldest.read_bytes()[: SNAPSHOT_HEADER.size + 5])  # a torn write
    before = tree_digest(crashed_copy)
    with pytest.raises(TuneError) as raised:
        tunecore.Tuner.restore(crashed_copy).fit()
    assert str(newest) in str(raised.value) and str(oldest) in str(raised.value)
    assert tree_digest(crashed_copy) == before
    done, _ = run_script("resume", str(crashed_copy), cwd=crashed_copy.parent, module=True)
    assert done.returncode == 2 and "snapshot" in done.stderr
    assert tree_digest(crashed_copy) == before


def test_a_garbled_journal_line_is_an_error_naming_the_file_and_line(crashed_copy):
    journal = crashed_copy / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    lines[4] = lines[4][:10] + "#garbage#" + lines[4][10:]
    journal.write_text("".join(lines))
    before = tree_digest(crashed_copy)
    for load in (
        lambda: tunecore.Tuner.restore(crashed_copy).fit(),
        lambda: tunecore.ResultGrid.from_path(crashed_copy),
    ):
        with pytest.raises(TuneError, match=r"line 5\b") as raised:
            load()
        assert str(journal) in str(raised.value)
    assert tree_digest(crashed_copy) == before


def test_a_torn_last_journal_line_is_ignored_and_the_resume_completes(crashed_copy):
    journal = crashed_copy / "journal.jsonl"
    data = journal.read_bytes()
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    journal.write_bytes(data[: last + (len(data) - last) // 2])  # half of the last line, no newline
    torn = json.loads(data[last:])
    assert (torn["trial_id"], torn["checkpoint"]) == ("t00003", "checkpoint_000003")  # now lost: from scratch
    resume_and_check(crashed_copy)


# --- 7. num_samples raised, can_restore, the command line ------------------------------------------------


def test_raising_num_samples_on_restore_runs_only_the_new_trials(tmp_path):
    side = tmp_path / "starts.txt"
    args = ["run", str(tmp_path), "exp", str(side), "--executor", "inline", "--sleep", "0", "--trials", "4"]
    done, _ = run_script(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    check_complete(tmp_path / "exp", trials=4)
    resume_and_check(tmp_path / "exp", "--num-samples", "6", trials=6)
    done, pid = run_script("resume", str(tmp_path / "exp"), cwd=tmp_path)  # nothing left to run
    assert done.returncode == 0 and done.stdout.strip() == "DONE 6" and starts_by_pid(side, pid) == []


def test_raising_num_samples_after_a_crash_from_the_command_line(crashed_copy):
    done = resume_and_check(crashed_copy, "--num-samples", "10", trials=10, module=True)
    assert "trials: 10 (10 terminated, 0 errors)" in done.stdout


def test_the_command_line_resumes_a_crashed_experiment(crashed_copy):
    done = resume_and_check(crashed_copy, module=True)
    assert f"experiment: {crashed_copy}" in done.stdout and "trials: 8 (8 terminated, 0 errors)" in done.stdout


def test_can_restore(tmp_path, crashed):
    assert tunecore.Tuner.can_restore(crashed)
    assert tunecore.Tuner.can_restore(str(crashed))
    half = tmp_path / "half"
    half.mkdir()
    shutil.copy(crashed / "experiment.json", half)
    for path in (tmp_path / "missing", tmp_path, half, crashed / "t00001", crashed / "journal.jsonl"):
        assert not tunecore.Tuner.can_restore(path), path
        with pytest.raises(TuneError, match="not a resumable tunecore experiment"):
            tunecore.Tuner.restore(path)
    done, _ = run_script("resume", str(half), cwd=tmp_path, module=True)
    assert done.returncode == 2 and "not a resumable tunecore experiment" in done.stderr
