"""Experiments started from a TOML file with a ``file.py:func`` trainable resume in a new process (issue #11, 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tunecore
from tests.conftest import user_environment
from tunecore.journal import replay
from tunecore.storage import read_journal

TRAINABLE = '''
import tunecore


def train(config):
    for step in range(1, 4):
        tunecore.report({"loss": (config["x"] - 0.3) ** 2 + 1.0 / step})
'''


def write_experiment(directory: Path, executor: str) -> Path:
    """An examples/*.toml style experiment: its trainable is ``quad.py:train`` next to the file."""
    (directory / "quad.py").write_text(TRAINABLE)
    toml = directory / "quad.toml"
    toml.write_text(
        f'trainable = "quad.py:train"\nmetric = "loss"\nmode = "min"\nnum_samples = 2\nseed = 0\nname = "quad"\n'
        f'storage_path = "{directory / "results"}"\nverbose = 0\n'
        f'[param_space]\nx = {{ uniform = [-1.0, 1.0] }}\n[executor]\nname = "{executor}"\n'
    )
    return toml


def run_python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = user_environment()
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def trial_statuses(path: Path) -> dict[str, str]:
    return {trial_id: record.status for trial_id, record in replay(read_journal(str(path))).items()}


def test_cli_resume_of_a_toml_experiment_with_a_file_trainable(tmp_path):
    toml = write_experiment(tmp_path, "local")
    started = run_python("-m", "tunecore", "run", str(toml), cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    path = tmp_path / "results" / "quad"
    assert tunecore.Tuner.can_restore(path)
    resumed = run_python("-m", "tunecore", "resume", str(path), "--num-samples", "3", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "trials: 3 (3 terminated, 0 errors)" in resumed.stdout
    assert trial_statuses(path) == {"t00001": "TERMINATED", "t00002": "TERMINATED", "t00003": "TERMINATED"}


def test_tuner_restore_of_a_toml_experiment_in_a_new_process(tmp_path):
    toml = write_experiment(tmp_path, "inline")
    started = run_python("-m", "tunecore", "run", str(toml), cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    path = tmp_path / "results" / "quad"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()  # another working directory: the file is found by its absolute path
    script = (
        "import sys, tunecore\n"
        "grid = tunecore.Tuner.restore(sys.argv[1], num_samples=3).fit()\n"
        "print(len(grid), grid.num_terminated)\n"
    )
    resumed = run_python("-c", script, str(path), cwd=elsewhere)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.split() == ["3", "3"]


def test_a_moved_trainable_file_is_named_and_can_restore_says_false(tmp_path):
    toml = write_experiment(tmp_path, "inline")
    assert run_python("-m", "tunecore", "run", str(toml), cwd=tmp_path).returncode == 0
    path = tmp_path / "results" / "quad"
    (tmp_path / "quad.py").rename(tmp_path / "moved.py")
    assert not tunecore.Tuner.can_restore(path)
    resumed = run_python("-m", "tunecore", "resume", str(path), cwd=tmp_path)
    assert resumed.returncode == 2
    assert f"{tmp_path / 'quad.py'}" in resumed.stderr and "Traceback" not in resumed.stderr
