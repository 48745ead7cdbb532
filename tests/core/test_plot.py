"""Plots (issue 15): the data behind every plot (points, axes, labels, counts), and smoke tests of the figures
and files drawn from it (skipped without matplotlib)."""

from __future__ import annotations

import itertools
import math
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs
import pytest

import tunecore
import tunecore.plot as plot
from tunecore.errors import TuneError
from tunecore.formatting import format_value
from tunecore.plot import data
from tunecore.plot.cli import plot_command
from tunecore.plot.lanes import Span, assign_lanes, idle_gaps
from tunecore.plot.requires import PLOTS_HINT, MissingDependencyError
from tunecore.results import Result, ResultGrid

SPACE = {
    "x": tunecore.uniform(0, 1),
    "optimizer": {"lr": tunecore.loguniform(1e-4, 1e-1)},
    "act": tunecore.choice(["relu", "tanh"]),
}


def train(config):
    for i in range(1, 4):
        loss = (config["x"] - 0.3) ** 2 + (0.5 if config["act"] == "tanh" else 0.0) + 1 / i
        tunecore.report({"loss": loss, "acc": 1 - abs(config["x"] - 0.7) - 0.1 * i})
        if config["x"] > 0.85 and i == 2:
            raise ValueError("x too large")


def experiment(path, name, metric, mode, num_samples):
    return tunecore.Tuner(
        train,
        param_space=SPACE,
        tune_config=tunecore.TuneConfig(metric=metric, mode=mode, executor="inline", num_samples=num_samples, seed=5),
        run_config=tunecore.RunConfig(storage_path=str(path), name=name, verbose=0, loggers=[]),
    ).fit()


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    return experiment(tmp_path_factory.mktemp("plots"), "single", "loss", "min", 12)


@pytest.fixture(scope="module")
def two_objectives(tmp_path_factory):
    return experiment(tmp_path_factory.mktemp("plots"), "multi", ["loss", "acc"], ["min", "max"], 12)


def last_loss(result):
    return result.metrics_history[-1]["loss"]


def test_history_is_the_best_so_far_in_the_order_trials_ended(grid):
    d = data.history(grid)
    ended = sorted(grid, key=lambda r: r.metrics_history[-1]["timestamp"])
    assert d.trial_ids == [r.trial_id for r in ended]
    assert d.x == list(range(1, len(grid) + 1))
    assert d.y == [last_loss(r) for r in ended]
    assert d.best == [min(d.y[: i + 1]) for i in range(len(d.y))]
    assert d.best[-1] == last_loss(grid.get_best_result())
    assert (d.xlabel, d.ylabel, d.metric, d.mode) == ("trials, in the order they ended", "loss", "loss", "min")


def test_history_leaves_a_gap_for_a_trial_without_a_finite_value(tmp_path):
    grid = ResultGrid(
        [synthetic(0, 0, 1, 2.0), synthetic(1, 1, 2, math.nan), synthetic(2, 2, 3, 1.0)], str(tmp_path), "y", "max"
    )
    d = data.history(grid)
    assert (d.x, d.y, d.best) == ([1, 3], [2.0, 1.0], [2.0, 2.0])


def test_history_and_the_best_so_far_of_compare_follow_one_rule(tmp_path):
    """history's points are views.best_so_far's (the series of compare): the same order, ranks and best, also
    for a trial that reported nothing (created first, it still comes last) and one whose results have no time."""
    from tunecore import views

    untimed = [{"y": 0.5, "training_iteration": 1}]
    trials = [
        Result("t00001", {"p": 0}, {}, [], "PENDING", ""),  # reported nothing
        synthetic(2, 0, 3, 2.0),
        Result("t00003", {"p": 2}, untimed[-1], untimed, "TERMINATED", ""),  # no timestamp: ended last of those
        synthetic(4, 0, 1, math.inf),
        synthetic(5, 0, 2, 1.0),
    ]
    grid = ResultGrid(trials, str(tmp_path), "y", "min")
    d = data.history(grid)
    assert (d.trial_ids, d.x, d.y, d.best) == (["t00005", "t00002", "t00003"], [2, 3, 4], [1.0, 2.0, 0.5], [1, 1, 0.5])
    series = views.best_so_far(grid)
    assert [p.trial_id for p in series] == ["t00004", "t00005", "t00002", "t00003", "t00001"]
    ranks = {p.trial_id: p for p in series}
    assert [ranks[t].trials for t in d.trial_ids] == d.x and [ranks[t].value for t in d.trial_ids] == d.best


