"""A synthetic objective: a noisy quadratic whose minimum is at x=0.3, y=-1 (for quick runs and tests)."""

from __future__ import annotations

import math

import tunecore


def train(config: dict) -> None:
    """Report a loss that improves with iterations and is lowest near x=0.3, y=-1."""
    for step in range(1, config.get("steps", 10) + 1):
        loss = (config["x"] - 0.3) ** 2 + (config["y"] + 1) ** 2 + math.exp(-step) * config.get("noise", 0.1)
        tunecore.report({"loss": loss})
