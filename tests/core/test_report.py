"""The HTML report (issue 15): one offline file whose charts carry the plot data's counts, every value escaped,
the ``tunecore report`` verb, and a real headless browser rendering it (skipped, saying so, without one)."""

from __future__ import annotations

import html.parser
import os
import re
import shutil
import subprocess

import pytest

import tunecore
from tunecore.cli import main
from tunecore.errors import TuneError
from tunecore.plot import data
from tunecore.plot.report import charts_of, render_report, report_command, write_report
from tunecore.results import ResultGrid

pytest.importorskip("matplotlib", reason="the report's charts need matplotlib: pip install 'tunecore[plots]'")

HOSTILE = "<script>alert(1)</script>"
SPACE = {
    "x": tunecore.uniform(0, 1),
    "optimizer": {"lr": tunecore.loguniform(1e-4, 1e-1)},
    "act": tunecore.choice(["relu", HOSTILE]),
}
NO_BROWSER = "no chromium on PATH (CI installs Debian's chromium with apt-get)"


def train(config):
    for i in range(1, 4):
        loss = (config["x"] - 0.3) ** 2 + (0.5 if config["act"] != "relu" else 0.0) + 1 / i
        tunecore.report({"loss": loss, "acc": 1 - abs(config["x"] - 0.7) - 0.1 * i})
        if config["x"] > 0.85 and i == 2:
            raise ValueError("x too large")


def experiment(path, name, metric, mode, num_samples=12):
    return tunecore.Tuner(
        train,
        param_space=SPACE,
        tune_config=tunecore.TuneConfig(metric=metric, mode=mode, executor="inline", num_samples=num_samples, seed=5),
        run_config=tunecore.RunConfig(storage_path=str(path), name=name, verbose=0, loggers=[]),
    ).fit()


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    return experiment(tmp_path_factory.mktemp("report"), "single", "loss", "min")


@pytest.fixture(scope="module")
def two_objectives(tmp_path_factory):
    return experiment(tmp_path_factory.mktemp("report"), "multi", ["loss", "acc"], ["min", "max"])


@pytest.fixture(scope="module")
def report(grid, tmp_path_factory):
    return write_report(grid.experiment_path, tmp_path_factory.mktemp("out") / "report.html")


@pytest.fixture(scope="module")
def pareto_report(two_objectives, tmp_path_factory):
    return write_report(two_objectives, tmp_path_factory.mktemp("out") / "sub" / "multi.html")


class Page(html.parser.HTMLParser):
    """What the tests look at in a page: elements by id (attributes, text), tags, text, references, svgs."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "wbr", "source", "area", "base", "col"})

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: dict[str, dict[str, str | None]] = {}
        self.tags: list[str] = []
        self.text: list[str] = []
        self.references: list[str] = []
        self.figure_svgs: dict[str, int] = {}
        self._texts: dict[str, list[str]] = {}
        self._open: list[tuple[str, str | None]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        self.references += [v or "" for k, v in attrs if k in ("src", "href", "xlink:href", "action", "data")]
        self.references += re.findall(r"url\(([^)]*)\)", attributes.get("style") or "")
        if attributes.get("id"):
            self.ids[str(attributes["id"])] = attributes
        figure = next((i for t, i in reversed(self._open) if t == "figure"), None)
        if tag == "svg" and figure:
            self.figure_svgs[figure] = self.figure_svgs.get(figure, 0) + 1
        if tag not in self.VOID:
            self._open.append((tag, attributes.get("id")))

    def handle_endtag(self, tag):
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, text):
        self.text.append(text)
        for _, element in self._open:
            if element:
                self._texts.setdefault(element, []).append(text)

    def text_of(self, element: str) -> str:
        return "".join(self._texts.get(element, []))


def read(path) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def expected_counts(grid, several=False):
    """``{figure id: data-points}`` from tunecore.plot.data, the report's own source."""
    metric = "loss"
    counts = {
        "fig-history": len(data.history(grid, metric, "min").x),
        "fig-curves": sum(len(c.x) for c in data.curves(grid, metric).curves),
        "fig-parallel": len(data.parallel(grid, metric).positions),
        "fig-timeline": len(data.timeline(grid).bars),
    }
    if has_sklearn():
        counts["fig-importance"] = len(data.importance(grid, metric).names)
    if several:
        counts["fig-pareto"] = len(data.pareto(grid).x)
    return counts


