"""tune-ray on a two-node Ray cluster on this machine (loopback only): one CPU, one (fake) GPU and a custom
resource ``node_a`` / ``node_b`` per node. Experiments run through tunecore.Tuner with ``executor="ray"``."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tunecore
from tests.ray.cluster import (
    alive_actors,
    local_cluster,
    object_store_bytes,
    object_store_drains,
    ray,
    resources_back_to_full,
)
from tests.ray.trainables import big_checkpoint, counter, dies_or_cuts_its_connection, meet, prints_then_dies, quadratic
from tune_ray import wire
from tune_ray.actor import scratch_base
from tune_ray.executor import RayExecutor
from tunecore.executors import Decision, Outcome, ResourceError, Resources
from tunecore.protocols import CONTINUE
from tunecore.testing.executors import Harness
from tunecore.testing.trainables import conformance_trainable

NODE_A = {"num_cpus": 1, "num_gpus": 1, "resources": {"node_a": 1}}
NODE_B = {"num_cpus": 1, "num_gpus": 1, "resources": {"node_b": 1}}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with local_cluster(NODE_A, NODE_B) as made:
        yield made


def node_ids() -> dict[str, str]:
    """Custom resource name -> the id of the node that has it."""
    found = {}
    for node in ray.nodes():
        if node["Alive"]:
            for name in node["Resources"]:
                if name.startswith("node_"):
                    found[name] = node["NodeID"]
    return found


def run(
    tmp_path: Path,
    trainable: Any,
    space: dict[str, Any],
    *,
    name: str = "exp",
    options: dict[str, Any] | None = None,
    stop: dict[str, Any] | None = None,
    failure: int = 0,
    **tune: Any,
) -> tunecore.ResultGrid:
    """Run an experiment on the cluster this process is connected to."""
    tuner = tunecore.Tuner(
        trainable,
        param_space=space,
        tune_config=tunecore.TuneConfig(executor="ray", executor_options=options or {}, seed=0, **tune),
        run_config=tunecore.RunConfig(
            name=name,
            storage_path=str(tmp_path),
            stop=stop,
            verbose=0,
            failure_config=tunecore.FailureConfig(max_failures=failure),
        ),
    )
    return tuner.fit()


def wait_for_no_actors(timeout: float = 30.0) -> list[Any]:
    deadline = time.monotonic() + timeout
    while (left := alive_actors()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def test_fifo_through_the_tuner(cluster: Any, tmp_path: Path) -> None:
    space = {"x": tunecore.grid_search([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])}
    grid = run(tmp_path, quadratic, space, metric="loss", mode="min")
    assert len(grid) == 6 and grid.num_errors == 0
    assert all(len(result.metrics_history) == 4 for result in grid)
    best = grid.get_best_result()
    assert best.config["x"] == 3.0
    assert {result.metrics["node_id"] for result in grid} == set(node_ids().values()), "both nodes ran trials"
    log = Path(best.path, "stdout.log").read_text()
    assert "step 4 of " in log, "log_to_driver=False: a trial's output goes to <trial>/stdout.log"
    assert not wait_for_no_actors(), "actors left behind after the experiment"


def test_asha_through_the_tuner(cluster: Any, tmp_path: Path) -> None:
    space = {"x": tunecore.uniform(-2.0, 8.0), "steps": 9}
    grid = run(
        tmp_path,
        quadratic,
        space,
        metric="loss",
        mode="min",
        num_samples=8,
        scheduler="asha",
        scheduler_options={"max_t": 9, "grace_period": 1, "reduction_factor": 3},
        options={"reuse_actors": True, "max_concurrent": 2},
    )
    lengths = sorted(len(result.metrics_history) for result in grid)
    assert grid.num_errors == 0 and len(grid) == 8
    assert lengths[0] < 9 and lengths[-1] == 9, f"ASHA stopped no trial early, or every trial: {lengths}"


def test_four_half_gpu_trials_run_two_per_node(cluster: Any, tmp_path: Path) -> None:
    directory = tmp_path / "meet"
    directory.mkdir()
    trainable = tunecore.with_resources(meet, {"cpu": 0.25, "gpu": 0.5})
    grid = run(tmp_path, trainable, {"dir": str(directory), "count": 4, "i": tunecore.grid_search([0, 1, 2, 3])})
    assert all(result.metrics["met"] for result in grid), "the four trials did not run at once"
    assert sorted(Counter(result.metrics["node_id"] for result in grid).values()) == [2, 2]
    assert {result.metrics["cuda"] for result in grid} == {"0"}, "each trial sees its node's GPU"


def test_a_custom_resource_pins_trials_to_a_node(cluster: Any, tmp_path: Path) -> None:
    trainable = tunecore.with_resources(quadratic, {"cpu": 0.5, "node_b": 0.5})
    grid = run(tmp_path, trainable, {"x": tunecore.grid_search([1.0, 2.0, 3.0]), "steps": 2})
    assert {result.metrics["node_id"] for result in grid} == {node_ids()["node_b"]}


def test_an_infeasible_request_fails_in_seconds(cluster: Any, tmp_path: Path) -> None:
    requests: list[dict[str, float]] = [{"cpu": 2}, {"cpu": 1, "gpu": 2}, {"cpu": 1, "node_c": 1}]
    for request in requests:
        began = time.monotonic()
        with pytest.raises(ResourceError) as refused:
            run(tmp_path, tunecore.with_resources(quadratic, request), {"x": 1.0}, name=f"infeasible{len(request)}")
        assert time.monotonic() - began < 10
        message = str(refused.value)
        assert "no node of the Ray cluster can hold it" in message and "2 nodes" in message
        assert all(kind in message for kind in request), message


def test_pbt_hands_checkpoints_over_between_nodes_without_shared_storage(cluster: Any, tmp_path: Path) -> None:
    """checkpoint_sync="driver": each node writes only to its own scratch directory; exploits restore
    checkpoints written on the other node."""
    space = {"lr": tunecore.grid_search([0.1, 1.0]), "steps": 8, "sleep": 0.05}
    grid = run(
        tmp_path,
        tunecore.with_resources(counter, {"cpu": 1}),
        space,
        metric="count",
        mode="max",
        scheduler="pbt",
        scheduler_options={
            "time_attr": "training_iteration",
            "perturbation_interval": 2,
            "hyperparam_mutations": {"lr": [0.1, 1.0]},
            "quantile_fraction": 0.5,
            "resample_probability": 0.0,
            "synch": True,
        },
        options={"checkpoint_sync": "driver", "reuse_actors": False},
    )
    assert grid.num_errors == 0
    results = [result for trial in grid for result in trial.metrics_history]
    nodes = set(node_ids().values())
    assert {result["node_id"] for result in results} == nodes
    for result in results:  # worked in its node's own scratch directory, never in the driver's storage
        assert result["workdir"].startswith(str(Path(scratch_base(), result["node_id"]))), result["workdir"]
        assert not result["workdir"].startswith(str(tmp_path))
    handed_over = [r for r in results if r["restored_from"] and r["restored_from"][-1] != r["node_id"]]
    assert handed_over, "no trial restored a checkpoint written on another node"
    for result in results:  # restored from bytes the driver sent to the node, never from the driver's path
        if result["restored_path"] is not None:
            assert result["restored_path"].startswith(str(Path(scratch_base(), result["node_id"]))), result
    for trial in grid:  # the checkpoints reached the driver's storage
        assert trial.checkpoint is not None and trial.checkpoint.path.startswith(trial.path)


@pytest.mark.parametrize("visible", [True, False], ids=["marker-visible", "wrong-token"])
def test_auto_sync_is_shared_where_the_marker_is_visible_and_driver_elsewhere(
    cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, visible: bool
) -> None:
    if not visible:  # the marker's file is there but says something else: as on a node with other storage
        written = RayExecutor._write_marker

        def wrong_token(directory: str) -> tuple[str, str] | None:
            marker = written(directory)
            return None if marker is None else (marker[0], "not-" + marker[1])

        monkeypatch.setattr(RayExecutor, "_write_marker", staticmethod(wrong_token))
    grid = run(tmp_path, quadratic, {"x": 1.0, "steps": 1}, options={"checkpoint_sync": "auto"})
    (trial,) = grid
    assert trial.error is None
    workdir = trial.metrics["workdir"]
    if visible:
        assert workdir.startswith(str(tmp_path)), workdir
    else:
        assert workdir.startswith(str(Path(scratch_base(), trial.metrics["node_id"]))), workdir
        assert Path(trial.path, "stdout.log").read_text().startswith("step 1"), "the log did not travel back"


def test_a_removed_node_fails_only_its_trial_which_resumes_on_a_survivor(cluster: Any, tmp_path: Path) -> None:
    spares = [cluster.add_node(num_cpus=1, resources={"spare": 1}) for _ in range(2)]
    cluster.wait_for_nodes()
    hold = tmp_path / "hold"
    hold.touch()
    removed: list[str] = []

    def remove_the_trials_node() -> None:
        reached = Path(str(hold) + ".reached")
        deadline = time.monotonic() + 60
        while not reached.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        node_id = reached.read_text()
        (victim,) = [node for node in spares if node.node_id == node_id]
        removed.append(node_id)
        cluster.remove_node(victim)
        hold.unlink()

    remover = threading.Thread(target=remove_the_trials_node, daemon=True)
    remover.start()
    try:
        grid = run(
            tmp_path,
            tunecore.with_resources(counter, {"cpu": 1, "spare": 1}),
            {"steps": 5, "hold": str(hold), "hold_at": 3, "sleep": 0.1},
            failure=1,
        )
    finally:
        remover.join(60)
        for node in spares:
            if node.node_id not in removed:
                cluster.remove_node(node)
    (trial,) = grid
    assert removed and trial.status == "TERMINATED", trial.error
    history = trial.metrics_history
    assert [r["training_iteration"] for r in history] == [1, 2, 3, 4, 5]
    assert history[0]["node_id"] == removed[0] and history[-1]["node_id"] != removed[0]
    assert history[2]["restored_from"] == [removed[0]] * 2, "the retry did not start from the latest checkpoint"
    assert "died" in Path(trial.path, "error.txt").read_text()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["sigkill", "ctrl-c"])
def test_a_killed_driver_leaves_no_actor_and_the_experiment_resumes(
    cluster: Any, tmp_path: Path, how: signal.Signals
) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    reached = Path(str(hold) + ".reached")
    root = Path(__file__).parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    driver = subprocess.Popen(
        [sys.executable, "-m", "tests.ray.killed_driver", cluster.address, str(tmp_path), str(hold)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not reached.exists():
            assert driver.poll() is None, driver.communicate()[1].decode()[-3000:]
            assert time.monotonic() < deadline, "the killed driver's trial never reached its hold"
            time.sleep(0.05)
        assert alive_actors(), "the trial's actor is not alive while the trial runs"
        driver.send_signal(how)
        driver.wait(30)  # Ctrl+C: the trial, held, is stopped by force after the controller's grace period
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
        driver.stderr.close()  # type: ignore[union-attr]
    assert not wait_for_no_actors(), "actors outlived the driver that owned them"
    assert resources_back_to_full(), "the killed driver's actors still hold cluster resources"
    hold.unlink()
    grid = tunecore.Tuner.restore(tmp_path / "killed").fit()
    (trial,) = grid
    assert trial.status == "TERMINATED", trial.error
    iterations = [result["training_iteration"] for result in trial.metrics_history]
    assert iterations == [1, 2, 3, 4, 5], "a result was lost or repeated across the kill"
    assert trial.metrics_history[2]["restored_from"], "the resumed trial did not start from its checkpoint"


def test_the_cli_runs_an_experiment_file_on_the_cluster(cluster: Any, tmp_path: Path) -> None:
    root = Path(__file__).parents[2]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tunecore",
            "run",
            str(root / "examples" / "quadratic.toml"),
            "--set",
            "executor.name=ray",
            "--set",
            f"executor.address={cluster.address}",
            "--set",
            "num_samples=2",
            "--set",
            f"storage_path={tmp_path}",
        ],
        env={key: value for key, value in os.environ.items() if not key.startswith("TUNECORE_")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    trials = [path for path in (tmp_path / "quadratic").iterdir() if path.is_dir()]
    assert len(trials) == 2
    assert not wait_for_no_actors(), "the CLI's actors outlived it"


def test_a_trial_of_several_bundles_gets_a_placement_group(cluster: Any, tmp_path: Path) -> None:
    trainable = tunecore.with_resources(quadratic, [{"cpu": 0.5}, {"cpu": 0.5, "gpu": 0.5}])
    grid = run(tmp_path, trainable, {"x": tunecore.grid_search([1.0, 2.0]), "steps": 2})
    assert grid.num_errors == 0 and len(grid) == 2
    assert resources_back_to_full(), "a placement group outlived its trial's experiment"


@pytest.mark.parametrize("labels", [True, False], ids=["label-selector", "older-ray-rebooks"])
def test_a_placement_group_lands_where_the_ledger_booked_it(
    cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, labels: bool
) -> None:
    """A single-bundle trial holds half a node; a two-bundle trial fits beside it: Ray must put the bundles
    where the ledger booked them (or the ledger must follow Ray, where Ray has no bundle label selectors),
    else capacity() promises room that Ray does not have (over-launch)."""
    if not labels:
        original = ray.util.placement_group

        def without_labels(*args: Any, **kwargs: Any) -> Any:
            if "bundle_label_selector" in kwargs:
                raise TypeError("placement_group() got an unexpected keyword argument 'bundle_label_selector'")
            return original(*args, **kwargs)

        monkeypatch.setattr(ray.util, "placement_group", without_labels)

    names = {node_id: name for name, node_id in node_ids().items()}
    executor = RayExecutor(reuse_actors=False, start_timeout_s=8)
    harness = Harness(executor, counter, tmp_path, None, 60.0)
    hold = tmp_path / "hold"
    hold.touch()
    try:
        for trial, shape in (("one", Resources({"cpu": 0.5})), ("pg", Resources([{"cpu": 0.25}, {"cpu": 0.25}]))):
            harness.launch(trial, {"steps": 3, "hold": str(hold), "hold_at": 2}, resources=shape)
            harness.run_until(lambda: (tmp_path / "hold.reached").exists(), f"{trial} to start")
            (tmp_path / "hold.reached").unlink()
        for actor in executor._actors.values():
            if actor.placement_group is not None:
                table = ray.util.placement_group_table(actor.placement_group)["bundles_to_node_id"]
                assert [names[table[i]] for i in range(2)] == [names[node] for node in actor.nodes]
        single = Resources({"cpu": 1})
        room = executor.capacity(single)
        assert room == 1 or not labels  # first fit put both on one node; an older Ray may split them
        if room:  # what capacity() promises, Ray has
            harness.launch("single", {"steps": 1}, resources=single)
            harness.run_until(lambda: "single" in harness.handler.ends, "single to end")
            assert harness.handler.outcome("single") is Outcome.COMPLETED
        hold.unlink()
        harness.finish()
    finally:
        hold.unlink(missing_ok=True)
        harness.shutdown_and_check()


def test_a_trial_that_cannot_be_placed_in_time_fails_naming_its_request(cluster: Any, tmp_path: Path) -> None:
    blocker = ray.remote(num_cpus=0, resources={"node_b": 1})(_Blocker).remote()  # another job holds node_b
    ray.get(blocker.ready.remote())
    try:
        began = time.monotonic()
        grid = run(
            tmp_path,
            tunecore.with_resources(quadratic, {"cpu": 0.5, "node_b": 0.5}),
            {"x": 1.0, "steps": 1},
            options={"start_timeout_s": 2},
        )
        assert time.monotonic() - began < 20
    finally:
        ray.kill(blocker)
    (trial,) = grid
    assert trial.status == "ERROR"
    assert "was not placed" in str(trial.error) and "node_b=0.5" in str(trial.error) and "2 nodes" in str(trial.error)


class _Blocker:
    def ready(self) -> bool:
        return True


def test_idle_actors_of_another_shape_are_released_for_a_pending_trial(cluster: Any, tmp_path: Path) -> None:
    """Both nodes' CPUs held by idle reused actors: trials of another shape still fit and run."""
    harness = Harness(RayExecutor(reuse_actors=True), conformance_trainable, tmp_path, None, 30.0)
    try:
        for i in range(2):
            harness.launch(f"cpu{i}", {"n": 1})
        harness.finish()
        executor = harness.executor
        assert executor.capacity({"cpu": 1}) == 2
        shape = {"cpu": 1, "gpu": 1}
        assert executor.capacity(shape) == 2, "idle actors of another shape must count as room"
        for i in range(2):
            harness.launch(f"gpu{i}", {"n": 2}, resources=shape)
        harness.finish()
        assert all(harness.handler.outcome(f"gpu{i}") is Outcome.COMPLETED for i in range(2))
    finally:
        harness.shutdown_and_check()
    assert resources_back_to_full()


