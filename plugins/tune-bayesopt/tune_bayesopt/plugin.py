"""Hook implementations of tune-bayesopt: the searchers ``optuna``, ``hyperopt``, ``skopt`` and ``bohb``."""

from __future__ import annotations

from typing import Any

import tunecore
from tune_bayesopt.bohb import BOHBSearcher
from tune_bayesopt.hyperopt_searcher import HyperoptSearcher
from tune_bayesopt.optuna_searcher import OptunaSearcher
from tune_bayesopt.skopt_searcher import SkoptSearcher


@tunecore.hookimpl
def tunecore_register_searchers(register: Any) -> None:
    """Register the four searchers."""
    register("optuna", OptunaSearcher, "Optuna samplers: TPE, GP, CMA-ES, QMC, random, NSGA-II (multi-objective)")
    register("hyperopt", HyperoptSearcher, "Hyperopt: TPE, annealing or random search")
    register("skopt", SkoptSearcher, "scikit-optimize: Bayesian optimisation with GP, RF, ET or GBRT models")
    register("bohb", BOHBSearcher, "BOHB: TPE-style density model on the highest budget (with hyperband or asha)")
