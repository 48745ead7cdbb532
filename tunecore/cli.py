"""The ``tunecore`` command line: ``run``, ``resume``, ``ls``, ``show``, ``compare``, ``plot``, ``importance``,
``report``, ``dashboard``, ``plugins``, ``new-plugin`` and ``--version``.

``ls``, ``show``, ``compare`` and ``dashboard`` only read (the data comes from :mod:`tunecore.views`; this module parses
arguments and prints).

Exit codes: 0 success; 1 the experiment ran but some trials ended in ERROR; 2 bad input (a wrong file,
option or name, an unusable storage_path, an experiment directory in use or inconsistent: the message says
what to fix); 130 interrupted by SIGINT (Ctrl+C), 143 by SIGTERM (the message names the resume command).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

from tunecore.errors import TuneError


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tunecore")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``tunecore`` command."""
    parser = argparse.ArgumentParser(prog="tunecore", description="Hyperparameter tuning with plugins.")
    parser.add_argument("--version", action="version", version=f"tunecore {_version()}")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND")
    plugins = verbs.add_parser("plugins", help="list every discovered component and every broken plugin")
    plugins.add_argument("--json", action="store_true", help="print the same as JSON")
    plugins.set_defaults(handler=_plugins_command)
    run = verbs.add_parser("run", help="run the experiment described by a TOML file")
    run.add_argument("file", help="the experiment file, e.g. examples/quadratic.toml")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting of the file (TOML value, dotted key), e.g. --set num_samples=20",
    )
    run.set_defaults(handler=_run_command)
    resume = verbs.add_parser("resume", help="continue an experiment that was interrupted or crashed")
    resume.add_argument("directory", help="the experiment's directory, e.g. tune_results/my-experiment")
    resume.add_argument("--resume-errored", action="store_true", help="run ERROR trials again from their checkpoint")
    resume.add_argument("--restart-errored", action="store_true", help="run ERROR trials again from scratch")
    resume.add_argument(
        "--no-resume-unfinished", action="store_true", help="end unfinished trials instead of continuing them"
    )
    resume.add_argument("--num-samples", type=int, help="raise the number of samples (e.g. to run more trials)")
    resume.add_argument("--time-budget-s", type=float, help="raise the time budget (time already spent counts)")
    resume.add_argument(
        "--repair",
        action="store_true",
        help="first set aside (rename to *.unjournaled) what the journal does not explain, then resume",
    )
    resume.set_defaults(handler=_resume_command)
    ls = verbs.add_parser("ls", help="list every experiment under a storage path: state, trials, best, times")
    ls.add_argument("storage", nargs="?", default="./tune_results", help="the storage path (default: ./tune_results)")
    ls.add_argument("--json", action="store_true", help="print the same as JSON")
    ls.set_defaults(handler=_ls_command)
    show = verbs.add_parser(
        "show", help="print the trial table and best result of an experiment directory, or one trial (DIR/t00007)"
    )
    show.add_argument("directory", help="the experiment's directory, e.g. tune_results/my-experiment, or a trial's")
    show.add_argument("--metric", help="rank by this metric (default: the experiment's)")
    show.add_argument(
        "--mode", choices=("min", "max"), help="with --metric: min or max (required for a field that is not the metric)"
    )
    show.add_argument(
        "--sort", metavar="COLUMN", help="sort by this column (default: the metric, best first); see --columns"
    )
    show.add_argument("--reverse", action="store_true", help="reverse the order (missing values stay last)")
    show.add_argument("--top", type=_positive_int, metavar="K", help="show only the first K trials")
    show.add_argument(
        "--columns",
        metavar="A,B,C",
        help="the columns to show: metrics and config keys by name (config/KEY when a metric has the same name)",
    )
    output = show.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the rows as JSON")
    output.add_argument("--csv", action="store_true", help="print the rows as CSV")
    show.set_defaults(handler=_show_command)
    compare = verbs.add_parser(
        "compare", help="compare experiments that optimise the same metric: best values and best-so-far"
    )
    compare.add_argument("directories", nargs="+", metavar="DIR", help="experiment directories")
    compare.add_argument(
        "--at",
        default="25%,50%,100%",
        metavar="POINTS",
        help="best-so-far after these numbers of trials or percentages of each experiment's (default: 25%%,50%%,100%%)",
    )
    compare.add_argument("--json", action="store_true", help="print the same as JSON, with every best-so-far series")
    compare.add_argument(
        "-o", "--output", metavar="FILE", help="also draw the best-so-far curves into FILE (.png, .svg, .html)"
    )
    compare.set_defaults(handler=_compare_command)
    plot = verbs.add_parser("plot", help="draw a plot of an experiment into a png, svg or html file (tunecore[plots])")
    plot.add_argument("directory", metavar="DIR", help="an experiment directory")
    plot.add_argument(
        "--kind",
        required=True,
        help="history, curves, parallel, slice, contour, importance, pareto or timeline",
    )
    plot.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write it (.png, .svg, .html)")
    plot.add_argument("--metric", help="the metric to plot (default: the experiment's)")
    plot.add_argument("--mode", choices=("min", "max"), help="min or max, for a metric that is not the experiment's")
    plot.set_defaults(handler=_plot_command)
    importance = verbs.add_parser("importance", help="how much each parameter explains the metric (fANOVA)")
    importance.add_argument("directory", metavar="DIR", help="an experiment directory")
    importance.add_argument("--metric", help="the metric (default: the experiment's)")
    importance.set_defaults(handler=_importance_command)
    report = verbs.add_parser("report", help="write one offline HTML report of an experiment (tunecore[plots])")
    report.add_argument("directory", metavar="DIR", help="an experiment directory")
    report.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write it, e.g. report.html")
    report.set_defaults(handler=_report_command)
    dashboard = verbs.add_parser(
        "dashboard", help="serve the experiments under a storage path in a browser, live and read-only"
    )
    dashboard.add_argument(
        "storage", nargs="?", default="./tune_results", help="the storage path (default: ./tune_results)"
    )
    dashboard.add_argument("--port", type=int, default=8080, help="the port (default: 8080; 0: any free one)")
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on, IPv4 or IPv6 (default: 127.0.0.1; any but 127.0.0.1, localhost, ::1 warns)",
    )
    dashboard.set_defaults(handler=_dashboard_command)
    new_plugin = verbs.add_parser(
        "new-plugin", help="write a new plugin distribution (component, entry point, README, passing tests)"
    )
    new_plugin.add_argument("name", metavar="NAME", help="the component's name, e.g. patience (makes tune-patience)")
    new_plugin.add_argument(
        "--kind", required=True, choices=["searcher", "scheduler", "stopper", "executor", "logger"], help="its kind"
    )
    new_plugin.add_argument("--directory", default=".", metavar="DIR", help="where to create it (default: here)")
    new_plugin.set_defaults(handler=_new_plugin_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    from tunecore.space import SpaceError

    try:
        return args.handler(args)
    except (TuneError, SpaceError) as exc:  # bad input: the message says what to fix
        print(f"tunecore: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader of the output went away (| head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 0
    except KeyboardInterrupt:  # before an experiment started (a run prints its own message and resume command)
        print("tunecore: Interrupted", file=sys.stderr)
        return 128 + signal.SIGINT


def _plugins_command(args: argparse.Namespace) -> int:
    import warnings

    from tunecore.plugins import PluginLoadWarning, load_plugins
    from tunecore.registry import KINDS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginLoadWarning)  # failures are listed below instead
        plugins = load_plugins()
    if args.json:
        data = {
            "components": {
                f"{kind}s": [
                    {"name": c.name, "dist": c.dist, "version": c.version, "summary": c.summary}
                    for c in plugins.registry.components(kind)
                ]
                for kind in KINDS
            },
            "plugins": [
                {"name": p.name, "dist": p.dist, "version": p.version, "module": p.module} for p in plugins.loaded
            ],
            "failed": [
                {"name": f.name, "dist": f.dist, "version": f.version, "error": f.error} for f in plugins.failures
            ],
        }
        print(json.dumps(data, indent=2))
        return 0
    rows = [(c.kind, c.name, c.provider, c.summary) for c in plugins.registry]
    width = max((len(name) for _, name, _, _ in rows), default=8) + 2
    provider_width = max((len(provider) for _, _, provider, _ in rows), default=8) + 2
    for kind in KINDS:
        print(f"{kind}s:")
        entries = [row for row in rows if row[0] == kind]
        if not entries:
            print("  (none)")
        for _, name, provider, summary in entries:
            print(f"  {name:<{width}}{provider:<{provider_width}}{summary}".rstrip())
    if plugins.failures:
        print("failed plugins:")
        for failure in plugins.failures:
            print(f"  {failure.name} ({failure.dist} {failure.version}): {failure.error}")
    return 0


def _run_command(args: argparse.Namespace) -> int:
    from tunecore.config_file import load_experiment
    from tunecore.tuner import Tuner

    spec = load_experiment(args.file, args.set)
    return _fit(Tuner.from_spec(spec))


def _resume_command(args: argparse.Namespace) -> int:
    from tunecore.tuner import Tuner

    tuner = Tuner.restore(
        args.directory,
        resume_unfinished=not args.no_resume_unfinished,
        resume_errored=args.resume_errored,
        restart_errored=args.restart_errored,
        num_samples=args.num_samples,
        time_budget_s=args.time_budget_s,
        repair=args.repair,
    )
    return _fit(tuner)


def _fit(tuner: Any) -> int:
    """Run the tuner; the exit status: 128 + the signal number when a signal interrupted it."""
    try:
        grid = tuner.fit()
    except KeyboardInterrupt:  # a second signal: stopped at once (fit printed the resume command)
        return 128 + (tuner.interrupted_by or signal.SIGINT)
    status = _report(grid)
    if tuner.interrupted_by is not None:
        print(f"interrupted by {tuner.interrupted_by.name}: resume with: tunecore resume {grid.experiment_path}")
        return 128 + tuner.interrupted_by
    return status


def _report(grid: Any) -> int:
    """Print where the results are, the counts, the best trial and the errors; the exit status."""
    print(f"experiment: {grid.experiment_path}")
    print(f"trials: {len(grid)} ({grid.num_terminated} terminated, {grid.num_errors} errors)")
    _print_best(grid, None, None)
    for error in grid.errors:
        print(f"error: {error}  (see {grid.experiment_path}/{error.trial_id}/error.txt)")
    return 1 if grid.num_errors else 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"needs a whole number of 1 or more, got {text!r}")
    return value


