"""Model-based searchers for tunecore: ``optuna``, ``hyperopt``, ``skopt`` and ``bohb``, plus :func:`pareto_front`.

Ray Tune's names for them, with Ray's arguments: :class:`OptunaSearch`, :class:`HyperOptSearch`,
:class:`SkOptSearch`, :class:`TuneBOHB`.
"""

from __future__ import annotations

from tune_bayesopt.bohb import BOHBSearcher
from tune_bayesopt.familiar import HyperOptSearch, OptunaSearch, SkOptSearch, TuneBOHB
from tune_bayesopt.hyperopt_searcher import HyperoptSearcher
from tune_bayesopt.optuna_searcher import OptunaSearcher
from tune_bayesopt.pareto import pareto_front
from tune_bayesopt.skopt_searcher import SkoptSearcher

__all__ = [
    "BOHBSearcher",
    "HyperOptSearch",
    "HyperoptSearcher",
    "OptunaSearch",
    "OptunaSearcher",
    "SkOptSearch",
    "SkoptSearcher",
    "TuneBOHB",
    "pareto_front",
]
