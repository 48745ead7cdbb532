"""The complete hyperparameter-optimisation example of the original Ray Tune design, on tunecore.

An MLP is tuned with four algorithms (random search; Optuna's TPE with asynchronous HyperBand; HyperOpt with a
known good point and asynchronous HyperBand; Population Based Training), the algorithms are compared by their
best test accuracy, and the best algorithm's experiment is analysed: best config, the table of trials,
correlation of the hyperparameters with the accuracy (plots), and the top-k configurations.

It is section 6.1 of the design (``ray-tune-architecture.zh.txt``), kept function for function and name for
name, with Ray's imports replaced by tunecore's and scikit-learn's bundled 8x8 digits (1797 images, no
download) instead of MNIST. ``python examples/ray_design_example.py`` runs it at the original's sizes (220
trials of 10 epochs: long on a laptop); ``main(num_samples=3, num_epochs=5)`` is a quick run.

What differs from the original, and why
---------------------------------------

Changes of API (Ray Tune -> tunecore):

* ``from ray import tune`` / ``ray.tune.schedulers`` / ``ray.tune.search.optuna`` / ``ray.tune.search.hyperopt``
  -> ``tunecore``, ``tune_asha`` (``AsyncHyperBandScheduler``), ``tune_pbt`` (``PopulationBasedTraining``) and
  ``tune_bayesopt`` (``OptunaSearch``, ``HyperOptSearch``). The class names and their arguments are Ray's.
* ``tune.report(epoch=..., test_accuracy=...)`` (keyword arguments, Ray before 2.7) -> ``tunecore.report({...})``:
  one dict of metrics (Ray 2.7 and later take a dict too), and ``checkpoint=`` as a keyword.
* ``tune.Tuner(...).fit()`` -> ``tunecore.run(...)``, Ray's classic call, which returns an
  ``ExperimentAnalysis`` (``tunecore.Tuner`` works as well, see docs/migrating-from-ray.md). So
  ``result.get_best_result()`` is ``analysis.best_trial`` (a ``tunecore.Result``: ``.config``, ``.metrics``)
  and ``get_dataframe()`` is ``analysis.dataframe()``.
* ``ray.init()`` / ``ray.shutdown()`` -> nothing: tunecore starts its own worker processes (the ``local``
  executor). ``executor="ray"`` (the ``tune-ray`` plugin) runs the same experiments on a Ray cluster.
* ``seed`` (of ``tunecore.run``), ``OptunaSearch(seed=...)``, ``HyperOptSearch(random_state_seed=...)``,
  ``PopulationBasedTraining(seed=...)`` (tunecore's own argument) and ``torch.manual_seed`` of the trial's seed:
  the same ``seed`` gives the same configs and the same training with the ``inline`` executor.
* ``torch.set_num_threads`` of the trial's CPUs: trials that run side by side (the ``local`` executor starts one
  worker per core) would otherwise each start a thread per core.

Bugs of the original fixed (each would crash, or leave an algorithm doing nothing):

* ``load_mnist_data`` was never defined: ``load_digits_data`` builds the loaders (64 inputs, not 28*28), and
  ``train_mnist`` is called ``train_digits``.
* ``"rmsprop"`` is a choice of the search space, but the optimizer's ``if``-chain had no branch for it
  (``UnboundLocalError`` in a third of the trials): it has one now.
* PBT restarts a member from another member's checkpoint, and the original saved none, so its PBT could never
  exploit: each epoch now reports a checkpoint (model, optimizer, epoch; the latest two kept) and the trainable
  continues from ``tunecore.get_checkpoint()``, with the learning rate of its own (explored) config.
* ``get_dataframe()``'s config columns are ``config/learning_rate``..., not ``learning_rate`` (a ``KeyError``
  in Ray too): the analysis reads them by their prefixed names.
* seaborn is not a dependency: the heatmap is drawn with matplotlib alone, and both plots are saved into
  ``plot_dir`` (the original wrote them into the working directory and never closed its figures).

Sizes are parameters: ``main(num_samples=..., num_epochs=...)`` (the original's values are the defaults), and so
are the ``storage_path``, the ``plot_dir``, the ``executor``, the ``seed`` and ``verbose``; ``num_epochs`` reaches
the trainable as the search space's constant ``num_epochs``, which the original read with
``config.get("num_epochs", 10)``. The experiments are named
``digits_optimization_<algorithm>`` (the original: ``mnist_optimization_<algorithm>``). ``stop={"epoch":
num_epochs}`` is kept as written: epochs are numbered from 0, so the loop ends each trial first.
Sections 3 and 4 of the design (multi-objective, budget-aware, adaptive and distributed strategies) are
fragments that do not run (undefined names, ``tune.checkpoint_dir`` removed from Ray) and are not part of it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

import tunecore
from tune_asha import AsyncHyperBandScheduler
from tune_bayesopt import HyperOptSearch, OptunaSearch
from tune_pbt import PopulationBasedTraining

NUM_SAMPLES = {
    "Random Search": 100,
    "Optuna (TPE)": 50,
    "HyperOpt": 50,
    "Population Based Training": 20,  # the PBT population
}
"""The original's number of trials for each algorithm."""
NUM_EPOCHS = 10
"""The original's epochs per trial (``config.get("num_epochs", 10)``)."""


