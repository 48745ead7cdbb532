"""The tunecore plugin contract: every hook a plugin may implement.

A plugin is a module (named by an entry point in the ``tunecore`` group) holding functions decorated
with :data:`tunecore.hookimpl` whose names are the hook names below. A plugin implements only the hooks
it needs; each implementation may accept any subset of a hook's arguments, by name.

There are two families of hooks:

* **Registration hooks** are called once per plugin when a plugin manager is built. Each receives
  ``register(name, factory, summary="")``; a plugin calls it once per component it provides.
* **Experiment events** are broadcast while an experiment runs, in this order for each launch of a
  trial: ``trial_started``, then ``trial_result`` (and ``trial_checkpoint`` when the result carried a
  checkpoint) for every result, then exactly one of ``trial_paused`` (it may start again later),
  ``trial_restarted`` (it starts again with a new config), ``trial_retried`` (it failed and starts again)
  or ``trial_finished`` (TERMINATED or ERROR: its last event) — except that a launch an interruption
  (Ctrl+C, fail_fast) stops has no end event: the trial stays unfinished for ``tunecore resume``.
  ``experiment_started`` comes before any trial event and ``experiment_finished`` after the last one.
  Each event is broadcast after the change it announces is in the journal. ``trial`` is a read-only view
  (:class:`tunecore.Trial`, frozen) showing the trial at that moment; keep its id, not the view, to follow
  it. Event hooks return nothing; an exception raised by one is reported and stops the experiment, so
  observers should be cheap and robust.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from tunecore.experiment import ExperimentInfo
    from tunecore.registry import Register
    from tunecore.trial import Trial

PROJECT_NAME = "tunecore"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


# --- registration hooks -------------------------------------------------------------------------


@hookspec
def tunecore_register_searchers(register: Register) -> None:
    """Register searchers: components that propose trial configurations.

    Called once per plugin when a plugin manager is built. Call ``register(name, factory, summary)``
    for each searcher; ``factory(**options)`` must return an object following
    :class:`tunecore.protocols.Searcher`. Returns nothing.
    """


@hookspec
def tunecore_register_schedulers(register: Register) -> None:
    """Register schedulers: components that decide whether running trials continue, pause or stop.

    Called once per plugin when a plugin manager is built. Call ``register(name, factory, summary)``
    for each scheduler; ``factory(**options)`` must return an object following
    :class:`tunecore.protocols.Scheduler`. Returns nothing.
    """


@hookspec
def tunecore_register_stoppers(register: Register) -> None:
    """Register stoppers: components that end single trials or the whole experiment.

    Called once per plugin when a plugin manager is built. Call ``register(name, factory, summary)``
    for each stopper; ``factory(**options)`` must return an object following
    :class:`tunecore.protocols.Stopper`. Returns nothing.
    """


@hookspec
def tunecore_register_executors(register: Register) -> None:
    """Register executors: components that run trainables (in-process, local processes, a cluster).

    Called once per plugin when a plugin manager is built. Call ``register(name, factory, summary)``
    for each executor; ``factory(**options)`` must return an object following
    :class:`tunecore.executors.Executor` (the contract is in :mod:`tunecore.executors`). Returns nothing.
    """


@hookspec
def tunecore_register_loggers(register: Register) -> None:
    """Register loggers: components that observe experiment events and record them somewhere.

    Called once per plugin when a plugin manager is built. Call ``register(name, factory, summary)``
    for each logger; ``factory(**options)`` must return an object following
    :class:`tunecore.protocols.Logger`. Returns nothing.
    """


# --- experiment events ----------------------------------------------------------------------------


@hookspec
def tunecore_experiment_started(experiment: ExperimentInfo, trials: list[Trial]) -> None:
    """An experiment is about to launch its first trial.

    ``experiment`` holds its name, storage directory, metric, mode and specification. Called once per
    run of an experiment (again after a resume). ``trials`` are the trials it already has: none for a new
    experiment; after a resume every earlier trial as the resume left it (TERMINATED and ERROR ones done,
    the others PENDING or PAUSED until they run again), with its last result. Returns nothing.
    """


@hookspec
def tunecore_trial_started(experiment: ExperimentInfo, trial: Trial) -> None:
    """A trial was launched (or relaunched after a pause, a restart or a retry).

    ``trial`` is the trial's record: id, config, status, directory. Returns nothing.
    """


@hookspec
def tunecore_trial_result(experiment: ExperimentInfo, trial: Trial, result: dict[str, Any]) -> None:
    """A trial reported a result.

    ``result`` is the reported dict with the auto-filled fields (``training_iteration``,
    ``time_this_iter_s``, ``time_total_s``, ``timestamp``, ``trial_id``, ``done``). Called after the
    scheduler and stoppers have decided about it. Must not modify ``result``. Returns nothing.
    """


@hookspec
def tunecore_trial_checkpoint(experiment: ExperimentInfo, trial: Trial, checkpoint: Any) -> None:
    """A trial saved a checkpoint, now stored in the trial's directory.

    ``checkpoint`` is a :class:`tunecore.Checkpoint`. Called right after the ``tunecore_trial_result``
    of the result that carried it. Returns nothing.
    """


@hookspec
def tunecore_trial_paused(experiment: ExperimentInfo, trial: Trial) -> None:
    """A scheduler's PAUSE took effect: the trial is PAUSED.

    ``tunecore_trial_started`` follows when the scheduler picks it to run again (from its latest
    checkpoint), ``tunecore_trial_finished`` when it gives up on it. Returns nothing.
    """


@hookspec
def tunecore_trial_restarted(
    experiment: ExperimentInfo, trial: Trial, old_config: dict[str, Any], new_config: dict[str, Any], checkpoint: Any
) -> None:
    """A scheduler's restart took effect (PBT's exploit): the trial starts again with ``new_config``.

    ``old_config`` is the config it ran with; ``checkpoint`` the :class:`tunecore.Checkpoint` it starts from
    again (a donor's, or None for a fresh start). The trial is PENDING; ``tunecore_trial_started`` follows when it
    is relaunched. Returns nothing.
    """


@hookspec
def tunecore_trial_retried(experiment: ExperimentInfo, trial: Trial, error: str, attempt: int) -> None:
    """A trial failed and will be launched again (``FailureConfig.max_failures``).

    ``error`` is the failure's traceback; ``attempt`` the number of the coming attempt (2 for the first
    retry). The trial is PENDING; ``tunecore_trial_started`` follows when it is relaunched. Returns nothing.
    """


@hookspec
def tunecore_trial_finished(experiment: ExperimentInfo, trial: Trial, status: str, error: str | None) -> None:
    """A trial ended: ``status`` is ``"TERMINATED"`` or ``"ERROR"``.

    ``error`` is the formatted traceback when the trial failed, else None. Called once per trial and
    attempt that ends. Returns nothing.
    """


@hookspec
def tunecore_experiment_finished(experiment: ExperimentInfo, trials: list[Trial]) -> None:
    """The experiment ended (all trials done, stopped, or interrupted).

    ``trials`` lists every trial's record in creation order. Returns nothing.
    """
