"""The data behind every plot: points, axes, labels and counts, computed without any plotting library.

Each function takes a :class:`~tunecore.results.ResultGrid` and returns a frozen ``*Data`` object that
:mod:`tunecore.plot.figures` draws. A trial's value is its score by :mod:`tunecore.best`'s rule (its last
result, :mod:`tunecore.plot.observations`), except in :func:`curves`, which shows every result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from tunecore.best import observation, score
from tunecore.errors import TuneError
from tunecore.formatting import format_value, result_field
from tunecore.options import finite_float
from tunecore.pareto import non_dominated
from tunecore.plot.lanes import OVERLAP_TOLERANCE_S, Span, assign_lanes, idle_gaps
from tunecore.plot.observations import Observations, Param, observations, resolve_metric, trial_score

if TYPE_CHECKING:
    from tunecore.results import ResultGrid


@attrs.frozen
class HistoryData:
    """Best-so-far over trials, in the order they ended."""

    metric: str
    mode: str
    x: list[int]
    """Each plotted trial's rank in end order (1 = ended first; trials without a finite value leave a gap)."""
    y: list[float]
    """Each plotted trial's value."""
    best: list[float]
    """The best value among the trials up to and including this one."""
    trial_ids: list[str]
    xlabel: str = "trials, in the order they ended"
    ylabel: str = ""
    title: str = "Optimisation history"


@attrs.frozen
class Curve:
    """One trial's metric at each reported iteration."""

    trial_id: str
    status: str
    """How the trial ended (``TERMINATED``, ``ERROR``...), which colours its curve."""
    x: list[float]
    y: list[float]


@attrs.frozen
class CurvesData:
    """Learning curves: every trial's metric over ``training_iteration``."""

    metric: str
    curves: list[Curve]
    statuses: dict[str, int]
    """How many curves end in each status."""
    xlabel: str = "training_iteration"
    ylabel: str = ""
    title: str = "Learning curves"


@attrs.frozen
class Axis:
    """One axis of parallel coordinates: a parameter or the metric, on a 0-1 scale."""

    name: str
    kind: str
    """``"float"``, ``"int"``, ``"categorical"`` or ``"metric"``."""
    ticks: list[float]
    """Tick positions on the 0-1 scale."""
    tick_labels: list[str]


@attrs.frozen
class ParallelData:
    """Parallel coordinates: one line per trial across the parameters' axes and the metric's (last)."""

    metric: str
    axes: list[Axis]
    trial_ids: list[str]
    positions: list[list[float]]
    """Per trial, its position (0-1) on each axis."""
    scores: list[float]
    """Per trial, its metric value (the line's colour)."""
    title: str = "Parallel coordinates"


@attrs.frozen
class SlicePanel:
    """The metric against one parameter."""

    param: str
    kind: str
    log: bool
    x: list[float]
    """Numeric values, or for a categorical parameter the index of each trial's category."""
    y: list[float]
    tick_labels: list[str]
    """The categories (categorical parameters), else empty."""


@attrs.frozen
class SliceData:
    """The metric against each parameter, one panel per parameter."""

    metric: str
    panels: list[SlicePanel]
    order: list[int]
    """Per point, the trial's position in trial order (the points' colour)."""
    ylabel: str = ""
    title: str = "Slice"


@attrs.frozen
class ContourData:
    """The metric over two parameters: points, drawn with an interpolated surface when both are numeric."""

    metric: str
    x: SlicePanel
    """The first parameter's values (its ``y`` are the metric values)."""
    y: SlicePanel
    """The second parameter's values."""
    z: list[float]
    interpolate: bool
    """True when both parameters are numeric and there are at least 3 points not on one line."""
    title: str = "Contour"


@attrs.frozen
class ImportanceData:
    """Parameter importance, most important first."""

    metric: str
    names: list[str]
    values: list[float]
    xlabel: str = "importance (fANOVA, sums to 1)"
    title: str = "Parameter importance"


