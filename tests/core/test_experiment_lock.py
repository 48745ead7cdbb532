"""One process at a time per experiment directory (issue #11, 3): atomic claims and a lock held while running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import user_environment
from tunecore.errors import TuneError
from tunecore.journal import replay
from tunecore.lock import LOCK_FILE, ExperimentLock
from tunecore.storage import read_journal

DRIVER = '''
import os, sys, time
import tunecore

storage, barrier, gate, meeting, drivers = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
real_mkdir, real_makedirs, met = os.mkdir, os.makedirs, []


def meet(path):
    # The first time a driver creates the directory "exp" it waits until every driver is there: their
    # choices of a directory interleave as badly as they can (both decided before either created it).
    if not met and os.path.basename(os.fspath(path)) == "exp":
        met.append(True)
        open(os.path.join(meeting, str(os.getpid())), "w").close()
        while len(os.listdir(meeting)) < drivers:
            time.sleep(0.001)


def mkdir(path, *args, **kwargs):
    meet(path)
    return real_mkdir(path, *args, **kwargs)


def makedirs(path, *args, **kwargs):
    meet(path)
    return real_makedirs(path, *args, **kwargs)


os.mkdir, os.makedirs = mkdir, makedirs


def train(config):
    while gate != "-" and not os.path.exists(gate):  # held open until the test lets it finish
        with open(gate + ".waiting", "w"):
            pass
        time.sleep(0.01)
    tunecore.report({"loss": config["x"]})


plugins = tunecore.load_plugins()
while not os.path.exists(barrier):  # every driver starts at the same moment
    time.sleep(0.001)
tunecore.Tuner(
    train,
    param_space={"x": tunecore.uniform(0, 1), "who": os.getpid()},
    tune_config=tunecore.TuneConfig(metric="loss", mode="min", num_samples=3, seed=0, executor="inline"),
    run_config=tunecore.RunConfig(name="exp", storage_path=storage, verbose=0),
    plugins=plugins,
).fit()
'''


def start_driver(tmp_path: Path, barrier: Path, gate: str = "-", drivers: int = 1) -> subprocess.Popen[str]:
    script, meeting = tmp_path / "driver.py", tmp_path / "meeting"
    script.write_text(DRIVER)
    meeting.mkdir(exist_ok=True)
    env = user_environment()
    return subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "results"), str(barrier), gate, str(meeting), str(drivers)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = user_environment()
    command = [sys.executable, "-m", "tunecore", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def test_two_processes_starting_the_same_experiment_get_distinct_directories(tmp_path):
    barrier = tmp_path / "go"
    drivers = [start_driver(tmp_path, barrier, drivers=2) for _ in range(2)]
    barrier.touch()
    for driver in drivers:
        _, err = driver.communicate(timeout=60)
        assert driver.returncode == 0, err
    directories = sorted(os.listdir(tmp_path / "results"))
    assert directories == ["exp", "exp_2"]
    owners = set()
    for name in directories:
        records = read_journal(str(tmp_path / "results" / name))
        created = [r["trial_id"] for r in records if r["event"] == "trial"]
        assert created == ["t00001", "t00002", "t00003"]  # each journal holds its own trials once
        trials = replay(records)
        assert {trial.status for trial in trials.values()} == {"TERMINATED"}
        who = {trial.config["who"] for trial in trials.values()}
        assert len(who) == 1  # one run's configs only
        owners |= who
    assert owners == {driver.pid for driver in drivers}


def test_resuming_a_running_experiment_is_refused_naming_host_and_pid(tmp_path):
    barrier, gate = tmp_path / "go", tmp_path / "gate"
    barrier.touch()
    driver = start_driver(tmp_path, barrier, str(gate))
    path = tmp_path / "results" / "exp"
    wait_for(Path(str(gate) + ".waiting"), driver)  # a trial is running: the experiment is resumable
    refused = cli("resume", str(path))
    assert refused.returncode == 2, refused.stderr
    assert f"is in use by process {driver.pid} on {socket.gethostname()} (run since " in refused.stderr
    assert "Traceback" not in refused.stderr
    gate.touch()
    _, err = driver.communicate(timeout=60)
    assert driver.returncode == 0, err
    assert not (path / LOCK_FILE).exists()  # released and removed at the end of the run
    trials = replay(read_journal(str(path)))
    assert sorted(trials) == ["t00001", "t00002", "t00003"]  # the refused resume wrote nothing


def test_a_lock_left_by_a_killed_process_does_not_block_a_resume(tmp_path):
    barrier, gate = tmp_path / "go", tmp_path / "gate"
    barrier.touch()
    driver = start_driver(tmp_path, barrier, str(gate))
    path = tmp_path / "results" / "exp"
    wait_for(Path(str(gate) + ".waiting"), driver)
    driver.send_signal(signal.SIGKILL)
    driver.communicate(timeout=60)
    assert (path / LOCK_FILE).exists()  # the file stays; the operating system released the lock
    gate.touch()
    resumed = cli("resume", str(path))
    assert resumed.returncode == 0, resumed.stderr
    assert "trials: 3 (3 terminated, 0 errors)" in resumed.stdout


def test_a_second_lock_in_the_same_process_is_refused_and_release_lets_it_go(tmp_path):
    lock = ExperimentLock.acquire(str(tmp_path), "run")
    with pytest.raises(TuneError, match=rf"in use by process {os.getpid()} on .* \(run since "):
        ExperimentLock.acquire(str(tmp_path), "resume")
    lock.release()
    again = ExperimentLock.acquire(str(tmp_path), "resume")
    assert again.held
    again.release()
    assert not (tmp_path / LOCK_FILE).exists()
