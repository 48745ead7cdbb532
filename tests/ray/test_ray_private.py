"""``executor = "ray"`` with no address: tunecore starts a private Ray on this machine and shuts it down."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.ray.cluster import ray  # noqa: F401  (skips this module without Ray)

ROOT = Path(__file__).parents[2]


def ray_processes() -> set[int]:
    """Pids of the Ray daemons running on this machine (any session)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"raylet" in command or b"gcs_server" in command:
                found.add(int(entry))
    return found


def test_the_cli_runs_an_experiment_file_on_a_private_ray_and_shuts_it_down(tmp_path: Path) -> None:
    before = ray_processes()
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    env = {key: value for key, value in env.items() if not key.startswith(("TUNECORE_", "RAY_ADDRESS"))}
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
    assert not ray_processes() - before, "the private Ray tunecore started is still running"
