"""Matplotlib figures drawn from :mod:`tunecore.plot.data`; each function returns a ``matplotlib.figure.Figure``.

Figures are built without pyplot (no GUI backend, nothing global): show one in Jupyter by leaving it as a
cell's value, or save it with :func:`tunecore.plot.save`. matplotlib is imported here only: ``pip install
'tunecore[plots]'``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tunecore.plot import data
from tunecore.plot.requires import PLOTS_HINT, require

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from tunecore.results import ResultGrid

STATUS_COLOURS = {"TERMINATED": "tab:blue", "ERROR": "tab:red", "PAUSED": "tab:orange", "RUNNING": "tab:green"}
"""The colour of a curve or bar by how its trial ended; any other status is grey."""
OTHER_COLOUR = "tab:gray"
COLOUR_MAP = "viridis"


def history(grid: ResultGrid, metric: str | None = None, mode: str | None = None) -> Figure:
    """Each trial's value in the order trials ended, and the best so far (:func:`tunecore.plot.data.history`)."""
    d = data.history(grid, metric, mode)
    fig, ax = _figure()
    ax.scatter(d.x, d.y, s=14, color="tab:blue", alpha=0.6, label=d.metric)
    ax.step(d.x, d.best, where="post", color="tab:red", label="best so far")
    _labels(ax, d.title, d.xlabel, d.ylabel)
    if d.x:
        ax.legend()
    return fig


def compare(grids: Sequence[ResultGrid], metric: str | None = None, mode: str | None = None) -> Figure:
    """Best-so-far curves of several experiments on one plot (:func:`tunecore.plot.data.compare`)."""
    d = data.compare(grids, metric, mode)
    fig, ax = _figure()
    for series in d.series:
        ax.step(series.x, series.best, where="post", label=series.name)
    _labels(ax, d.title, d.xlabel, d.metric)
    if d.series:
        ax.legend()
    return fig


def curves(grid: ResultGrid, metric: str | None = None) -> Figure:
    """Every trial's metric over iterations, coloured by how it ended (:func:`tunecore.plot.data.curves`)."""
    d = data.curves(grid, metric)
    fig, ax = _figure()
    for curve in d.curves:
        ax.plot(curve.x, curve.y, color=STATUS_COLOURS.get(curve.status, OTHER_COLOUR), alpha=0.7, lw=1)
    for status, count in d.statuses.items():
        ax.plot([], [], color=STATUS_COLOURS.get(status, OTHER_COLOUR), label=f"{status} ({count})")
    _labels(ax, d.title, d.xlabel, d.ylabel)
    if d.statuses:
        ax.legend()
    return fig


def parallel(grid: ResultGrid, metric: str | None = None, params: Sequence[str] | None = None) -> Figure:
    """Parallel coordinates of the parameters and the metric (:func:`tunecore.plot.data.parallel`)."""
    d = data.parallel(grid, metric, params)
    fig, ax = _figure(width=max(6.4, 1.4 * len(d.axes)))
    colours = _colours(d.scores)
    xs = list(range(len(d.axes)))
    for line, colour in zip(d.positions, colours, strict=True):
        ax.plot(xs, line, color=colour, alpha=0.6, lw=1)
    for x, axis in zip(xs, d.axes, strict=True):
        ax.axvline(x, color="black", lw=0.8)
        for tick, label in zip(axis.ticks, axis.tick_labels, strict=True):
            ax.annotate(label, (x, tick), xytext=(3, 0), textcoords="offset points", fontsize=7, va="center")
    ax.set_xticks(xs, [axis.name for axis in d.axes], rotation=20)
    ax.set_yticks([])
    ax.set_xlim(-0.2, len(xs) - 0.5)
    ax.set_title(d.title)
    return fig


def slice(grid: ResultGrid, metric: str | None = None, params: Sequence[str] | None = None) -> Figure:
    """The metric against each parameter, one panel each (:func:`tunecore.plot.data.slice`)."""
    d = data.slice(grid, metric, params)
    figure = require("matplotlib.figure", PLOTS_HINT)
    n = max(1, len(d.panels))
    fig = figure.Figure(figsize=(min(3.2 * n, 16), 3.4), layout="constrained")
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    for ax, panel in zip(axes, d.panels, strict=False):
        ax.scatter(panel.x, panel.y, c=d.order, cmap=COLOUR_MAP, s=14)
        _scale(ax, "x", panel)
        ax.set_xlabel(panel.param)
    axes[0].set_ylabel(d.ylabel)
    fig.suptitle(d.title)
    return fig