def _ls_command(args: argparse.Namespace) -> int:
    from tunecore import views
    from tunecore.formatting import format_duration, format_value

    summaries = views.list_experiments(args.storage)
    if args.json:
        print(_json([summary.to_json() for summary in summaries]))
        return 0
    if not summaries:
        print(f"no experiments in {os.path.abspath(args.storage)}")
        return 0
    rows: list[Any] = []
    width = max(len("name"), *(len(s.name) for s in summaries))
    for s in summaries:
        if s.state == "damaged":  # a line of its own: the reason is long
            rows.append(f"{s.name:<{width}}  damaged: {s.detail}")
            continue
        if not isinstance(s.metric, str):
            best = "none (several objectives)" if s.metric else "none (no metric)"
        elif s.best_value is None:
            best = f"{s.metric}: none"
        else:
            best = f"{s.metric}={format_value(s.best_value)} ({s.best_trial})"
        start = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s.start)) if s.start is not None else "-"
        duration = format_duration(s.duration_s) if s.duration_s is not None else "-"
        rows.append([s.name, s.state, _counts_text(s.trials), best, start, duration])
    _print_table(["name", "state", "trials", "best", "start", "duration"], rows)
    return 0


def _counts_text(counts: dict[str, int]) -> str:
    """``40 (38 terminated, 2 error)``."""
    total = sum(counts.values())
    parts = ", ".join(f"{n} {status.lower()}" for status, n in counts.items())
    return f"{total} ({parts})" if parts else "0"


