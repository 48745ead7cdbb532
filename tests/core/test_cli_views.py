"""`tunecore ls`, `show` (options, one trial) and `compare` on real experiments (issue 15)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tunecore
import tunecore.cli
from tests.conftest import user_environment
from tests.core.test_cli import run_cli
from tunecore import views
from tunecore.lock import ExperimentLock

SPACE = {"x": tunecore.grid_search([0.1, 0.6, 0.9, 0.3]), "n": 2}


def train(config):
    """loss = (x - 0.3)² + 1/i over 3 iterations, a checkpoint each; x > 0.8 fails at iteration 2."""
    for i in range(1, 4):
        if config["x"] > 0.8 and i == 2:
            raise RuntimeError("x is too big")
        loss = (config["x"] - 0.3) ** 2 + 1.0 / i
        tunecore.report({"loss": loss, "acc": 1 - loss}, checkpoint=tunecore.Checkpoint.from_dict({"i": i}))


def experiment(storage: Path, name: str, *, metric="loss", mode="min", fail_fast=False, stop=None):
    return tunecore.Tuner(
        train,
        param_space=SPACE,
        tune_config=tunecore.TuneConfig(metric=metric, mode=mode, seed=0, executor="inline"),
        run_config=tunecore.RunConfig(
            name=name,
            storage_path=str(storage),
            verbose=0,
            loggers=[],
            stop=stop,
            checkpoint_config=tunecore.CheckpointConfig(num_to_keep=2),
            failure_config=tunecore.FailureConfig(fail_fast=fail_fast),
        ),
    )


def explode(trial_id, result):
    """A stop function that fails: an error outside the trials ends the run."""
    if result["training_iteration"] == 2:
        raise ValueError("stopper bug")
    return False


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """done (4 trials, t00003 ERROR), fast (fail_fast after t00003), acc (metric acc/max), crashed."""
    root = tmp_path_factory.mktemp("storage")
    experiment(root, "done").fit()
    experiment(root, "fast", fail_fast=True).fit()
    experiment(root, "acc", metric="acc", mode="max").fit()
    with pytest.raises(ValueError, match="stopper bug"):
        experiment(root, "crashed", stop=explode).fit()
    (root / "notes").mkdir()  # not an experiment: skipped
    (root / "notes" / "readme.txt").write_text("hello")
    return root


def cli(capsys, *args: str) -> tuple[int, str, str]:
    status = tunecore.cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def copy(storage: Path, name: str, tmp_path: Path) -> Path:
    target = tmp_path / "storage" / name
    shutil.copytree(storage / name, target)
    return target


# -- ls -------------------------------------------------------------------------------------------------


def test_ls_lists_each_experiment_with_state_trials_best_and_times(storage, capsys):
    status, out, err = cli(capsys, "ls", str(storage))
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["name", "state", "trials", "best", "start", "duration"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert sorted(rows) == ["acc", "crashed", "done", "fast"]  # notes/ is skipped
    assert rows["done"].split()[1] == "finished"
    assert "4 (3 terminated, 1 error)" in rows["done"] and "loss=0.3333 (t00004)" in rows["done"]
    assert rows["fast"].split()[1] == "interrupted" and "3 (2 terminated, 1 error)" in rows["fast"]
    assert rows["crashed"].split()[1] == "failed"
    assert "acc=0.6667 (t00004)" in rows["acc"]


def test_ls_json_is_the_same_as_plain_data(storage, capsys):
    status, out, _ = cli(capsys, "ls", str(storage), "--json")
    assert status == 0
    data = {entry["name"]: entry for entry in json.loads(out)}
    done = data["done"]
    assert done["state"] == "finished" and done["trials"] == {"TERMINATED": 3, "ERROR": 1}
    assert done["num_trials"] == 4 and done["best_trial"] == "t00004"
    assert done["best_value"] == pytest.approx(1 / 3)
    assert done["metric"] == "loss" and done["mode"] == "min"
    assert done["start"] > 0 and done["duration_s"] >= 0
    assert "fail_fast" in data["fast"]["detail"]
    assert data["crashed"]["detail"].startswith("ValueError: stopper bug")  # how it failed, from state.json


def test_ls_defaults_to_tune_results_and_says_when_there_is_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tune_results").mkdir()
    assert cli(capsys, "ls")[:2] == (0, f"no experiments in {tmp_path / 'tune_results'}\n")
    assert cli(capsys, "ls", "--json")[:2] == (0, "[]\n")
    status, _, err = cli(capsys, "ls", str(tmp_path / "missing"))
    assert status == 2 and "does not exist: give the storage path" in err


def test_ls_shows_a_running_experiment_by_its_live_lock_without_taking_it(storage, tmp_path):
    path = copy(storage, "done", tmp_path)
    lock = ExperimentLock.acquire(str(path), "resume")
    try:
        done = run_cli("ls", str(path.parent), "--json")  # another process, as a user would run it
        assert lock.held and (path / "lock").exists()
    finally:
        lock.release()
    assert done.returncode == 0, done.stderr
    (entry,) = json.loads(done.stdout)
    assert entry["state"] == "running" and "(resume since " in entry["detail"]
    dead = {"host": socket.gethostname(), "pid": 999999999, "purpose": "run", "since": "2026-01-01 00:00:00"}
    (path / "lock").write_text(json.dumps(dead))
    assert views.summarize(path).state == "finished"  # a lock file left by a dead process does not count


def test_ls_shows_unfinished_trials_as_interrupted(storage, tmp_path):
    path = copy(storage, "done", tmp_path)
    with open(path / "journal.jsonl", "a") as journal:
        journal.write(json.dumps({"event": "trial", "trial_id": "t00005", "config": {"x": 1}, "path": "t00005"}) + "\n")
        journal.write(json.dumps({"event": "status", "trial_id": "t00005", "status": "RUNNING"}) + "\n")
    summary = views.summarize(path)
    assert summary.state == "interrupted" and "1 trial(s) unfinished" in (summary.detail or "")
    assert summary.trials == {"TERMINATED": 3, "ERROR": 1, "INTERRUPTED": 1}  # nothing runs it: not RUNNING


KILLED_CHILD = """
import pathlib, sys, time
import tunecore


