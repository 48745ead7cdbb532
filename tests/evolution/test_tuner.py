"""End to end through Tuner: selected by name (Python and TOML), 2 parallel workers, resume, errors."""

from __future__ import annotations

import itertools
import textwrap
import time

import pytest

import tunecore

from .spaces import check_config

SPACE = {
    "x": tunecore.uniform(-1, 1),
    "n": tunecore.randint(0, 10),
    "act": tunecore.choice(["relu", "tanh"]),
    "scaled": tunecore.sample_from(lambda spec: spec.config["x"] * spec.config["n"]),
}


def quadratic(config):
    tunecore.report({"loss": (config["x"] - 0.3) ** 2 + (config["n"] - 6) ** 2 / 10 + (config["act"] == "tanh")})


def timed(config):
    start = time.time()
    time.sleep(0.03)
    tunecore.report({"loss": (config["x"] - 0.3) ** 2, "start": start, "end": time.time()})


def tuner(trainable, tmp_path, searcher, *, space=SPACE, num_samples=12, seed=0, **tune_kwargs):
    tune_kwargs.setdefault("metric", "loss")
    tune_kwargs.setdefault("mode", "min")
    tune_kwargs.setdefault("executor", "inline")
    return tunecore.Tuner(
        trainable,
        param_space=space,
        tune_config=tunecore.TuneConfig(num_samples=num_samples, seed=seed, searcher=searcher, **tune_kwargs),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=[], verbose=0),
    )


def test_registered_by_the_installed_distribution():
    registry = tunecore.load_plugins({}).registry
    assert registry.get("searcher", "evolution").dist == "tune-evolution"
    assert registry.get("searcher", "regularized_evolution").dist == "tune-evolution"


@pytest.mark.parametrize("name", ["evolution", "regularized_evolution"])
def test_selected_by_name_in_python(tmp_path, name):
    searcher = {"name": name, "population_size": 4}
    grid = tuner(quadratic, tmp_path, searcher, num_samples=15, seed=5).fit()
    assert len(grid) == 15 and grid.num_terminated == 15  # never FINISHED on its own: num_samples decides
    for result in grid:
        check_config(SPACE, result.config)
        assert result.config["scaled"] == result.config["x"] * result.config["n"]
    again = tuner(quadratic, tmp_path / "again", searcher, num_samples=15, seed=5).fit()
    assert [r.config for r in again] == [r.config for r in grid]


def test_selected_by_name_in_toml(tmp_path):
    path = tmp_path / "experiment.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            trainable = "tests.evolution.test_tuner:quadratic"
            metric = "loss"
            mode = "min"
            num_samples = 12
            seed = 3
            name = "from-toml"
            storage_path = "{tmp_path}"
            verbose = 0
            loggers = []

            [param_space]
            x = {{ uniform = [-1, 1] }}
            n = {{ randint = [0, 10] }}
            act = {{ choice = ["relu", "tanh"] }}

            [searcher]
            name = "regularized_evolution"
            population_size = 4
            sample_size = 2

            [executor]
            name = "inline"
            """
        )
    )
    spec = tunecore.load_experiment(path)
    assert spec.tune_config.component("searcher").to_data() == {
        "name": "regularized_evolution", "population_size": 4, "sample_size": 2
    }  # fmt: skip
    from_file = [r.config for r in tunecore.Tuner.from_spec(spec).fit()]
    space = {key: value for key, value in SPACE.items() if key != "scaled"}
    searcher = {"name": "regularized_evolution", "population_size": 4, "sample_size": 2}
    assert from_file == [r.config for r in tuner(quadratic, tmp_path / "py", searcher, space=space, seed=3).fit()]


def test_two_parallel_workers(tmp_path):
    grid = tuner(
        timed, tmp_path, {"name": "evolution", "population_size": 4}, num_samples=16,
        executor="local", executor_options={"num_workers": 2},
    ).fit()  # fmt: skip
    assert len(grid) == 16 and grid.num_terminated == 16
    spans = sorted((r.metrics["start"], r.metrics["end"]) for r in grid)
    assert any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans))  # trials overlapped
    for result in grid:
        check_config(SPACE, result.config)


@pytest.mark.parametrize("name", ["evolution", "regularized_evolution"])
def test_resumed_experiment_continues_like_an_uninterrupted_one(tmp_path, name):
    searcher = {"name": name, "population_size": 5}
    reference = [r.config for r in tuner(quadratic, tmp_path / "ref", searcher, num_samples=25, seed=1).fit()]
    first = tuner(quadratic, tmp_path / "run", searcher, num_samples=10, seed=1).fit()
    resumed = tunecore.Tuner.restore(first.experiment_path, num_samples=25).fit()
    assert [r.config for r in resumed] == reference


def test_grid_search_and_missing_metric_are_clear_errors(tmp_path):
    space = {"x": tunecore.uniform(0, 1), "layers": tunecore.grid_search([1, 2])}
    with pytest.raises(tunecore.SpaceError, match=r"'layers'.*write choice\(\[1, 2\]\) instead"):
        tuner(quadratic, tmp_path / "grid", "evolution", space=space).fit()
    with pytest.raises(ValueError, match="the regularized_evolution searcher needs one metric to rank trials and"):
        tuner(quadratic, tmp_path / "metric", "regularized_evolution", metric=None, mode=None).fit()


def test_bad_option_names_the_component(tmp_path):
    with pytest.raises(tunecore.ComponentError, match="population_sise"):
        tuner(quadratic, tmp_path, {"name": "evolution", "population_sise": 4}).fit()