def contour(grid: ResultGrid, params: Sequence[str] | None = None, metric: str | None = None) -> Figure:
    """The metric over two parameters, interpolated when both are numeric (:func:`tunecore.plot.data.contour`)."""
    d = data.contour(grid, params, metric)
    fig, ax = _figure()
    x = [math.log10(v) if d.x.log else v for v in d.x.x]
    y = [math.log10(v) if d.y.log else v for v in d.y.x]
    filled = _surface(ax, x, y, d.z) if d.interpolate else None
    if filled is not None:
        fig.colorbar(filled, ax=ax, label=d.metric)
        ax.scatter(x, y, color="black", s=8)
    else:
        points = ax.scatter(x, y, c=d.z, cmap=COLOUR_MAP, s=30)
        fig.colorbar(points, ax=ax, label=d.metric)
    for name, panel in (("x", d.x), ("y", d.y)):
        _scale(ax, name, panel, logged=True)
    _labels(ax, d.title, d.x.param, d.y.param)
    return fig


def importance(grid: ResultGrid, metric: str | None = None, seed: int = 0) -> Figure:
    """Horizontal bars of parameter importance (:func:`tunecore.plot.data.importance`)."""
    d = data.importance(grid, metric, seed)
    fig, ax = _figure(height=max(2.4, 0.45 * len(d.names) + 1.2))
    ax.barh(d.names[::-1], d.values[::-1], color="tab:blue")
    for y, value in enumerate(d.values[::-1]):
        ax.annotate(f"{value:.3f}", (value, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_xlim(0, max(d.values, default=1.0) * 1.15 or 1.0)
    _labels(ax, f"{d.title} ({d.metric})", d.xlabel, "")
    return fig


def pareto(grid: ResultGrid, metrics: Sequence[str] | None = None, modes: Sequence[str] | None = None) -> Figure:
    """Every trial of a two-objective experiment and its Pareto front (:func:`tunecore.plot.data.pareto`)."""
    d = data.pareto(grid, metrics, modes)
    fig, ax = _figure()
    ax.scatter(d.x, d.y, s=14, color="tab:gray", alpha=0.6, label="trials")
    fx, fy = [d.x[i] for i in d.front], [d.y[i] for i in d.front]
    ax.plot(fx, fy, "o-", color="tab:red", label=f"Pareto front ({len(d.front)})")
    _labels(ax, d.title, f"{d.metrics[0]} ({d.modes[0]})", f"{d.metrics[1]} ({d.modes[1]})")
    ax.legend()
    return fig


def timeline(grid: ResultGrid) -> Figure:
    """Trials per worker over time, idle gaps hatched (:func:`tunecore.plot.data.timeline`)."""
    d = data.timeline(grid)
    fig, ax = _figure(height=max(2.4, 0.4 * d.lanes + 1.4))
    for bar in d.bars:
        colour = STATUS_COLOURS.get(bar.status, OTHER_COLOUR)
        ax.barh(bar.lane, bar.end - bar.start, left=bar.start, height=0.7, color=colour, edgecolor="white")
    for lane, start, end in d.gaps:
        ax.barh(lane, end - start, left=start, height=0.7, color="0.92", edgecolor="0.4", hatch="///", lw=0)
    for status in dict.fromkeys(bar.status for bar in d.bars):
        ax.barh(0, 0, color=STATUS_COLOURS.get(status, OTHER_COLOUR), label=status)
    if d.gaps:
        ax.barh(0, 0, color="0.92", edgecolor="0.4", hatch="///", lw=0, label="idle")
    if d.bars:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_yticks(range(d.lanes), d.lane_names or [str(lane) for lane in range(d.lanes)])
    _labels(ax, f"{d.title} (idle {d.idle_s:.3g} s)", d.xlabel, d.ylabel)
    return fig


def _surface(ax: Axes, x: list[float], y: list[float], z: list[float]) -> Any:
    """The interpolated surface, or None when the points cannot be triangulated (e.g. repeated points)."""
    try:
        return ax.tricontourf(x, y, z, levels=12, cmap=COLOUR_MAP, alpha=0.8)
    except (ValueError, RuntimeError):
        return None


def _figure(width: float = 6.4, height: float = 4.0) -> tuple[Figure, Axes]:
    figure = require("matplotlib.figure", PLOTS_HINT)
    fig = figure.Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _labels(ax: Axes, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def _scale(ax: Axes, which: str, panel: data.SlicePanel, logged: bool = False) -> None:
    """Categorical ticks, or a log scale (``logged``: the values are already log10, label them as powers)."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    if panel.tick_labels:
        axis.set_ticks(range(len(panel.tick_labels)), panel.tick_labels)
    elif panel.log and logged:
        ticker = require("matplotlib.ticker", PLOTS_HINT)
        axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{10**v:.3g}"))
    elif panel.log:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")


def _colours(scores: list[float]) -> list[Any]:
    colors = require("matplotlib.colors", PLOTS_HINT)
    colormaps = require("matplotlib", PLOTS_HINT).colormaps
    norm = colors.Normalize(min(scores, default=0.0), max(scores, default=1.0))
    cmap = colormaps[COLOUR_MAP]
    return [cmap(norm(score)) for score in scores]