def train(config):
    for i in range(1, 5):
        tunecore.report({"loss": config["x"] / i})
        if config["x"] == 2.0:  # slow: the journal is flushed (every second) while it runs
            time.sleep(0.6)
    if config["x"] == 2.0:
        pathlib.Path(sys.argv[2]).write_text("killed here")
        time.sleep(600)


tunecore.Tuner(
    train,
    param_space={"x": tunecore.grid_search([1.0, 2.0, 3.0])},
    tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor="inline", seed=0),
    run_config=tunecore.RunConfig(name="killed", storage_path=sys.argv[1], verbose=0, loggers=[]),
).fit()
"""


def _process_state(pid: int) -> str | None:
    """The state letter /proc gives the process (``Z``: a zombie), None without /proc."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str | None]:
    """An experiment whose process was SIGKILLed while t00002 ran (t00001 done, t00003 never created), and
    what ``tunecore ls`` said of it while the killed process was a zombie (not yet waited for)."""
    root = tmp_path_factory.mktemp("killed")
    marker = root / "marker"
    child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, str(root), str(marker)], env=user_environment())
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None and time.monotonic() < deadline, "the child ended or hung before the kill"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        while _process_state(child.pid) not in ("Z", None) and time.monotonic() < deadline:
            time.sleep(0.01)
        as_zombie = views.summarize(root / "killed").state if _process_state(child.pid) == "Z" else None
    finally:
        child.kill()
        child.wait()
    return root, as_zombie


def test_a_killed_run_is_not_running_and_its_running_trial_shows_as_interrupted(killed, capsys):
    root, as_zombie = killed
    path = root / "killed"
    journal = [json.loads(line) for line in (path / "journal.jsonl").read_text().splitlines()]
    assert {"event": "status", "trial_id": "t00002", "status": "RUNNING"} in journal  # what the journal says
    assert (path / "lock").exists() and json.loads((path / "state.json").read_text())["ended"] is False
    summary = views.summarize(path)
    assert summary.state == "failed" and "killed" in (summary.detail or "")
    assert summary.trials == {"TERMINATED": 1, "INTERRUPTED": 1}
    status, out, _ = cli(capsys, "ls", str(root))
    assert status == 0 and out.splitlines()[1].split()[:5] == ["killed", "failed", "2", "(1", "terminated,"]
    assert "2 (1 terminated, 1 interrupted)" in out and "running" not in out
    status, out, _ = cli(capsys, "show", str(path))
    assert status == 0 and [row[:3] for row in table_rows(out)] == [
        ["t00001", "TERMINATED", "4"],
        ["t00002", "INTERRUPTED", "3"],
    ]
    status, out, _ = cli(capsys, "show", str(path / "t00002"))
    assert status == 0 and out.splitlines()[1] == "status: INTERRUPTED"
    if as_zombie is not None:  # /proc: a killed process not yet waited for (a zombie) holds no lock either
        assert as_zombie == "failed"


