"""Convert a tunecore search space to a Hyperopt space (a flat dict of ``hp`` expressions)."""

from __future__ import annotations

import math
from typing import Any

from tune_bayesopt.values import ValueMap, value_map
from tunecore.space import Parameter


def hyperopt_space(
    parameters: list[Parameter], searcher: str = "hyperopt"
) -> tuple[dict[str, ValueMap], dict[str, Any]]:
    """The value maps of ``parameters`` and the Hyperopt expression of each searched one, by name.

    Floats are ``hp.uniform`` / ``hp.loguniform`` / ``hp.normal``; ints and quantized domains are searched over
    the step index ``k`` with ``hp.quniform(k_low - 0.5, k_high + 0.5, 1)`` (every step equally likely), or
    ``hp.qloguniform`` / ``hp.qnormal`` for log and normal ones; categories are ``hp.choice`` over their indices.
    """
    from hyperopt import hp

    maps: dict[str, ValueMap] = {}
    space: dict[str, Any] = {}
    for parameter in parameters:
        m = maps[parameter.name] = value_map(parameter, searcher, normal=True)
        if m.form == "float" and m.normal:
            space[m.name] = hp.normal(m.name, m.mean, m.sd)
        elif m.form == "float" and m.log:
            space[m.name] = hp.loguniform(m.name, *map(math.log, m.bounds))
        elif m.form == "float":
            space[m.name] = hp.uniform(m.name, *m.bounds)
        elif m.form == "steps" and m.normal:
            space[m.name] = hp.qnormal(m.name, m.mean, m.sd, 1)
        elif m.form == "steps" and m.log:
            space[m.name] = hp.qloguniform(m.name, *map(math.log, m.bounds), 1)
        elif m.form == "steps":
            low, high = m.bounds
            space[m.name] = hp.quniform(m.name, low - 0.5, high + 0.5, 1)
        elif m.form == "index":
            space[m.name] = hp.choice(m.name, list(range(len(m.categories))))
    return maps, space
