"""The executor contract: what an executor must do. Everything a plugin needs is importable from here.

An executor runs trials somewhere (this process, worker processes, a cluster) and streams their results
to the controller. ``inline`` and ``local`` are written against this module only, as a plugin is.

Call order (the controller calls, the executor answers)::

    start(trainable, handler)      once: ship the trainable to workers; refuse an impossible request
    capacity(resources) -> int     how many more trials of that request fit now
    launch(TrialLaunch)            start one trial (after capacity said it fits); do not wait for it
    process(timeout)               deliver results and ends to the handler; wait up to timeout s
    stop(trial_id, force=False)    end a trial outside a decision (time budget, Ctrl+C)
    running() -> int               launched trials not ended yet
    shutdown()                     once, at the end, always: nothing is left running

The handler (:class:`ExecutorHandler`, the controller):

* ``on_result(trial_id, result, checkpoint) -> Decision`` for every result, in the order the trial
  reported them, with the fields the session adds (``training_iteration``, ``time_this_iter_s``,
  ``time_total_s``, ``timestamp``, ``trial_id``, ``done``); ``checkpoint`` is a directory inside the
  trial's directory (``TrialLaunch.trial_dir``, on the driver's storage), or None. A trial may run
  elsewhere (a node's scratch directory, with ``get_context().trial_dir`` pointing there): the executor
  then brings each checkpoint into ``trial_dir`` before calling ``on_result``, and a launch's starting
  checkpoint to where the trial runs (what ``tune-ray``'s ``checkpoint_sync="driver"`` does).
* ``on_trial_end(trial_id, outcome, error)`` exactly once per launch, after its last ``on_result``,
  with an :class:`Outcome`: COMPLETED, STOPPED, ERRORED (``error`` is the traceback) or WORKER_DIED (the
  process or actor died; ``error`` says how). Failures are retried by the controller with a new launch.
  The one exception: :meth:`Executor.shutdown` abandons launches still running without calling it (the
  controller only shuts down with trials running when the experiment is failing or interrupted hard).

Rules:

* **Pipelining.** A decision takes effect exactly at the trial's next ``report()``: the decision about
  result *k* is what report *k+1* acts on — CONTINUE goes on; STOP, PAUSE and RESTART end the launch
  STOPPED there, and result *k+1* (and anything after it) is never delivered. Code between the two
  reports runs. A trial that returns without reporting again ends COMPLETED; a result with ``done=True``
  is the trial's last, whatever is decided about it. The far side gets this by
  running :class:`TrialRunner` with a :class:`ReportChannel`: an executor only transports results and
  answers.
* **Stopping.** After ``stop(trial_id)`` the next result of the trial to reach the handler is its last
  (the one being delivered, when ``stop`` is called from inside ``on_result``); the launch then ends
  STOPPED. So a graceful stop keeps the work and checkpoint of the iteration in progress; a trial that
  never reports again runs on until it returns or is stopped by force. ``stop(trial_id, force=True)``
  ends it now (a process executor kills its worker) and calls ``on_trial_end(STOPPED)`` before
  returning. Stopping a trial that is not running does nothing.
* **Threading.** The handler is called only from inside ``process()`` and ``stop()``, on the thread
  that called them (the driver's). An exception the handler raises propagates out of ``process()``; the
  controller then shuts the executor down. The handler may call ``stop()`` from inside ``on_result``.
* **Launch tokens.** :attr:`TrialLaunch.token` is unique per launch; a worker that runs one launch after
  another acts on a stop request or answer only when it names the launch it runs now
  (:class:`CurrentLaunch`; the rule is in :mod:`tunecore.executors.tokens`).
* **Resources.** :class:`Resources` is a list of bundles ``{cpu, gpu, memory, <custom>: amount}``
  (:func:`requested_resources` gives a trainable's; each launch carries its own in
  ``TrialLaunch.resources``, which the executor grants as they are). An executor states what it can satisfy:
  ``start()`` raises :class:`ResourceError` naming the request and the capacity when the request can
  never fit (:func:`check_satisfiable`), and ``capacity()`` counts what fits now (:class:`ResourcePool`).
  ``capacity()`` accepts a dict or a Resources.
* **Shipping the trainable.** An executor that runs trials in other processes sends the trainable once
  with :func:`pickle_trainable` (by value where the far side cannot import it; tracebacks keep the user's
  files and lines); :func:`pickle_by_value` does the same for a launch plain pickle refuses.
* **Shutdown** ends every worker (killing those that do not exit in time) and reaps them: no process,
  thread or actor of the executor is left running. Calling it again does nothing.

``tunecore.testing.executors.ExecutorConformance`` checks all of this against any executor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tunecore.lazy import import_export

_EXPORTS: dict[str, str] = {
    "Executor": "tunecore.executors.base",
    "ExecutorHandler": "tunecore.executors.base",
    "TrialLaunch": "tunecore.executors.launch",
    "Outcome": "tunecore.executors.outcome",
    "TrialOutcome": "tunecore.executors.outcome",
    "TrialRunner": "tunecore.executors.runner",
    "ReportChannel": "tunecore.executors.channel",
    "new_token": "tunecore.executors.tokens",
    "CurrentLaunch": "tunecore.executors.tokens",
    "Resources": "tunecore.executors.resources",
    "ResourceError": "tunecore.executors.resources",
    "ResourceRequest": "tunecore.executors.resources",
    "ResourcePool": "tunecore.executors.accounting",
    "check_satisfiable": "tunecore.executors.accounting",
    "requested_resources": "tunecore.trainable",
    "pickle_trainable": "tunecore.executors.payload",
    "pickle_by_value": "tunecore.executors.payload",
    "Action": "tunecore.protocols",
    "Decision": "tunecore.protocols",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:  # names are imported on first use: no import cycles, a cheap import
    return import_export(__name__, _EXPORTS, globals(), name)


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from tunecore.executors.accounting import ResourcePool as ResourcePool
    from tunecore.executors.accounting import check_satisfiable as check_satisfiable
    from tunecore.executors.base import Executor as Executor
    from tunecore.executors.base import ExecutorHandler as ExecutorHandler
    from tunecore.executors.channel import ReportChannel as ReportChannel
    from tunecore.executors.launch import TrialLaunch as TrialLaunch
    from tunecore.executors.outcome import Outcome as Outcome
    from tunecore.executors.outcome import TrialOutcome as TrialOutcome
    from tunecore.executors.payload import pickle_by_value as pickle_by_value
    from tunecore.executors.payload import pickle_trainable as pickle_trainable
    from tunecore.executors.resources import ResourceError as ResourceError
    from tunecore.executors.resources import ResourceRequest as ResourceRequest
    from tunecore.executors.resources import Resources as Resources
    from tunecore.executors.runner import TrialRunner as TrialRunner
    from tunecore.executors.tokens import CurrentLaunch as CurrentLaunch
    from tunecore.executors.tokens import new_token as new_token
    from tunecore.protocols import Action as Action
    from tunecore.protocols import Decision as Decision
    from tunecore.trainable import requested_resources as requested_resources