@attrs.frozen
class ParetoData:
    """Two objectives: every trial's values and the non-dominated front."""

    metrics: tuple[str, str]
    modes: tuple[str, str]
    x: list[float]
    y: list[float]
    trial_ids: list[str]
    front: list[int]
    """Indices into ``x``/``y`` of the trials no other trial dominates, sorted by ``x``."""
    title: str = "Pareto front"


@attrs.frozen
class TimelineBar:
    """One trial, from its start to its last result, on one lane (a worker)."""

    trial_id: str
    lane: int
    start: float
    """Seconds since the first trial started."""
    end: float
    status: str


@attrs.frozen
class TimelineData:
    """Trials per worker over time, with the idle gaps between them."""

    bars: list[TimelineBar]
    lanes: int
    gaps: list[tuple[int, float, float]]
    """``(lane, start, end)`` of each time a lane waited between two trials."""
    idle_s: float
    """The idle time of all lanes together."""
    lane_names: list[str] = attrs.field(factory=list)
    """Each lane's worker (``"host pid 1234"``) when the results name it; empty for lanes inferred from times."""
    xlabel: str = "seconds since the first trial started"
    ylabel: str = "worker"
    title: str = "Timeline"


@attrs.frozen
class CompareSeries:
    """One experiment's best-so-far series."""

    name: str
    x: list[int]
    """Number of trials ended."""
    best: list[float]
    """The best value after that many trials."""


@attrs.frozen
class CompareData:
    """Best-so-far curves of several experiments that optimise the same metric."""

    metric: str
    mode: str
    series: list[CompareSeries]
    xlabel: str = "trials ended"
    title: str = "Best so far"


def compare(grids: Sequence[ResultGrid], metric: str | None = None, mode: str | None = None) -> CompareData:
    """The best-so-far series of each experiment (:func:`tunecore.views.best_so_far`, one rule) on one axis;
    TuneError when they do not optimise the same metric and mode (:func:`tunecore.views.compare`)."""
    from tunecore import views

    metric, mode, rows = views.compare(list(grids), [])
    series = []
    for grid, row in zip(grids, rows, strict=True):
        points = [(p.trials, p.value) for p in views.best_so_far(grid, metric, mode) if p.value is not None]
        series.append(CompareSeries(row.name, [n for n, _ in points], [float(v) for _, v in points]))
    return CompareData(metric, mode, series)


def history(grid: ResultGrid, metric: str | None = None, mode: str | None = None) -> HistoryData:
    """Best-so-far of ``metric`` (default: the experiment's) over the trials in the order they ended."""
    metric, mode = resolve_metric(grid, metric, mode)
    if mode is None:
        raise TuneError(
            f"pass mode='min' or 'max' (--mode on the command line): the best-so-far of {metric!r} needs it"
        )
    from tunecore import views

    trials = {result.trial_id: result for result in grid}
    x, y, best, ids = [], [], [], []
    for point in views.best_so_far(grid, metric, mode):  # the one best-so-far rule, also compare's
        value = trial_score(trials[point.trial_id], metric, mode)
        if value is None or point.value is None:
            continue
        x.append(point.trials)
        y.append(value)
        best.append(float(point.value))
        ids.append(point.trial_id)
    return HistoryData(metric, mode, x, y, best, ids, ylabel=metric)


def curves(grid: ResultGrid, metric: str | None = None) -> CurvesData:
    """Every trial's finite values of ``metric`` against ``training_iteration``, with how the trial ended."""
    from tunecore import views

    metric, _ = resolve_metric(grid, metric, None)
    running = views.is_running(grid.experiment_path)
    lines = []
    for result in grid:
        points = [
            (float(r.get("training_iteration", i)), value)
            for i, r in enumerate(result.metrics_history, 1)
            if (value := finite_float(result_field(r, metric))) is not None
        ]
        if points:
            status = views.shown_status(result.status, running)
            lines.append(Curve(result.trial_id, status, [p[0] for p in points], [p[1] for p in points]))
    statuses: dict[str, int] = {}
    for line in lines:
        statuses[line.status] = statuses.get(line.status, 0) + 1
    return CurvesData(metric, lines, statuses, ylabel=metric)


