"""``SchedulerConformance``: the scheduler protocol of :mod:`tunecore.protocols`, checked against a controller
in miniature (docs/plugins.md)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tunecore import space as sp
from tunecore.protocols import Decision, Scheduler
from tunecore.testing.suite import ConformanceSuite
from tunecore.trial import Trial, TrialStatus

__all__ = ["SchedulerConformance", "make_trial"]


def make_trial(trial_id: str, config: dict[str, Any] | None = None, **fields: Any) -> Trial:
    """A trial view as the controller hands one to a scheduler."""
    return Trial(trial_id=trial_id, config=dict(config or {"x": 0.5}), **fields)


class SchedulerConformance(ConformanceSuite):
    """The scheduler protocol, checked: subclass it and build the scheduler in :meth:`make_scheduler`."""

    pauses: ClassVar[bool] = False
    """True when, in the suite's scenario (:meth:`simulate`), the scheduler pauses trials and resumes some: the
    suite then checks that it does, and that a resumed trial was one offered as paused."""
    restarts: ClassVar[bool] = False
    """True when it restarts trials (``Decision.restart``) in the scenario: the suite checks that it does, each
    restart from a checkpoint a trial reported."""
    trials: ClassVar[int] = 6
    """Trials in the scenario (created as the controller does: when one can start and none is pending)."""
    steps: ClassVar[int] = 9
    """Results per trial when it runs to its end (the last is final: ``done``, no decision asked)."""
    concurrency: ClassVar[int] = 2
    """Trials running at once in the scenario."""

    def make_scheduler(self) -> Scheduler:
        """A new scheduler (not set up)."""
        raise NotImplementedError("subclass SchedulerConformance and override make_scheduler")

    def setup_scheduler(self) -> Scheduler:
        """A scheduler set up for ``metric``/``mode``."""
        scheduler = self.make_scheduler()
        scheduler.setup(self.metric, self.mode)
        return scheduler

    def result(self, trial_id: str, config: dict[str, Any], step: int) -> dict[str, Any]:
        """The result a trial reports at ``step``: ``loss = x + 1/step`` and the usual progress fields."""
        loss = float(config.get("x", 0.0)) + 1.0 / step
        return {
            self.metric: loss,
            "acc": -loss,
            "training_iteration": step,
            "time_total_s": float(step),
            "step": step,
            "trial_id": trial_id,
            "done": step >= self.steps,
        }

    def simulate(self, tmp_path: Path, swap_after: int | None = None) -> list[tuple[Any, ...]]:
        """Drive a new scheduler as the controller does, with ``concurrency`` trials at once; return its calls'
        log. With ``swap_after``, after that many results the scheduler is replaced by a new one restored
        from its pickled ``save()``."""
        return _Simulation(self, tmp_path).run(swap_after)

    # -- checks ---------------------------------------------------------------------------------------------

    def test_decisions_are_decisions_and_every_trial_ends(self, tmp_path: Path) -> None:
        log = self.simulate(tmp_path)
        ends = [entry[1] for entry in log if entry[0] == "end"]
        assert sorted(ends) == sorted({entry[1] for entry in log if entry[0] == "add"}), "a trial never ended"
        assert len(ends) == self.trials

    def test_pause_then_resume_offers_the_paused_trial(self, tmp_path: Path) -> None:
        self._need("pauses", "it does not pause trials in this scenario")
        log = self.simulate(tmp_path)
        assert _decided(log, "PAUSE"), "no trial was paused"
        resumed = [entry for entry in log if entry[0] == "run" and entry[2] == "paused"]
        assert resumed, "no paused trial was chosen to run again"

    def test_restarts_name_a_reported_checkpoint(self, tmp_path: Path) -> None:
        self._need("restarts", "it does not restart trials")
        log = self.simulate(tmp_path)
        assert _decided(log, "RESTART"), "no trial was restarted (each restart's checkpoint is checked as it comes)"

    def test_unknown_trials_do_not_crash(self) -> None:
        scheduler = self.setup_scheduler()
        ghost = make_trial("ghost", {"x": 0.5}, status=TrialStatus.RUNNING)
        decision = scheduler.on_trial_result(ghost, self.result("ghost", ghost.config, 1))
        assert isinstance(decision, Decision), f"on_trial_result() returned {decision!r}, not a tunecore.Decision"
        scheduler.on_trial_complete(make_trial("ghost2"), self.result("ghost2", {}, 2))
        scheduler.on_trial_error(make_trial("ghost3"))

    def test_save_and_restore_in_the_middle_of_a_run(self, tmp_path: Path) -> None:
        live = self.simulate(tmp_path / "live")
        results = sum(entry[0] == "result" for entry in live)
        swapped = self.simulate(tmp_path / "swapped", swap_after=results // 2)
        assert _strip(swapped) == _strip(live), "restored from save(), the scheduler decides otherwise"

    def test_a_real_experiment(self, tmp_path: Path) -> None:
        import tunecore

        steps = self.steps

        def train(config: dict[str, Any]) -> None:
            checkpoint = tunecore.get_checkpoint()
            start = checkpoint.to_dict()["step"] if checkpoint else 0
            for step in range(start + 1, steps + 1):
                loss = float(config["x"]) + 1.0 / step
                tunecore.report(
                    {self.metric: loss, "acc": -loss, "step": step},
                    checkpoint=tunecore.Checkpoint.from_dict({"step": step}),
                )

        grid = tunecore.Tuner(
            train,
            param_space={"x": sp.uniform(0.0, 1.0)},
            tune_config=tunecore.TuneConfig(
                executor="inline",
                metric=self.metric,
                mode=self.mode,
                seed=0,
                num_samples=4,
                scheduler=self.make_scheduler(),
            ),
            run_config=tunecore.RunConfig(name="conformance", storage_path=str(tmp_path), loggers=[], verbose=0),
        ).fit()
        assert len(grid) == 4
        for result in grid:
            assert result.error is None, result.error
            assert result.metrics["step"] <= steps  # training_iteration: a restarted trial keeps counting its own


def _strip(log: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The log with decisions as plain data and checkpoints relative to the scenario's directory."""

    def plain(item: Any) -> Any:
        if not isinstance(item, Decision):
            return item
        checkpoint = None if item.checkpoint is None else str(item.checkpoint).rsplit("/ckpt/", 1)[-1]
        return item.action.value, item.config, checkpoint

    return [tuple(plain(item) for item in entry) for entry in log]


