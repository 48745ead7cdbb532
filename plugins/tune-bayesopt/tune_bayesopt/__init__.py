"""Model-based searchers for tunecore: ``optuna``, ``hyperopt`` and ``skopt``, plus :func:`pareto_front`."""

from __future__ import annotations

from tune_bayesopt.hyperopt_searcher import HyperoptSearcher
from tune_bayesopt.optuna_searcher import OptunaSearcher
from tune_bayesopt.pareto import pareto_front
from tune_bayesopt.skopt_searcher import SkoptSearcher

__all__ = ["HyperoptSearcher", "OptunaSearcher", "SkoptSearcher", "pareto_front"]