def parallel(grid: ResultGrid, metric: str | None = None, params: Sequence[str] | None = None) -> ParallelData:
    """Parallel coordinates of the parameters (default: all) and ``metric``, one line per trial."""
    table = observations(grid, metric)
    chosen = _params(table, params)
    low, high = (min(table.scores), max(table.scores)) if table.scores else (0.0, 1.0)
    axes = [_axis(p) for p in chosen]
    axes.append(Axis(table.metric, "metric", [0.0, 1.0], [format_value(low), format_value(high)]))
    columns = [table.column(p.name) for p in chosen]
    positions = [
        [*(p.unit(column[i]) for p, column in zip(chosen, columns, strict=True)), _unit(score, low, high)]
        for i, score in enumerate(table.scores)
    ]
    return ParallelData(table.metric, axes, table.trial_ids, positions, table.scores)


def slice(grid: ResultGrid, metric: str | None = None, params: Sequence[str] | None = None) -> SliceData:
    """The metric against each parameter (default: all), one panel per parameter."""
    table = observations(grid, metric)
    panels = [_panel(table, p) for p in _params(table, params)]
    return SliceData(table.metric, panels, list(range(len(table.scores))), ylabel=table.metric)


def contour(grid: ResultGrid, params: Sequence[str] | None = None, metric: str | None = None) -> ContourData:
    """The metric over two parameters (default: the first two of the space)."""
    table = observations(grid, metric)
    chosen = _params(table, params)
    if len(chosen) < 2:
        raise TuneError(f"a contour plot needs two parameters, the experiment has {[p.name for p in chosen]}")
    x, y = _panel(table, chosen[0]), _panel(table, chosen[1])
    interpolate = chosen[0].numeric and chosen[1].numeric and _spread(x.x, y.x)
    return ContourData(table.metric, x, y, table.scores, interpolate)


def importance(grid: ResultGrid, metric: str | None = None, seed: int = 0) -> ImportanceData:
    """The parameters' importance for ``metric`` (:mod:`tunecore.importance`; needs scikit-learn)."""
    from tunecore.importance import importance as compute

    metric, mode = resolve_metric(grid, metric, None)
    shares = compute(grid, metric, mode, seed=seed)
    return ImportanceData(metric, list(shares), list(shares.values()))


def pareto(grid: ResultGrid, metrics: Sequence[str] | None = None, modes: Sequence[str] | None = None) -> ParetoData:
    """Two objectives (default: the experiment's ``metric=[a, b]``) and their non-dominated front.

    Each trial counts with its last values of both (:func:`tunecore.best.observation`); trials without
    finite values of both are left out. A trial dominates another when it is at least as good in both
    objectives and better in one.
    """
    metrics = list(metrics if metrics is not None else _as_list(grid.metric))
    modes = list(modes if modes is not None else _as_list(grid.mode))
    if len(metrics) != 2 or len(modes) != 2 or any(m not in ("min", "max") for m in modes):
        raise TuneError(
            f"a Pareto plot needs two metrics and a mode ('min' or 'max') for each, got {metrics!r} and {modes!r}:"
            " pass them, or run the experiment with metric=[a, b] and mode=[..., ...]"
        )
    points = [(r.trial_id, v) for r in grid if (v := observation(r.metrics, metrics)) is not None]
    front = non_dominated([[score(v, m) for v, m in zip(values, modes, strict=True)] for _, values in points])
    front.sort(key=lambda i: points[i][1][0])
    return ParetoData(
        (metrics[0], metrics[1]),
        (modes[0], modes[1]),
        [v[0] for _, v in points],
        [v[1] for _, v in points],
        [trial_id for trial_id, _ in points],
        front,
    )


