"""Tune a small PyTorch CNN on scikit-learn's bundled 8x8 digits (no download), with ASHA and with PBT.

The trainable is a plain training loop plus the ``tune_torch`` helpers: seeding from the trial's seed, the
trial's device, a checkpoint after every epoch (model, optimizer, epoch, every RNG) and one ``restore`` call
at the start, so that every trial resumes exactly (``tunecore resume <experiment dir>`` after a crash), PBT's
exploited members go on from their donor's weights and optimizer state, and ``update_optimizer`` gives them
their new learning rate and momentum.

* ASHA (``tune-asha``): 12 configurations, up to 12 epochs each; the worst two thirds stop at epochs 1 and 3.
* PBT (``tune-pbt``): a population of 4 for 12 epochs; every 3 epochs the worst member copies the best's
  checkpoint and perturbs its ``lr`` and ``momentum``.

Run both with ``python examples/torch_digits.py`` (about half a minute on 2 CPU cores), or the ASHA experiment
from its TOML twin, ``tunecore run examples/torch_digits.toml``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

import tune_torch
import tunecore

EPOCHS = 12
"""The most epochs a trial trains for (ASHA's ``max_t``; PBT's members all train this long)."""
SPACE = {
    "channels": tunecore.choice([8, 16]),
    "lr": tunecore.loguniform(1e-3, 3e-1),
    "momentum": tunecore.uniform(0.0, 0.95),
    "weight_decay": tunecore.loguniform(1e-6, 1e-3),
    "batch_size": tunecore.choice([32, 64]),
    "epochs": EPOCHS,
}
"""The search space of the ASHA run (PBT starts its members from it too)."""
ASHA = {"name": "asha", "max_t": EPOCHS, "grace_period": 1, "reduction_factor": 3}
"""ASHA by name: rungs at epochs 1, 3 and 9."""
PBT = {
    "name": "pbt",
    "time_attr": "training_iteration",
    "perturbation_interval": 3,
    "hyperparam_mutations": {"lr": {"loguniform": [1e-3, 3e-1]}, "momentum": {"uniform": [0.0, 0.95]}},
    "synch": True,
    "seed": 0,
}
"""PBT by name: every 3 epochs, all members together; ``lr`` and ``momentum`` perturbed or resampled."""


def load_data(seed: int = 0) -> tuple[TensorDataset, TensorDataset]:
    """The 8x8 digits as 1x8x8 images scaled to [0, 1], split 75/25 with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]
    x_train, x_valid, y_train, y_valid = train_test_split(images, digits.target, test_size=0.25, random_state=seed)
    return (
        TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train)),
        TensorDataset(torch.from_numpy(x_valid), torch.from_numpy(y_valid)),
    )


def cnn(channels: int) -> torch.nn.Module:
    """Two 3x3 convolutions with max pooling (8x8 -> 4x4 -> 2x2), dropout, and a linear classifier."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, channels, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(channels, 2 * channels, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(2 * channels * 4, 10),
    )


def evaluate(model: torch.nn.Module, loader: DataLoader, device: torch.device) -> float:
    """The accuracy of ``model`` on ``loader``."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += int((model(images.to(device)).argmax(1) == labels.to(device)).sum())
    return correct / len(loader.dataset)  # type: ignore[arg-type]


def train(config: dict) -> None:
    """Train the CNN for ``config["epochs"]`` epochs from the trial's checkpoint; report after each epoch."""
    torch.set_num_threads(max(1, int(tunecore.get_context().resources.get("cpu", 1))))
    seeding = tune_torch.seed_everything()
    device = tune_torch.device()
    train_set, valid_set = load_data()
    train_loader = DataLoader(train_set, batch_size=config["batch_size"], shuffle=True, **seeding.loader_kwargs)
    valid_loader = DataLoader(valid_set, batch_size=256)
    model = cnn(config["channels"]).to(device)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=config["lr"], momentum=config["momentum"], weight_decay=config["weight_decay"]
    )
    state = tune_torch.restore(model=model, optimizer=optimizer)  # {} for a fresh trial
    tune_torch.update_optimizer(optimizer, config)  # a PBT member restored its donor's optimizer: its own lr
    for epoch in range(state.get("epoch", 0), config["epochs"]):
        model.train()
        total = 0.0
        for images, labels in train_loader:
            loss = torch.nn.functional.cross_entropy(model(images.to(device)), labels.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        tunecore.report(
            {"accuracy": evaluate(model, valid_loader, device), "loss": total / len(train_set)},
            checkpoint=tune_torch.checkpoint(model=model, optimizer=optimizer, epoch=epoch + 1),
        )


def run(scheduler: dict, num_samples: int, name: str) -> tunecore.ResultGrid:
    """The experiment with ``scheduler`` on the local executor (one CPU per trial)."""
    tuner = tunecore.Tuner(
        train,
        param_space=SPACE,
        tune_config=tunecore.TuneConfig(
            metric="accuracy", mode="max", num_samples=num_samples, seed=0, scheduler=scheduler
        ),
        run_config=tunecore.RunConfig(name=name),
    )
    return tuner.fit()


def main() -> None:
    """Tune with ASHA, then with PBT; print the best of each."""
    for scheduler, num_samples, name in ((ASHA, 12, "torch-digits-asha"), (PBT, 4, "torch-digits-pbt")):
        grid = run(scheduler, num_samples, name)
        best = grid.get_best_result()
        epochs = sum(result.metrics["training_iteration"] for result in grid)
        print(f"\n{scheduler['name']}: best accuracy {best.metrics['accuracy']:.4f}, config {best.config}")
        print(f"{epochs} epochs trained in all; results in {grid.experiment_path}")


if __name__ == "__main__":
    main()
