"""The controller: the only place that composes searcher, scheduler, stoppers, executor and loggers.

Order of calls (also in ``docs/architecture.md``):

1. ``setup`` of searcher, scheduler and stoppers; ``experiment.json`` written; loggers attached;
   ``experiment_started`` broadcast; ``executor.start``.
2. Loop until nothing can run any more:
   a. while the executor has capacity (and ``max_concurrent_trials`` allows): if no trial is pending, ask
      ``searcher.suggest`` (None = not now, FINISHED = exhausted; never more than ``num_samples`` x grid
      points); a new trial gets ``scheduler.on_trial_add``; ``scheduler.choose_trial_to_run(pending,
      paused)`` picks what starts; ``trial_started`` broadcast; ``executor.launch``.
   b. ``executor.process`` delivers results and trial ends (below).
   c. the time budget and the stoppers' ``stop_all`` can stop the experiment: no more launches, running
      trials are asked to stop at their next report and, after a grace period, ended by force.
3. For every result: metric check, each stopper's ``should_stop`` (all of them, any one stops), then
   ``scheduler.on_trial_result`` unless a stopper already stopped it, the experiment is stopping or the
   trial is done, then ``searcher.on_trial_result`` (every result but the trial's final one); the
   decision is recorded in the journal with the result; then ``trial_result`` (and ``trial_checkpoint``)
   are broadcast; then each stopper's ``stop_all``.
4. For every trial end: a failure is retried (``FailureConfig.max_failures``; ``trial_retried``) or ends the
   trial in ERROR (``scheduler.on_trial_error``); PAUSE leaves it PAUSED (``trial_paused``); a restart
   relaunches it with the new config from the given checkpoint (``trial_restarted``); anything else ends it
   TERMINATED (``scheduler.on_trial_complete``); then ``searcher.on_trial_complete`` and ``trial_finished``.
5. At the end: ``executor.shutdown`` (nothing left running), ``experiment_finished``, state saved.

Per-result work is O(1) in the number of trials.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import cloudpickle

from tunecore import resume as resuming
from tunecore.checkpoint import Checkpoint
from tunecore.checkpoint_manager import CheckpointManager
from tunecore.components import ComponentSpec
from tunecore.config import ExperimentSpec
from tunecore.errors import ConfigError, MetricWarning, TuneError
from tunecore.executors import ExecutorHandler, Outcome, TrialLaunch, requested_resources
from tunecore.experiment import ExperimentInfo
from tunecore.formatting import component_result, missing_metrics
from tunecore.options import is_finite_number, metric_names
from tunecore.plugins import Plugins
from tunecore.protocols import CONTINUE, FINISHED, STOP, Action, Decision, Stopper
from tunecore.references import user_modules_in
from tunecore.resume import ResumeOptions
from tunecore.session import AUTO_FIELDS
from tunecore.snapshots import Components, Snapshots
from tunecore.space import SpaceError, grid_points
from tunecore.stopping import as_stopper
from tunecore.storage import SPEC_FILE, ExperimentStorage
from tunecore.trial import Trial, TrialStatus
from tunecore.trial_table import TrialState, TrialTable

__all__ = ["Controller", "ResumeOptions"]

FORCE_STOP_GRACE_S = 5.0
"""After asking running trials to stop (time budget, experiment stop), end them by force after this."""
STATE_INTERVAL_S = 5.0
"""How often state.json (the human-readable trial table) is refreshed while the experiment runs."""
_AUTO = frozenset(AUTO_FIELDS)


class Controller(ExecutorHandler):
    """Runs one experiment to its end."""

    def __init__(
        self,
        spec: ExperimentSpec,
        plugins: Plugins,
        experiment_path: str,
        trainable: Any,
        resume: ResumeOptions | None = None,
    ) -> None:
        self.spec = spec
        self.resume = resume
        self.plugins = plugins
        self.trainable = trainable
        tune, run = spec.tune_config, spec.run_config
        self.metric, self.mode = tune.metric, tune.mode
        self.num_samples = tune.num_samples
        self.max_concurrent = tune.max_concurrent_trials
        self.time_budget_s = tune.time_budget_s
        self.failure_config = run.failure_config
        self.checkpoint_config = run.checkpoint_config
        named = [tune.searcher, tune.scheduler, tune.executor, *run.stoppers, *run.logger_specs()]
        self.plugins.registry.check_known((c.kind, c.name) for c in named if c.instance is None and c.name)
        self.searcher = self._build(tune.searcher)
        self.scheduler = self._build(tune.scheduler)
        self.executor = self._build(tune.executor)
        self.stoppers: list[Stopper] = [self._build(s) for s in run.stoppers]
        if run.stop is not None:
            self.stoppers.insert(0, as_stopper(run.stop))
        self.loggers = [self._build(spec) for spec in run.logger_specs()] + list(run.callbacks)
        self.request = requested_resources(trainable)
        """What each launch needs (its bundles travel with the launch)."""
        self.resources = self.request.totals()
        spec_data = spec.to_data()
        # last: nothing after it may raise, or the lock would stay held until the object is collected
        self.storage = ExperimentStorage(experiment_path, purpose="run" if resume is None else "resume")  # locked
        self.events = plugins.events
        self.info = ExperimentInfo(
            name=os.path.basename(self.storage.path),
            path=self.storage.path,
            metric=self.metric if isinstance(self.metric, str) else None,
            mode=self.mode if isinstance(self.mode, str) else None,
            spec=spec_data,
        )
        self.checkpoints = CheckpointManager(run.checkpoint_config)
        self.table = TrialTable(self.storage, self.checkpoints, self.events, lambda: self.info, self.resources)
        self.components = Components(self.searcher, self.scheduler, self.stoppers)
        self.snapshots = Snapshots(self.storage, self.components)
        self._decisions: dict[str, Decision] = {}
        self._metrics = metric_names(self.metric)
        self._warned_non_finite: set[str] = set()
        self._stopped_by_experiment: set[str] = set()
        """Trials whose pending STOP came from the experiment stopping (not from a component's decision)."""
        self._metric_errors: dict[str, str] = {}
        self._max_trials = -1
        self._searcher_finished = False
        self._searcher_waiting = False
        self._stop_reason: str | None = None
        self._force_at: float | None = None
        self._last_state = 0.0
        self._interrupted = False

    @property
    def trials(self) -> dict[str, Trial]:
        """Every trial as a read-only view, by id, in creation order."""
        return self.table.views()

    def _build(self, spec: ComponentSpec) -> Any:
        return spec.build(self.plugins.registry)

    # --- the run ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Run the experiment to its end; always leaves nothing running."""
        space = self.spec.param_space
        seed = self.spec.tune_config.seed
        grid_size = len(grid_points(space))
        self._max_trials = -1 if self.num_samples == -1 else self.num_samples * grid_size
        component: Any = self.searcher
        try:  # a failure here leaves the experiment's files as they were: no snapshot, no state
            self.searcher.setup(space, self.metric, self.mode, seed, self.num_samples)
            component = self.scheduler
            self.scheduler.setup(self.metric, self.mode)
            for stopper in self.stoppers:
                component = stopper
                stopper.setup(self.metric, self.mode)
            component = None
            self.snapshots.run_started()
            if self.resume is None:
                modules = self._write_spec()  # first: experiment.json is what makes a directory resumable
                self.storage.write_experiment(
                    {
                        **self.info.spec,
                        "path": self.storage.path,
                        "versions": self._versions(),
                        "user_modules": modules,
                    }
                )
            else:
                resuming.restore(
                    self.storage,
                    self.table,
                    self.components,
                    self.checkpoints,
                    self.snapshots,
                    self.resume,
                    metrics=self._metrics,
                )
        except ValueError as exc:  # a component rejecting the experiment in setup(): bad input, said in one line
            self.storage.close()
            if component is None or isinstance(exc, (TuneError, SpaceError)):  # these say what to fix already
                raise
            raise ConfigError(f"{type(component).__name__}.setup() rejected the experiment: {exc}") from exc
        except BaseException:
            self.storage.close()
            raise
        for logger in self.loggers:
            self.events.observe(logger)
        try:
            self.events.experiment_started(self.info, list(self.trials.values()))
            self.executor.start(self.trainable, self)
            self._loop()
            self._end_paused_trials()
            # Not in `finally`: after an exception (a second Ctrl+C between suggest() and the journal, say)
            # the components may be ahead of the journal; the snapshot of the last trial event stands.
            self.snapshots.take(force=True)
        except KeyboardInterrupt:  # a second Ctrl+C: stopped at once, still resumable
            self.info = attrs.evolve(self.info, interrupted=True)
            raise
        except BaseException as exc:  # a component's error: loggers say how it ended
            self.info = attrs.evolve(self.info, failed=f"{type(exc).__name__}: {exc}".rstrip(": "))
            raise
        finally:
            try:
                try:
                    self.executor.shutdown()
                finally:  # the loggers flush their files here, even when the executor's shutdown failed
                    self.events.experiment_finished(self.info, list(self.trials.values()))
            finally:
                self._save_state(ended=True)
                self.storage.close()
                for logger in self.loggers:
                    self.events.forget(logger)

    def _loop(self) -> None:
        executor, snapshots = self.executor, self.snapshots
        while True:
            self._check_stop_conditions()
            if self._stop_reason is None:
                self._launch_what_fits()
            if executor.running() == 0 and (self._stop_reason is not None or not self._work_left()):
                return
            executor.process(self._wait_time())
            now = time.monotonic()
            snapshots.take_if_due(now)
            if now - self._last_state >= STATE_INTERVAL_S:
                self._save_state()

    def _work_left(self) -> bool:
        table = self.table
        if table.pending:
            return True
        if table.paused:
            return self.scheduler.choose_trial_to_run([], self._views(table.paused)) is not None
        if self._searcher_waiting:
            raise TuneError(
                f"the searcher {type(self.searcher).__name__} answered None ('not now') while no trial is running:"
                " it would wait forever. A searcher must return a config or FINISHED when nothing is running"
            )
        return not self._searcher_finished

    def _views(self, trial_ids: Any) -> list[Trial]:
        """Read-only views of the trials ``trial_ids`` (ids or a dict keyed by id), in their order."""
        table = self.table
        return [table.view(table[trial_id]) for trial_id in trial_ids]

    def _wait_time(self) -> float:
        deadlines = [0.2]
        now = time.monotonic()
        if self.time_budget_s is not None and self._stop_reason is None:
            deadlines.append(self.snapshots.started + self.time_budget_s - now)
        if self._force_at is not None:
            deadlines.append(self._force_at - now)
        return max(0.0, min(deadlines))

    def _check_time_budget(self, now: float) -> None:
        if (
            self._stop_reason is None
            and self.time_budget_s is not None
            and now - self.snapshots.started >= self.time_budget_s
        ):
            self.request_stop(f"time budget of {self.time_budget_s:g} s reached")

    def _check_stop_conditions(self) -> None:
        now = time.monotonic()
        self._check_time_budget(now)
        if self._force_at is not None and now >= self._force_at:
            self._force_at = None
            for trial_id in list(self.table.running):
                self.executor.stop(trial_id, force=True)

    def interrupt(self, reason: str) -> bool:
        """Stop and keep the stopped trials unfinished, to be resumed (Ctrl+C, SIGTERM, fail_fast).

        False (and nothing changes) when the experiment is already ending for another reason (time budget,
        a stopper): its trials then end as that stop says, TERMINATED.
        """
        if self._stop_reason is not None and not self._interrupted:
            return False
        self._interrupted = True
        self.info = attrs.evolve(self.info, interrupted=True)
        self.request_stop(reason)
        return True

    @property
    def interrupted(self) -> bool:
        """True when :meth:`interrupt` ended the run."""
        return self._interrupted

    def request_stop(self, reason: str) -> None:
        """Stop the experiment: launch nothing more, ask running trials to stop, force them later."""
        if self._stop_reason is not None:
            return
        self._stop_reason = reason
        for trial_id in list(self.table.running):
            self.executor.stop(trial_id)
        self._force_at = time.monotonic() + FORCE_STOP_GRACE_S

    # --- launching ---------------------------------------------------------------------------------

    def _end_paused_trials(self, trials: Sequence[Trial] | None = None) -> None:
        """End paused trials TERMINATED: those the scheduler gives up on, or (at the end) all of them."""
        table = self.table
        if trials is None:
            if self._interrupted:  # an interrupted experiment keeps them PAUSED for the resume
                return
            trials = self._views(table.paused)
        for given in trials:
            state = table.unpause(given.trial_id)
            if state is None:
                continue
            view, last = table.view(state), component_result(state.last_result)
            self.scheduler.on_trial_complete(view, last)
            self.searcher.on_trial_complete(state.trial_id, last, False)
            table.finish(state, TrialStatus.TERMINATED)
            self.snapshots.take()

    def _launch_what_fits(self) -> None:
        table = self.table
        if table.paused:
            self._end_paused_trials(self.scheduler.choose_trials_to_stop(self._views(table.paused)))
        while not (self.max_concurrent and len(table.running) >= self.max_concurrent):
            if self.executor.capacity(self.request) <= 0:
                return
            if not table.pending:
                self._ask_searcher()
            if not table.pending and not table.paused:
                return
            chosen = self.scheduler.choose_trial_to_run(self._views(table.pending), self._views(table.paused))
            if chosen is None:
                return
            self._launch(table[chosen.trial_id])

    def _ask_searcher(self) -> None:
        self._searcher_waiting = False
        if self._searcher_finished:
            return
        table = self.table
        if self._max_trials != -1 and len(table) >= self._max_trials:
            self._searcher_finished = True
            return
        trial_id = f"t{len(table) + 1:05d}"
        config = self.searcher.suggest(trial_id)
        if config is FINISHED:
            self._searcher_finished = True
            return
        if config is None:
            self._searcher_waiting = True
            return
        if not isinstance(config, dict):
            raise TuneError(
                f"searcher {type(self.searcher).__name__}.suggest() returned {type(config).__name__};"
                " it must return a config dict, None or tunecore.FINISHED"
            )
        state = table.create(trial_id, config)
        self.scheduler.on_trial_add(table.view(state))
        self.snapshots.take()

    def _launch(self, state: TrialState) -> None:
        checkpoint = self.table.start(state)
        last = state.last_result or {}
        self.executor.launch(
            TrialLaunch(
                trial_id=state.trial_id,
                config=state.config,
                trial_dir=state.path or "",
                checkpoint=checkpoint,
                resources=self.request,
                seed=_trial_seed(self.spec.tune_config.seed, state.trial_id),
                start_iteration=int(last.get("training_iteration", 0)),
                time_total_s=float(last.get("time_total_s", 0.0)),
                checkpoint_frequency=self.checkpoint_config.checkpoint_frequency,
                checkpoint_at_end=self.checkpoint_config.checkpoint_at_end,
            )
        )

    # --- events from the executor --------------------------------------------------------------------

    def on_result(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> Decision:
        """Decide about one result; record and broadcast it."""
        table = self.table
        state = table[trial_id]
        table.take_result(state, result, checkpoint)
        self._check_time_budget(time.monotonic())
        seen = component_result(result)  # nested values also by "outer/inner": a metric may name one
        missing = missing_metrics(seen, self._metrics)
        if missing:
            self._metric_errors[trial_id] = (
                f"trial {trial_id} reported a result without the metric {missing!r}"
                f" (TuneConfig.metric); it reported: {', '.join(sorted(set(result) - _AUTO)) or 'nothing'}"
                " (besides the automatic fields)."
                " Report the metric in every result, or fix TuneConfig.metric."
            )
            decision, scheduled = STOP, False
        else:
            self._warn_non_finite(trial_id, seen)
            decision, scheduled = self._decide(state, seen)
        final = False
        if decision.action is not Action.CONTINUE:
            if decision.action is Action.RESTART and decision.checkpoint is not None:
                # e.g. a PBT donor's checkpoint: kept on disk until this trial has loaded it
                self.checkpoints.pin(_checkpoint_dir(decision.checkpoint))
            self._decisions[trial_id] = decision
            kept_for_resume = trial_id in self._stopped_by_experiment and self._interrupted
            final = decision.action is Action.STOP and not kept_for_resume
        table.commit_result(state, result, checkpoint, final=final, scheduled=scheduled)
        if self._stop_reason is None and any(stopper.stop_all() for stopper in self.stoppers):
            self.request_stop("a stopper ended the experiment")
        return decision

    def _decide(self, state: TrialState, result: dict[str, Any]) -> tuple[Decision, bool]:
        """The decision about one result, and whether the scheduler was shown it (the journal keeps that, so
        that a resume's replay shows the scheduler exactly what it saw live)."""
        trial_id = state.trial_id
        stop = False
        for stopper in self.stoppers:  # every stopper sees every result: some keep state
            stop = stopper.should_stop(trial_id, result) or stop
        if result.get("done"):  # the trainable finished: on_trial_complete follows with this result
            return (STOP if stop else CONTINUE), False
        decision, scheduled = (STOP if stop else CONTINUE), False
        if not stop and self._stop_reason is not None:
            self._stopped_by_experiment.add(trial_id)
        elif not stop:
            decision, scheduled = self.scheduler.on_trial_result(self.table.view(state), result), True
            if not isinstance(decision, Decision):
                raise TuneError(
                    f"scheduler {type(self.scheduler).__name__}.on_trial_result() returned {decision!r};"
                    " it must return a tunecore.Decision (CONTINUE, PAUSE, STOP or Decision.restart(...))"
                )
        self.searcher.on_trial_result(trial_id, result)  # every intermediate result, whatever was decided
        return decision, scheduled

    def _warn_non_finite(self, trial_id: str, result: dict[str, Any]) -> None:
        """Warn once per trial about a metric value that is not a finite number (it never counts as best)."""
        if trial_id in self._warned_non_finite:
            return
        bad = {m: result[m] for m in self._metrics if not is_finite_number(result[m])}
        if bad:
            self._warned_non_finite.add(trial_id)
            values = ", ".join(f"{name}={value!r}" for name, value in bad.items())
            warnings.warn(
                f"trial {trial_id} reported {values} at iteration {result.get('training_iteration')}: not a finite"
                " number. The result is recorded as reported and the trial goes on, but such a value never counts"
                " as the best and the first-party schedulers rank it worst (report plain numbers, e.g."
                " tensor.item()). Further such values of this trial are not reported.",
                MetricWarning,
                stacklevel=2,
            )

    def on_trial_end(self, trial_id: str, outcome: Outcome, error: str | None) -> None:
        """Apply the end of a launch: retry, error, pause, restart or terminate."""
        table = self.table
        state = table[trial_id]
        table.launch_ended(state)
        decision = self._decisions.pop(trial_id, None)
        outcome = Outcome(outcome)  # also a plain string from an executor written before Outcome
        failed = outcome.is_failure
        if failed and decision is not None and trial_id not in self._metric_errors:
            # it failed after the result its decision was about, before the decision took effect: the
            # decision stands (a stopped trial is never retried past its stop) and the failure does not count
            header = f"Failure after the decision to {decision.action.value} (the decision stands; not retried)"
            table.note_ignored_failure(state, error or "unknown error", header)
            outcome, failed = Outcome.STOPPED, False
        restart = decision is not None and decision.action is Action.RESTART
        # a restart relaunches the trial, unless the experiment is ending (not interrupted): then it is done
        relaunch = restart and outcome is Outcome.STOPPED and (self._stop_reason is None or self._interrupted)
        if restart and decision is not None and decision.checkpoint is not None and not relaunch:
            table.journal_deleted(self.checkpoints.unpin(_checkpoint_dir(decision.checkpoint)))
        stopped_by_experiment = trial_id in self._stopped_by_experiment
        self._stopped_by_experiment.discard(trial_id)
        if trial_id in self._metric_errors:
            self._fail(state, self._metric_errors.pop(trial_id), retry=False)
        elif failed:
            self._fail(state, error or "unknown error", retry=True)
        elif self._interrupted and outcome is Outcome.STOPPED and (decision is None or stopped_by_experiment):
            table.leave_for_resume(state)  # stopped by the interruption itself, not by a component
        elif outcome is Outcome.STOPPED and decision is not None and decision.action is Action.PAUSE:
            table.pause(state)
        elif relaunch and decision is not None:
            table.restart(state, decision.config, _checkpoint_path(decision.checkpoint))
        else:
            last = component_result(state.last_result)
            self.scheduler.on_trial_complete(table.view(state), last)
            self.searcher.on_trial_complete(trial_id, last, False)
            table.finish(state, TrialStatus.TERMINATED)
        self.snapshots.take()

    def _fail(self, state: TrialState, error: str, retry: bool) -> None:
        table = self.table
        table.record_failure(state, error)
        limit = self.failure_config.max_failures
        retries_left = limit == -1 or state.num_failures <= limit
        if retry and retries_left and (self._stop_reason is None or self._interrupted):
            table.retry(state, error)  # now, or (interrupted) by the resume: a retry is never lost to Ctrl+C
            return
        self.scheduler.on_trial_error(table.view(state))
        self.searcher.on_trial_complete(state.trial_id, component_result(state.last_result), True)
        table.finish(state, TrialStatus.ERROR, error)
        if self.failure_config.fail_fast:
            # like an interruption: the other running trials stay unfinished, so a resume continues them
            self.interrupt(f"trial {state.trial_id} failed and FailureConfig.fail_fast is set")

    # --- persistence ---------------------------------------------------------------------------------

    def _versions(self) -> dict[str, str]:
        """``{distribution: version}`` of the core and of every distribution whose component the experiment uses:
        by name from the registry, an instance's from the distribution that holds its class's module."""
        from importlib.metadata import PackageNotFoundError, packages_distributions, version

        run = self.spec.run_config
        specs = [self.spec.tune_config.component(kind) for kind in ("searcher", "scheduler", "executor")]
        found: dict[str, str] = {}
        owners: Mapping[str, list[str]] | None = None
        for spec in [*specs, *run.stopper_specs(), *run.logger_specs()]:
            if spec.name is not None:
                info = self.plugins.registry.get(spec.kind, spec.name)
                found[info.dist] = info.version
                continue
            if owners is None:
                owners = packages_distributions()  # slow (reads every distribution): only for instances
            for dist in owners.get(type(spec.instance).__module__.split(".")[0], []):
                try:
                    found.setdefault(dist, version(dist))
                except PackageNotFoundError:  # pragma: no cover - listed but not installed
                    pass
        try:
            found.setdefault("tunecore", version("tunecore"))
        except PackageNotFoundError:
            pass
        return dict(sorted(found.items()))

    def _write_spec(self) -> dict[str, str]:
        """Pickle the experiment (trainable, space, components) so that Tuner.restore can rebuild it.

        Returns the modules loaded from files (``file.py:train`` references) that the pickle refers to, as
        ``{module name: file}``: experiment.json records them and a resume loads them from those files again.
        """
        path = os.path.join(self.storage.path, SPEC_FILE)
        try:
            data = cloudpickle.dumps(self.spec)
        except Exception as exc:  # e.g. a callback holding a lock: resuming will need the trainable passed again
            data = cloudpickle.dumps(attrs.evolve(self.spec, trainable=None, run_config=_without_callbacks(self.spec)))
            warnings.warn(
                f"the experiment could not be saved whole ({type(exc).__name__}: {exc}); to resume it, pass the"
                " trainable and callbacks to Tuner.restore again",
                stacklevel=2,
            )
        temporary = path + ".tmp"
        with open(temporary, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
        return user_modules_in(data)

    def _save_state(self, ended: bool = False) -> None:
        """Refresh state.json; ``ended``: the run is over (how it ended: ``interrupted``, ``failed``)."""
        self._last_state = time.monotonic()
        self.storage.flush()
        self.storage.write_state(
            {
                "trials": [
                    {
                        "trial_id": t.trial_id,
                        "status": t.status.value,
                        "config": t.config,
                        "num_failures": t.num_failures,
                        "checkpoint": self.checkpoints.latest(t.trial_id),
                    }
                    for t in self.table
                ],
                "searcher_finished": self._searcher_finished,
                "stop_reason": self._stop_reason,
                "ended": ended,
                "interrupted": self.info.interrupted,
                "failed": self.info.failed,
            }
        )

    @property
    def stop_reason(self) -> str | None:
        """Why the experiment was stopped early, or None."""
        return self._stop_reason


def _checkpoint_path(checkpoint: Any) -> str | None:
    """The directory of a Checkpoint or path given in a decision (None for None)."""
    return None if checkpoint is None else _checkpoint_dir(checkpoint)


def _checkpoint_dir(checkpoint: Any) -> str:
    """The directory of a Checkpoint or path given in a decision."""
    return os.path.abspath(checkpoint.path if isinstance(checkpoint, Checkpoint) else os.fspath(checkpoint))


def _without_callbacks(spec: ExperimentSpec) -> Any:
    return attrs.evolve(spec.run_config, callbacks=[])


def _trial_seed(seed: int | None, trial_id: str) -> int | None:
    """A per-trial seed derived from the experiment's seed and the trial's number (None stays None)."""
    if seed is None:
        return None
    return (seed * 1_000_003 + int(trial_id.lstrip("t"))) % (2**31)