def test_a_trial_of_a_running_experiment_is_running(storage, tmp_path):
    path = copy(storage, "done", tmp_path)
    with open(path / "journal.jsonl", "a") as journal:
        journal.write(json.dumps({"event": "trial", "trial_id": "t00005", "config": {"x": 1}, "path": "t00005"}) + "\n")
        journal.write(json.dumps({"event": "status", "trial_id": "t00005", "status": "RUNNING"}) + "\n")
    lock = ExperimentLock.acquire(str(path), "resume")  # this process runs it
    try:
        assert views.summarize(path).trials == {"TERMINATED": 3, "ERROR": 1, "RUNNING": 1}
        grid = tunecore.ResultGrid.from_path(path)
        assert views.trial_table(grid).rows[-1]["status"] == "RUNNING"
        assert views.trial_view(str(path), "t00005").status == "RUNNING"
    finally:
        lock.release()
    grid = tunecore.ResultGrid.from_path(path)
    statuses = {row["trial_id"]: row["status"] for row in views.trial_table(grid, sort="status").rows}
    assert statuses["t00005"] == "INTERRUPTED" and views.trial_view(str(path), "t00005").status == "INTERRUPTED"


def test_ls_lists_damaged_experiments_without_failing_the_listing(storage, tmp_path, capsys):
    broken = copy(storage, "done", tmp_path)
    (broken / "experiment.json").write_text("{ not json")
    garbled = copy(storage, "fast", tmp_path)
    lines = (garbled / "journal.jsonl").read_text().splitlines()
    lines[1] = "garbage"
    (garbled / "journal.jsonl").write_text("\n".join(lines) + "\n")
    orphan = tmp_path / "storage" / "orphan"
    orphan.mkdir()
    (orphan / "journal.jsonl").write_text("")
    (copy(storage, "acc", tmp_path) / "state.json").write_text("[]")
    copy(storage, "crashed", tmp_path)
    status, out, err = cli(capsys, "ls", str(tmp_path / "storage"))
    assert status == 0 and err == ""
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "damaged: experiment.json is damaged (JSONDecodeError" in rows["done"]
    assert "damaged: the journal of the experiment is damaged: journal.jsonl: line 2 is not valid JSON" in rows["fast"]
    assert "damaged: the experiment is not a tunecore experiment directory (no experiment.json)" in rows["orphan"]
    assert "damaged: state.json is damaged (it is not the JSON object tunecore wrote)" in rows["acc"]
    assert rows["crashed"].split()[1] == "failed"


# -- show DIR -------------------------------------------------------------------------------------------


def table_rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines() if line.startswith("t0")]


def test_show_sorts_by_the_metric_best_first_by_default(storage, capsys):
    status, out, _ = cli(capsys, "show", str(storage / "done"))
    assert status == 0
    assert out.splitlines()[1].split() == ["trial", "status", "iter", "loss", "config"]
    assert [row[0] for row in table_rows(out)] == ["t00004", "t00001", "t00002", "t00003"]
    assert "trials: 4 (3 terminated, 1 errors)" in out and "best: t00004 loss=0.3333  x=0.3 n=2" in out
    _, maximised, _ = cli(capsys, "show", str(storage / "acc"))
    assert [row[0] for row in table_rows(maximised)] == ["t00004", "t00001", "t00002", "t00003"]


def test_show_sort_reverse_top_and_columns(storage, capsys):
    status, out, _ = cli(capsys, "show", str(storage / "done"), "--sort", "x", "--top", "2")
    assert status == 0
    assert [row[0] for row in table_rows(out)] == ["t00001", "t00004"]
    assert "trials: 4 (3 terminated, 1 errors, 2 shown)" in out
    _, out, _ = cli(capsys, "show", str(storage / "done"), "--sort", "config/x", "--reverse", "--top", "1")
    assert [row[0] for row in table_rows(out)] == ["t00003"]
    _, out, _ = cli(capsys, "show", str(storage / "done"), "--columns", "x,loss,training_iteration", "--reverse")
    assert out.splitlines()[1].split() == ["trial", "status", "config/x", "loss", "training_iteration"]
    assert table_rows(out) == [
        ["t00003", "ERROR", "0.9", "1.36", "1"],
        ["t00002", "TERMINATED", "0.6", "0.4233", "3"],
        ["t00001", "TERMINATED", "0.1", "0.3733", "3"],
        ["t00004", "TERMINATED", "0.3", "0.3333", "3"],
    ]