def _show_command(args: argparse.Namespace) -> int:
    from tunecore import views
    from tunecore.formatting import format_config, format_value

    trial = views.split_trial_path(args.directory)
    if trial is not None:
        return _show_trial(args, *trial)
    grid = _load_grid(args.directory)
    if args.mode and not args.metric:  # the experiment's metric has its own mode: never rank it the other way
        own = f"the experiment's metric {grid.metric!r} is ranked by its mode {grid.mode!r}" if grid.metric else ""
        raise TuneError(f"--mode needs --metric: {own or 'the experiment has no metric'}; give --metric FIELD too")
    metric = args.metric or (grid.metric if isinstance(grid.metric, str) else None)
    mode = args.mode or views.objectives(grid).get(metric or "")
    if args.metric and not mode:  # another field: its direction is unknown
        raise TuneError(f"--metric {args.metric} needs --mode min or --mode max (it is not the experiment's metric)")
    metrics = [args.metric] if args.metric else list(views.objectives(grid))
    sort, sort_mode = args.sort, None
    if sort is None or sort == metric:
        sort, sort_mode = metric, mode if metric else None
    table = views.trial_table(grid, _split(args.columns), sort, sort_mode, args.reverse, args.top, metrics=metrics)
    _warn_inconsistencies(grid.experiment_path)
    if args.json:
        best = _best_of(grid, metric, mode)
        data = {
            "experiment": grid.experiment_path,
            "metric": grid.metric,
            "mode": grid.mode,
            "columns": table.columns,
            "trials": table.rows,
            "best": best,
        }
        print(_json(data))
        return 0
    if args.csv:
        _print_csv(table.columns, table.rows)
        return 0
    print(f"experiment: {grid.experiment_path}")
    if args.columns:
        _print_table(
            ["trial", *table.columns[1:]], [[format_value(row[c], 40) for c in table.columns] for row in table.rows]
        )
    else:
        header = f"{'trial':<8} {'status':<11} {'iter':>5}" + "".join(f" {m:>12}" for m in metrics)
        print(header + "  config")
        for row in table.rows:
            line = f"{row['trial_id']:<8} {row['status']:<11} {row['training_iteration'] or 0:>5}"
            line += "".join(f" {format_value('-' if row[m] is None else row[m]):>12}" for m in metrics)
            config = {key[len("config/") :]: v for key, v in row.items() if key.startswith("config/")}
            print(f"{line}  {format_config(config)}")
    shown = f", {len(table.rows)} shown" if len(table.rows) < len(grid) else ""
    print(f"trials: {len(grid)} ({grid.num_terminated} terminated, {grid.num_errors} errors{shown})")
    _print_best(grid, metric, mode)
    return 0


