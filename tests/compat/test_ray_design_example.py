"""examples/ray_design_example.py, the original design's complete example, runs through ``tunecore.run``.

``main()`` runs at tiny sizes (2 or 3 trials per algorithm, 5 epochs) with the inline executor, and the test then
reads each algorithm's experiment back from its directory: every algorithm ran all its trials with the
component the example gave it, HyperOpt started from its known good point, ASHA stopped trials, PBT exploited a
member that then went on from its donor's weights, and the analysis (best config, correlations, top-k, plots)
describes the best algorithm's experiment.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

import tunecore

EXAMPLE = Path(__file__).parents[2] / "examples" / "ray_design_example.py"
SAMPLES = {"Random Search": 2, "Optuna (TPE)": 2, "HyperOpt": 2, "Population Based Training": 3}
EPOCHS = 5  # PBT perturbs at epoch 3 (epochs count from 0): an exploited member trains epoch 4 from its donor
SEED = 20
"""main()'s seed: the draws of this seed are small models (the test takes ~15 s on 2 busy cores, seed 0 ~9x longer)
and include a PBT member that is the worst at its perturbation point (so it is exploited)."""
COMPONENTS = {  # what experiment.json names: the searcher and scheduler of each algorithm
    "Random Search": (None, None),
    "Optuna (TPE)": ("tune_bayesopt.familiar:OptunaSearch", "tune_asha.asha:AsyncHyperBandScheduler"),
    "HyperOpt": ("tune_bayesopt.familiar:HyperOptSearch", "tune_asha.asha:AsyncHyperBandScheduler"),
    "Population Based Training": (None, "tune_pbt.pbt:PopulationBasedTraining"),
}


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("ray_design_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # the trainable's pickled reference finds its module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example() -> Any:
    module = load_example()
    yield module
    sys.modules.pop("ray_design_example", None)


@pytest.fixture(scope="module")
def ran(example, tmp_path_factory) -> dict[str, Any]:
    """One run of main() at tiny sizes: its analysis, its output and the directories it wrote."""
    import torch

    root = tmp_path_factory.mktemp("ray_design")
    threads = torch.get_num_threads()
    capture = pytest.MonkeyPatch()
    lines: list[str] = []
    capture.setattr("builtins.print", lambda *args, **_: lines.append(" ".join(map(str, args))))
    try:
        analysis = example.main(
            num_samples=SAMPLES,
            num_epochs=EPOCHS,
            storage_path=str(root / "results"),
            plot_dir=str(root / "plots"),
            executor="inline",
            seed=SEED,
            verbose=0,
        )
    finally:
        capture.undo()
        torch.set_num_threads(threads)
    return {"analysis": analysis, "lines": lines, "results": root / "results", "plots": root / "plots"}


def experiment(ran: dict[str, Any], algorithm: str) -> Path:
    return ran["results"] / f"digits_optimization_{algorithm.lower().replace(' ', '_')}"


def test_the_original_sizes_are_the_defaults(example):
    import inspect

    assert example.NUM_SAMPLES == {
        "Random Search": 100,
        "Optuna (TPE)": 50,
        "HyperOpt": 50,
        "Population Based Training": 20,
    }
    parameters = inspect.signature(example.main).parameters
    assert parameters["num_samples"].default is None  # None: NUM_SAMPLES
    assert parameters["num_epochs"].default == example.NUM_EPOCHS == 10


@pytest.mark.parametrize("algorithm", list(SAMPLES))
def test_every_algorithm_ran_all_its_trials_with_its_components(ran, algorithm):
    path = experiment(ran, algorithm)
    spec = json.loads((path / "experiment.json").read_text())
    searcher, scheduler = COMPONENTS[algorithm]
    assert spec["searcher"] == ({"instance": searcher} if searcher else {"name": "random"})
    assert spec["scheduler"] == ({"instance": scheduler} if scheduler else {"name": "fifo"})
    assert (spec["metric"], spec["mode"], spec["num_samples"]) == ("test_accuracy", "max", SAMPLES[algorithm])
    analysis = tunecore.ExperimentAnalysis(str(path))
    assert len(analysis.trials) == SAMPLES[algorithm]
    assert {trial.status for trial in analysis.trials} == {"TERMINATED"}
    for trial in analysis.trials:
        epochs = [result["epoch"] for result in trial.metrics_history]
        assert epochs == list(range(len(epochs))) and 1 <= len(epochs) <= EPOCHS
        assert all(0 <= result["test_accuracy"] <= 100 for result in trial.metrics_history)
        assert trial.config["optimizer"] in ("adam", "sgd", "rmsprop") and trial.config["num_epochs"] == EPOCHS
    assert analysis.best_result["test_accuracy"] > 50  # chance is 10%
    assert f"{algorithm} - Best accuracy: {analysis.best_result['test_accuracy']:.4f}" in ran["lines"]


def test_asha_stops_the_worse_trials_at_its_grace_period(ran):
    for algorithm in ("Optuna (TPE)", "HyperOpt"):
        trials = tunecore.ExperimentAnalysis(str(experiment(ran, algorithm))).trials
        lengths = [len(trial.metrics_history) for trial in trials]
        assert lengths[0] == EPOCHS  # the first trial at a rung always continues
        assert all(length in (2, EPOCHS) for length in lengths)  # grace_period=2; the next rung (8) is not reached
        assert lengths[1] == 2  # with this seed, the second trial is the worse at epoch 2 (the first rung)


def test_hyperopt_evaluates_the_known_good_point_first(ran):
    first = tunecore.ExperimentAnalysis(str(experiment(ran, "HyperOpt"))).trials[0]
    assert first.config == {
        "learning_rate": 0.01,
        "batch_size": 128,
        "hidden_size": 256,
        "num_layers": 3,
        "dropout_rate": 0.3,
        "optimizer": "adam",
        "num_epochs": EPOCHS,
    }


def test_pbt_exploits_and_members_go_on_from_the_checkpoints(ran):
    path = experiment(ran, "Population Based Training")
    exploits = [json.loads(line) for line in (path / "pbt_global.jsonl").read_text().splitlines()]
    assert exploits, "PBT never exploited: the trainable's checkpoints are what it needs"
    trials = {trial.trial_id: trial for trial in tunecore.ExperimentAnalysis(str(path)).trials}
    # One trial at a time (inline): each member pauses at its perturbation point (epoch 3) while others wait, or
    # is exploited there, so every member's last epoch starts from a checkpoint: its own, or its donor's. Trained
    # on from it, that epoch's training loss is below the one that checkpoint was saved with (a model that
    # started over would be back near ln(10) = 2.3).
    previous = {trial_id: trial.metrics_history[3]["train_loss"] for trial_id, trial in trials.items()}
    for exploit in exploits:
        assert exploit["time_attr"] == "epoch" and exploit["time"] == 3.0
        assert set(exploit["operations"]) == {"learning_rate", "dropout_rate", "batch_size"}
        member, donor = trials[exploit["trial_id"]], trials[exploit["donor"]]
        donated = donor.metrics_history[exploit["donor_iteration"] - 1]
        after = member.metrics_history[exploit["training_iteration"]]  # the first result after the restart
        assert after["epoch"] == donated["epoch"] + 1
        previous[member.trial_id] = donated["train_loss"]
        assert member.config["hidden_size"] == exploit["donor_config"]["hidden_size"]  # the donor's model
        assert member.config["learning_rate"] == pytest.approx(exploit["new_config"]["learning_rate"])
    for trial_id, trial in trials.items():
        assert [result["epoch"] for result in trial.metrics_history] == list(range(EPOCHS))
        assert trial.metrics_history[-1]["train_loss"] < previous[trial_id], trial_id


def test_the_analysis_describes_the_best_algorithms_experiment(ran):
    analysis = ran["analysis"]
    best = {name: tunecore.ExperimentAnalysis(str(experiment(ran, name))) for name in SAMPLES}
    name, winner = max(best.items(), key=lambda item: item[1].best_result["test_accuracy"])
    assert f"Best algorithm: {name}" in ran["lines"]
    assert set(analysis) == {"best_config", "best_accuracy", "correlation_analysis", "top_configs"}
    assert analysis["best_config"] == winner.best_config
    assert analysis["best_accuracy"] == winner.best_result["test_accuracy"] > 50
    correlation = analysis["correlation_analysis"]
    names = ["learning_rate", "batch_size", "hidden_size", "dropout_rate", "test_accuracy"]
    assert list(correlation.columns) == list(correlation.index) == names
    top = analysis["top_configs"]
    assert len(top) == min(10, SAMPLES[name])
    assert [row["test_accuracy"] for row in top] == sorted(
        (trial.metrics["test_accuracy"] for trial in winner.trials), reverse=True
    )
    assert top[0]["test_accuracy"] == analysis["best_accuracy"]
    assert {key: top[0][key] for key in names[:-1]} == {key: analysis["best_config"][key] for key in names[:-1]}


def test_the_plots_are_saved_into_plot_dir(ran):
    from matplotlib import image

    sizes = {"hyperparameter_correlation.png": (800, 1000), "parameter_analysis.png": (1000, 1500)}
    assert sorted(path.name for path in ran["plots"].iterdir()) == sorted(sizes)
    for file, size in sizes.items():
        assert image.imread(ran["plots"] / file).shape[:2] == size  # figsize in inches at 100 dpi
