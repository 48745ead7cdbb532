"""``executor = "ray"`` with no address: tunecore starts a private Ray on this machine and shuts it down."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.ray.cluster import ray  # noqa: F401  (skips this module without Ray)

ROOT = Path(__file__).parents[2]


def ray_processes(under: Path) -> set[int]:
    """Pids of the Ray daemons of the sessions kept under ``under`` (the Ray this test starts)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if (b"raylet" in command or b"gcs_server" in command) and os.fsencode(under) in command:
                found.add(int(entry))
    return found


def test_the_cli_runs_an_experiment_file_on_a_private_ray_and_shuts_it_down(tmp_path: Path) -> None:
    ray_dir = Path(tempfile.mkdtemp(prefix="trp-"))  # short: Ray's socket paths must stay under 108 bytes
    try:
        check_the_cli_run(tmp_path, ray_dir)
    finally:
        shutil.rmtree(ray_dir, ignore_errors=True)


def check_the_cli_run(tmp_path: Path, ray_dir: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TUNECORE_", "RAY_ADDRESS"))}
    env.update(RAY_TMPDIR=str(ray_dir), TUNE_RAY_SCRATCH_DIR=str(ray_dir / "scratch"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tunecore",
            "run",
            str(ROOT / "examples" / "quadratic.toml"),
            "--set",
            "executor.name=ray",
            "--set",
            "num_samples=3",
            "--set",
            f"storage_path={tmp_path}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    trials = sorted(path for path in (tmp_path / "quadratic").iterdir() if path.is_dir())
    assert len(trials) == 3
    assert len((tmp_path / "quadratic" / "result.jsonl").read_text().splitlines()) == 3 * 8
    assert all((trial / "stdout.log").exists() for trial in trials)
    assert list((ray_dir / "ray").glob("session_*")), "the private Ray did not keep its files under RAY_TMPDIR"
    assert not ray_processes(ray_dir), "the private Ray tunecore started is still running"