def _decided(log: list[tuple[Any, ...]], action: str) -> list[tuple[Any, ...]]:
    return [e for e in log if e[0] == "result" and isinstance(e[3], Decision) and e[3].action.value == action]


class _Simulation:
    """A controller in miniature: trials created on demand, launched as the scheduler chooses, ``concurrency``
    running at once, each reporting one result per round; every check of the protocol is an assertion."""

    def __init__(self, suite: SchedulerConformance, root: Path) -> None:
        self.suite = suite
        self.root = root
        self.scheduler = suite.setup_scheduler()
        self.configs: dict[str, dict[str, Any]] = {}
        self.status: dict[str, TrialStatus] = {}
        self.step: dict[str, int] = {}
        self.last: dict[str, dict[str, Any] | None] = {}
        self.checkpoint: dict[str, str | None] = {}
        self.reported: set[str] = set()
        self.order: list[str] = []
        self.log: list[tuple[Any, ...]] = []

    def view(self, trial_id: str) -> Trial:
        return Trial(
            trial_id=trial_id,
            config=dict(self.configs[trial_id]),
            status=self.status[trial_id],
            last_result=self.last[trial_id],
            checkpoint=self.checkpoint[trial_id],
            path=str(self.root / trial_id),
        )

    def ids(self, status: TrialStatus) -> list[str]:
        return [t for t in self.order if self.status[t] is status]

    def end(self, trial_id: str) -> None:
        self.status[trial_id] = TrialStatus.TERMINATED
        self.scheduler.on_trial_complete(self.view(trial_id), self.last[trial_id])
        self.log.append(("end", trial_id))

    def create(self) -> None:
        trial_id = f"t{len(self.order)}"
        self.order.append(trial_id)
        (self.root / trial_id).mkdir(parents=True, exist_ok=True)
        self.configs[trial_id] = {"x": round(len(self.order) / (self.suite.trials + 1), 6), "const": "c"}
        self.status[trial_id], self.step[trial_id] = TrialStatus.PENDING, 0
        self.last[trial_id], self.checkpoint[trial_id] = None, None
        self.scheduler.on_trial_add(self.view(trial_id))
        self.log.append(("add", trial_id))

    def launch(self) -> None:
        paused = self.ids(TrialStatus.PAUSED)
        if paused:
            for given in self.scheduler.choose_trials_to_stop([self.view(t) for t in paused]):
                assert given.trial_id in paused, f"choose_trials_to_stop() gave {given.trial_id}, which is not paused"
                self.log.append(("eliminate", given.trial_id))
                self.end(given.trial_id)
        while len(self.ids(TrialStatus.RUNNING)) < self.suite.concurrency:
            if not self.ids(TrialStatus.PENDING) and len(self.order) < self.suite.trials:
                self.create()
            pending, paused = self.ids(TrialStatus.PENDING), self.ids(TrialStatus.PAUSED)
            if not pending and not paused:
                return
            chosen = self.scheduler.choose_trial_to_run([self.view(t) for t in pending], [self.view(t) for t in paused])
            if chosen is None:
                return
            assert isinstance(chosen, Trial) and chosen.trial_id in pending + paused, (
                f"choose_trial_to_run() gave {chosen!r}, neither pending nor paused"
            )
            self.log.append(("run", chosen.trial_id, "paused" if chosen.trial_id in paused else "pending"))
            self.status[chosen.trial_id] = TrialStatus.RUNNING

    def report(self, trial_id: str) -> None:
        self.step[trial_id] += 1
        step = self.step[trial_id]
        result = self.suite.result(trial_id, self.configs[trial_id], step)
        path = self.root / "ckpt" / trial_id / str(step)
        path.mkdir(parents=True)
        self.checkpoint[trial_id] = str(path)
        self.reported.add(str(path))
        self.last[trial_id] = result
        if result["done"]:
            self.log.append(("result", trial_id, step, None))
            self.end(trial_id)
            return
        decision = self.scheduler.on_trial_result(self.view(trial_id), dict(result))
        assert isinstance(decision, Decision), f"on_trial_result() returned {decision!r}, not a tunecore.Decision"
        self.log.append(("result", trial_id, step, decision))
        action = decision.action.value
        if action == "STOP":
            self.end(trial_id)
        elif action == "PAUSE":
            self.status[trial_id] = TrialStatus.PAUSED
        elif action == "RESTART":
            assert isinstance(decision.config, dict), f"a restart needs a config, got {decision.config!r}"
            assert decision.checkpoint is None or str(decision.checkpoint) in self.reported, (
                f"the restart of {trial_id} names {decision.checkpoint!r}, no checkpoint a trial reported"
            )
            self.configs[trial_id] = dict(decision.config)  # relaunched at once, from that checkpoint
            self.checkpoint[trial_id] = None if decision.checkpoint is None else str(decision.checkpoint)

    def run(self, swap_after: int | None) -> list[tuple[Any, ...]]:
        results = 0
        for _ in range(10_000):
            self.launch()
            running = self.ids(TrialStatus.RUNNING)
            if not running:
                for trial_id in self.ids(TrialStatus.PAUSED):  # nothing else can run: they end TERMINATED
                    self.end(trial_id)
                return self.log
            for trial_id in running:
                self.report(trial_id)
                results += 1
                if results == swap_after:
                    state = pickle.loads(pickle.dumps(self.scheduler.save()))
                    self.scheduler = self.suite.setup_scheduler()
                    self.scheduler.restore(state)
        pytest.fail(f"the scenario did not end after 10,000 rounds: {self.log[-10:]}")
