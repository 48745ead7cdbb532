"""Convert a tunecore search space to Optuna distributions."""

from __future__ import annotations

from typing import Any

from tune_bayesopt.values import ValueMap, value_map
from tunecore.space import Parameter


def optuna_space(parameters: list[Parameter], searcher: str = "optuna") -> tuple[dict[str, ValueMap], dict[str, Any]]:
    """The value maps of ``parameters`` and the Optuna distribution of each searched one, by name.

    Floats are ``FloatDistribution``; ints and quantized domains are ``IntDistribution`` over the step index
    (Optuna refuses a step together with log); categories are ``CategoricalDistribution`` over their indices.
    Optuna has no normal distribution, so randn and qrandn are refused.
    """
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    maps: dict[str, ValueMap] = {}
    distributions: dict[str, Any] = {}
    for parameter in parameters:
        m = maps[parameter.name] = value_map(parameter, searcher, normal=False)
        if m.form == "float":
            distributions[m.name] = FloatDistribution(*m.bounds, log=m.log)
        elif m.form == "steps":
            low, high = m.bounds
            distributions[m.name] = IntDistribution(int(low), int(high), log=m.log)
        elif m.form == "index":
            distributions[m.name] = CategoricalDistribution(list(range(len(m.categories))))
    return maps, distributions
