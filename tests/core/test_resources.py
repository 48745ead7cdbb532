"""Resources: what users write, what executors account, what an impossible request says; the executor
contract's data (TrialLaunch, Outcome, tokens) and its compatibility names."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import tunecore
from tunecore.builtin.inline_executor import InlineExecutor
from tunecore.builtin.local_executor import LocalExecutor
from tunecore.errors import ConfigError, TuneError
from tunecore.executors import (
    CurrentLaunch,
    Outcome,
    ResourceError,
    ResourcePool,
    Resources,
    TrialLaunch,
    TrialOutcome,
    check_satisfiable,
    new_token,
    requested_resources,
)
from tunecore.executors.accounting import UNLIMITED
from tunecore.protocols import CONTINUE, Decision
from tunecore.testing.trainables import conformance_trainable
from tunecore.trainable import trial_resources, with_parameters, with_resources


def train(config: dict[str, Any]) -> None:
    """A trainable that is never run."""


# -- what users write -----------------------------------------------------------------------------------


def test_one_bundle_with_every_kind() -> None:
    request = Resources.parse({"cpu": 2, "gpu": 0.5, "memory": 2e9, "accelerator_type_a100": 1})
    assert request.bundles == ({"cpu": 2.0, "gpu": 0.5, "memory": 2e9, "accelerator_type_a100": 1.0},)
    assert (request.cpu, request.gpu, request.memory) == (2.0, 0.5, 2e9)
    assert request.custom() == {"accelerator_type_a100": 1.0}
    assert request.total("accelerator_type_a100") == 1.0 and request.total("tpu") == 0.0
    assert request.describe() == "cpu=2, gpu=0.5, memory=2 GB, accelerator_type_a100=1"


def test_bundles_add_up_and_each_gets_a_cpu_unless_it_says_otherwise() -> None:
    request = Resources.parse([{"cpu": 1, "gpu": 1}, {"cpu": 4}, {"gpu": 1}, {"cpu": 0, "tpu": 2}])
    assert request.bundles == (
        {"cpu": 1.0, "gpu": 1.0},
        {"cpu": 4.0, "gpu": 0.0},
        {"cpu": 1.0, "gpu": 1.0},
        {"cpu": 0.0, "gpu": 0.0, "tpu": 2.0},
    )
    assert request.totals() == {"cpu": 6.0, "gpu": 2.0, "tpu": 2.0}
    assert request.describe() == (
        "4 bundles [cpu=1, gpu=1] [cpu=4, gpu=0] [cpu=1, gpu=1] [cpu=0, gpu=0, tpu=2] (cpu=6, gpu=2, tpu=2 in all)"
    )


def test_the_default_request_is_one_cpu() -> None:
    assert Resources() == Resources.parse({"cpu": 1}) == Resources.parse({"gpu": 0}) == requested_resources(train)
    assert Resources().totals() == {"cpu": 1.0, "gpu": 0.0}


def test_equal_requests_are_equal_and_hash_alike_whatever_the_order() -> None:
    a = Resources.parse({"tpu": 1, "cpu": 2, "memory": 1e9})
    b = Resources.parse({"memory": 1e9, "cpu": 2.0, "tpu": 1, "fpga": 0})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Resources.parse([{"cpu": 1, "tpu": 1, "memory": 1e9}, {"cpu": 1}])
    assert repr(Resources()) == "Resources({'cpu': 1.0, 'gpu': 0.0})"


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"cpu": -1}, "with_resources: 'cpu': -1 is not valid: amounts are numbers >= 0"),
        ({"gpu": "1"}, "with_resources: 'gpu': '1' is not valid: amounts are numbers >= 0"),
        ({"cpu": True}, "with_resources: 'cpu': True is not valid: amounts are numbers >= 0"),
        ({"cpu": float("nan")}, "with_resources: 'cpu': nan is not valid: amounts are numbers >= 0"),
        ({"tpu": float("inf")}, "with_resources: 'tpu': inf is not valid: amounts are numbers >= 0"),
        (
            {"memory": "2GB"},
            "with_resources: 'memory': '2GB' is not valid: amounts are numbers >= 0"
            " (memory is a number of bytes, e.g. 2e9 for 2 GB)",
        ),
        (
            {"gpu": 1.5},
            "with_resources: 'gpu': 1.5 is not valid: a GPU amount above 1 must be whole"
            " (fractions up to 1 share one device)",
        ),
        (
            {},
            "with_resources needs a dict such as {'cpu': 1, 'gpu': 0.5} or a list of such bundles, one per"
            " process of a trial, got {}",
        ),
        (
            [],
            "with_resources needs a dict such as {'cpu': 1, 'gpu': 0.5} or a list of such bundles, one per"
            " process of a trial, got an empty list",
        ),
        (
            4,
            "with_resources needs a dict such as {'cpu': 1, 'gpu': 0.5} or a list of such bundles, one per"
            " process of a trial, got 4",
        ),
        (
            [{"cpu": 1}, 2],
            "with_resources, bundle 2: a bundle of resources is a dict such as {'cpu': 1, 'gpu': 0.5}"
            " or a list of such bundles, one per process of a trial, got 2",
        ),
        (
            [{"cpu": 1}, {}],
            "with_resources, bundle 2: an empty bundle {} asks for nothing: write {'cpu': 1, 'gpu':"
            " 0.5} or a list of such bundles, one per process of a trial",
        ),
        ({1: 1}, "with_resources: resource names are non-empty strings, got 1"),
        ({"CPU": 1}, "with_resources: write 'cpu', not 'CPU'"),
        ({"num_gpus": 1}, "with_resources: write 'gpu', not 'num_gpus'"),
        ({"Memory": 1}, "with_resources: write 'memory', not 'Memory'"),
    ],
)
def test_bad_requests_say_what_is_wrong(request_: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        with_resources(train, request_)


def test_with_resources_and_the_totals_the_controller_reads() -> None:
    wrapped = with_resources(train, [{"cpu": 1, "gpu": 1}, {"cpu": 4}])
    assert requested_resources(wrapped) == Resources.parse([{"cpu": 1, "gpu": 1}, {"cpu": 4}])
    assert trial_resources(wrapped) == {"cpu": 5.0, "gpu": 1.0}
    assert trial_resources(train) == {"cpu": 1.0, "gpu": 0.0}
    assert trial_resources(with_resources(train, {"gpu": 0.5, "memory": 1e9})) == {
        "cpu": 1.0,
        "gpu": 0.5,
        "memory": 1e9,
    }
    inner = with_parameters(with_resources(train, {"cpu": 3}), data=1)  # through other wrappers
    assert requested_resources(inner).cpu == 3.0
    assert requested_resources(with_resources(with_resources(train, {"cpu": 3}), {"cpu": 2})).cpu == 2.0
    assert tunecore.with_resources is with_resources


def test_what_executors_pass_around_is_coerced_leniently() -> None:
    assert Resources.coerce({}) == Resources()
    assert Resources.coerce({"gpu": 1.5}).gpu == 1.5  # the totals of [{"gpu": 0.5}, {"gpu": 1}]
    request = Resources.parse({"cpu": 2})
    assert Resources.coerce(request) is request
    assert Resources.coerce([{"cpu": 1}, {"cpu": 1}]).cpu == 2.0
    with pytest.raises(ConfigError, match="'cpu': -1 is not valid"):
        Resources.coerce({"cpu": -1})
    with pytest.raises(ConfigError, match="Resources needs at least one bundle"):
        Resources(())


# -- accounting ---------------------------------------------------------------------------------------


def test_a_pool_counts_what_fits_and_gives_it_back() -> None:
    pool = ResourcePool({"cpu": 4, "gpu": 1, "memory": 8e9, "tpu": 2})
    trial = Resources.parse({"cpu": 1, "gpu": 0.25, "memory": 3e9})
    assert pool.how_many(trial) == 2 and pool.fits(trial)
    pool.acquire(trial)
    pool.acquire(trial)
    assert pool.how_many(trial) == 0 and not pool.fits(trial)
    assert pool.free() == {"cpu": 2.0, "gpu": 0.5, "memory": 2e9, "tpu": 2.0}
    with pytest.raises(TuneError, match=r"^the executor has no room for cpu=1, gpu=0.25, memory=3 GB now"):
        pool.acquire(trial)
    pool.release(trial)
    assert pool.used() == {"cpu": 1.0, "gpu": 0.25, "memory": 3e9, "tpu": 0.0}
    pool.release(trial)
    assert pool.used() == dict.fromkeys(("cpu", "gpu", "memory", "tpu"), 0.0)
    assert pool.how_many(Resources.parse({"cpu": 0, "tpu": 1})) == 2
    assert pool.how_many(Resources.parse({"cpu": 0}), limit=7) == 7
    assert pool.how_many(Resources.parse({"cpu": 0})) == UNLIMITED
    assert pool.how_many(Resources.parse({"cpu": 1, "fpga": 1})) == 0  # a kind the pool does not have


def test_a_pool_tolerates_rounding_and_unlimited_amounts() -> None:
    pool = ResourcePool({"cpu": 1.0, "memory": float("inf")})
    tenth = Resources.parse({"cpu": 0.1, "memory": 1e12})
    assert pool.how_many(tenth) == 10
    for _ in range(10):
        pool.acquire(tenth)
    assert not pool.fits(tenth)
    with pytest.raises(ConfigError, match=r"^the executor: capacity 'cpu': -1 is not a number >= 0$"):
        ResourcePool({"cpu": -1})


def test_an_impossible_request_names_the_request_the_capacity_and_the_fix() -> None:
    capacity = {"cpu": 2.0, "gpu": 0.0, "memory": 4e9}
    request = Resources.parse([{"cpu": 1, "gpu": 1}, {"cpu": 2, "tpu": 1}])
    with pytest.raises(ResourceError) as refused:
        check_satisfiable(request, capacity, "the test executor", "raise its num_cpus")
    assert str(refused.value) == (
        "each trial needs 2 bundles [cpu=1, gpu=1] [cpu=2, gpu=0, tpu=1] (cpu=3, gpu=1, tpu=1 in all) but the"
        " test executor has cpu=2, gpu=0, memory=4 GB (cpu=3 needed, cpu=2 there; gpu=1 needed, gpu=0 there;"
        " tpu=1 needed, none there): raise its num_cpus"
    )
    assert isinstance(refused.value, ConfigError)
    check_satisfiable(Resources.parse({"cpu": 2, "memory": 4e9}), capacity)  # exactly what there is: fine


# -- the local executor's resources ---------------------------------------------------------------------


class _Handler:
    def __init__(self) -> None:
        self.results: dict[str, dict[str, Any]] = {}
        self.ends: dict[str, Outcome] = {}

    def on_result(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> Decision:
        self.results[trial_id] = result
        return CONTINUE

    def on_trial_end(self, trial_id: str, outcome: Outcome, error: str | None) -> None:
        self.ends[trial_id] = outcome


@pytest.mark.parametrize(
    ("options", "request_", "short"),
    [
        ({"num_cpus": 2, "memory": 4e9}, {"memory": 5e9}, "memory=5 GB needed, memory=4 GB there"),
        ({"num_cpus": 2}, {"tpu": 1}, "tpu=1 needed, none there"),
        ({"num_cpus": 2, "resources": {"tpu": 1}}, {"tpu": 2}, "tpu=2 needed, tpu=1 there"),
        ({"num_cpus": 4}, [{"cpu": 2}, {"cpu": 3}], "cpu=5 needed, cpu=4 there"),
        ({"num_cpus": 4, "num_gpus": 1}, [{"gpu": 1}, {"gpu": 1}], "gpu=2 needed, gpu=1 there"),
    ],
    ids=["memory", "unknown-custom", "custom", "bundles-cpu", "bundles-gpu"],
)
def test_local_refuses_what_this_machine_cannot_give(options: dict[str, Any], request_: Any, short: str) -> None:
    executor = LocalExecutor(**options)
    with pytest.raises(ResourceError, match=re.escape(short)) as refused:
        executor.start(with_resources(train, request_), _Handler())
    assert str(refused.value).startswith(f"each trial needs {Resources.parse(request_).describe()} but the local")
    assert "memory=" in str(refused.value) and "resources={name: amount}" in str(refused.value)
    executor.shutdown()


def test_local_counts_memory_and_custom_resources(tmp_path: Path) -> None:
    executor = LocalExecutor(num_cpus=4, memory=6e9, resources={"tpu": 3})
    executor.shutdown_grace_s = 0.2
    request = {"cpu": 1, "memory": 2e9, "tpu": 1}
    handler = _Handler()
    executor.start(with_resources(conformance_trainable, request), handler)
    try:
        assert executor.capacity(request) == executor.capacity(Resources.parse(request)) == 3
        assert executor.capacity({"cpu": 1, "memory": 4e9}) == 1
        assert executor.capacity({"cpu": 1, "tpu": 4}) == 0
        executor.launch(TrialLaunch("t1", {"mode": "context"}, str(tmp_path), resources=request))
        assert executor.capacity(request) == 2
        while executor.running():
            executor.process(0.1)
        seen = handler.results["t1"]
        assert seen["context_resources"] == {"cpu": 1.0, "gpu": 0.0, "memory": 2e9, "tpu": 1.0}
        assert handler.ends == {"t1": Outcome.COMPLETED}
        assert executor.capacity(request) == 3
    finally:
        executor.shutdown()


def test_the_trial_sees_its_bundles(tmp_path: Path) -> None:
    bundles = [{"cpu": 1}, {"cpu": 0.5, "tpu": 1}]
    executor = LocalExecutor(num_cpus=2, resources={"tpu": 1})
    executor.shutdown_grace_s = 0.2
    handler = _Handler()
    executor.start(with_resources(conformance_trainable, bundles), handler)
    try:
        executor.launch(TrialLaunch("t1", {"mode": "context"}, str(tmp_path), resources=bundles))
        assert executor.capacity(bundles) == 0
        while executor.running():
            executor.process(0.1)
    finally:
        executor.shutdown()
    seen = handler.results["t1"]
    assert seen["context_bundles"] == [{"cpu": 1.0, "gpu": 0.0}, {"cpu": 0.5, "gpu": 0.0, "tpu": 1.0}]
    assert seen["context_resources"] == {"cpu": 1.5, "gpu": 0.0, "tpu": 1.0}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"memory": -1}, "memory must be a number >= 0, got -1"),
        ({"resources": ["tpu"]}, "resources must be a dict of custom resources such as {'tpu': 4}, got ['tpu']"),
        ({"resources": {"cpu": 2}}, "resources: 'cpu' is not a custom resource: use the num_cpus option"),
        ({"resources": {"GPU": 2}}, "resources: 'GPU' is not a custom resource: use the num_gpus option"),
        ({"resources": {"tpu": -2}}, "resources['tpu'] must be a number >= 0, got -2"),
        ({"resources": {"": 2}}, "resources: names are non-empty strings, got ''"),
    ],
)
def test_local_resource_options_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        LocalExecutor(**options)


def test_inline_accepts_any_request_and_passes_it_on(tmp_path: Path) -> None:
    executor = InlineExecutor()
    handler = _Handler()
    wanted = {"cpu": 100_000, "gpu": 64, "anything": 1}
    executor.start(with_resources(conformance_trainable, wanted), handler)
    executor.launch(TrialLaunch("t1", {"mode": "context"}, str(tmp_path), resources=wanted))
    executor.process(0.0)
    executor.shutdown()
    assert handler.results["t1"]["context_resources"] == {"cpu": 100_000.0, "gpu": 64.0, "anything": 1.0}


# -- the contract's data ----------------------------------------------------------------------------------


def test_a_trial_launch_takes_what_the_controller_passes(tmp_path: Path) -> None:
    launch = TrialLaunch(
        trial_id="t1",
        config={"x": 1},
        trial_dir=str(tmp_path),
        checkpoint=None,
        resources=dict({"cpu": 1.0, "gpu": 0.5}),
        seed=3,
        start_iteration=2,
        time_total_s=1.5,
        checkpoint_frequency=1,
        checkpoint_at_end=True,
    )
    assert launch.resources == Resources.parse({"cpu": 1, "gpu": 0.5})
    assert TrialLaunch("t1", {}, "d").resources == Resources()
    assert TrialLaunch("t1", {}, "d", resources=[{"cpu": 1}, {"cpu": 2}]).resources.cpu == 3.0
    tokens = [TrialLaunch("t1", {}, "d").token for _ in range(3)]
    assert len(set(tokens)) == 3 and tokens == sorted(tokens) and min(tokens) > 0
    assert TrialLaunch("t1", {}, "d", token=7).token == 7
    assert new_token() > tokens[-1]


def test_a_trial_launch_survives_pickling_whole(tmp_path: Path) -> None:
    launch = TrialLaunch(
        "t1", {"x": [1, 2]}, str(tmp_path), "ckpt", [{"cpu": 1, "tpu": 2}, {"gpu": 1}], 5, 3, 2.5, 2, True
    )
    again = pickle.loads(pickle.dumps(launch, 5))
    assert again == launch and again.token == launch.token
    assert again.resources.bundles == launch.resources.bundles and hash(again.resources) == hash(launch.resources)


def test_current_launch_tells_stale_tokens() -> None:
    current = CurrentLaunch()
    assert not current.is_current(0) and not current.is_current(1)
    current.begin(5)
    assert current.is_current(5) and not current.is_current(4)
    current.end()
    assert not current.is_current(5)


def test_outcomes_are_strings_for_the_controller() -> None:
    assert Outcome.COMPLETED == "completed" and Outcome.STOPPED == "stopped"
    assert Outcome.ERRORED == "error" and Outcome.WORKER_DIED == "worker_died"
    assert Outcome.ERRORED in ("error", "worker_died") and Outcome.WORKER_DIED in ("error", "worker_died")
    assert [o.is_failure for o in Outcome] == [False, False, True, True]
    assert str(Outcome.WORKER_DIED) == "worker_died"
    assert TrialOutcome("stopped").kind is Outcome.STOPPED


def test_the_old_names_still_work() -> None:
    import tunecore.executors as executors
    import tunecore.protocols as protocols
    import tunecore.runner as runner
    import tunecore.session as session

    assert protocols.Executor is executors.Executor and protocols.ExecutorHandler is executors.ExecutorHandler
    assert session.ReportChannel is executors.ReportChannel
    assert runner.TrialLaunch is TrialLaunch and runner.TrialRunner is executors.TrialRunner
    assert (runner.COMPLETED, runner.STOPPED, runner.ERRORED) == ("completed", "stopped", "error")
    for name in executors.__all__:
        assert getattr(executors, name) is not None
    with pytest.raises(AttributeError):
        _ = protocols.NoSuchName  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "module",
    [
        "tunecore.executors",
        "tunecore.executors.resources",
        "tunecore.executors.launch",
        "tunecore.executors.base",
        "tunecore.executors.runner",
        "tunecore.executors.accounting",
        "tunecore.session",
        "tunecore.trainable",
        "tunecore.protocols",
        "tunecore.worker",
        "tunecore.runner",
        "tunecore.testing.executors",
    ],
)
def test_each_module_imports_first_without_a_cycle(module: str) -> None:
    code = f"import {module}, tunecore.executors as e; [getattr(e, n) for n in e.__all__]"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60)