def has_sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


def assert_offline(text: str, page: Page) -> None:
    assert "<script" not in text.lower()
    assert not re.search(r"https?://", text), "the report references something online"
    assert "<link" not in text and "@import" not in text and "<iframe" not in text and "<img" not in text
    assert all(ref.startswith("#") for ref in page.references), [r for r in page.references if not r.startswith("#")]


def test_the_report_is_one_offline_html_file_with_every_chart(report, grid):
    text = read(report)
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert_offline(text, page)
    for section in ("summary", "history", "curves", "parallel", "importance", "timeline", "trials"):
        assert section in page.ids, section
    assert "pareto" not in page.ids and "fig-pareto" not in page.ids  # one objective: no Pareto front
    counts = expected_counts(grid)
    for figure, points in counts.items():
        assert page.ids[figure]["data-points"] == str(points), figure
        assert page.figure_svgs[figure] == 1
    assert counts["fig-history"] == counts["fig-parallel"] == counts["fig-timeline"] == len(grid) == 12
    assert counts["fig-curves"] == sum(len(r.metrics_history) for r in grid)
    curves = data.curves(grid)
    assert page.ids["fig-curves"]["data-curves"] == str(len(curves.curves))
    timeline = data.timeline(grid)
    assert (page.ids["fig-timeline"]["data-lanes"], page.ids["fig-timeline"]["data-gaps"]) == (
        "1",
        str(len(timeline.gaps)),
    )
    ended = ", ".join(f"{status} {n}" for status, n in curves.statuses.items())
    assert grid.num_errors and f"how each ended: {ended}" in page.text_of("fig-curves")


def test_chart_ids_do_not_collide_between_the_inline_svgs(report):
    text = read(report)
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))
    for reference in set(re.findall(r'href="#([^"]+)"|url\(#([^)]+)\)', text)):
        assert "".join(reference) in ids


def test_the_summary_gives_the_best_trial_of_get_best_result(report, grid):
    page = Page(read(report))
    best = grid.get_best_result()
    assert page.text_of("best-trial") == best.trial_id
    assert float(str(page.ids["best-value"]["data-value"])) == best.metrics["loss"]
    config = page.text_of("best-config")
    assert f"{best.config['x']:.4g}" in config and "optimizer/lr" in config
    assert page.text_of("num-trials") == str(len(grid))
    summary = page.text_of("summary")
    assert "loss (min)" in summary and f"{grid.num_terminated} terminated" in summary
    assert f"{grid.num_errors} error" in summary and "finished" in summary
    assert "duration" in page.ids


def test_every_trial_is_a_row_of_the_table(report, grid):
    page = Page(read(report))
    rows = [element for element in page.ids if element.startswith("trial-t")]
    assert sorted(rows) == sorted(f"trial-{r.trial_id}" for r in grid)
    assert rows[0] == f"trial-{grid.get_best_result().trial_id}"  # best first, as tunecore show
    errored = next(r for r in grid if r.status == "ERROR")
    assert "ERROR" in page.text_of(f"trial-{errored.trial_id}")
    assert "x too large" in "".join(page.text)


def test_a_hostile_config_string_is_shown_as_text_never_run(report, grid):
    assert any(r.config["act"] == HOSTILE for r in grid)
    text = read(report)
    assert HOSTILE not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    page = Page(text)
    assert "script" not in page.tags and HOSTILE in "".join(page.text)


def test_several_objectives_get_the_pareto_front_and_no_single_best(pareto_report, two_objectives):
    text = read(pareto_report)
    page = Page(text)
    assert_offline(text, page)
    for figure, points in expected_counts(two_objectives, several=True).items():
        assert page.ids[figure]["data-points"] == str(points), figure
    front = data.pareto(two_objectives).front
    assert page.ids["fig-pareto"]["data-front"] == str(len(front)) and 1 <= len(front) < len(two_objectives)
    assert "best-trial" not in page.ids and "Pareto front" in page.text_of("best-none")


