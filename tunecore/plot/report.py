"""``tunecore report DIR -o report.html``: one self-contained HTML page about an experiment.

The page works offline and needs no JavaScript: every chart is an inline svg drawn by :mod:`tunecore.plot`'s
figures, styled by a little inline CSS, with nothing fetched from anywhere. It shows a summary (metric, trials
by status, duration, the best trial and its config), the best-so-far history, the learning curves coloured by
how each trial ended, parallel coordinates, parameter importance, the Pareto front (experiments with several
objectives), a timeline of trials per worker with its idle gaps, and a table of every trial.

Each chart is a ``<figure id="fig-KIND" data-points="N">`` where N is the count of its plot data
(:mod:`tunecore.plot.data`): trials for history, parallel coordinates and the Pareto front, results for the
curves, parameters for importance, bars for the timeline; other counts are further ``data-*`` attributes. A
chart that cannot be drawn (no metric, too few trials for importance, matplotlib or scikit-learn missing)
is replaced by a note saying why. Every value from the experiment is HTML-escaped.

It lives in :mod:`tunecore.plot` because a module ``tunecore.report`` would, once imported, replace the
function :func:`tunecore.report` that trainables call.
"""

from __future__ import annotations

import html
import os
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from tunecore.errors import TuneError
from tunecore.formatting import flatten_dict, format_duration, format_value, result_field

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from tunecore.results import ResultGrid