def _load_grid(path: str) -> Any:
    """The experiment at ``path``; for a storage path, a TuneError that names its experiments."""
    from tunecore import views
    from tunecore.results import ResultGrid
    from tunecore.storage import EXPERIMENT_FILE

    if os.path.isdir(path) and not os.path.exists(os.path.join(path, EXPERIMENT_FILE)):
        try:
            names = [s.name for s in views.list_experiments(path)]
        except TuneError:
            names = []
        if names:
            listed = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
            raise TuneError(
                f"{path} is not a tunecore experiment directory but a storage path holding {len(names)}"
                f" experiment(s) ({listed}): list them with tunecore ls {path}, or show one with"
                f" tunecore show {os.path.join(path, names[0])}"
            )
    return ResultGrid.from_path(path)


def _show_trial(args: argparse.Namespace, experiment: str, trial_id: str) -> int:
    from tunecore import views
    from tunecore.formatting import format_config, format_value, result_field

    for option in ("sort", "top", "metric", "mode"):
        if getattr(args, option):
            raise TuneError(
                f"--{option} applies to an experiment's table, not to one trial ({trial_id}):"
                f" drop it, or show the experiment: tunecore show {experiment}"
            )
    view = views.trial_view(experiment, trial_id)
    columns = views.history_columns(view, _split(args.columns))
    if args.json:
        print(_json(view.to_json()))
        return 0
    if args.csv:
        fields = list(dict.fromkeys(key for result in view.history for key in result)) if not args.columns else columns
        _print_csv(fields, view.history)
        return 0
    failures = f" ({view.num_failures} failure{'s' if view.num_failures != 1 else ''})" if view.num_failures else ""
    print(f"trial: {view.trial_id}  (experiment {view.experiment_path})")
    print(f"status: {view.status}{failures}")
    print(f"config: {format_config(view.config) or '(empty)'}")
    print(f"path: {view.path}{'' if os.path.isdir(view.path) else '  (not created: the trial wrote no files)'}")
    history = view.history
    print(f"history: {len(history)} result{'s' if len(history) != 1 else ''}")
    if history:
        shown: list[Any] = history
        if len(history) > _HISTORY_ROWS:  # the first few and the last ones
            shown = [*history[:5], None, *history[-(_HISTORY_ROWS - 5) :]]
        headers = ["iter" if c == "training_iteration" else c for c in columns]
        rows = [
            [format_value(result_field(r, c, "-")) for c in columns]
            if r is not None
            else f"… {len(history) - _HISTORY_ROWS} more (--csv or --json prints them all)"
            for r in shown
        ]
        _print_table(headers, rows, indent="  ", align_right=True)
    if view.checkpoints:
        print(f"checkpoints: {len(view.checkpoints)}")
        for checkpoint in view.checkpoints:
            missing = "" if checkpoint.exists else "  (missing on disk)"
            print(f"  {checkpoint.name}  iter {checkpoint.iteration}  {checkpoint.path}{missing}")
    else:
        print("checkpoints: none")
    if view.error:
        print("error (its latest failure, from the journal):")
        for line in view.error.rstrip().splitlines():
            print(f"  {line}")
    if view.error_file:
        print(f"every failure: {view.error_file}")
    return 0