def test_show_unknown_column_is_bad_input_listing_the_columns(storage, capsys):
    for option in ("--columns", "--sort"):
        status, out, err = cli(capsys, "show", str(storage / "done"), option, "lr")
        assert status == 2 and out == ""
        assert err.startswith("tunecore: error: unknown column 'lr': the experiment ")
        assert "has the columns trial_id, status, loss, acc, training_iteration" in err and "config/x" in err


def test_show_json_and_csv(storage, capsys):
    status, out, _ = cli(capsys, "show", str(storage / "done"), "--json", "--top", "2")
    assert status == 0
    data = json.loads(out)
    assert data["metric"] == "loss" and data["mode"] == "min"
    assert data["columns"] == ["trial_id", "status", "training_iteration", "loss", "config/x", "config/n"]
    assert [row["trial_id"] for row in data["trials"]] == ["t00004", "t00001"]
    assert data["trials"][0]["loss"] == pytest.approx(1 / 3) and data["trials"][0]["config/x"] == 0.3
    assert data["best"] == {"trial_id": "t00004", "metric": "loss", "mode": "min", "value": pytest.approx(1 / 3)}
    status, out, _ = cli(capsys, "show", str(storage / "done"), "--csv", "--columns", "x,loss")
    assert status == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["trial_id", "status", "config/x", "loss"]
    assert rows[1][:3] == ["t00004", "TERMINATED", "0.3"] and float(rows[1][3]) == pytest.approx(1 / 3)
    assert len(rows) == 5
    with pytest.raises(SystemExit) as raised:  # argparse: one output format at a time
        tunecore.cli.main(["show", str(storage / "done"), "--json", "--csv"])
    assert raised.value.code == 2


def test_show_of_a_storage_path_points_to_ls(storage, capsys):
    status, _, err = cli(capsys, "show", str(storage))
    assert status == 2
    assert "is not a tunecore experiment directory but a storage path holding 4 experiment(s)" in err
    assert f"tunecore ls {storage}" in err and f"tunecore show {storage / 'acc'}" in err


# -- show DIR/<trial> -----------------------------------------------------------------------------------


def test_show_one_trial_history_and_checkpoints(storage, capsys):
    status, out, _ = cli(capsys, "show", str(storage / "done" / "t00002"))
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == f"trial: t00002  (experiment {storage / 'done'})"
    assert lines[1:3] == ["status: TERMINATED", "config: x=0.6 n=2"]
    history = lines[lines.index("history: 3 results") + 1 :][:4]
    assert history[0].split() == ["iter", "loss", "time_total_s"]
    assert [row.split()[:2] for row in history[1:]] == [["1", "1.09"], ["2", "0.59"], ["3", "0.4233"]]
    checkpoints = lines[lines.index("checkpoints: 2") + 1 :][:2]  # num_to_keep=2: the first was deleted
    assert [c.split()[:3] for c in checkpoints] == [
        ["checkpoint_000002", "iter", "2"],
        ["checkpoint_000003", "iter", "3"],
    ]
    assert "missing on disk" not in out and "error" not in out


def test_show_one_failed_trial_prints_its_error(storage, capsys):
    done = run_cli("show", str(storage / "done" / "t00003"))
    assert done.returncode == 0, done.stderr
    assert "status: ERROR (1 failure)" in done.stdout
    error = done.stdout.split("error (its latest failure, from the journal):\n", 1)[1]
    assert error.lstrip().startswith("Traceback (most recent call last):")
    assert "  RuntimeError: x is too big" in error
    assert f"every failure: {storage / 'done' / 't00003' / 'error.txt'}" in done.stdout
    status, out, _ = cli(capsys, "show", str(storage / "done" / "t00003"), "--json")
    assert status == 0
    data = json.loads(out)
    assert data["status"] == "ERROR" and data["num_failures"] == 1 and "x is too big" in data["error"]
    assert [c["name"] for c in data["checkpoints"]] == ["checkpoint_000001"]
    assert [r["training_iteration"] for r in data["history"]] == [1]