def test_curves_show_every_result_of_every_trial_with_how_it_ended(grid):
    d = data.curves(grid)
    assert [c.trial_id for c in d.curves] == [r.trial_id for r in grid]
    for curve, result in zip(d.curves, grid, strict=True):
        assert curve.x == [r["training_iteration"] for r in result.metrics_history]
        assert curve.y == [r["loss"] for r in result.metrics_history]
        assert curve.status == result.status
    assert d.statuses == {"TERMINATED": grid.num_terminated, "ERROR": grid.num_errors}
    assert grid.num_errors >= 1 and grid.num_terminated >= 1
    assert (d.xlabel, d.ylabel) == ("training_iteration", "loss")


def test_parallel_coordinates_have_an_axis_per_parameter_and_the_metric_last(grid):
    d = data.parallel(grid)
    assert [a.name for a in d.axes] == ["x", "optimizer/lr", "act", "loss"]
    assert [a.kind for a in d.axes] == ["float", "float", "categorical", "metric"]
    assert d.axes[2].tick_labels == ["relu", "tanh"] and d.axes[2].ticks == [0.25, 0.75]
    assert d.axes[1].tick_labels == ["0.0001", "0.1"]
    scores = [last_loss(r) for r in grid]
    assert d.axes[3].tick_labels == [format_value(min(scores)), format_value(max(scores))]
    assert len(d.positions) == len(d.trial_ids) == len(grid) and d.scores == scores
    assert all(len(line) == 4 and all(0 <= p <= 1 for p in line) for line in d.positions)
    for line, result in zip(d.positions, grid, strict=True):
        lr = result.config["optimizer"]["lr"]
        assert math.isclose(line[1], (math.log(lr) - math.log(1e-4)) / (math.log(1e-1) - math.log(1e-4)))
        assert line[2] == (0.25 if result.config["act"] == "relu" else 0.75)
    assert min(line[3] for line in d.positions) == 0 and max(line[3] for line in d.positions) == 1


def test_slice_has_a_panel_per_parameter_with_every_trial(grid):
    d = data.slice(grid)
    assert [(p.param, p.kind, p.log) for p in d.panels] == [
        ("x", "float", False),
        ("optimizer/lr", "float", True),
        ("act", "categorical", False),
    ]
    x, lr, act = d.panels
    assert x.x == [r.config["x"] for r in grid] and x.y == [last_loss(r) for r in grid]
    assert lr.x == [r.config["optimizer"]["lr"] for r in grid]
    assert act.x == [float(["relu", "tanh"].index(r.config["act"])) for r in grid]
    assert act.tick_labels == ["relu", "tanh"] and x.tick_labels == []
    assert d.order == list(range(len(grid)))
    assert [p.param for p in data.slice(grid, params=["act"]).panels] == ["act"]


def test_contour_is_interpolated_over_two_numeric_parameters_only(grid):
    d = data.contour(grid)
    assert (d.x.param, d.y.param, d.interpolate) == ("x", "optimizer/lr", True)
    assert d.z == [last_loss(r) for r in grid] and len(d.x.x) == len(d.y.x) == len(grid)
    with_category = data.contour(grid, params=["x", "act"])
    assert not with_category.interpolate and with_category.y.tick_labels == ["relu", "tanh"]
    with pytest.raises(TuneError, match="two parameters"):
        data.contour(grid, params=["x"])


def test_importance_data_is_ordered_and_sums_to_one(grid):
    pytest.importorskip("sklearn", reason="parameter importance needs scikit-learn")
    d = data.importance(grid)
    assert sorted(d.names) == ["act", "optimizer/lr", "x"]
    assert d.values == sorted(d.values, reverse=True) and math.isclose(sum(d.values), 1.0)
    assert dict(zip(d.names, d.values, strict=True)) == grid.importance()


