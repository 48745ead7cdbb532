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

import attrs

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

    x = np.array([p.units(table.column(p.name)) for p in searched], dtype=float).T.copy()  # a row per trial
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
    shares = forest_shares([tree.tree_ for tree in forest.estimators_], x.shape[1])
    mean = np.mean(shares, axis=0) if len(shares) else np.zeros(x.shape[1])
    total = float(mean.sum())
    return mean / total if total > 0 else mean


CHUNK_VALUES = 1 << 22
"""Trees are worked on together while their nodes times the parameters stay under this: it bounds the memory
(a few arrays of this many floats) and leaves the results as they are (each tree is computed alone)."""


def forest_shares(trees: Sequence[Any], d: int) -> np.ndarray:
    """Per tree that varies (in order), per feature, Var(marginal) / Var(tree) over the unit box: ``(trees, d)``.

    ``trees`` are scikit-learn ``Tree`` objects (``estimator.tree_``); constant trees are left out.
    """
    import numpy as np

    rows = [_chunk_shares(chunk, d) for chunk in _chunks(trees, d)]
    return np.concatenate(rows) if rows else np.zeros((0, d))


def _chunks(trees: Sequence[Any], d: int) -> list[list[Any]]:
    """``trees`` in consecutive groups of at most :data:`CHUNK_VALUES` nodes x ``d`` (one tree at least)."""
    chunks: list[list[Any]] = []
    size = CHUNK_VALUES
    for tree in trees:
        if size + tree.node_count * d > CHUNK_VALUES:
            chunks.append([])
            size = 0
        chunks[-1].append(tree)
        size += tree.node_count * d
    return chunks


def _chunk_shares(trees: list[Any], d: int) -> np.ndarray:
    """:func:`forest_shares` of a few trees, all at once: one pass of numpy over all their nodes."""
    import numpy as np

    nodes = _nodes(trees, d)
    leaf, start, end = _leaf_boxes(nodes)
    lo, hi, value, tree_of = nodes.edges[start], nodes.edges[end], nodes.value[leaf], nodes.tree_of[leaf]
    width = hi - lo
    volume = np.prod(width, axis=1)
    bounds = np.searchsorted(tree_of, np.arange(len(trees) + 1))
    means, variances = np.zeros(len(trees)), np.zeros(len(trees))
    for k in range(len(trees)):  # each tree's sums alone, as numpy sums one tree's leaves
        a, b = bounds[k], bounds[k + 1]
        means[k] = mean = float(np.sum(volume[a:b] * value[a:b]))
        variances[k] = float(np.sum(volume[a:b] * (value[a:b] - mean) ** 2))
    varying = variances > 1e-12 * np.maximum(1.0, means**2)
    weight = np.divide((value * volume)[:, None], width, out=np.zeros_like(width), where=width > 0)
    spread = _marginal_spreads(nodes, start, end, weight, means)
    return spread[varying] / variances[varying, None]


@attrs.frozen
class _Nodes:
    """The nodes of a few trees side by side, each tree's ids shifted by its offset, and the edges of each
    block: a (feature, tree) pair, numbered ``feature * n_trees + tree``. A block's edges are 0, 1 and the
    thresholds of the tree's splits on the feature, distinct and sorted: the bounds of its leaves' boxes."""

    n_trees: int
    d: int
    roots: np.ndarray
    """Each tree's root."""
    tree_of: np.ndarray
    """Each node's tree."""
    left: np.ndarray
    """Each node's left child (-1 for a leaf)."""
    right: np.ndarray
    feature: np.ndarray
    value: np.ndarray
    edges: np.ndarray
    """Every block's edges, block after block."""
    edge_block: np.ndarray
    """Each edge's block."""
    split_edge: np.ndarray
    """Each node's threshold as a position in :attr:`edges` (-1 for a leaf)."""
    first: np.ndarray
    """Each block's first edge (0), as a position in :attr:`edges`."""
    last: np.ndarray
    """Each block's last edge (1)."""


def _nodes(trees: list[Any], d: int) -> _Nodes:
    """The :class:`_Nodes` of ``trees`` over ``d`` features."""
    import numpy as np

    counts = [tree.node_count for tree in trees]
    roots = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
    tree_of = np.repeat(np.arange(len(trees)), counts)
    left, right = (np.concatenate([getattr(t, side) for t in trees]).astype(np.intp) for side in _CHILDREN)
    left, right = (np.where(ids == -1, -1, ids + roots[tree_of]) for ids in (left, right))
    feature = np.concatenate([tree.feature for tree in trees]).astype(np.intp)
    split = left != -1
    threshold = np.clip(np.concatenate([tree.threshold for tree in trees]), 0.0, 1.0)[split]
    n_blocks = d * len(trees)
    blocks = np.arange(n_blocks)
    edges, edge_block, position = _block_edges(
        np.concatenate([threshold, np.zeros(n_blocks), np.ones(n_blocks)]),
        np.concatenate([feature[split] * len(trees) + tree_of[split], blocks, blocks]),
    )
    split_edge = np.full(len(left), -1, dtype=np.intp)
    split_edge[split] = position[: len(threshold)]
    first, last = position[len(threshold) : len(threshold) + n_blocks], position[len(threshold) + n_blocks :]
    value = np.concatenate([tree.value[:, 0, 0] for tree in trees])
    trees_and_nodes = (len(trees), d, roots, tree_of, left, right, feature, value)
    return _Nodes(*trees_and_nodes, edges, edge_block, split_edge, first, last)