def test_show_one_trial_csv_columns_and_bad_input(storage, capsys):
    status, out, _ = cli(capsys, "show", str(storage / "done" / "t00001"), "--csv", "--columns", "acc")
    assert status == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["training_iteration", "acc"] and [r[0] for r in rows[1:]] == ["1", "2", "3"]
    status, _, err = cli(capsys, "show", str(storage / "done" / "t00001"), "--columns", "lr")
    assert status == 2 and "unknown column 'lr': the results of trial t00001 have loss, acc" in err
    status, _, err = cli(capsys, "show", str(storage / "done" / "t00042"))
    assert status == 2 and "has no trial 't00042' (its trials: t00001, t00002, t00003, t00004)" in err
    status, _, err = cli(capsys, "show", str(storage / "done" / "t00001"), "--top", "2")
    assert status == 2 and "--top applies to an experiment's table, not to one trial" in err


# -- compare --------------------------------------------------------------------------------------------


def test_compare_prints_best_values_and_best_so_far(storage, capsys):
    status, out, _ = cli(capsys, "compare", str(storage / "done"), str(storage / "fast"))
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "metric: loss (min)"
    assert lines[1].split() == ["experiment", "trials", "best", "trial", "best@25%", "best@50%", "best@100%"]
    assert lines[2].split() == ["done", "4", "0.3333", "t00004", "0.3733", "0.3733", "0.3333"]
    assert lines[3].split() == ["fast", "3", "0.3733", "t00001", "0.3733", "0.3733", "0.3733"]
    status, out, _ = cli(capsys, "compare", str(storage / "done"), str(storage / "fast"), "--at", "1,4", "--json")
    data = json.loads(out)
    assert [e["at"] for e in data["experiments"]] == [
        {"1": pytest.approx(0.3733, abs=1e-4), "4": pytest.approx(1 / 3)},
        {"1": pytest.approx(0.3733, abs=1e-4), "4": None},  # fast has 3 trials
    ]
    assert [p["best_trial"] for p in data["experiments"][0]["series"]] == ["t00001", "t00001", "t00001", "t00004"]


def test_compare_needs_the_same_metric(storage, capsys):
    status, out, err = cli(capsys, "compare", str(storage / "done"), str(storage / "acc"))
    assert status == 2 and out == ""
    assert "compare needs experiments with the same single metric and mode, and these differ" in err
    assert (
        f"{storage / 'done'}: metric='loss' mode='min'" in err and f"{storage / 'acc'}: metric='acc' mode='max'" in err
    )
    status, _, err = cli(capsys, "compare", str(storage / "done"), "--at", "0%")
    assert status == 2 and "--at '0%'" in err


def test_best_so_far_ends_at_the_best_result(storage):
    grid = tunecore.ResultGrid.from_path(storage / "done")
    series = views.best_so_far(grid)
    assert [p.trials for p in series] == [1, 2, 3, 4]
    assert [p.trial_id for p in series] == ["t00001", "t00002", "t00003", "t00004"]
    best = grid.get_best_result()
    assert series[-1].best_trial == best.trial_id and series[-1].value == best.metrics["loss"]
    assert [p.value for p in series[:3]] == [series[0].value] * 3  # worse trials (and an ERROR) change nothing


def test_best_so_far_follows_the_order_the_trials_ended():
    def result(trial_id, loss, ended):
        metrics = {} if loss is None else {"loss": loss, "timestamp": ended}
        history = [metrics] if metrics else []
        return tunecore.Result(trial_id, {}, metrics, history, "TERMINATED", trial_id)

    trials = [result("t00001", 3.0, 30.0), result("t00002", None, 0.0), result("t00003", 1.0, 10.0)]
    trials.append(result("t00004", 2.0, 20.0))
    grid = tunecore.ResultGrid(trials, "/nowhere", "loss", "min")
    series = views.best_so_far(grid)
    assert [(p.trial_id, p.value, p.best_trial) for p in series] == [
        ("t00003", 1.0, "t00003"),
        ("t00004", 1.0, "t00003"),
        ("t00001", 1.0, "t00003"),
        ("t00002", 1.0, "t00003"),  # reported nothing: last
    ]
    with pytest.raises(tunecore.TuneError, match="no single metric and mode"):
        views.best_so_far(tunecore.ResultGrid(trials, "/nowhere", ["loss", "acc"], ["min", "max"]))


