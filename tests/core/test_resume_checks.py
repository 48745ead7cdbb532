"""A resume cross-checks what it reads before it runs anything (issue #11, items 4 and 5)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tunecore
import tunecore.cli
from tests.conftest import user_environment
from tunecore.errors import TuneError
from tunecore.journal import replay
from tunecore.lock import LOCK_FILE
from tunecore.storage import read_journal

ROOT = Path(__file__).parents[2]


PER_TRIAL = [{"name": "json", "per_trial": True}, {"name": "csv", "per_trial": True}]


def start_experiment(tmp_path: Path, num_samples: int = 3) -> Path:
    """A finished experiment whose trials have directories (params.json, progress.csv, result.jsonl)."""
    grid = tunecore.Tuner(
        "tests.core.data.trainables:train",
        param_space={"lr": tunecore.uniform(0.0, 0.1)},
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", num_samples=num_samples, seed=0, executor="inline"),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=PER_TRIAL, verbose=0),
    ).fit()
    return Path(grid.experiment_path)


def tree_digest(path: Path) -> dict[str, str]:
    """Every file under ``path`` and a hash of its bytes (but the lock file)."""
    return {
        str(file.relative_to(path)): hashlib.sha256(file.read_bytes()).hexdigest()
        for file in sorted(path.rglob("*"))
        if file.is_file() and file.name != LOCK_FILE
    }


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = user_environment()
    command = [sys.executable, "-m", "tunecore", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_an_emptied_journal_is_refused_and_nothing_is_written(tmp_path):
    path = start_experiment(tmp_path)
    (path / "journal.jsonl").write_text("")
    before = tree_digest(path)
    with pytest.raises(TuneError) as raised:
        tunecore.Tuner.restore(path, num_samples=5).fit()
    message = str(raised.value)
    assert "trial directories t00001, t00002, t00003 are not in the journal" in message
    assert "the journal holds 0 records but the newest snapshot saw" in message
    assert f"tunecore resume {path} --repair" in message
    assert tree_digest(path) == before


def test_a_truncated_journal_is_refused_by_the_cli_with_exit_2(tmp_path):
    path = start_experiment(tmp_path)
    journal = path / "journal.jsonl"
    data = journal.read_bytes()
    journal.write_bytes(data[: len(data) // 3 + 7])  # mid-line, in the first trial's records
    before = tree_digest(path)
    done = cli("resume", str(path))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"tunecore: error: the experiment {path} is inconsistent: ")
    assert "are not in the journal" in done.stderr and "Traceback" not in done.stderr
    assert tree_digest(path) == before


def test_show_warns_about_what_the_journal_does_not_explain(tmp_path, capsys):
    path = start_experiment(tmp_path)
    (path / "journal.jsonl").write_text("")
    assert tunecore.cli.main(["show", str(path)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("tunecore: warning: trial directories t00001, t00002, t00003 are not in the journal")
    assert "the table shows only what the journal holds" in err


def test_repair_sets_aside_what_the_journal_does_not_explain_and_resumes(tmp_path):
    path = start_experiment(tmp_path)
    old_params = (path / "t00002" / "params.json").read_text()
    (path / "journal.jsonl").write_text("")
    done = cli("resume", str(path), "--repair", "--num-samples", "2")
    assert done.returncode == 0, done.stderr
    assert "t00001.unjournaled, t00002.unjournaled, t00003.unjournaled" in done.stderr
    assert (path / "t00002.unjournaled" / "params.json").read_text() == old_params  # kept as they were
    assert (path / "snapshot.0.unjournaled").exists()
    trials = replay(read_journal(str(path)))
    assert {trial_id: t.status for trial_id, t in trials.items()} == {"t00001": "TERMINATED", "t00002": "TERMINATED"}
    assert json.loads((path / "t00002" / "params.json").read_text()) == trials["t00002"].config
    again = cli("resume", str(path))  # consistent again: resumes (nothing left to run)
    assert again.returncode == 0, again.stderr


def test_two_runs_in_one_directory_cannot_be_repaired(tmp_path):
    path = start_experiment(tmp_path)
    journal = path / "journal.jsonl"
    journal.write_text(journal.read_text() * 2)  # t00001..t00003 twice, as two runs sharing it wrote
    before = tree_digest(path)
    for repair in (False, True):
        with pytest.raises(TuneError, match=r"creates trial\(s\) t00001, t00002, t00003 more than once") as raised:
            tunecore.Tuner.restore(path, repair=repair).fit()
        assert "start a new experiment" in str(raised.value).lower()
    assert tree_digest(path) == before


@pytest.mark.parametrize("damage", ["{ not json", "[1, 2]", ""])
def test_a_damaged_experiment_json_stops_resume_and_show_before_anything_runs(tmp_path, damage):
    path = start_experiment(tmp_path, num_samples=1)
    (path / "experiment.json").write_text(damage)
    before = tree_digest(path)
    assert not tunecore.Tuner.can_restore(path)
    with pytest.raises(TuneError, match=r"experiment\.json is damaged"):
        tunecore.Tuner.restore(path, num_samples=2)
    with pytest.raises(TuneError, match=r"experiment\.json is damaged"):
        tunecore.ResultGrid.from_path(path)
    for verb in ("resume", "show"):
        done = cli(verb, str(path))
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("tunecore: error: ") and "experiment.json is damaged" in done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert tree_digest(path) == before


def test_a_repair_keeps_the_logger_files_to_the_trials_the_journal_created(tmp_path):
    """The json and csv loggers write one file per experiment: rows of trials a repair sets aside (or that the
    journal never created) must not mix with the resumed trials that get their ids. The check sees them too."""

    def experiment(num_samples):
        return tunecore.Tuner(
            "tests.core.data.trainables:train",
            param_space={"lr": tunecore.uniform(0.0, 0.1)},
            tune_config=tunecore.TuneConfig(metric="loss", mode="min", num_samples=num_samples, executor="inline"),
            run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=["json", "csv"], verbose=0),
        )

    path = Path(experiment(4).fit().experiment_path)
    journal = path / "journal.jsonl"
    lines = journal.read_text().splitlines()
    cut = next(i for i, line in enumerate(lines) if json.loads(line).get("trial_id") == "t00004")
    journal.write_text("\n".join(lines[:cut]) + "\n")  # t00004 is lost from the journal (a restored backup)
    (path / "snapshot.0").unlink()
    (path / "snapshot.1").unlink()
    with pytest.raises(TuneError, match=r"result\.jsonl holds results of trial\(s\) t00004 that the journal lacks"):
        tunecore.Tuner.restore(path).fit()
    old_rows = [json.loads(line) for line in (path / "result.jsonl").read_text().splitlines()]
    tunecore.Tuner.restore(path, repair=True).fit()
    rows = [json.loads(line) for line in (path / "result.jsonl").read_text().splitlines()]
    configs = {row["trial_id"]: set() for row in rows}
    for row in rows:
        configs[row["trial_id"]].add(json.dumps(row["config"]))
    assert all(len(seen) == 1 for seen in configs.values()), configs  # one trial per id, not two mixed
    assert [row for row in rows if row["trial_id"] != "t00004"] == [r for r in old_rows if r["trial_id"] != "t00004"]
    kept = [json.loads(line) for line in (path / "result.jsonl.unjournaled").read_text().splitlines()]
    assert kept == old_rows  # set aside whole, never deleted
    header = (path / "progress.csv").read_text().splitlines()[0].split(",")
    index = header.index("trial_id")
    csv_ids = [line.split(",")[index] for line in (path / "progress.csv").read_text().splitlines()[1:]]
    assert csv_ids.count("t00004") == [r["trial_id"] for r in rows].count("t00004")
