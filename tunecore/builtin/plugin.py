"""Registers the core's own components; named by the core distribution's ``tunecore`` entry point."""

from __future__ import annotations

from tunecore.builtin import inline_executor, local_executor, loggers, schedulers, searchers, stoppers
from tunecore.plugins import hookimpl
from tunecore.registry import Register


@hookimpl
def tunecore_register_searchers(register: Register) -> None:
    """The random searcher (random sampling, grid expansion, points_to_evaluate)."""
    register("random", searchers.RandomSearcher, "Random sampling with grid_search expansion")


@hookimpl
def tunecore_register_schedulers(register: Register) -> None:
    """The fifo scheduler."""
    register("fifo", schedulers.FIFOScheduler, "Run every trial to its end, first in first out")


@hookimpl
def tunecore_register_stoppers(register: Register) -> None:
    """max_iter, threshold, plateau, experiment_plateau and timeout."""
    register("max_iter", stoppers.MaxIterStopper, "Stop each trial after max_iter iterations")
    register("threshold", stoppers.ThresholdStopper, "Stop a trial once its metric crosses a value (>= or <=)")
    register("plateau", stoppers.PlateauStopper, "Stop a trial whose metric stopped changing")
    register(
        "experiment_plateau",
        stoppers.ExperimentPlateauStopper,
        "Stop the experiment when the best trials' results stopped changing",
    )
    register("timeout", stoppers.TimeoutStopper, "Stop the experiment after timeout_s seconds")


@hookimpl
def tunecore_register_executors(register: Register) -> None:
    """inline (in the driver process) and local (persistent worker processes, the default)."""
    register("inline", inline_executor.InlineExecutor, "Run trials in this process, one at a time (no isolation)")
    register("local", local_executor.LocalExecutor, "Run trials in persistent worker processes on this machine")


@hookimpl
def tunecore_register_loggers(register: Register) -> None:
    """json (result.jsonl), csv (progress.csv) and console (live status)."""
    register("json", loggers.JsonLogger, "Every result, with its trial and config, in <experiment>/result.jsonl")
    register("csv", loggers.CsvLogger, "Every result, with its trial and config, in <experiment>/progress.csv")
    register("console", loggers.ConsoleLogger, "Live progress view, finished trials and a summary on stderr")
