"""A seeded, deterministic PyTorch experiment that tests/torch/test_exact_resume.py runs, kills and resumes.

Usage (from the repository root)::

    python -m tests.torch.resume_experiment run STORAGE NAME [--sleep S] [--side FILE]
    python -m tests.torch.resume_experiment resume EXPERIMENT_DIR

``run`` tunes a small MLP with dropout on a fixed synthetic data set: 2 trials on the local executor (2
workers), :data:`EPOCHS` epochs each, a ``tune_torch`` checkpoint after every epoch. Each batch uses every RNG
a training loop may use: the DataLoader's shuffling (the generator of ``seed_everything``), dropout (torch),
input noise (numpy) and a random flip (python), so that a resume is exact only when all of them are restored.
``resume`` continues the experiment with ``Tuner.restore``. Both print ``DONE`` when ``fit()`` returned.
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

import tune_torch
import tunecore

EPOCHS = 10
SEED = 2024
FEATURES = 8


def data() -> TensorDataset:
    """256 points in 8 dimensions, two classes split by a random hyperplane (the same in every process)."""
    state = np.random.RandomState(0)
    x = state.normal(size=(256, FEATURES)).astype(np.float32)
    y = (x @ state.normal(size=FEATURES) > 0).astype(np.int64)
    return TensorDataset(torch.from_numpy(x), torch.from_numpy(y))


def model() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(FEATURES, 32), torch.nn.ReLU(), torch.nn.Dropout(0.3), torch.nn.Linear(32, 2)
    )


def checksum(module: torch.nn.Module) -> float:
    """The sum of every weight's absolute value, in float64: any difference in any weight shows."""
    return float(sum(p.detach().double().abs().sum() for p in module.parameters()))


def train(config: dict) -> None:
    """Train for EPOCHS epochs from the trial's checkpoint, reporting and checkpointing every epoch."""
    torch.set_num_threads(1)
    seeding = tune_torch.seed_everything(deterministic=True)
    loader = DataLoader(data(), batch_size=32, shuffle=True, **seeding.loader_kwargs)
    net = model()
    optimizer = torch.optim.SGD(net.parameters(), lr=config["lr"], momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    state = tune_torch.restore(model=net, optimizer=optimizer, scheduler=scheduler)
    if config.get("side"):
        with open(config["side"], "a") as side:  # one short line per start: the epoch it starts from
            side.write(f"{tunecore.get_context().trial_id} {state.get('epoch', 0)}\n")
    for epoch in range(state.get("epoch", 0), EPOCHS):
        net.train()
        losses = []
        for inputs, targets in loader:
            noise = torch.from_numpy(np.random.normal(scale=0.1, size=inputs.shape).astype(np.float32))
            inputs = inputs + noise
            if random.random() < 0.5:
                inputs = -inputs
                targets = 1 - targets
            loss = torch.nn.functional.cross_entropy(net(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
        time.sleep(config["sleep"])
        tunecore.report(
            {"loss": float(np.mean(losses)), "last_loss": losses[-1], "checksum": checksum(net)},
            checkpoint=tune_torch.checkpoint(model=net, optimizer=optimizer, scheduler=scheduler, epoch=epoch + 1),
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["run", "resume"])
    parser.add_argument("path")
    parser.add_argument("name", nargs="?")
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--side", help="a file where each start of a trial appends 'trial_id epoch'")
    args = parser.parse_args()
    if args.command == "run":
        tuner = tunecore.Tuner(
            train,
            param_space={"lr": tunecore.uniform(0.01, 0.1), "sleep": args.sleep, "side": args.side},
            tune_config=tunecore.TuneConfig(
                metric="loss",
                mode="min",
                num_samples=2,
                seed=SEED,
                executor={"name": "local", "num_workers": 2},
            ),
            run_config=tunecore.RunConfig(name=args.name, storage_path=args.path, verbose=0),
        )
    else:
        tuner = tunecore.Tuner.restore(args.path, trainable=train)
    tuner.fit()
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
