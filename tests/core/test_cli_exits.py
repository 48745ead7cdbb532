"""Exit statuses and messages of ``tunecore run`` when interrupted or given unusable input (issue #11, 16 and 17)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import user_environment
from tunecore.journal import replay
from tunecore.storage import read_journal

SLOW_TRAINABLE = '''
import time
import tunecore


def train(config):
    for step in range(1, 2001):
        if step == 2:
            open(config["marker"], "w").close()  # the experiment is under way
        tunecore.report({"loss": 1.0 / step})
        time.sleep(0.02)
'''


def write_experiment(directory: Path, executor: str = "inline", extra: str = "") -> Path:
    (directory / "slow.py").write_text(SLOW_TRAINABLE)
    toml = directory / "slow.toml"
    toml.write_text(
        f'trainable = "slow.py:train"\nmetric = "loss"\nmode = "min"\nnum_samples = 1\nname = "slow"\n'
        f'storage_path = "{directory / "results"}"\nexecutor = "{executor}"\n'
        f'param_space = {{ marker = "{directory / "started"}" }}\n{extra}'
    )
    return toml


def tunecore_process(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = user_environment()
    command = [sys.executable, "-m", "tunecore", *args]
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    process = tunecore_process(*args, cwd=cwd)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.parametrize(
    ("signum", "status", "executor"), [(signal.SIGINT, 130, "inline"), (signal.SIGTERM, 143, "local")]
)
def test_an_interrupted_run_exits_128_plus_the_signal_and_names_the_resume_command(tmp_path, signum, status, executor):
    toml = write_experiment(tmp_path, executor)
    process = tunecore_process("run", str(toml), cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not (tmp_path / "started").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    path = tmp_path / "results" / "slow"
    assert process.returncode == status, err
    name = signal.Signals(signum).name
    assert f"tunecore: Interrupted by {name}; the experiment's state is saved" in err
    assert f"tunecore resume {path}" in err
    assert f"interrupted by {name}: resume with: tunecore resume {path}" in out
    assert [record.status for record in replay(read_journal(str(path))).values()] == ["PENDING"]


def test_a_file_as_storage_path_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "results").write_text("not a directory")
    done = run_cli("run", str(write_experiment(tmp_path)), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"tunecore: error: storage_path {tmp_path / 'results'} is a file, not a directory:" \
        " choose a directory for the experiments\n"
    done = run_cli("run", str(write_experiment(tmp_path)), "--set", f"storage_path='{tmp_path}/results/sub'",
                   cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"tunecore: error: cannot create storage_path {tmp_path / 'results' / 'sub'}: ")
    assert len(done.stderr.splitlines()) == 1


def unwritable_directory(tmp_path: Path) -> Iterator[str]:
    """A directory this process cannot create entries in: a read-only one, or for root a sysfs directory."""
    if os.geteuid() != 0:
        locked = tmp_path / "results"
        locked.mkdir()
        locked.chmod(0o500)
        yield str(locked)
        locked.chmod(0o700)
        return
    probe = "/sys/kernel/tunecore-write-probe"
    try:
        os.mkdir(probe)
    except OSError:  # expected: sysfs refuses new directories, even to root
        yield "/sys/kernel"
        return
    os.rmdir(probe)
    pytest.skip("no directory here refuses writes to root (sysfs allowed a new directory)")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_an_unwritable_storage_path_is_one_line_and_exit_2(tmp_path):
    for directory in unwritable_directory(tmp_path):
        done = run_cli("run", str(write_experiment(tmp_path)), "--set", f"storage_path='{directory}'", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("tunecore: error: cannot create the experiment directory ")
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("settings", "overrides", "message"),
    [
        (  # a plain ValueError
            '[[stoppers]]\nname = "threshold"\nvalue = 0.5\n',
            ["--set", "metric=['loss', 'x']", "--set", "mode=['min', 'min']"],
            "ThresholdStopper.setup() rejected the experiment: the threshold stopper takes one metric",
        ),
        (  # a SpaceError (a ValueError that says what to fix)
            'searcher = { name = "random", points_to_evaluate = [{ z = 1 }] }\n',
            [],
            "points_to_evaluate[0] has ['z'], which are not parameters",
        ),
    ],
    ids=["value-error", "space-error"],
)
def test_a_value_error_from_setup_is_one_line_exit_2_and_leaves_no_directory(tmp_path, settings, overrides, message):
    toml = write_experiment(tmp_path, extra=settings)
    for _ in range(2):  # twice: neither slow/ nor slow_2/ is left behind
        done = run_cli("run", str(toml), *overrides, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("tunecore: error: ") and message in done.stderr
        assert len(done.stderr.splitlines()) == 1
    assert os.listdir(tmp_path / "results") == []