def test_a_connection_that_does_not_authenticate_is_dropped(
    cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from tune_ray import connections

    monkeypatch.setattr(connections, "HANDSHAKE_TIMEOUT_S", 0.5)
    harness = Harness(RayExecutor(), conformance_trainable, tmp_path, None, 30.0)
    try:
        address = harness.executor._listener.getsockname()[:2]  # type: ignore[attr-defined]
        silent = socket.create_connection(address)
        noisy = socket.create_connection(address)
        noisy.sendall(b"\x00\x00\x00\x05hello")
        harness.launch("t1", {"n": 2})
        harness.finish()
        assert harness.results("t1") == [1, 2]
        for rogue in (silent, noisy):
            rogue.settimeout(5)
            try:
                while rogue.recv(4096):  # the challenge, then the end of the connection
                    pass
            except ConnectionResetError:
                pass
            rogue.close()
    finally:
        harness.shutdown_and_check()


def test_checkpoints_travel_through_the_object_store_not_the_connection(
    cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """checkpoint_sync="driver": a checkpoint 32 times larger than the largest message the connections accept
    goes from node_b to the driver and from the driver to node_a intact; it was in Ray's object store when
    the driver had it, and nothing stays there afterwards."""
    size = 8 * 1024 * 1024
    monkeypatch.setattr(wire, "MAX_MESSAGE_BYTES", size // 32)
    stored: list[int] = []

    def rule(harness: Harness, trial_id: str, result: dict[str, Any]) -> Decision:
        stored.append(object_store_bytes())  # in on_result: the checkpoint is in the trial's directory now
        return CONTINUE

    ids = node_ids()
    harness = Harness(RayExecutor(checkpoint_sync="driver", reuse_actors=False), big_checkpoint, tmp_path, rule, 60.0)
    try:
        harness.launch("up", {"size": size, "seed": 1}, resources=Resources({"cpu": 0.5, "node_b": 0.01}))
        harness.finish()
        assert harness.handler.outcome("up") is Outcome.COMPLETED, harness.handler.ends
        [sent], [path] = harness.handler.results["up"], harness.handler.checkpoints["up"]
        assert sent["node_id"] == ids["node_b"] and path is not None and path.startswith(str(tmp_path / "up"))
        assert hashlib.sha256(Path(path, "weights").read_bytes()).hexdigest() == sent["sent"]
        assert stored[0] >= size, f"the checkpoint was not in Ray's object store ({stored[0]} bytes there)"
        harness.launch("down", {}, resources=Resources({"cpu": 0.5, "node_a": 0.01}), checkpoint=path)
        harness.finish()
        assert harness.handler.outcome("down") is Outcome.COMPLETED, harness.handler.ends
        [restored] = harness.handler.results["down"]
        assert restored["restored"] == sent["sent"] and restored["node_id"] == ids["node_a"]
        assert restored["path"].startswith(str(Path(scratch_base(), ids["node_a"])))
    finally:
        harness.shutdown_and_check()
    assert object_store_drains(below=size // 4) < size // 4, "checkpoints stayed in the object store"


def test_a_trial_that_only_a_departed_node_could_hold_fails_instead_of_waiting(cluster: Any, tmp_path: Path) -> None:
    """A trial pinned (custom resource) to a node that left waits start_timeout_s for a node that can hold it,
    then ends ERRORED naming its request and the nodes left; the next of that shape fails at once; once such
    a node joins, trials of that shape run again."""
    lone = cluster.add_node(num_cpus=1, resources={"lone": 1})
    cluster.wait_for_nodes()
    hold = tmp_path / "hold"
    hold.touch()
    shape = Resources({"cpu": 0.5, "lone": 0.5})
    harness = Harness(RayExecutor(start_timeout_s=3, reuse_actors=False), counter, tmp_path, None, 60.0)
    joined: list[Any] = []
    ends = harness.handler.ends
    try:
        harness.launch("t1", {"steps": 3, "hold": str(hold), "hold_at": 2}, resources=shape)
        harness.run_until(lambda: (tmp_path / "hold.reached").exists(), "t1 to start")
        cluster.remove_node(lone)
        harness.run_until(lambda: "t1" in ends, "t1 to die with its node")
        assert harness.handler.outcome("t1") is Outcome.WORKER_DIED
        began = time.monotonic()
        harness.launch("t2", {"steps": 1}, resources=shape)  # capacity() counts it: it must not wait forever
        harness.run_until(lambda: "t2" in ends, "t2 to fail")
        waited = time.monotonic() - began
        [(outcome, error)] = ends["t2"]
        assert outcome is Outcome.ERRORED and 2.5 < waited < 10, (outcome, waited)
        assert "ResourceError" in str(error) and "no node of the Ray cluster can hold it" in str(error)
        assert "lone=0.5" in str(error) and "2 nodes" in str(error), error
        began = time.monotonic()
        harness.launch("t3", {"steps": 1}, resources=shape)
        harness.run_until(lambda: "t3" in ends, "t3 to fail")
        assert harness.handler.outcome("t3") is Outcome.ERRORED and time.monotonic() - began < 1.5
        joined.append(cluster.add_node(num_cpus=1, resources={"lone": 1}))
        cluster.wait_for_nodes()
        harness.launch("t4", {"steps": 1}, resources=shape)
        harness.run_until(lambda: "t4" in ends, "t4 to run on the node that joined")
        assert harness.handler.outcome("t4") is Outcome.COMPLETED, ends["t4"]
        harness.finish()
    finally:
        hold.unlink(missing_ok=True)
        for node in joined:  # its processes are children of this one: gone before the harness checks
            cluster.remove_node(node)
        harness.shutdown_and_check()


def test_what_a_trial_printed_before_its_actor_died_reaches_the_driver(cluster: Any, tmp_path: Path) -> None:
    """checkpoint_sync="driver": a trial's output reaches <trial>/stdout.log on the driver as it is printed,
    so what it printed before its actor died is there; a trial that lives has each line once."""
    space = {"die": tunecore.grid_search([True, False]), "linger": 2.0}
    grid = run(tmp_path, prints_then_dies, space, options={"checkpoint_sync": "driver"})
    trials = {result.config["die"]: result for result in grid}
    died, lived = trials[True], trials[False]
    assert "died" in Path(died.path, "error.txt").read_text()
    for result in (died, lived):
        log = Path(result.path, "stdout.log").read_text()
        assert log.count("printed before the first report by") == 1, log
        assert log.count("printed after the report by") == 1, log
    assert lived.error is None


def test_an_actor_death_never_holds_the_driver_and_its_error_keeps_rays_reason(cluster: Any, tmp_path: Path) -> None:
    """One actor's connection is cut while it lives on (Ray knows nothing yet), another's process exits: the
    driver's thread never waits for Ray's verdict, and the exited one's error still says what Ray said."""
    harness = Harness(RayExecutor(reuse_actors=False), dies_or_cuts_its_connection, tmp_path, None, 60.0)
    longest = 0.0
    try:
        for how in ("cut", "exit"):
            harness.launch(how, {"how": how}, resources=Resources({"cpu": 0.5}))
        deadline = time.monotonic() + 60
        while harness.handler.running:
            assert time.monotonic() < deadline, harness.handler.ends
            began = time.monotonic()
            harness.executor.process(0.02)
            longest = max(longest, time.monotonic() - began)
    finally:
        harness.shutdown_and_check()
    assert longest < 0.6, f"process() was held {longest:.2f} s by an actor's death"
    [(cut, cut_error)], [(exited, exit_error)] = harness.handler.ends["cut"], harness.handler.ends["exit"]
    assert cut is exited is Outcome.WORKER_DIED
    assert "its connection to the driver closed" in str(cut_error)
    assert "ActorDiedError" in str(exit_error), exit_error
