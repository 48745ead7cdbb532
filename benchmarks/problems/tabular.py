"""The digits MLP tabular benchmark: real training curves of scikit-learn MLPs on ``load_digits``.

The table (``benchmarks/data/digits_mlp.json.gz``, built once by ``build_digits_table.py``) holds, for
each of the 225 configs of a grid (hidden size x initial learning rate x L2 penalty ``alpha`` x batch
size) and each of 3 training seeds, the validation error after every epoch 1 ... 27. A trial's budget step
is an epoch; nothing is interpolated: the search space is the grid, as categorical choices.

Two problems read it:

- ``digits``: the value after epoch ``t`` is the error averaged over the 3 seeds (deterministic);
- ``digits-noisy``: the value is one seed's error — the seed a run gives each config is fixed per run and
  config (a hash of both), so a config looks as it would after one real training run. The regret is still
  measured on the seed average: the noise is what a tuner must see through.
"""

from __future__ import annotations

import gzip
import json
import zlib
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

import tunecore
from benchmarks.problems.base import Problem

TABLE_PATH = Path(__file__).resolve().parent.parent / "data" / "digits_mlp.json.gz"
"""Where the table is stored."""


class DigitsTable:
    """The stored table: ``errors[config, seed, epoch]`` as fractions, and the grid it was built on."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.params: list[str] = list(data["params"])
        self.grid: dict[str, list[Any]] = {key: list(values) for key, values in data["grid"].items()}
        self.configs: list[tuple[Any, ...]] = [tuple(config) for config in data["configs"]]
        self.n_val: int = int(data["n_val"])
        self.epochs: int = int(data["epochs"])
        self.seeds: int = int(data["seeds"])
        self.errors = np.asarray(data["errors"], dtype=float) / self.n_val
        """Validation error per config, seed and epoch: shape (configs, seeds, epochs)."""
        self.mean = self.errors.mean(axis=1)
        """Seed-averaged validation error per config and epoch: shape (configs, epochs)."""
        self.index = {config: i for i, config in enumerate(self.configs)}

    def row(self, config: dict[str, Any]) -> int:
        """The table row of a config (its values of :attr:`params`)."""
        return self.index[tuple(config[key] for key in self.params)]

    def space(self) -> dict[str, Any]:
        """The grid as a search space of categorical choices."""
        return {key: tunecore.choice(values) for key, values in self.grid.items()}


@cache
def load_table(path: Path = TABLE_PATH) -> DigitsTable:
    """Read the table (once per process)."""
    with gzip.open(path, "rt") as file:
        return DigitsTable(json.load(file))


def config_seed(row: int, seed: int, seeds: int) -> int:
    """The training seed a run with ``seed`` observes for table row ``row`` (stable across processes)."""
    return zlib.crc32(f"{seed}:{row}".encode()) % seeds


class DigitsProblem(Problem):
    """Minimise the validation error of the digits MLP; ``noisy`` observes one training seed per config."""

    def __init__(self, noisy: bool = False, table: DigitsTable | None = None) -> None:
        self.table = table or load_table()
        self.noisy = noisy
        self.name = "digits-noisy" if noisy else "digits"
        self.description = (
            "digits MLP table, one training seed observed per config" if noisy else "digits MLP table, 3-seed mean"
        )
        self.space = self.table.space()
        self.max_t = self.table.epochs
        self.optimum = float(self.table.mean[:, -1].min())

    def value(self, config: dict[str, Any], t: int, seed: int) -> float:
        """The validation error after epoch ``t``."""
        row = self.table.row(config)
        if self.noisy:
            return float(self.table.errors[row, config_seed(row, seed, self.table.seeds), t - 1])
        return float(self.table.mean[row, t - 1])

    def true_value(self, config: dict[str, Any]) -> float:
        """The seed-averaged error after the last epoch."""
        return float(self.table.mean[self.table.row(config), -1])