def load_digits_data(batch_size: int, seed: int | None = None) -> tuple[DataLoader, DataLoader]:
    """The 8x8 digits scaled to [0, 1], split 75/25 (always the same split): train and test loaders."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(images, digits.target, test_size=0.25, random_state=0)
    train_set = TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
    test_set = TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test))
    generator = torch.Generator().manual_seed(0 if seed is None else seed)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=generator)
    test_loader = DataLoader(test_set, batch_size=256)
    return train_loader, test_loader


# 1. The training function
def train_digits(config: dict[str, Any]) -> None:
    """Train the MLP classifier on the digits; report the metrics after each epoch.

    Hyperparameters:
    - learning_rate: the learning rate
    - batch_size: the batch size
    - hidden_size: the width of the hidden layers
    - num_layers: the number of hidden layers
    - dropout_rate: the dropout rate
    - optimizer: "adam", "sgd" or "rmsprop"
    """
    # The hyperparameters
    lr = config["learning_rate"]
    batch_size = config["batch_size"]
    hidden_size = config["hidden_size"]
    num_layers = config["num_layers"]
    dropout_rate = config["dropout_rate"]

    # The trial's seed (derived from the experiment's): the same weights and batches on every run; and as many
    # torch threads as the trial has CPUs (1 by default), so that parallel trials do not compete for the cores
    context = tunecore.get_context()
    seed = context.seed
    torch.manual_seed(0 if seed is None else seed)
    torch.set_num_threads(max(1, int(context.resources.get("cpu", 1))))

    # The data
    train_loader, test_loader = load_digits_data(batch_size, seed)

    # The model
    class MLP(nn.Module):
        def __init__(self, input_size, hidden_size, num_layers, num_classes, dropout_rate):
            super().__init__()
            layers = []
            layers.append(nn.Linear(input_size, hidden_size))
            layers.append(nn.ReLU())
            layers.append(nn.Dropout(dropout_rate))
            for _ in range(num_layers - 1):
                layers.append(nn.Linear(hidden_size, hidden_size))
                layers.append(nn.ReLU())
                layers.append(nn.Dropout(dropout_rate))
            layers.append(nn.Linear(hidden_size, num_classes))
            self.network = nn.Sequential(*layers)

        def forward(self, x):
            return self.network(x.view(x.size(0), -1))

    # The model and the optimizer
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = MLP(8 * 8, hidden_size, num_layers, 10, dropout_rate).to(device)

    optimizer: optim.Optimizer
    optimizer_type = config.get("optimizer", "adam")
    if optimizer_type == "adam":
        optimizer = optim.Adam(model.parameters(), lr=lr)
    elif optimizer_type == "sgd":
        optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    elif optimizer_type == "rmsprop":
        optimizer = optim.RMSprop(model.parameters(), lr=lr)
    else:
        raise ValueError(f"unknown optimizer {optimizer_type!r}")

    criterion = nn.CrossEntropyLoss()

    # Continue from a checkpoint: this trial's (after a pause) or a PBT donor's (after an exploit)
    start_epoch = 0
    checkpoint = tunecore.get_checkpoint()
    if checkpoint is not None:
        state = checkpoint.to_dict()
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        for group in optimizer.param_groups:  # the donor's state, this config's learning rate
            group["lr"] = lr
        start_epoch = state["epoch"] + 1

    # The training loop
    num_epochs = config.get("num_epochs", NUM_EPOCHS)
    for epoch in range(start_epoch, num_epochs):
        # Training
        model.train()
        train_loss = 0.0
        train_correct = 0
        train_total = 0
        for _batch_idx, (data, target) in enumerate(train_loader):
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = criterion(output, target)
            loss.backward()
            optimizer.step()
            train_loss += loss.item()
            _, predicted = output.max(1)
            train_total += target.size(0)
            train_correct += predicted.eq(target).sum().item()

        # Validation
        model.eval()
        test_loss = 0.0
        test_correct = 0
        test_total = 0
        with torch.no_grad():
            for data, target in test_loader:
                data, target = data.to(device), target.to(device)
                output = model(data)
                loss = criterion(output, target)
                test_loss += loss.item()
                _, predicted = output.max(1)
                test_total += target.size(0)
                test_correct += predicted.eq(target).sum().item()

        # The metrics
        train_accuracy = 100.0 * train_correct / train_total
        test_accuracy = 100.0 * test_correct / test_total

        # Report the epoch's results, with a checkpoint to continue from
        tunecore.report(
            {
                "epoch": epoch,
                "train_loss": train_loss / len(train_loader),
                "train_accuracy": train_accuracy,
                "test_loss": test_loss / len(test_loader),
                "test_accuracy": test_accuracy,
            },
            checkpoint=tunecore.Checkpoint.from_dict(
                {"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict()}
            ),
        )


# 2. Comparing several algorithms
def compare_optimization_algorithms(
    num_samples: int | Mapping[str, int] | None = None,
    num_epochs: int = NUM_EPOCHS,
    storage_path: str = "./tune_results",
    executor: Any = None,
    seed: int = 0,
    verbose: int = 1,
) -> dict[str, tunecore.ExperimentAnalysis]:
    """Run each algorithm on the same search space; return each one's ExperimentAnalysis by name.

    ``num_samples``: the trials of every algorithm (an int), or of each by name (a mapping); None and the names
    left out keep the original's (``NUM_SAMPLES``). ``executor`` goes to ``tunecore.run`` (None: ``local``).
    """
    if num_samples is None or isinstance(num_samples, Mapping):
        samples = {**NUM_SAMPLES, **(num_samples or {})}
    else:
        samples = dict.fromkeys(NUM_SAMPLES, num_samples)

    # The search space
    search_space = {
        "learning_rate": tunecore.loguniform(1e-5, 1e-1),
        "batch_size": tunecore.choice([32, 64, 128, 256]),
        "hidden_size": tunecore.choice([128, 256, 512, 1024]),
        "num_layers": tunecore.randint(2, 6),
        "dropout_rate": tunecore.uniform(0.1, 0.5),
        "optimizer": tunecore.choice(["adam", "sgd", "rmsprop"]),
        "num_epochs": num_epochs,
    }

    algorithms_to_test: list[dict[str, Any]] = [
        {
            "name": "Random Search",
            "search_alg": None,  # the default: random search
            "scheduler": None,
            "num_samples": samples["Random Search"],
        },
        {
            "name": "Optuna (TPE)",
            "search_alg": OptunaSearch(metric="test_accuracy", mode="max", seed=seed),
            "scheduler": AsyncHyperBandScheduler(metric="test_accuracy", mode="max", max_t=10, grace_period=2),
            "num_samples": samples["Optuna (TPE)"],
        },
        {
            "name": "HyperOpt",
            "search_alg": HyperOptSearch(
                metric="test_accuracy",
                mode="max",
                points_to_evaluate=[
                    {
                        "learning_rate": 0.01,
                        "batch_size": 128,
                        "hidden_size": 256,
                        "num_layers": 3,
                        "dropout_rate": 0.3,
                        "optimizer": "adam",
                    }
                ],  # a known good configuration
                random_state_seed=seed,
            ),
            "scheduler": AsyncHyperBandScheduler(metric="test_accuracy", mode="max", max_t=10, grace_period=2),
            "num_samples": samples["HyperOpt"],
        },
        {
            "name": "Population Based Training",
            "search_alg": None,
            "scheduler": PopulationBasedTraining(
                time_attr="epoch",
                metric="test_accuracy",
                mode="max",
                perturbation_interval=3,
                hyperparam_mutations={
                    "learning_rate": tunecore.loguniform(1e-5, 1e-1),
                    "dropout_rate": tunecore.uniform(0.1, 0.5),
                    "batch_size": [32, 64, 128, 256],
                },
                seed=seed,
            ),
            "num_samples": samples["Population Based Training"],  # the PBT population
        },
    ]

    results = {}
    for alg_config in algorithms_to_test:
        print(f"Testing {alg_config['name']}...")
        analysis = tunecore.run(
            train_digits,
            config=search_space,
            metric="test_accuracy",
            mode="max",
            search_alg=alg_config["search_alg"],
            scheduler=alg_config["scheduler"],
            num_samples=alg_config["num_samples"],
            name=f"digits_optimization_{alg_config['name'].lower().replace(' ', '_')}",
            stop={"epoch": num_epochs},
            storage_path=storage_path,
            checkpoint_config=tunecore.CheckpointConfig(num_to_keep=2),
            seed=seed,
            executor=executor,
            verbose=verbose,
        )
        results[alg_config["name"]] = analysis

        # The algorithm's best trial
        best_result = analysis.best_trial
        if best_result is None:
            raise RuntimeError(f"{alg_config['name']}: no trial reported a test accuracy")
        print(f"{alg_config['name']} - Best accuracy: {best_result.metrics['test_accuracy']:.4f}")
        print(f"Best config: {best_result.config}")

    return results


# 5. Analysing the results
def analyze_optimization_results(
    results: tunecore.ExperimentAnalysis, plot_dir: str = ".", top_k: int = 10
) -> dict[str, Any]:
    """Analyse one experiment: best config, correlations (plots in ``plot_dir``) and the top-k configs."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    # The best result
    best_result = results.best_trial
    if best_result is None:
        raise ValueError(f"{results.experiment_path}: no trial reported a test accuracy")
    print(f"Best trial config: {best_result.config}")
    print(f"Best trial final accuracy: {best_result.metrics['test_accuracy']}")

    # The trials: one row each, its last result and its config as config/... columns
    df = results.dataframe()

    # The numeric hyperparameters, and their correlation with the accuracy
    numeric_params = ["learning_rate", "batch_size", "hidden_size", "dropout_rate"]
    config_columns = {f"config/{param}": param for param in numeric_params}
    params = df[[*config_columns, "test_accuracy"]].rename(columns=config_columns)
    correlation_data = params.astype(float).corr()

    # A heatmap of the correlations
    os.makedirs(plot_dir, exist_ok=True)
    fig, ax = plt.subplots(figsize=(10, 8))
    image = ax.imshow(correlation_data.to_numpy(), cmap="coolwarm", vmin=-1, vmax=1)
    fig.colorbar(image, ax=ax)
    labels = list(correlation_data.columns)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for row in range(len(labels)):
        for column in range(len(labels)):
            value = correlation_data.iloc[row, column]
            ax.text(column, row, "nan" if np.isnan(value) else f"{value:.2f}", ha="center", va="center")
    ax.set_title("Hyperparameter Correlation Analysis")
    fig.tight_layout()
    fig.savefig(os.path.join(plot_dir, "hyperparameter_correlation.png"))
    plt.close(fig)

    # Each parameter against the accuracy
    fig, axes = plt.subplots(2, 2, figsize=(15, 10))
    for i, param in enumerate(numeric_params):
        ax = axes[i // 2, i % 2]
        # a scatter plot: parameter value vs performance
        ax.scatter(params[param], params["test_accuracy"], alpha=0.6)
        ax.set_xlabel(param)
        ax.set_ylabel("Test Accuracy")
        ax.set_title(f"{param} vs Performance")
    fig.tight_layout()
    fig.savefig(os.path.join(plot_dir, "parameter_analysis.png"))
    plt.close(fig)

    # The top-k configurations
    top_trials = params.nlargest(top_k, "test_accuracy")
    print(f"\nTop {top_k} configurations:")
    for idx, (_, trial) in enumerate(top_trials.iterrows()):
        print(f"{idx + 1}. Accuracy: {trial['test_accuracy']:.4f}")
        print(f"   Config: {trial[numeric_params].to_dict()}")

    return {
        "best_config": best_result.config,
        "best_accuracy": best_result.metrics["test_accuracy"],
        "correlation_analysis": correlation_data,
        "top_configs": top_trials[[*numeric_params, "test_accuracy"]].to_dict("records"),
    }


# 6. The main function
def main(
    num_samples: int | Mapping[str, int] | None = None,
    num_epochs: int = NUM_EPOCHS,
    storage_path: str = "./tune_results",
    plot_dir: str = ".",
    executor: Any = None,
    seed: int = 0,
    verbose: int = 1,
) -> dict[str, Any]:
    """Compare the algorithms, then analyse the experiment of the best one; return its analysis."""
    print("Starting hyperparameter optimization...")

    # Compare the algorithms
    algorithm_results = compare_optimization_algorithms(
        num_samples, num_epochs, storage_path=storage_path, executor=executor, seed=seed, verbose=verbose
    )

    # The best algorithm
    best_algorithm = max(algorithm_results.items(), key=lambda x: x[1].best_result["test_accuracy"])
    print(f"Best algorithm: {best_algorithm[0]}")

    # Analyse its results
    analysis = analyze_optimization_results(best_algorithm[1], plot_dir=plot_dir)

    print("Optimization completed!")
    print(f"Best configuration found: {analysis['best_config']}")
    print(f"Best test accuracy: {analysis['best_accuracy']:.4f}")
    return analysis


if __name__ == "__main__":
    main()