SUFFIXES = (".html", ".htm")
"""The file names :func:`write_report` accepts, by extension."""
STATUS_COLOURS = {"TERMINATED": "#1f77b4", "ERROR": "#d62728", "PAUSED": "#ff7f0e", "RUNNING": "#2ca02c"}
"""The trial table's status colours: those of :data:`tunecore.plot.figures.STATUS_COLOURS` (matplotlib's tab:)."""
VALUE_WIDTH = 60
"""Values in the tables are cut with ``…`` beyond this many characters."""

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:0 1.2em 3em;color:#222}
h1{font-size:1.6em;margin:.8em 0 .2em}h2{font-size:1.25em;margin:1.6em 0 .4em;border-bottom:1px solid #ddd}
nav a{margin-right:.9em}figure{margin:.4em 0}figure svg{max-width:100%;height:auto}
figcaption,.note{color:#555}.note{font-style:italic}
table{border-collapse:collapse;font-size:13px}th,td{padding:2px 8px;text-align:left;border-bottom:1px solid #eee}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.summary th{background:none;width:11em}.trials{display:block;overflow-x:auto}
.status{font-weight:600}
""" + "".join(f".status-{status}{{color:{colour}}}" for status, colour in STATUS_COLOURS.items())


@attrs.frozen
class Chart:
    """One chart of the report: its svg, or the note that says why it is missing."""

    kind: str
    """Its plot kind (:data:`tunecore.plot.KINDS`); the figure's id is ``fig-<kind>``."""
    title: str
    points: int = 0
    """How many points its plot data has (see the module's docstring)."""
    counts: dict[str, int] = attrs.field(factory=dict)
    """Other counts, written as ``data-<name>`` attributes."""
    caption: str = ""
    svg: str | None = None
    note: str | None = None
    """Why it is not drawn (None when it is)."""


def write_report(grid_or_path: ResultGrid | str | os.PathLike[str], output: str | os.PathLike[str]) -> str:
    """Write the HTML report of an experiment (a :class:`~tunecore.ResultGrid` or its directory) to ``output``
    (a ``.html`` file; its directory is created); returns the path written."""
    from tunecore.results import ResultGrid

    path = os.fspath(output)
    if os.path.splitext(path)[1].lower() not in SUFFIXES:
        raise TuneError(f"cannot write a report as {path!r}: give a file name ending in .html, e.g. -o report.html")
    grid = grid_or_path if isinstance(grid_or_path, ResultGrid) else ResultGrid.from_path(grid_or_path)
    text = render_report(grid)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise TuneError(f"cannot write the report to {path}: {exc.strerror or exc}") from exc
    return path


def report_command(directory: str, output: str) -> str:
    """What ``tunecore report DIR -o FILE`` does: write the report of the experiment in ``directory``; its path."""
    return write_report(directory, output)


def render_report(grid: ResultGrid) -> str:
    """The report of ``grid`` as one HTML document."""
    name = os.path.basename(grid.experiment_path.rstrip(os.sep)) or grid.experiment_path
    charts = charts_of(grid)
    sections = [("summary", "Summary", _summary(grid))]
    sections += [(chart.kind, chart.title, _figure(chart)) for chart in charts]
    sections.append(("trials", "Trials", _trials(grid)))
    nav = "".join(f'<a href="#{kind}">{_e(title)}</a>' for kind, title, _ in sections)
    body = "".join(
        f'<section id="{kind}">\n<h2>{_e(title)}</h2>\n{content}</section>\n' for kind, title, content in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>tunecore report: {_e(name)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<h1>{_e(name)}</h1>\n<nav>{nav}</nav>\n{body}</body>\n</html>\n"
    )


def charts_of(grid: ResultGrid) -> list[Chart]:
    """Every chart the report shows, in order (the Pareto front only for several objectives)."""
    import tunecore.plot as plot
    from tunecore.plot import data
    from tunecore.views import objectives

    own = objectives(grid)
    metric, mode = next(iter(own.items()), (None, None))
    first = " (the first objective)" if len(own) > 1 else ""

    def history() -> Chart:
        d = data.history(grid, metric, mode)
        best = f"; the best: {format_value(d.best[-1])}" if d.best else ""
        caption = (
            f"{len(d.x)} trials by their value of {d.metric}{first} in the order they ended, and the best so far{best}"
        )
        return Chart("history", "", len(d.x), caption=caption)

    def curves() -> Chart:
        d = data.curves(grid, metric)
        points = sum(len(c.x) for c in d.curves)
        ended = ", ".join(f"{status} {n}" for status, n in d.statuses.items())
        caption = (
            f"{d.metric}{first} at each iteration of {len(d.curves)} trials ({points} results),"
            f" coloured by how each ended: {ended or 'none'}"
        )
        return Chart("curves", "", points, {"curves": len(d.curves)}, caption)

    def parallel() -> Chart:
        d = data.parallel(grid, metric)
        names = ", ".join(axis.name for axis in d.axes)
        caption = f"{len(d.positions)} trials across {names}; colour: {d.metric}{first}"
        return Chart("parallel", "", len(d.positions), {"axes": len(d.axes)}, caption)

    def importance() -> Chart:
        d = data.importance(grid, metric)
        shares = ", ".join(f"{n} {v:.3f}" for n, v in zip(d.names, d.values, strict=True))
        caption = f"how much of {d.metric}{first}'s variation each parameter explains alone (fANOVA): {shares}"
        return Chart("importance", "", len(d.names), caption=caption)

    def pareto() -> Chart:
        d = data.pareto(grid, list(own)[:2], list(own.values())[:2])
        on = ", ".join(d.trial_ids[i] for i in d.front)
        more = f" (the first two of {len(own)} objectives)" if len(own) > 2 else ""
        caption = f"{len(d.x)} trials by {d.metrics[0]} and {d.metrics[1]}{more}; {len(d.front)} on the front: {on}"
        return Chart("pareto", "", len(d.x), {"front": len(d.front)}, caption)

    def timeline() -> Chart:
        d = data.timeline(grid)
        caption = (
            f"{len(d.bars)} trials on {d.lanes} worker{'s' if d.lanes != 1 else ''}"
            f"{'' if d.lane_names else ' (lanes inferred from the times)'}, from start to last result;"
            f" hatched: {len(d.gaps)} idle gap(s), {d.idle_s:.3g} s in all"
        )
        return Chart("timeline", "", len(d.bars), {"lanes": d.lanes, "gaps": len(d.gaps)}, caption)

    def history_figure() -> Figure:
        return plot.history(grid, metric, mode)

    def pareto_figure() -> Figure:
        return plot.pareto(grid, list(own)[:2], list(own.values())[:2])

    kinds: list[tuple[str, str, Callable[[], Chart], Callable[[], Figure]]] = [
        ("history", "Best so far", history, history_figure),
        ("curves", "Learning curves", curves, lambda: plot.curves(grid, metric)),
        ("parallel", "Parallel coordinates", parallel, lambda: plot.parallel(grid, metric)),
        ("importance", "Parameter importance", importance, lambda: plot.importance(grid, metric)),
    ]
    if metric is None:  # nothing but the timeline can be drawn
        kinds = [(kind, title, _no_metric, draw) for kind, title, _, draw in kinds]
    if len(own) > 1:
        kinds.append(("pareto", "Pareto front", pareto, pareto_figure))
    kinds.append(("timeline", "Timeline of trials per worker", timeline, lambda: plot.timeline(grid)))
    return [_chart(kind, title, count, draw) for kind, title, count, draw in kinds]


def _no_metric() -> Chart:
    raise TuneError("the experiment has no metric and mode (TuneConfig(metric=..., mode=...))")


def _chart(kind: str, title: str, count: Callable[[], Chart], draw: Callable[[], Figure]) -> Chart:
    """The chart with its counts and svg; a chart with a note when its data or figure cannot be made."""
    try:
        chart = count()
        svg = inline_svg(draw(), prefix=f"{kind}-")
    except TuneError as exc:  # MissingDependencyError included: the message says what to install
        return Chart(kind, title, note=f"not shown: {exc}")
    return attrs.evolve(chart, title=title, svg=svg)


def inline_svg(fig: Figure, prefix: str) -> str:
    """``fig`` as an ``<svg>`` element to put inside HTML: no XML prolog, metadata or namespace declarations
    (HTML needs none), and every id prefixed with ``prefix`` so that several charts' ids cannot collide
    (matplotlib numbers glyphs and clip paths per figure)."""
    from tunecore.plot.output import to_svg

    svg = to_svg(fig)
    svg = svg[svg.find("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)
    end = svg.find(">") + 1
    svg = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", svg[:end]) + svg[end:]
    svg = re.sub(r'\bid="', f'id="{prefix}', svg)
    svg = re.sub(r'(href=")#', rf"\1#{prefix}", svg)
    return re.sub(r"url\(#", f"url(#{prefix}", svg)


def _figure(chart: Chart) -> str:
    if chart.svg is None:
        return f'<p class="note" id="note-{chart.kind}">{_e(chart.note or "not shown")}</p>\n'
    counts = "".join(f' data-{name}="{value}"' for name, value in chart.counts.items())
    return (
        f'<figure id="fig-{chart.kind}" data-kind="{chart.kind}" data-points="{chart.points}"{counts}>\n'
        f"{chart.svg.strip()}\n<figcaption>{_e(chart.caption)}</figcaption>\n</figure>\n"
    )


def _summary(grid: ResultGrid) -> str:
    from tunecore.storage import EXPERIMENT_FILE
    from tunecore.views import count_statuses, objectives, summarize

    rows: list[tuple[str, str]] = [("experiment", _e(grid.experiment_path))]
    if os.path.isfile(os.path.join(grid.experiment_path, EXPERIMENT_FILE)):
        summary = summarize(grid.experiment_path)
        state = summary.state + (f" ({summary.detail})" if summary.detail else "")
        rows.append(("state", _e(state)))
        if summary.start is not None:
            rows.append(("started", _e(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(summary.start)))))
        if summary.duration_s is not None:
            rows.append(("duration", f'<span id="duration">{_e(format_duration(summary.duration_s))}</span>'))
    own = objectives(grid)
    metrics = ", ".join(f"{m} ({mode})" for m, mode in own.items()) or "none"
    rows.append(("metric" if len(own) < 2 else "objectives", _e(metrics)))
    counts = count_statuses(grid)
    statuses = ", ".join(f'<span class="status status-{_e(s)}">{n} {_e(s.lower())}</span>' for s, n in counts.items())
    rows.append(("trials", f'<span id="num-trials">{len(grid)}</span>' + (f" ({statuses})" if statuses else "")))
    rows.extend(_best_rows(grid, own))
    table = "".join(f"<tr><th>{_e(key)}</th><td>{value}</td></tr>\n" for key, value in rows)
    return f'<table class="summary">\n{table}</table>\n'


def _best_rows(grid: ResultGrid, own: dict[str, str]) -> list[tuple[str, str]]:
    """The best trial, its value and its config (:meth:`ResultGrid.get_best_result`); a note for several
    objectives or when no trial has a finite value."""
    if len(own) != 1:
        why = "several objectives: see the Pareto front" if own else "the experiment has no metric"
        return [("best", f'<span id="best-none">{_e(why)}</span>')]
    metric = next(iter(own))
    try:
        best = grid.get_best_result()
    except TuneError as exc:
        return [("best", f'<span id="best-none">{_e(exc)}</span>')]
    value = result_field(best.metrics, metric)
    config = "".join(
        f"<tr><th>{_e(key)}</th><td>{_e(format_value(v, VALUE_WIDTH))}</td></tr>"
        for key, v in flatten_dict(best.config).items()
    )
    return [
        ("best", f'<span id="best-trial">{_e(best.trial_id)}</span>'),
        (metric, f'<span id="best-value" data-value="{_e(repr(value))}">{_e(format_value(value))}</span>'),
        ("best config", f'<table id="best-config">{config}</table>' if config else "(empty)"),
    ]


def _trials(grid: ResultGrid) -> str:
    """Every trial, best first (``tunecore show``'s table: :func:`tunecore.views.trial_table`), and the errors."""
    from tunecore.views import trial_table

    table = trial_table(grid)
    columns = table.columns
    heads = "".join(f"<th>{_e(_heading(c))}</th>" for c in columns)
    body = "".join(
        f'<tr id="trial-{_e(row["trial_id"])}">' + "".join(_cell(column, row[column]) for column in columns) + "</tr>\n"
        for row in table.rows
    )
    errors = "".join(f"<li>{_e(error)}</li>\n" for error in grid.errors)
    listed = f"<p>Errors:</p>\n<ul>\n{errors}</ul>\n" if errors else ""
    return f'<table class="trials" id="trials-table">\n<tr>{heads}</tr>\n{body}</table>\n{listed}'


def _heading(column: str) -> str:
    return {"trial_id": "trial", "training_iteration": "iter"}.get(column, column)


def _cell(column: str, value: Any) -> str:
    if column == "status":
        return f'<td class="status status-{_e(value)}">{_e(value)}</td>'
    text = "-" if value is None else format_value(value, VALUE_WIDTH)
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return f'<td class="num">{_e(text)}</td>' if numeric else f"<td>{_e(text)}</td>"


def _e(value: Any) -> str:
    """``value`` as HTML-escaped text (quotes included, so it is safe in attributes too)."""
    return html.escape(str(value), quote=True)
