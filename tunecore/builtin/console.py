"""The console logger: live progress, a line per finished trial, a summary at the end.

Three ways to show progress, picked when the experiment starts:

* a terminal: one live view drawn with ``rich`` (imported only then), refreshed at most every
  :data:`REFRESH_S` seconds; other lines (finished trials, results) are printed above it;
* Jupyter (an IPython kernel, default stream): one output (an ``IPython.display`` handle) updated in place;
* anything else (a file, a pipe, a CI log, ``TERM=dumb``): a heartbeat line every ``status_interval_s`` seconds.
"""

from __future__ import annotations

import collections
import importlib
import math
import os
import sys
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, TextIO

import attrs

from tunecore import session
from tunecore.best import is_better, pick_best, real_number, score
from tunecore.experiment import ExperimentInfo
from tunecore.formatting import flatten_dict, format_config, format_duration, format_value, result_field
from tunecore.protocols import Logger
from tunecore.trial import Trial

if TYPE_CHECKING:
    from collections.abc import Callable

AUTO_FIELDS = frozenset(session.AUTO_FIELDS)
"""Result fields filled in by tunecore (left out of the console's per-result lines)."""

REFRESH_S = 0.5
"""The live view (terminal, notebook) is redrawn at most once per this many seconds (2 a second)."""

MAX_ROWS = 10
"""Running trials shown as rows of the live view at most (the best first); the rest are counted."""

_STATES = ("RUNNING", "PAUSED", "TERMINATED", "ERROR")
_Earned = tuple[dict[str, Any], dict[str, Any]]
"""A trial's latest result with the config that earned it."""


def _metric_value(result: dict[str, Any] | None, metric: str | None) -> float | None:
    """The result's metric as a float (``a/b`` looks into nested dicts); None when missing or not a number."""
    return real_number(result_field(result, metric)) if metric else None