_CHILDREN = ("children_left", "children_right")


def _block_edges(values: np.ndarray, blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct ``values`` of each block, sorted block by block (``np.unique`` of each block), their
    blocks, and the position among them of each of ``values``."""
    import numpy as np

    by_value = np.argsort(values)
    order = by_value[np.argsort(blocks.astype(np.min_scalar_type(blocks.max()))[by_value], kind="stable")]
    sorted_values, sorted_blocks = values[order], blocks[order]
    new = np.ones(len(values), dtype=bool)
    new[1:] = (sorted_values[1:] != sorted_values[:-1]) | (sorted_blocks[1:] != sorted_blocks[:-1])
    position = np.empty(len(values), dtype=np.intp)
    position[order] = np.cumsum(new) - 1
    return sorted_values[new], sorted_blocks[new], position


def _leaf_boxes(nodes: _Nodes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every leaf (in node order) with its box in [0, 1]^d as the positions in ``nodes.edges`` of its lower
    and upper corners, ``(leaves, lower, upper)``; a sample goes left when x <= threshold."""
    import numpy as np

    d = nodes.d
    columns = np.arange(d) * nodes.n_trees
    at = nodes.roots
    lower = nodes.first[columns[None, :] + nodes.tree_of[at][:, None]]
    upper = nodes.last[columns[None, :] + nodes.tree_of[at][:, None]]
    leaves, lows, highs = [], [], []
    while at.size:
        splits = nodes.left[at] != -1
        parents, ends = np.flatnonzero(splits), np.flatnonzero(~splits)
        leaves.append(at[ends])
        lows.append(np.take(lower, ends, axis=0))
        highs.append(np.take(upper, ends, axis=0))
        split = at[parents]
        rows = np.concatenate([parents, parents])
        lower, upper = np.take(lower, rows, axis=0), np.take(upper, rows, axis=0)
        cells = np.arange(len(parents)) * d + nodes.feature[split]  # the split feature of each left child
        edge = nodes.split_edge[split]
        upper.reshape(-1)[cells] = np.minimum(upper.reshape(-1)[cells], edge)
        cells += len(parents) * d  # of each right child
        lower.reshape(-1)[cells] = np.maximum(lower.reshape(-1)[cells], edge)
        at = np.concatenate([nodes.left[split], nodes.right[split]])
    leaf = np.concatenate(leaves)
    order = np.argsort(leaf)
    return leaf[order], np.take(np.concatenate(lows), order, axis=0), np.take(np.concatenate(highs), order, axis=0)


def _marginal_spreads(
    nodes: _Nodes, start: np.ndarray, end: np.ndarray, weight: np.ndarray, means: np.ndarray
) -> np.ndarray:
    """Per tree and feature, the integral over [0, 1] of (marginal - the tree's mean)², as ``(n_trees, d)``.

    The marginal of a block is constant between two of its edges: the ``weight`` of the leaves whose box
    covers that interval, summed.
    """
    import numpy as np

    n_edges, n_blocks = len(nodes.edges), len(nodes.first)
    w = weight.T.ravel()  # feature-major: each block's leaves in node order
    steps = np.bincount(start.T.ravel(), w, n_edges) - np.bincount(end.T.ravel(), w, n_edges)
    sizes = nodes.last - nodes.first + 1
    column = np.arange(n_edges) - nodes.first[nodes.edge_block]
    padded = np.zeros((n_blocks, int(sizes.max())))
    padded[nodes.edge_block, column] = steps
    marginal = np.cumsum(padded, axis=1)  # per block, what np.cumsum of its steps alone gives
    inner = column < sizes[nodes.edge_block] - 1  # a block's last edge starts no interval
    gaps = np.zeros_like(padded)
    gaps[nodes.edge_block[inner], column[inner]] = np.append(np.diff(nodes.edges), 0.0)[inner]
    terms = gaps * (marginal - means[np.arange(n_blocks) % nodes.n_trees][:, None]) ** 2
    sums = np.array([np.sum(terms[b, : sizes[b] - 1]) for b in range(n_blocks)])  # each block summed alone
    return sums.reshape(nodes.d, nodes.n_trees).T
