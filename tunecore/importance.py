"""Parameter importance: how much of the metric's variation each searched parameter explains, by fANOVA.

The method is functional ANOVA over a random forest (Hutter, Hoos and Leyton-Brown, "An Efficient Approach
for Assessing Hyperparameter Importance", ICML 2014; the method of Optuna's ``FanovaImportanceEvaluator``):

1. Each trial is a point: its parameters on a 0-1 scale where the domain draws uniformly (log domains in log
   space, each int and each category an equal slice; :meth:`tunecore.plot.observations.Param.unit`) and its
   value of the metric (its last result, the rule of :mod:`tunecore.best`; trials without a finite value are
   left out).
2. A random forest (scikit-learn's, ``n_trees`` trees, seeded) learns the metric from the parameters.
3. Each tree is a piecewise-constant function over the unit box. Its variance over the box, and the variance
   of its marginal in one parameter (the mean prediction over all the other parameters, as a function of
   that one), are computed exactly from the leaves. Their ratio is the share of the tree's variance that the
   parameter explains alone.
4. The shares are averaged over the trees and normalised to sum to 1 (what interactions explain is left
   out, as in Optuna).

Needs numpy and scikit-learn (``pip install scikit-learn``, or ``pip install 'tunecore[plots]'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tunecore.errors import TuneError
from tunecore.plot.observations import observations
from tunecore.plot.requires import IMPORTANCE_HINT, require

if TYPE_CHECKING:
    import numpy as np

    from tunecore.results import ResultGrid

N_TREES = 64
"""Trees in the forest: Optuna's default."""
MAX_DEPTH = 64
"""Depth limit of each tree: Optuna's default."""


def importance(
    grid: ResultGrid,
    metric: str | None = None,
    mode: str | None = None,
    *,
    scope: str = "last",
    params: Sequence[str] | None = None,
    n_trees: int = N_TREES,
    seed: int = 0,
) -> dict[str, float]:
    """``{parameter: importance}`` for the experiment's ``metric`` (default: its own), most important first.

    The importances are fANOVA's (this module's docstring), sum to 1 and are the same for the same results
    and ``seed``. ``scope`` picks each trial's value as in :meth:`ResultGrid.get_best_result` (``"last"``:
    its last result); ``params`` restricts to some parameters (default: every searched one).
    """
    table = observations(grid, metric, mode, scope)
    chosen = list(params) if params is not None else [p.name for p in table.params]
    searched = [table.param(name) for name in chosen]
    if len(table.scores) < 2:
        raise TuneError(
            f"parameter importance needs at least 2 trials with a finite value of {table.metric!r},"
            f" got {len(table.scores)}"
        )
    if not searched:
        raise TuneError("no searched parameter: the experiment's trials all ran with the same config")
    if len(set(table.scores)) < 2:
        raise TuneError(f"every trial has the same value of {table.metric!r}: no parameter explains a difference")
    import numpy as np

    x = np.array([[p.unit(row[table.params.index(p)]) for p in searched] for row in table.values], dtype=float)
    shares = fanova(x, np.array(table.scores, dtype=float), n_trees=n_trees, seed=seed)
    order = sorted(range(len(searched)), key=lambda i: -shares[i])
    return {searched[i].name: float(shares[i]) for i in order}


def fanova(x: np.ndarray, y: np.ndarray, *, n_trees: int = N_TREES, seed: int = 0) -> np.ndarray:
    """Each column's share of the variance of ``y`` explained alone, from a forest fit on ``x`` in [0, 1]^d.

    The shares sum to 1 (all zeros when no tree varies).
    """
    import numpy as np

    ensemble = require("sklearn.ensemble", IMPORTANCE_HINT)
    forest = ensemble.RandomForestRegressor(
        n_estimators=n_trees, max_depth=MAX_DEPTH, min_samples_split=2, min_samples_leaf=1, random_state=seed
    )
    forest.fit(x, y)
    shares = [s for tree in forest.estimators_ if (s := _tree_shares(tree.tree_, x.shape[1])) is not None]
    mean = np.mean(shares, axis=0) if shares else np.zeros(x.shape[1])
    total = float(mean.sum())
    return mean / total if total > 0 else mean


def _tree_shares(tree: Any, d: int) -> np.ndarray | None:
    """Per feature, Var(marginal) / Var(tree) over the unit box; None for a constant tree."""
    import numpy as np

    lo, hi = _boxes(tree, d)
    leaves = tree.children_left == -1
    lo, hi, value = lo[leaves], hi[leaves], tree.value[leaves, 0, 0]
    width = hi - lo
    volume = np.prod(width, axis=1)
    mean = float(np.sum(volume * value))
    variance = float(np.sum(volume * (value - mean) ** 2))
    if variance <= 1e-12 * max(1.0, mean**2):
        return None
    shares = np.zeros(d)
    for j in range(d):
        edges = np.unique(np.concatenate([lo[:, j], hi[:, j], [0.0, 1.0]]))
        start, end = np.searchsorted(edges, lo[:, j]), np.searchsorted(edges, hi[:, j])
        weight = np.divide(value * volume, width[:, j], out=np.zeros_like(value), where=width[:, j] > 0)
        steps = np.bincount(start, weight, len(edges)) - np.bincount(end, weight, len(edges))
        marginal = np.cumsum(steps)[:-1]
        shares[j] = float(np.sum(np.diff(edges) * (marginal - mean) ** 2)) / variance
    return shares


def _boxes(tree: Any, d: int) -> tuple[np.ndarray, np.ndarray]:
    """The lower and upper corners of every node's box in [0, 1]^d (a sample goes left when x <= threshold)."""
    import numpy as np

    left, right = tree.children_left, tree.children_right
    feature, threshold = tree.feature, np.clip(tree.threshold, 0.0, 1.0)
    lo, hi = np.zeros((tree.node_count, d)), np.ones((tree.node_count, d))
    frontier = np.array([0])
    while frontier.size:
        split = frontier[left[frontier] != -1]
        f, t, a, b = feature[split], threshold[split], left[split], right[split]
        lo[a], hi[a], lo[b], hi[b] = lo[split], hi[split], lo[split], hi[split]
        hi[a, f] = np.minimum(hi[split, f], t)
        lo[b, f] = np.maximum(lo[split, f], t)
        frontier = np.concatenate([a, b])
    return lo, hi
