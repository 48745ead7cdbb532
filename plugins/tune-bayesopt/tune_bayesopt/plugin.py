"""Hook implementations of tune-bayesopt: the searchers ``optuna``, ``hyperopt`` and ``skopt``."""

from __future__ import annotations

from typing import Any

import tunecore
from tune_bayesopt.hyperopt_searcher import HyperoptSearcher
from tune_bayesopt.optuna_searcher import OptunaSearcher
from tune_bayesopt.skopt_searcher import SkoptSearcher


@tunecore.hookimpl
def tunecore_register_searchers(register: Any) -> None:
    """Register the three searchers."""
    register("optuna", OptunaSearcher, "Optuna samplers: TPE, GP, CMA-ES, QMC, random, NSGA-II (multi-objective)")
    register("hyperopt", HyperoptSearcher, "Hyperopt: TPE, annealing or random search")
    register("skopt", SkoptSearcher, "scikit-optimize: Bayesian optimisation with GP, RF, ET or GBRT models")