def dominated(a, b, modes):
    """True when b dominates a."""
    better = [(bv <= av) if m == "min" else (bv >= av) for av, bv, m in zip(a, b, modes, strict=True)]
    strictly = [(bv < av) if m == "min" else (bv > av) for av, bv, m in zip(a, b, modes, strict=True)]
    return all(better) and any(strictly)


def test_pareto_front_is_exactly_the_non_dominated_trials(two_objectives):
    d = data.pareto(two_objectives)
    assert (d.metrics, d.modes) == (("loss", "acc"), ("min", "max"))
    assert d.x == [r.metrics["loss"] for r in two_objectives] and d.y == [r.metrics["acc"] for r in two_objectives]
    points = list(zip(d.x, d.y, strict=True))
    expected = [i for i, p in enumerate(points) if not any(dominated(p, q, d.modes) for q in points)]
    assert sorted(d.front) == expected and 1 <= len(d.front) < len(points)
    assert [d.x[i] for i in d.front] == sorted(d.x[i] for i in d.front)


def test_pareto_needs_two_objectives(grid):
    with pytest.raises(TuneError, match="two metrics"):
        data.pareto(grid)
    assert len(data.pareto(grid, ["loss", "acc"], ["min", "max"]).x) == len(grid)


def test_timeline_bars_start_before_the_first_result_and_one_worker_leaves_gaps(grid):
    d = data.timeline(grid)
    assert d.lanes == 1 and {b.lane for b in d.bars} == {0}  # the inline executor runs one trial at a time
    assert [b.trial_id for b in d.bars] == [r.trial_id for r in grid]
    t0 = min(r.metrics_history[0]["timestamp"] - r.metrics_history[0]["time_this_iter_s"] for r in grid)
    for bar, result in zip(d.bars, grid, strict=True):
        first, last = result.metrics_history[0], result.metrics_history[-1]
        assert math.isclose(bar.start, first["timestamp"] - first["time_this_iter_s"] - t0, abs_tol=1e-9)
        assert math.isclose(bar.end, last["timestamp"] - t0, abs_tol=1e-9)
        assert bar.status == result.status
    assert d.bars[0].start == 0.0
    assert len(d.gaps) <= len(d.bars) - 1 and math.isclose(d.idle_s, sum(e - s for _, s, e in d.gaps))
    assert all(e > s for _, s, e in d.gaps)


def synthetic(i, start, end, value, step=0.5):
    history = [
        {"y": value, "training_iteration": 1, "timestamp": start + step, "time_this_iter_s": step},
        {"y": value, "training_iteration": 2, "timestamp": end, "time_this_iter_s": end - start - step},
    ]
    return Result(f"t{i:05d}", {"p": i}, history[-1], history, "TERMINATED", "")


def test_a_trial_left_running_by_a_dead_run_is_drawn_as_interrupted(tmp_path):
    """No process runs the experiment (no lock): a trial the journal says is RUNNING is INTERRUPTED, as in ls."""
    from tunecore.lock import ExperimentLock

    running = attrs.evolve(synthetic(1, 1, 2, 3.0), status="RUNNING")
    grid = ResultGrid([synthetic(0, 0, 1, 2.0), running], str(tmp_path), "y", "min")
    assert data.curves(grid).statuses == {"TERMINATED": 1, "INTERRUPTED": 1}
    assert [bar.status for bar in data.timeline(grid).bars] == ["TERMINATED", "INTERRUPTED"]
    lock = ExperimentLock.acquire(str(tmp_path), "run")
    try:
        assert data.curves(grid).statuses == {"TERMINATED": 1, "RUNNING": 1}
    finally:
        lock.release()


