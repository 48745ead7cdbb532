"""Trainables referenced by the experiment-file tests."""


def train(config):
    """Return a quadratic of the config."""
    return {"loss": (config["lr"] - 0.01) ** 2}