_HISTORY_ROWS = 20
"""A trial's history table shows at most this many results (the first 5 and the last ones)."""


def _plot_command(args: argparse.Namespace) -> int:
    from tunecore.plot.cli import plot_command

    print(plot_command(args.directory, args.kind, args.output, metric=args.metric, mode=args.mode))
    return 0


def _importance_command(args: argparse.Namespace) -> int:
    from tunecore.plot.cli import importance_command

    importance_command(args.directory, metric=args.metric)
    return 0


def _report_command(args: argparse.Namespace) -> int:
    from tunecore.plot.report import report_command

    print(report_command(args.directory, args.output))
    return 0


def _dashboard_command(args: argparse.Namespace) -> int:
    from tunecore.dashboard import serve

    try:
        serve(args.storage, args.host, args.port)
    except KeyboardInterrupt as exc:  # Ctrl+C, or SIGTERM (tunecore.dashboard.Stopped)
        signum = getattr(exc, "signum", signal.SIGINT)
        print(f"tunecore dashboard: stopped ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + signum
    return 0


def _new_plugin_command(args: argparse.Namespace) -> int:
    from tunecore.scaffold import new_plugin

    root = new_plugin(args.name, args.kind, args.directory)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        print(f"wrote {path}")
    print(f"next: cd {root} && pip install -e '.[test]' && pytest")
    return 0


def _compare_command(args: argparse.Namespace) -> int:
    from tunecore import views
    from tunecore.formatting import format_value

    points = views.parse_points(args.at)
    grids = [_load_grid(path) for path in args.directories]
    metric, mode, rows = views.compare(grids, points)
    if args.output:
        import tunecore.plot as plot

        plot.output.check_path(args.output)
        print(plot.save(plot.compare(grids), args.output, title=f"best so far: {metric} ({mode})"), file=sys.stderr)
    if args.json:
        data = {"metric": metric, "mode": mode, "experiments": [row.to_json() for row in rows]}
        print(_json(data))
        return 0
    print(f"metric: {metric} ({mode})")
    names = [row.name for row in rows]
    if len(set(names)) < len(names):  # same names in different storage paths: tell them apart
        names = [row.path for row in rows]
    labels = [point.label for point in points]
    table = [
        [
            name,
            str(row.num_trials),
            "-" if row.best_value is None else format_value(row.best_value),
            row.best_trial or "-",
            *("-" if row.at[label] is None else format_value(row.at[label]) for label in labels),
        ]
        for name, row in zip(names, rows, strict=True)
    ]
    _print_table(["experiment", "trials", "best", "trial", *(f"best@{label}" for label in labels)], table)
    return 0


def _split(text: str | None) -> list[str] | None:
    """``"a,b"`` as ``["a", "b"]`` (None for None)."""
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


def _print_table(headers: list[str], rows: list[Any], indent: str = "", align_right: bool = False) -> None:
    """Columns padded to their widest cell, two spaces apart (right-aligned with ``align_right``); a row that
    is a plain string is printed as it is."""
    cells = [row for row in rows if not isinstance(row, str)]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(row: list[str]) -> str:
        padded = [
            cell.rjust(width) if align_right else cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ]
        return (indent + "  ".join(padded)).rstrip()

    print(line(headers))
    for row in rows:
        print(indent + row if isinstance(row, str) else line(row))


def _plain(value: Any) -> Any:
    """``value`` for strict JSON: NaN and infinities become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _json(data: Any) -> str:
    """Strict JSON (NaN and infinities as null) for ``--json``."""
    from tunecore.jsonutil import to_json_value

    return json.dumps(_plain(json.loads(json.dumps(data, default=to_json_value))), indent=2, allow_nan=False)


def _print_csv(columns: list[str], rows: list[dict[str, Any]]) -> None:
    """CSV to stdout: a header, then one line per row (lists and dicts as JSON, None empty)."""
    import csv

    from tunecore.formatting import result_field
    from tunecore.jsonutil import dumps

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = [row.get(c, result_field(row, c)) for c in columns]
        writer.writerow(["" if v is None else dumps(v) if isinstance(v, (dict, list)) else v for v in values])


def _best_of(grid: Any, metric: str | None, mode: str | None) -> dict[str, Any] | None:
    """The best trial by ``metric`` and ``mode`` (default: the experiment's) as plain data, or None."""
    from tunecore.formatting import result_field

    metric = metric or (grid.metric if isinstance(grid.metric, str) else None)
    mode = mode or (grid.mode if isinstance(grid.mode, str) else None)
    if not metric or not mode:
        return None
    try:
        best = grid.get_best_result(metric, mode)
    except TuneError:
        return None
    return {"trial_id": best.trial_id, "metric": metric, "mode": mode, "value": result_field(best.metrics, metric)}


def _warn_inconsistencies(path: str) -> None:
    """Say on stderr what the journal does not explain (show reads only the journal; nothing is unpickled)."""
    from tunecore.integrity import find_inconsistencies
    from tunecore.storage import read_journal

    for problem in find_inconsistencies(path, read_journal(path), None):
        print(f"tunecore: warning: {problem.message}; the table shows only what the journal holds", file=sys.stderr)


def _print_best(grid: object, metric: str | None, mode: str | None) -> None:
    from tunecore.formatting import format_config, format_value, result_field
    from tunecore.results import ResultGrid

    assert isinstance(grid, ResultGrid)
    metric = metric or (grid.metric if isinstance(grid.metric, str) else None)
    mode = mode or (grid.mode if isinstance(grid.mode, str) else None)
    if not metric or not mode:
        return
    try:
        best = grid.get_best_result(metric, mode)
    except TuneError as exc:
        print(f"best: none ({exc})")
        return
    value = format_value(result_field(best.metrics, metric))
    print(f"best: {best.trial_id} {metric}={value}  {format_config(best.config)}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