def timeline(grid: ResultGrid) -> TimelineData:
    """Each trial as a bar from its start to its last result, on the lane of the worker that ran it.

    A trial starts at its first result's ``timestamp`` minus that result's ``time_this_iter_s``. Results
    name the process that reported them (``hostname``, ``pid``): a lane per worker, in order of first use,
    a trial on the worker of its first result. When some result lacks them (an experiment of an older
    version), each trial takes the lowest lane free at its start instead: as many lanes as ever ran at once.
    """
    from tunecore import views

    running = views.is_running(grid.experiment_path)
    spans, workers = [], []
    for result in grid:
        if not result.metrics_history:
            continue
        first, last = result.metrics_history[0], result.metrics_history[-1]
        start = _timestamp(first) - (finite_float(first.get("time_this_iter_s")) or 0.0)
        if not math.isfinite(start + _timestamp(last)):
            continue  # no timestamps: not a result the core recorded
        status = views.shown_status(result.status, running)
        spans.append(Span(result.trial_id, start, max(start, _timestamp(last)), status))
        ran_on = {_worker(r) for r in result.metrics_history}
        workers.append(ran_on.pop() if len(ran_on) == 1 else None)  # None: unknown, or it moved (a retry)
    t0 = min((s.start for s in spans), default=0.0)
    names: list[str] = []
    lanes = []
    if all(worker is not None for worker in workers):
        by_start = sorted(range(len(spans)), key=lambda i: (spans[i].start, i))
        names = list(dict.fromkeys(str(workers[i]) for i in by_start))
        lanes = [names.index(str(worker)) for worker in workers]
    if not names or _overlap(spans, lanes):
        names, lanes = [], assign_lanes(spans)
    bars = [TimelineBar(s.key, lane, s.start - t0, s.end - t0, s.status) for s, lane in zip(spans, lanes, strict=True)]
    gaps = [(lane, start - t0, end - t0) for lane, start, end in idle_gaps(spans, lanes)]
    idle = sum((end - start for _, start, end in gaps), 0.0)
    return TimelineData(bars, max(lanes, default=-1) + 1, gaps, idle, names)


def _overlap(spans: list[Span], lanes: list[int]) -> bool:
    """Whether two spans on one lane overlap (more than the lanes' tolerance)."""
    ends: dict[int, float] = {}
    for i in sorted(range(len(spans)), key=lambda i: (spans[i].start, i)):
        if spans[i].start + OVERLAP_TOLERANCE_S < ends.get(lanes[i], -math.inf):
            return True
        ends[lanes[i]] = max(ends.get(lanes[i], -math.inf), spans[i].end)
    return False


def _worker(result: dict[str, Any]) -> str | None:
    """``"host pid 1234"``: the process that reported ``result``, or None when it does not say."""
    pid, host = result.get("pid"), result.get("hostname")
    if isinstance(pid, bool) or not isinstance(pid, int) or not isinstance(host, str):
        return None
    return f"{host} pid {pid}"


def _params(table: Observations, names: Sequence[str] | None) -> list[Param]:
    return [table.param(name) for name in names] if names is not None else list(table.params)


def _axis(param: Param) -> Axis:
    if not param.numeric:
        return Axis(param.name, param.kind, [param.unit(c) for c in param.categories], _labels(param))
    ends = [param.low, param.high]
    return Axis(param.name, param.kind, [param.unit(v) for v in ends], [format_value(v) for v in ends])


def _panel(table: Observations, param: Param) -> SlicePanel:
    column = table.column(param.name)
    x = [float(v) for v in column] if param.numeric else [float(param.index(v)) for v in column]
    return SlicePanel(param.name, param.kind, param.log, x, list(table.scores), [] if param.numeric else _labels(param))


def _labels(param: Param) -> list[str]:
    return [format_value(param.label(c)) for c in param.categories]


def _unit(value: float, low: float, high: float) -> float:
    return 0.5 if high == low else (value - low) / (high - low)


def _spread(x: list[float], y: list[float]) -> bool:
    """True when the points span an area (at least 3 of them, not all on one line)."""
    points = list(zip(x, y, strict=True))
    if len(points) < 3:
        return False
    x0, y0 = points[0]
    other = next(((a, b) for a, b in points if (a, b) != (x0, y0)), None)
    if other is None:
        return False
    dx, dy = other[0] - x0, other[1] - y0
    return any(dx * (b - y0) - dy * (a - x0) != 0 for a, b in points)


def _timestamp(result: dict[str, Any]) -> float:
    value = finite_float(result.get("timestamp"))
    return value if value is not None else math.inf


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
