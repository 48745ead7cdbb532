"""Draw the pictures of docs/results.md from two small real experiments: ``python docs/plot_images.py [OUT_DIR]``.

Needs matplotlib and scikit-learn (``pip install 'tunecore[plots]'``). Writes ``<kind>.svg`` for every kind
of plot into OUT_DIR (default: docs/images); tests/core/test_plot.py runs it into a temporary directory.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time

import tunecore
import tunecore.plot

SPACE = {
    "lr": tunecore.loguniform(1e-4, 1e-1),
    "model": {"width": tunecore.randint(8, 129), "activation": tunecore.choice(["relu", "tanh", "gelu"])},
    "dropout": tunecore.uniform(0.0, 0.5),
}
"""A made-up model: the loss depends a lot on lr, less on the activation, little on width, not on dropout."""


def train(config):
    """A learning curve whose floor depends on the config; trials with a huge lr diverge and fail."""
    lr, width, activation = config["lr"], config["model"]["width"], config["model"]["activation"]
    floor = (math.log10(lr) + 2.2) ** 2 + {"relu": 0.0, "tanh": 1.0, "gelu": 0.3}[activation] + 4 / width
    for step in range(1, 9):
        time.sleep(0.002 * (1 + width / 64))  # wider models are slower: the timeline shows it
        loss = floor + 2.0 / step
        tunecore.report({"loss": loss, "latency_ms": width * (1.5 if activation == "gelu" else 1.0)})
        if lr > 0.05 and step == 3:
            raise FloatingPointError("diverged")


def run(storage: str, name: str, metric, mode) -> tunecore.ResultGrid:
    """One seeded experiment of 40 trials, two at a time."""
    return tunecore.Tuner(
        train,
        param_space=SPACE,
        tune_config=tunecore.TuneConfig(
            metric=metric, mode=mode, num_samples=40, seed=7, executor="local", max_concurrent_trials=2
        ),
        run_config=tunecore.RunConfig(storage_path=storage, name=name, verbose=0, loggers=[]),
    ).fit()


def main(out_dir: str) -> list[str]:
    """Run the experiments in a temporary directory and write every plot as svg into ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as storage:
        grid = run(storage, "demo", "loss", "min")
        both = run(storage, "two-objectives", ["loss", "latency_ms"], ["min", "min"])
        written = []
        for kind in tunecore.plot.KINDS:
            fig = getattr(tunecore.plot, kind)(both if kind == "pareto" else grid)
            written.append(tunecore.plot.save(fig, os.path.join(out_dir, f"{kind}.svg")))
        return written


if __name__ == "__main__":
    print("\n".join(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "images"))))
