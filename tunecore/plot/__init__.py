"""Plots of an experiment, in two layers: :mod:`tunecore.plot.data` computes what each plot shows (points,
axes, labels, counts: no plotting library needed) and the functions here draw it with matplotlib, returning a
``matplotlib.figure.Figure``; :func:`save` writes one as png, svg or html.

    import tunecore.plot
    grid = tunecore.ResultGrid.from_path("tune_results/exp")
    tunecore.plot.save(tunecore.plot.history(grid), "history.svg")

matplotlib is an optional extra (``pip install 'tunecore[plots]'``) imported only when a figure is drawn.
"""

from __future__ import annotations

from tunecore.plot import data, output
from tunecore.plot.figures import compare, contour, curves, history, importance, parallel, pareto, slice, timeline
from tunecore.plot.output import save
from tunecore.plot.requires import MissingDependencyError

KINDS = ("history", "curves", "parallel", "slice", "contour", "importance", "pareto", "timeline")
"""Every kind of plot, by the name of its function."""

__all__ = [
    "KINDS",
    "MissingDependencyError",
    "compare",
    "contour",
    "curves",
    "data",
    "history",
    "importance",
    "output",
    "parallel",
    "pareto",
    "save",
    "slice",
    "timeline",
]