def test_importance_is_skipped_with_a_note_when_it_cannot_be_computed(tmp_path):
    few = experiment(tmp_path, "few", "loss", "min", num_samples=1)
    page = Page(render_report(few))
    assert "fig-importance" not in page.ids and "importance" in page.ids
    assert "at least 2 trials" in page.text_of("note-importance")
    assert page.ids["fig-history"]["data-points"] == "1"


def test_without_a_metric_only_the_timeline_is_drawn(grid):
    unscored = ResultGrid(list(grid), grid.experiment_path, None, None)
    charts = {chart.kind: chart for chart in charts_of(unscored)}
    assert [kind for kind, chart in charts.items() if chart.svg] == ["timeline"]
    assert all("has no metric" in str(chart.note) for kind, chart in charts.items() if kind != "timeline")
    page = Page(render_report(unscored))
    assert "no metric" in page.text_of("best-none") and "fig-timeline" in page.ids


def test_without_scikit_learn_importance_says_what_to_install(grid, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.ensemble", None)
    charts = {chart.kind: chart for chart in charts_of(grid)}
    assert charts["importance"].svg is None and "pip install scikit-learn" in str(charts["importance"].note)
    assert charts["history"].svg is not None


def test_importing_the_report_keeps_tunecore_report_the_function_trainables_call():
    import tunecore.plot.report

    assert callable(tunecore.report) and tunecore.report.__module__ == "tunecore.session"


def test_write_report_wants_an_html_file_name(grid, tmp_path):
    with pytest.raises(TuneError, match=r"ending in \.html"):
        write_report(grid, tmp_path / "report.png")
    assert not (tmp_path / "report.png").exists()


def test_the_report_verb_writes_the_file_and_prints_its_path(grid, tmp_path, capsys):
    target = tmp_path / "r.html"
    assert main(["report", grid.experiment_path, "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == str(target) and target.is_file()
    assert report_command(grid.experiment_path, str(tmp_path / "again.html")).endswith("again.html")


def test_the_report_verb_refuses_a_directory_that_is_no_experiment(tmp_path, capsys):
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "is not a tunecore experiment directory" in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def browser() -> str | None:
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)


def headless_command(binary: str, *args: str, cwd) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of headless chromium with its own profile and home under ``cwd``."""
    home = os.path.join(cwd, "home")
    command = [
        binary,
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={os.path.join(cwd, 'profile')}",
        *args,
    ]
    return command, {**os.environ, "HOME": home, "XDG_CONFIG_HOME": home, "XDG_CACHE_HOME": home}


def headless(binary: str, *args: str, cwd, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run headless chromium (:func:`headless_command`) to its end."""
    command, env = headless_command(binary, "--enable-logging=stderr", "--v=0", *args, cwd=cwd)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)


@pytest.mark.parametrize("which", ["report", "pareto_report"])
def test_a_headless_browser_renders_every_chart_without_errors(which, request, tmp_path):
    binary = browser()
    if binary is None:
        pytest.skip(NO_BROWSER)
    path = request.getfixturevalue(which)
    grid = request.getfixturevalue("grid" if which == "report" else "two_objectives")
    url = "file://" + os.path.abspath(path)
    dumped = headless(binary, "--dump-dom", url, cwd=str(tmp_path))
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    page = Page(dumped.stdout)
    for figure, points in expected_counts(grid, several=which == "pareto_report").items():
        assert page.ids[figure]["data-points"] == str(points), figure
        assert page.figure_svgs[figure] == 1, figure
    assert "summary" in page.ids and "trials-table" in page.ids
    console = [line for line in dumped.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console  # no script, nothing that failed to load
    shot = tmp_path / "shot.png"
    drawn = headless(binary, f"--screenshot={shot}", "--window-size=1200,4000", url, cwd=str(tmp_path))
    assert drawn.returncode == 0, drawn.stderr[-2000:]
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
