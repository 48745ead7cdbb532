"""The ``tunecore`` command line: ``run``, ``resume``, ``show``, ``plugins`` and ``--version``.

Exit codes: 0 success; 1 the experiment ran but some trials ended in ERROR; 2 bad input (a wrong file,
option or name, an unusable storage_path, an experiment directory in use or inconsistent: the message says
what to fix); 130 interrupted by SIGINT (Ctrl+C), 143 by SIGTERM (the message names the resume command).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
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
    show = verbs.add_parser("show", help="print the trial table and best result of an experiment directory")
    show.add_argument("directory", help="the experiment's directory, e.g. tune_results/my-experiment")
    show.add_argument("--metric", help="rank by this metric (default: the experiment's)")
    show.add_argument(
        "--mode", choices=("min", "max"), help="with --metric: min or max (required for a field that is not the metric)"
    )
    show.set_defaults(handler=_show_command)
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


def _show_command(args: argparse.Namespace) -> int:
    from tunecore.formatting import format_config, format_value, result_field
    from tunecore.results import ResultGrid

    grid = ResultGrid.from_path(args.directory)
    if args.mode and not args.metric:  # the experiment's metric has its own mode: never rank it the other way
        own = f"the experiment's metric {grid.metric!r} is ranked by its mode {grid.mode!r}" if grid.metric else ""
        raise TuneError(f"--mode needs --metric: {own or 'the experiment has no metric'}; give --metric FIELD too")
    mode = args.mode or _objectives(grid).get(args.metric or "")
    if args.metric and not mode:  # another field: its direction is unknown
        raise TuneError(f"--metric {args.metric} needs --mode min or --mode max (it is not the experiment's metric)")
    _warn_inconsistencies(grid.experiment_path)
    metric = args.metric or (grid.metric if isinstance(grid.metric, str) else None)
    print(f"experiment: {grid.experiment_path}")
    header = f"{'trial':<8} {'status':<11} {'iter':>5}"
    if metric:
        header += f" {metric:>12}"
    print(header + "  config")
    for result in grid:
        line = f"{result.trial_id:<8} {result.status:<11} {result.metrics.get('training_iteration', 0):>5}"
        if metric:
            line += f" {format_value(result_field(result.metrics, metric, '-')):>12}"
        print(f"{line}  {format_config(result.config)}")
    print(f"trials: {len(grid)} ({grid.num_terminated} terminated, {grid.num_errors} errors)")
    _print_best(grid, metric, mode)
    return 0


def _objectives(grid: Any) -> dict[str, str]:
    """The experiment's metrics with their modes (several in a multi-objective experiment)."""
    metrics, modes = grid.metric, grid.mode
    if isinstance(metrics, list) and isinstance(modes, list):
        return dict(zip(metrics, modes, strict=False))
    return {metrics: modes} if isinstance(metrics, str) and isinstance(modes, str) else {}


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
