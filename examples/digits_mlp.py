"""Tune a scikit-learn MLP on the bundled digits data set (no download).

Each trial trains for up to 15 epochs with ``partial_fit`` and reports the validation accuracy after each
epoch. Run it with ``python examples/digits_mlp.py`` or, from its TOML twin,
``tunecore run examples/digits_mlp.toml``.
"""

from __future__ import annotations

import numpy as np

import tunecore


def load_data(seed: int = 0):
    """The 8x8 digits, scaled to [0, 1], split 75/25 with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    return train_test_split(digits.data / 16.0, digits.target, test_size=0.25, random_state=seed)


def train(config: dict) -> None:
    """Train an MLP for up to ``epochs`` epochs, reporting validation accuracy after each."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    x_train, x_valid, y_train, y_valid = load_data()
    model = MLPClassifier(
        hidden_layer_sizes=(config["width"],) * config["layers"],
        alpha=config["alpha"],
        learning_rate_init=config["lr"],
        batch_size=config["batch_size"],
        random_state=tunecore.get_context().seed,
    )
    classes = np.unique(y_train)
    for _epoch in range(config["epochs"]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(x_train, y_train, classes=classes)
        tunecore.report({"accuracy": model.score(x_valid, y_valid), "loss": model.loss_})


SPACE = {
    "width": tunecore.choice([32, 64, 128]),
    "layers": tunecore.randint(1, 3),
    "alpha": tunecore.loguniform(1e-5, 1e-1),
    "lr": tunecore.loguniform(1e-4, 3e-2),
    "batch_size": tunecore.choice([32, 64, 128]),
    "epochs": 15,
}


def main() -> None:
    """Run 12 trials on the local executor and print the best configuration."""
    tuner = tunecore.Tuner(
        train,
        param_space=SPACE,
        tune_config=tunecore.TuneConfig(metric="accuracy", mode="max", num_samples=12, seed=0),
        run_config=tunecore.RunConfig(name="digits-mlp-demo", stoppers=[{"name": "threshold", "value": 0.99}]),
    )
    grid = tuner.fit()
    best = grid.get_best_result()
    print(f"\nbest accuracy {best.metrics['accuracy']:.4f} after {best.metrics['training_iteration']} epochs")
    print(f"best config: {best.config}")
    print(f"results in {grid.experiment_path}  (tunecore show {grid.experiment_path})")


if __name__ == "__main__":
    main()
