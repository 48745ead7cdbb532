"""Tune the digits MLP of ``digits_mlp.py`` with ASHA: bad configurations stop after a few epochs.

Each trial may train for 27 epochs (one ``training_iteration`` per epoch); the ``asha`` scheduler (from the
``tune-asha`` plugin) judges trials at epochs 1, 3 and 9 and lets only the top third go on. Run it with
``python examples/asha_digits.py`` or, from its TOML twin, ``tunecore run examples/asha_digits.toml``.
"""

from __future__ import annotations

from digits_mlp import SPACE, train

import tunecore

EPOCHS = 27
"""The most epochs a trial trains for: ASHA's ``max_t``."""
SCHEDULER = {"name": "asha", "max_t": EPOCHS, "grace_period": 1, "reduction_factor": 3}
"""ASHA by name, with rungs at epochs 1, 3 and 9."""


def main() -> None:
    """Run 32 trials with ASHA on the local executor; print the best and the epochs saved."""
    tuner = tunecore.Tuner(
        train,
        param_space={**SPACE, "epochs": EPOCHS},
        tune_config=tunecore.TuneConfig(metric="accuracy", mode="max", num_samples=32, seed=0, scheduler=SCHEDULER),
        run_config=tunecore.RunConfig(name="asha-digits-demo"),
    )
    grid = tuner.fit()
    best = grid.get_best_result()
    epochs = sum(result.metrics["training_iteration"] for result in grid)
    print(f"\nbest accuracy {best.metrics['accuracy']:.4f} after {best.metrics['training_iteration']} epochs")
    print(f"best config: {best.config}")
    print(f"epochs trained: {epochs} of {len(grid) * EPOCHS} without early stopping")
    print(f"results in {grid.experiment_path}  (tunecore show {grid.experiment_path})")


if __name__ == "__main__":
    main()