def test_timeline_puts_overlapping_trials_on_other_lanes_and_shows_the_idle_gaps(tmp_path):
    grid = ResultGrid(
        [synthetic(0, 10, 12, 1), synthetic(1, 11, 13, 2), synthetic(2, 12.5, 14, 3), synthetic(3, 13, 15, 4)],
        str(tmp_path),
        "y",
        "min",
    )
    d = data.timeline(grid)
    assert [(b.lane, b.start, b.end) for b in d.bars] == [(0, 0, 2), (1, 1, 3), (0, 2.5, 4), (1, 3, 5)]
    assert d.lanes == 2 and d.gaps == [(0, 2, 2.5)] and d.idle_s == 0.5


def test_lanes_are_assigned_greedily_to_the_lowest_free_lane():
    spans = [Span("a", 0, 5), Span("b", 1, 2), Span("c", 2, 3), Span("d", 3, 6), Span("e", 5, 7)]
    lanes = assign_lanes(spans)
    assert lanes == [0, 1, 1, 1, 0]
    assert idle_gaps(spans, lanes) == []
    assert idle_gaps([Span("a", 0, 1), Span("b", 3, 4)], [0, 0]) == [(0, 1, 3)]


def test_the_data_layer_needs_no_plotting_library(grid, two_objectives, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    for kind in ("history", "curves", "parallel", "slice", "contour", "timeline"):
        assert getattr(data, kind)(grid) is not None
    assert data.pareto(two_objectives).front


def test_without_matplotlib_figures_say_how_to_install_it(grid, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError) as error:
        plot.history(grid)
    assert str(error.value) == PLOTS_HINT == "plots need matplotlib: pip install 'tunecore[plots]'"
    assert isinstance(error.value, TuneError) and isinstance(error.value, ImportError)


def figures(grid, two_objectives):
    pytest.importorskip("matplotlib", reason="plots need matplotlib: pip install 'tunecore[plots]'")
    kinds = [k for k in plot.KINDS if k != "importance" or has_sklearn()]
    return {kind: getattr(plot, kind)(two_objectives if kind == "pareto" else grid) for kind in kinds}


def has_sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


def test_every_figure_saves_as_png_svg_and_html(grid, two_objectives, tmp_path):
    drawn = figures(grid, two_objectives)
    assert set(drawn) >= set(plot.KINDS) - {"importance"}
    for kind, fig in drawn.items():
        png = plot.save(fig, tmp_path / f"{kind}.png")
        with open(png, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
        plot.save(fig, tmp_path / f"{kind}.svg")
        assert ET.fromstring((tmp_path / f"{kind}.svg").read_text()).tag == "{http://www.w3.org/2000/svg}svg"
        plot.save(fig, tmp_path / f"{kind}.html")
        page = (tmp_path / f"{kind}.html").read_text()
        assert page.startswith("<!DOCTYPE html>") and "<svg" in page and page.rstrip().endswith("</html>")
        assert "<script" not in page and "<link" not in page and 'src="http' not in page  # offline, no CDN


def test_the_same_figure_gives_the_same_svg(grid):
    pytest.importorskip("matplotlib", reason="plots need matplotlib: pip install 'tunecore[plots]'")
    assert plot.output.to_svg(plot.history(grid)) == plot.output.to_svg(plot.history(grid))


def test_figures_draw_what_the_data_says(grid, two_objectives):
    pytest.importorskip("matplotlib", reason="plots need matplotlib: pip install 'tunecore[plots]'")
    fig = plot.curves(grid)
    ax = fig.axes[0]
    assert len([line for line in ax.lines if len(line.get_xdata())]) == len(grid)
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {
        f"TERMINATED ({grid.num_terminated})",
        f"ERROR ({grid.num_errors})",
    }
    assert len(plot.slice(grid).axes) == 3
    assert plot.pareto(two_objectives).axes[0].get_xlabel() == "loss (min)"


def test_the_plot_command_writes_the_file_and_rejects_bad_requests(grid, tmp_path):
    pytest.importorskip("matplotlib", reason="plots need matplotlib: pip install 'tunecore[plots]'")
    written = plot_command(grid.experiment_path, "history", str(tmp_path / "h.html"))
    assert "<svg" in (tmp_path / "h.html").read_text() and written.endswith("h.html")
    with pytest.raises(TuneError, match="unknown plot kind 'pie'"):
        plot_command(grid.experiment_path, "pie", str(tmp_path / "p.png"))
    with pytest.raises(TuneError, match=r"\.png, \.svg or \.html"):
        plot_command(grid.experiment_path, "history", str(tmp_path / "p.jpg"))


ROOT = Path(__file__).parents[2]


def test_the_examples_of_docs_results_md_run_as_written(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib", reason="plots need matplotlib: pip install 'tunecore[plots]'")
    pytest.importorskip("sklearn", reason="parameter importance needs scikit-learn")
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / "docs" / "results.md").read_text(), re.DOTALL | re.M)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__doc_example__"}
    for block in blocks:
        exec(compile(block.replace('"/tmp/tune_results"', repr(str(tmp_path))), "docs/results.md", "exec"), namespace)
    assert next(iter(namespace["grid"].importance())) == "lr"
    assert ET.parse(tmp_path / "history.svg").getroot().tag.endswith("svg")
    assert (tmp_path / "lr.png").read_bytes().startswith(b"\x89PNG")


def test_the_pictures_of_the_docs_are_drawn_by_the_docs_script(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib", reason="plots need matplotlib: pip install 'tunecore[plots]'")
    pytest.importorskip("sklearn", reason="parameter importance needs scikit-learn")
    monkeypatch.syspath_prepend(str(ROOT / "docs"))
    import plot_images

    written = plot_images.main(str(tmp_path))
    assert [Path(p).name for p in written] == [f"{kind}.svg" for kind in plot.KINDS]
    for path in written:
        assert ET.parse(path).getroot().tag.endswith("svg")
    text = (ROOT / "docs" / "results.md").read_text()
    for kind in plot.KINDS:
        assert (ROOT / "docs" / "images" / f"{kind}.svg").is_file() and f"(images/{kind}.svg)" in text


def on_worker(result, pid, host="box"):
    history = [{**row, "pid": pid, "hostname": host} for row in result.metrics_history]
    return attrs.evolve(result, metrics=history[-1], metrics_history=history)


def test_timeline_lanes_are_the_workers_that_ran_the_trials(tmp_path):
    """Results name their process (pid, hostname): a lane per worker, in order of first use, even where a
    greedy assignment would have packed the bars differently; the lanes are labelled by worker."""
    trials = [
        on_worker(synthetic(0, 10, 12, 1), 7),
        on_worker(synthetic(1, 11, 13, 2), 8),
        on_worker(synthetic(2, 12.5, 14, 3), 8, "other"),  # greedy would put it on lane 0 (free at 12)
        on_worker(synthetic(3, 14, 15, 4), 7),
    ]
    d = data.timeline(ResultGrid(trials, str(tmp_path), "y", "min"))
    assert [(b.trial_id, b.lane) for b in d.bars] == [("t00000", 0), ("t00001", 1), ("t00002", 2), ("t00003", 0)]
    assert d.lanes == 3 and d.lane_names == ["box pid 7", "box pid 8", "other pid 8"]
    assert d.gaps == [(0, 2, 4)] and d.idle_s == 2


def test_a_trial_that_moved_between_workers_never_overlaps_another_on_a_lane(tmp_path):
    """t0 starts on worker 7, is retried on worker 8; worker 7 meanwhile runs t1: by workers the bars would
    overlap on lane 0, so the lanes are inferred from the times instead (found in review)."""
    first = synthetic(0, 0, 6, 1)
    moved = [{**row, "pid": pid, "hostname": "box"} for row, pid in zip(first.metrics_history, (7, 8), strict=True)]
    t0 = attrs.evolve(first, metrics=moved[-1], metrics_history=moved)
    t1 = on_worker(synthetic(1, 2, 6, 2), 7)
    d = data.timeline(ResultGrid([t0, t1], str(tmp_path), "y", "min"))
    lanes: dict[int, list[tuple[float, float]]] = {}
    for bar in d.bars:
        lanes.setdefault(bar.lane, []).append((bar.start, bar.end))
    for spans in lanes.values():
        spans.sort()
        assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(spans)), spans
    assert d.lane_names == [] and all(end >= start for _, start, end in d.gaps)