def _last_line(error: str | None) -> str:
    lines = [line.strip() for line in (error or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def planned_trials(spec: dict[str, Any]) -> int | None:
    """``num_samples`` x the grid points of the spec's ``param_space`` (as the controller counts); None for -1."""
    num_samples = spec.get("num_samples")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 0:
        return None
    from tunecore.space import _is_domain_like

    def points(node: Any) -> int:
        if _is_domain_like(node):
            ((name, args),) = node.items()
            values = args.get("values") if isinstance(args, dict) else args
            return len(values) if name == "grid_search" and isinstance(values, list) else 1
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        return math.prod(points(child) for child in children)

    return num_samples * points(spec.get("param_space") or {})


@attrs.frozen
class Row:
    """A running trial as the live view shows it."""

    trial_id: str
    iteration: Any
    value: float | None
    config: str


@attrs.frozen
class Progress:
    """What the live view and the heartbeat line show, taken at one moment."""

    name: str
    metric: str | None
    elapsed: float
    done: int
    total: int | None
    counts: dict[str, int]
    eta: float | None
    best: tuple[str, float, str] | None
    """``(trial id, value, config)`` of the best trial so far (:mod:`tunecore.best`)."""
    rows: list[Row]
    more: int
    """Running trials left out of ``rows``."""

    def trials_text(self) -> str:
        return f"{self.done}/{self.total} done" if self.total is not None else f"{self.done} done"

    def states_text(self) -> str:
        return ", ".join(
            f"{self.counts.get(s, 0)} {s.lower()}" for s in _STATES if self.counts.get(s) or s == "RUNNING"
        )

    def time_text(self) -> str:
        eta = f", ETA {format_duration(self.eta)}" if self.eta is not None else ""
        return f"{format_duration(self.elapsed)} elapsed{eta}"

    def best_text(self, with_config: bool) -> str:
        if self.best is None:
            return ""
        trial_id, value, config = self.best
        text = f"best {self.metric}={format_value(value)} ({trial_id})"
        return f"{text} {config}" if with_config and config else text

    def heartbeat(self) -> str:
        """One line: ``[1:05] 17/40 done | 3 running, 14 terminated | ETA 2:10 | best loss=0.1 (t00007)``."""
        parts = [f"[{format_duration(self.elapsed)}] {self.trials_text()}", self.states_text()]
        if self.eta is not None:
            parts.append(f"ETA {format_duration(self.eta)}")
        if self.best is not None:
            parts.append(self.best_text(with_config=False))
        return " | ".join(parts)

    def renderable(self) -> Any:
        """The live view as a ``rich`` renderable (imports rich)."""
        from rich.console import Group
        from rich.text import Text

        head = Text.assemble(
            (self.name, "bold"), "  ", (self.trials_text(), "bold cyan"), "  ", self.states_text(), "  ",
            (self.time_text(), "dim"), no_wrap=True, overflow="ellipsis",
        )  # fmt: skip
        parts: list[Any] = [head]
        if self.best is not None:
            parts.append(Text(self.best_text(with_config=True), style="green", no_wrap=True, overflow="ellipsis"))
        if self.rows:
            parts.append(RunningTable(self.metric, self.rows))
        if self.more:
            parts.append(Text(f"+{self.more} more running", style="dim"))
        return Group(*parts)


MIN_CONFIG_WIDTH = 12
"""The live view leaves out the running trials' config column when it would be narrower than this."""
_PADDING = 2
"""Spaces around each column of the running trials' table (one on each side)."""


@attrs.frozen
class RunningTable:
    """The running trials of the live view as a table fitted to the terminal's width (a rich renderable).

    The trial id, iteration and metric columns always keep the width of their text; the config column gets
    what is left (cut with an ellipsis), or is left out when that is under :data:`MIN_CONFIG_WIDTH`.
    """

    metric: str | None
    rows: list[Row]

    def __rich_console__(self, console: Any, options: Any) -> Any:
        table, width = self.table(options.max_width)
        yield from console.render(table, options.update(width=max(width, options.max_width)))

    def table(self, width: int) -> tuple[Any, int]:
        """The table for ``width`` columns, and the width it needs (more than ``width`` when even the trial
        id, iteration and metric do not fit: the terminal cuts the lines, rich does not squeeze them)."""
        from rich.table import Table

        heads = ("running", "iter", self.metric or "")
        cells = [(row.trial_id, _cell(row.iteration), _cell(row.value), row.config) for row in self.rows]
        widths = [max(len(head), *(len(cell[i]) for cell in cells)) for i, head in enumerate(heads)]
        needed = sum(widths) + _PADDING * len(widths)
        room = width - needed - _PADDING
        table = Table(box=None, padding=(0, 1), show_edge=False, header_style="dim", expand=False)
        for i, (head, column_width) in enumerate(zip(heads, widths, strict=True)):
            table.add_column(head, justify="left" if i == 0 else "right", no_wrap=True, width=column_width)
        with_config = room >= MIN_CONFIG_WIDTH
        if with_config:
            table.add_column("config", no_wrap=True, overflow="ellipsis", max_width=room)
        for cell in cells:
            table.add_row(*(cell if with_config else cell[:3]))
        return table, needed


def _cell(value: Any) -> str:
    return format_value(value) if value is not None else ""


def render_text(renderable: Any, width: int = 100) -> str:
    """A rich renderable as plain text (no colours, no control codes)."""
    import io

    from rich.console import Console

    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False, force_jupyter=False)
    with console.capture() as capture:
        console.print(renderable)
    return "\n".join(line.rstrip() for line in capture.get().splitlines())


def _in_notebook() -> bool:
    """True inside an IPython kernel (Jupyter, Colab...), found without importing IPython."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    try:
        shell = get_ipython() if callable(get_ipython) else None
    except Exception:  # a half-imported IPython: not a notebook
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


def _tick_periodically(owner_ref: weakref.ref[ConsoleLogger], stop: threading.Event) -> None:
    """Body of the ticker thread: refresh the view (or heartbeat) while nothing happens; holds the logger weakly."""
    while not stop.wait(REFRESH_S / 2):
        owner = owner_ref()
        if owner is None:
            return
        owner._tick()
        del owner


class ConsoleLogger(Logger):
    """Progress on the console: a live view, one line per finished trial, a summary at the end.

    ``verbose`` (default: the experiment's ``verbose``): 0 prints nothing; 1 shows the progress — on a
    terminal a live view (trials done/total, trials by state, elapsed time and ETA, the best trial so far
    with its config, a row per running trial), in Jupyter the same view in one output updated in place,
    elsewhere a heartbeat line every ``status_interval_s`` seconds — plus a line per finished trial, a
    line per retry and the summary; 2 also prints a line per result; 3 also the trials' starts, pauses
    and restarts. ``stream`` is ``"stderr"`` (the default, leaving stdout to the program), ``"stdout"``
    or a text stream.
    """

    clock: Callable[[], float] = staticmethod(time.monotonic)
    """Seconds from a monotonic clock. Set on an instance (tests), it is read at events only: no
    background refresh."""

    def __init__(
        self, verbose: int | None = None, status_interval_s: float = 30.0, stream: TextIO | str | None = None
    ) -> None:
        if verbose is not None and (isinstance(verbose, bool) or not isinstance(verbose, int) or verbose < 0):
            raise ValueError(f"verbose must be None or an integer >= 0, got {verbose!r}")
        if isinstance(status_interval_s, bool) or not isinstance(status_interval_s, (int, float)):
            raise ValueError(f"status_interval_s must be a number of seconds, got {status_interval_s!r}")
        if not status_interval_s >= 0:
            raise ValueError(f"status_interval_s must be >= 0, got {status_interval_s!r}")
        if isinstance(stream, str) and stream not in ("stdout", "stderr"):
            raise ValueError(f"stream must be 'stdout', 'stderr' or a text stream, got {stream!r}")
        if stream is not None and not isinstance(stream, str) and not callable(getattr(stream, "write", None)):
            raise ValueError(f"stream must be 'stdout', 'stderr' or a text stream, got {stream!r}")
        self.verbose = verbose
        self.status_interval_s = float(status_interval_s)
        self.stream = stream
        self._lock = threading.RLock()
        self._fresh_state()

    def _fresh_state(self) -> None:
        """The run-time state (private attributes): nothing seen yet."""
        self._level: int | None = None
        self._start: float | None = None
        self._last_status = 0.0
        self._last_refresh: float | None = None
        self._state: dict[str, str] = {}
        self._counts: collections.Counter[str] = collections.Counter()
        self._latest: dict[str, _Earned] = {}
        """Each trial's latest result with the config that earned it (a restart changes the trial's config)."""
        self._results = 0
        self._done_before = 0
        """Trials that had ended before this run (a resume): the rate of the ETA counts this run's only."""
        self._best: tuple[str, float, _Earned] | None = None
        """The best trial's id, value and latest result, kept up to date as results arrive (:meth:`_note`)."""
        self._best_stale = True
        """The best must be found anew from every trial's latest result (the best trial itself reported again)."""
        self._best_shown: tuple[tuple[str, float] | None, tuple[str, float, str] | None] = (None, None)
        """The best as the view shows it (id, value, config as text), for the best it was formatted from."""
        self._running: dict[str, str] = {}
        """The running trials (in start order) with their configs as text."""
        self._experiment: ExperimentInfo | None = None
        self._total: int | None = None
        self._out: Any = None
        self._mode = ""
        """``"live"`` (a terminal), ``"notebook"`` or ``"lines"``; set at the first event."""
        self._live: Any = None
        self._display: Any = None
        self._pending: list[str] = []
        """Lines to print above the live view at its next refresh."""
        self._ticker: threading.Event | None = None

    def __getstate__(self) -> dict[str, Any]:
        """The options (public attributes) only: the experiment is pickled for resume with its loggers."""
        return {name: value for name, value in self.__dict__.items() if not name.startswith("_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._fresh_state()

    # events

    def tunecore_experiment_started(self, experiment: ExperimentInfo, trials: list[Trial] | None = None) -> None:
        """Start the clock; count the trials of earlier runs (a resume); print where results go."""
        with self._lock:
            self._stop_view()
            self._fresh_state()
            if not self._enabled(experiment):
                return
            self._adopt(trials or [])
            goal = f" ({experiment.mode} {experiment.metric})" if experiment.metric else ""
            self._print(f"Experiment {experiment.name}{goal}: results in {experiment.path}")
            if self._mode != "lines":
                self._update(experiment, force=True)

    def tunecore_trial_started(self, experiment: ExperimentInfo, trial: Trial) -> None:
        """Count the trial as running; at verbose 3, print it."""
        with self._lock:
            if not self._enabled(experiment):
                return
            self._set_state(trial.trial_id, "RUNNING")
            self._running[trial.trial_id] = format_config(trial.config, 80)
            if self._level is not None and self._level >= 3:
                self._print(f"{trial.trial_id} STARTED    | {format_config(trial.config)}".rstrip(" |"))
            self._update(experiment)

    def tunecore_trial_result(self, experiment: ExperimentInfo, trial: Trial, result: dict[str, Any]) -> None:
        """Track the latest result; at verbose 2, print it."""
        with self._lock:
            if not self._enabled(experiment):
                return
            earned = self._latest[trial.trial_id] = (result, trial.config)  # a restart replaces it, never mutates
            self._results += 1
            self._note(experiment, trial.trial_id, earned)
            if self._level is not None and self._level >= 2:
                self._print(self._result_line(experiment, trial, result))
            self._update(experiment)

    def tunecore_trial_paused(self, experiment: ExperimentInfo, trial: Trial) -> None:
        """Count the trial as paused; at verbose 3, print it."""
        with self._lock:
            if not self._enabled(experiment):
                return
            self._set_state(trial.trial_id, "PAUSED")
            if self._level is not None and self._level >= 3:
                self._print(f"{trial.trial_id} PAUSED")
            self._update(experiment)

    def tunecore_trial_restarted(self, experiment: ExperimentInfo, trial: Trial) -> None:
        """Count the trial as pending again (it relaunches with its new config); at verbose 3, print it."""
        with self._lock:
            if not self._enabled(experiment):
                return
            self._set_state(trial.trial_id, "PENDING")
            if self._level is not None and self._level >= 3:
                self._print(f"{trial.trial_id} RESTARTED  | {format_config(trial.config)}".rstrip(" |"))
            self._update(experiment)

    def tunecore_trial_retried(self, experiment: ExperimentInfo, trial: Trial, error: str, attempt: int) -> None:
        """Say that the trial failed and will run again (``retry 1 of 2 after: <the error's last line>``)."""
        with self._lock:
            if not self._enabled(experiment):
                return
            self._set_state(trial.trial_id, "PENDING")
            limit = (experiment.spec or {}).get("failure_config", {}).get("max_failures")
            of = f" of {limit}" if isinstance(limit, int) and limit >= 0 else ""
            message = format_value(_last_line(error), 120)
            self._print(f"{trial.trial_id} RETRYING   retry {attempt - 1}{of} after: {message}")
            self._update(experiment)

    def tunecore_trial_finished(self, experiment: ExperimentInfo, trial: Trial, status: str, error: str | None) -> None:
        """Print the finished trial: id, status, iterations, last metric, config (and the error's last line)."""
        with self._lock:
            if not self._enabled(experiment):
                return
            status = str(status)
            self._set_state(trial.trial_id, status)
            last = trial.last_result or {}
            parts = [f"{trial.trial_id} {status:<10}"]
            if "training_iteration" in last:
                parts.append(f"iter={format_value(last['training_iteration'])}")
            value = _metric_value(last, experiment.metric)
            if value is not None:
                parts.append(f"{experiment.metric}={format_value(value)}")
            config = format_config(trial.config)
            if config:
                parts.append(f"| {config}")
            message = _last_line(error or (trial.error if status == "ERROR" else None))
            if message:
                parts.append(f"| {format_value(message, 120)}")
            self._print(" ".join(parts))
            self._update(experiment)

    def tunecore_experiment_finished(self, experiment: ExperimentInfo, trials: list[Trial]) -> None:
        """Close the live view; print the summary: trials by final state, elapsed time, the best trial."""
        with self._lock:
            if not self._enabled(experiment):
                return
            if self._mode == "notebook":
                self._update(experiment, force=True)  # the output keeps the final state
            self._stop_view()
            counts = collections.Counter(str(trial.status) for trial in trials)
            states = ", ".join(f"{counts[state]} {state.lower()}" for state in (*_STATES, "PENDING") if counts[state])
            elapsed = format_duration(self.clock() - self._start) if self._start is not None else ""
            plural = "" if len(trials) == 1 else "s"
            ended = "Failed" if experiment.failed else "Interrupted" if experiment.interrupted else "Finished"
            line = f"{ended} {experiment.name}: {len(trials)} trial{plural}" + (f" ({states})" if states else "")
            line += f" in {elapsed}" if elapsed else ""
            best = self._find_best(experiment, [(t.trial_id, self._earned(t)) for t in trials])
            if best is not None:
                (trial_id, (result, config)), value = best
                iteration = result.get("training_iteration")
                at = f", iter {format_value(iteration)}" if iteration is not None else ""
                line += f" | best {experiment.metric}={format_value(value)} ({trial_id}{at})"
                config_text = format_config(config)
                line += f" {config_text}" if config_text else ""
            self._print(line)

    # state

    def _earned(self, trial: Trial) -> _Earned:
        """The trial's last result and the config that earned it (its own config for earlier sessions)."""
        last = trial.last_result or {}
        seen = self._latest.get(trial.trial_id)
        if seen is not None and seen[0].get("training_iteration") == last.get("training_iteration"):
            return last, seen[1]
        return last, dict(trial.config)

    def _note(self, experiment: ExperimentInfo, trial_id: str, earned: _Earned) -> None:
        """Keep the best up to date with one new result, in O(1): the rule of :func:`_find_best` (the first
        trial id of equal values wins), except that a new result of the best trial itself, which may be worse,
        makes the best be found anew from every trial at the next view."""
        if self._best_stale or not experiment.metric or experiment.mode not in ("min", "max"):
            return
        best = self._best
        if best is not None and best[0] == trial_id:
            self._best_stale = True
            return
        value = real_number(result_field(earned[0], experiment.metric))
        if value is None or not math.isfinite(value):
            return
        if best is None or is_better(value, best[1], experiment.mode) or (value == best[1] and trial_id < best[0]):
            self._best = (trial_id, value, earned)

    @staticmethod
    def _find_best(
        experiment: ExperimentInfo, candidates: list[tuple[str, _Earned]]
    ) -> tuple[tuple[str, _Earned], float] | None:
        """The best candidate by the one rule of :mod:`tunecore.best` (None without a metric and mode)."""
        if not experiment.metric or experiment.mode not in ("min", "max"):
            return None
        scored = [((trial_id, earned), result_field(earned[0], experiment.metric)) for trial_id, earned in candidates]
        return pick_best(scored, experiment.mode)

    def _enabled(self, experiment: ExperimentInfo) -> bool:
        """Whether to print anything; at the first event, also pick the level, the stream and the mode."""
        if self._level is None:
            level = self.verbose
            if level is None:
                level = (experiment.spec or {}).get("verbose", 1)
            self._level = level if isinstance(level, int) else 1
            if self._level > 0:
                self._begin(experiment)
        return self._level > 0

    def _begin(self, experiment: ExperimentInfo) -> None:
        self._start = self._last_status = self.clock()
        self._experiment = experiment
        self._total = planned_trials(experiment.spec or {})
        stream = self.stream
        default = stream is None or stream in ("stderr", "stdout")
        self._out = sys.stdout if stream == "stdout" else sys.stderr if default else stream
        if default and _in_notebook():
            self._mode = "notebook"
        elif _isatty(self._out) and os.environ.get("TERM", "").lower() not in ("dumb", "unknown"):
            self._mode = "live"
        else:
            self._mode = "lines"
        background = "clock" not in self.__dict__ and (self._mode != "lines" or self.status_interval_s > 0)
        if background:
            self._ticker = threading.Event()
            thread = threading.Thread(
                target=_tick_periodically, args=(weakref.ref(self), self._ticker), name="tunecore-console", daemon=True
            )
            thread.start()

    def _adopt(self, trials: list[Trial]) -> None:
        """Count the trials of earlier runs: their statuses (an unfinished one is pending until it starts
        again) and their latest results, for the counts and the best so far."""
        for trial in trials:
            status = trial.status.value
            ended = status in ("TERMINATED", "ERROR", "PAUSED")
            self._set_state(trial.trial_id, status if ended else "PENDING")
            if trial.last_result is not None:
                self._latest[trial.trial_id] = (trial.last_result, trial.config)
        self._results = len(self._latest)
        self._best_stale = True
        self._done_before = self._counts["TERMINATED"] + self._counts["ERROR"]

    def _set_state(self, trial_id: str, state: str) -> None:
        old = self._state.get(trial_id)
        if old is not None:
            self._counts[old] -= 1
        self._state[trial_id] = state
        self._counts[state] += 1
        if state != "RUNNING":
            self._running.pop(trial_id, None)

    def _progress(self, experiment: ExperimentInfo, now: float) -> Progress:
        """The view's content now: the counts follow the events; the best is found here, not per event."""
        elapsed = max(now - (now if self._start is None else self._start), 0.0)
        done = self._counts["TERMINATED"] + self._counts["ERROR"]
        estimates = []
        budget = real_number((experiment.spec or {}).get("time_budget_s"))
        if budget is not None and math.isfinite(budget):
            estimates.append(max(budget - elapsed, 0.0))
        if self._total is not None and done > self._done_before:
            estimates.append(elapsed / (done - self._done_before) * max(self._total - done, 0))
        if self._best_stale:
            found = self._find_best(experiment, sorted(self._latest.items()))
            self._best = None if found is None else (found[0][0], found[1], found[0][1])
            self._best_stale = False
        key = None if self._best is None else (self._best[0], self._best[1])
        if self._best_shown[0] != key:  # formatted once per new best
            shown = None if self._best is None else (self._best[0], self._best[1], format_config(self._best[2][1]))
            self._best_shown = (key, shown)
        rows = []
        for trial_id, config_text in self._running.items():
            latest = self._latest.get(trial_id, ({}, {}))[0]
            rows.append(
                Row(trial_id, latest.get("training_iteration"), _metric_value(latest, experiment.metric), config_text)
            )
        if experiment.mode in ("min", "max"):
            mode = experiment.mode
            rows.sort(key=lambda row: -score(row.value, mode))  # stable: ties (no value) keep the start order
        return Progress(
            name=experiment.name,
            metric=experiment.metric,
            elapsed=elapsed,
            done=done,
            total=self._total,
            counts=dict(self._counts),
            eta=min(estimates) if estimates else None,
            best=self._best_shown[1],
            rows=rows[:MAX_ROWS],
            more=max(len(rows) - MAX_ROWS, 0),
        )

    # output

    def _update(self, experiment: ExperimentInfo, force: bool = False) -> None:
        """Refresh the live view at most every REFRESH_S seconds; print a heartbeat line when one is due."""
        now = self.clock()
        if self._mode == "lines":
            if force or now - self._last_status >= self.status_interval_s:
                self._last_status = now
                self._write(self._progress(experiment, now).heartbeat())
            return
        if not force and self._last_refresh is not None and now - self._last_refresh < REFRESH_S:
            return
        self._last_refresh = now
        view = self._progress(experiment, now).renderable()
        if self._mode == "notebook":
            self._show_in_notebook(view)
            return
        if self._live is None:
            self._start_live(view)
        self._redraw(view)

    def _tick(self) -> None:
        """From the ticker thread: what an event would do when none comes (elapsed time, ETA, heartbeat)."""
        with self._lock:
            if self._experiment is not None and self._mode:
                self._update(self._experiment)

    def _start_live(self, view: Any) -> None:
        from rich.console import Console
        from rich.live import Live

        console = Console(file=self._out, force_terminal=True, force_jupyter=False, highlight=False)
        self._live = Live(
            view,
            console=console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=self._out is sys.stdout or _isatty(sys.stdout),
            redirect_stderr=self._out is sys.stderr or _isatty(sys.stderr),
        )
        self._live.start()

    def _redraw(self, view: Any) -> None:
        """Show ``view`` with the lines kept for it printed above: one redraw."""
        live, lines = self._live, self._pending
        self._pending = []
        if not lines:
            live.update(view, refresh=True)
            return
        from rich.text import Text

        if hasattr(live, "_live_render"):  # printing redraws the view: let that redraw show the new one
            with live._lock:
                live._renderable = view
                live._live_render.set_renderable(view)
        else:
            live.update(view, refresh=True)
        live.console.print(Text("\n".join(lines)), soft_wrap=True)

    def _show_in_notebook(self, view: Any) -> None:
        display = importlib.import_module("IPython.display").display
        data = {"text/plain": render_text(view)}
        if self._display is None:
            self._display = display(data, raw=True, display_id=True)
        else:
            self._display.update(data, raw=True)

    def _stop_view(self) -> None:
        """Close the live view (it is erased: the lines printed above it and the summary stay)."""
        if self._ticker is not None:
            self._ticker.set()
            self._ticker = None
        live, self._live = self._live, None
        if live is not None:
            live.stop()
            lines, self._pending = self._pending, []
            for line in lines:
                self._write(line)
        self._display = None

    def _print(self, line: str) -> None:
        """Print a line; while a live view is shown, above it, at its next refresh."""
        if self._live is not None:
            self._pending.append(line)
        else:
            self._write(line)

    def _write(self, line: str) -> None:
        stream = self._out if self._out is not None else sys.stderr
        stream.write(line + "\n")
        flush = getattr(stream, "flush", None)
        if callable(flush):
            flush()

    def _result_line(self, experiment: ExperimentInfo, trial: Trial, result: dict[str, Any]) -> str:
        flat = flatten_dict(result)
        keys = [k for k in flat if k not in AUTO_FIELDS]
        if experiment.metric in flat:
            keys.remove(experiment.metric)
            keys.insert(0, experiment.metric)
        fields = " ".join(f"{key}={format_value(flat[key], 16)}" for key in keys)
        if len(fields) > 110:
            fields = fields[:109] + "…"
        iteration = result.get("training_iteration")
        head = f"{trial.trial_id} iter={format_value(iteration)}" if iteration is not None else trial.trial_id
        return f"{head} {fields}".rstrip()


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):
        return False
