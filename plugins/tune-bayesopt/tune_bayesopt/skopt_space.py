"""Convert a tunecore search space to scikit-optimize dimensions."""

from __future__ import annotations

from typing import Any

from tune_bayesopt.values import ValueMap, value_map
from tunecore.space import Parameter


def skopt_space(parameters: list[Parameter], searcher: str = "skopt") -> tuple[dict[str, ValueMap], list[Any]]:
    """The value maps of ``parameters`` and the scikit-optimize dimension of each searched one, in order.

    Floats are ``Real``; ints and quantized domains are ``Integer`` over the step index (scikit-optimize has
    no quantization); categories are ``Categorical`` over their indices. There is no normal distribution in
    scikit-optimize, so randn and qrandn are refused.
    """
    from skopt.space import Categorical, Integer, Real

    maps: dict[str, ValueMap] = {}
    dimensions: list[Any] = []
    for parameter in parameters:
        m = maps[parameter.name] = value_map(parameter, searcher, normal=False)
        prior = "log-uniform" if m.log else "uniform"
        base = m.base or 10
        if m.form == "float":
            dimensions.append(Real(*m.bounds, prior=prior, base=base, name=m.name))
        elif m.form == "steps":
            low, high = m.bounds
            dimensions.append(Integer(int(low), int(high), prior=prior, base=base, name=m.name))
        elif m.form == "index":
            dimensions.append(Categorical(list(range(len(m.categories))), name=m.name))
    return maps, dimensions