def test_a_run_that_never_wrote_its_end_is_failed_and_one_that_did_says_how(storage, tmp_path):
    """state.json says how the last run ended (``ended``, ``interrupted``, ``failed``): a killed run's last
    periodic state has ``ended`` false."""
    copy = tmp_path / "done"
    shutil.copytree(storage / "done", copy)
    grid = tunecore.ResultGrid.from_path(copy)
    assert views.experiment_state(str(copy), grid)[0] == "finished"
    state = json.loads((copy / "state.json").read_text())
    assert (state["ended"], state["interrupted"], state["failed"]) == (True, False, None)
    (copy / "state.json").write_text(json.dumps({**state, "ended": False}))
    verdict, detail = views.experiment_state(str(copy), grid)
    assert verdict == "failed" and "killed" in detail


def test_plot_and_importance_verbs(storage, tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="tunecore plot needs the plots extra (matplotlib)")
    pytest.importorskip("sklearn", reason="tunecore importance needs scikit-learn")
    target = tmp_path / "history.svg"
    status, out, err = cli(capsys, "plot", str(storage / "done"), "--kind", "history", "-o", str(target))
    assert status == 0 and out.strip() == str(target) and target.read_text().lstrip().startswith("<?xml")
    status, _, err = cli(capsys, "plot", str(storage / "done"), "--kind", "nope", "-o", str(target))
    assert status == 2 and "unknown plot kind 'nope': choose one of history" in err
    status, out, _ = cli(capsys, "importance", str(storage / "done"))
    assert status == 0 and out.splitlines()[0].split()[0] in {"x", "y", "lr", "width"} | set(out.split())


def test_compare_draws_the_best_so_far_curves_of_each_experiment(storage, tmp_path, capsys):
    """The plot shows the same series as the table (one rule: views.best_so_far)."""
    from tunecore.plot import data

    grids = [tunecore.ResultGrid.from_path(storage / name) for name in ("done", "fast")]
    d = data.compare(grids)
    assert (d.metric, d.mode) == ("loss", "min")
    assert [s.name for s in d.series] == ["done", "fast"]
    assert d.series[0].x == [1, 2, 3, 4] and d.series[0].best[-1] == pytest.approx(1 / 3)
    assert d.series[1].x == [1, 2, 3] and d.series[1].best == [pytest.approx(0.37333, abs=1e-4)] * 3
    pytest.importorskip("matplotlib", reason="drawing needs the plots extra (matplotlib)")
    target = tmp_path / "compare.svg"
    status, out, err = cli(capsys, "compare", str(storage / "done"), str(storage / "fast"), "-o", str(target))
    assert status == 0 and out.startswith("metric: loss (min)") and err.strip() == str(target)
    assert target.read_text().lstrip().startswith("<?xml")


def test_plot_makes_the_output_folder_and_says_when_it_cannot_write(storage, tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="tunecore plot needs the plots extra (matplotlib)")
    target = tmp_path / "new" / "folder" / "curves.svg"
    status, out, _ = cli(capsys, "plot", str(storage / "done"), "--kind", "curves", "-o", str(target))
    assert status == 0 and out.strip() == str(target) and target.exists()
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    status, _, err = cli(capsys, "plot", str(storage / "done"), "--kind", "curves", "-o", str(blocker / "x.png"))
    assert status == 2 and f"cannot write the plot to {blocker / 'x.png'}" in err


def test_plot_takes_a_mode_for_another_metric_and_refuses_options_a_kind_ignores(storage, tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="tunecore plot needs the plots extra (matplotlib)")
    target = tmp_path / "h.svg"
    done = str(storage / "done")
    status, _, err = cli(capsys, "plot", done, "--kind", "history", "--metric", "loss", "-o", str(target))
    assert status == 0, err
    status, _, err = cli(capsys, "plot", done, "--kind", "history", "--metric", "x", "-o", str(target))
    assert status == 2 and "--mode on the command line" in err
    status, _, err = cli(capsys, "plot", done, "--kind", "history", "--metric", "x", "--mode", "max", "-o", str(target))
    assert status == 0, err
    status, _, err = cli(capsys, "plot", done, "--kind", "timeline", "--metric", "loss", "-o", str(target))
    assert status == 2 and "the timeline plot takes no --metric" in err
