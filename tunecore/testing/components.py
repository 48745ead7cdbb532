"""Conformance suites for searchers, schedulers, stoppers and loggers: :mod:`tunecore.protocols`, checked.

Subclass a suite in a test module (the name must start with ``Test``) and build the component in its
factory method; class attributes say what the component legitimately cannot do, and those checks are
skipped saying why::

    from tunecore.testing.components import SearcherConformance, StopperConformance

    class TestMySearcher(SearcherConformance):
        unsupported_domains = {"grid_search": "it cannot enumerate a grid"}

        def make_searcher(self, **options):
            return MySearcher(**options)

    class TestMyStopper(StopperConformance):
        def make_stopper(self):
            return MyStopper(patience=2)

The suites drive the component directly through its protocol, as the controller would (no controller; for
schedulers a miniature one, :meth:`SchedulerConformance.simulate`), and end with a short real experiment on
the ``inline`` executor. docs/plugins.md ("Testing a plugin") lists the checks of each suite.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tunecore import space as sp
from tunecore.protocols import FINISHED, Decision, Scheduler, Searcher, Stopper
from tunecore.trial import Trial, TrialStatus

__all__ = [
    "DOMAIN_NAMES",
    "LoggerConformance",
    "SchedulerConformance",
    "SearcherConformance",
    "StopperConformance",
    "all_domains_space",
    "check_within_space",
    "make_trial",
]


def _twice_a(spec: sp.Spec) -> float:
    """The ``sample_from`` of :func:`all_domains_space`: twice ``nested.a``."""
    return float(spec.config["nested"]["a"]) * 2


_DOMAINS: dict[str, Callable[[], sp.Domain]] = {
    "uniform": lambda: sp.uniform(-1.0, 1.0),
    "quniform": lambda: sp.quniform(0.0, 10.0, 0.5),
    "loguniform": lambda: sp.loguniform(1e-4, 1e-1),
    "qloguniform": lambda: sp.qloguniform(1.0, 100.0, 0.5),
    "randn": lambda: sp.randn(0.0, 1.0),
    "qrandn": lambda: sp.qrandn(0.0, 1.0, 0.25),
    "randint": lambda: sp.randint(0, 10),
    "qrandint": lambda: sp.qrandint(0, 20, 5),
    "lograndint": lambda: sp.lograndint(1, 100),
    "qlograndint": lambda: sp.qlograndint(2, 64, 2),
    "choice": lambda: sp.choice(["a", "b", {"c": 1}, None]),
    "grid_search": lambda: sp.grid_search([1, 2]),
    "sample_from": lambda: sp.sample_from(_twice_a),
}
DOMAIN_NAMES: tuple[str, ...] = tuple(_DOMAINS)
"""Every domain constructor of :mod:`tunecore.space`, by the name :attr:`SearcherConformance.unsupported_domains`
uses."""


def all_domains_space(leave_out: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A space with one parameter per domain constructor (named after it), nested dicts and constants.

    ``nested.a`` (uniform) and ``nested.b.c`` (choice) are always there; ``sample_from`` is twice ``nested.a``.
    ``leave_out`` names domains to leave out.
    """
    skip = set(leave_out or ())
    space: dict[str, Any] = {name: make() for name, make in _DOMAINS.items() if name not in skip}
    space["nested"] = {"a": sp.uniform(0.0, 1.0), "b": {"c": sp.choice([1, 2, 3])}, "constant": 5}
    space["constant"] = "kept"
    if "sample_from" in space:  # computed last: after the values it reads
        space["sample_from"] = space.pop("sample_from")
    return space


def _multiple(value: float, q: float) -> bool:
    return math.isclose(value / q, round(value / q), abs_tol=1e-6)


def _within(domain: sp.Domain, value: Any, config: dict[str, Any]) -> str | None:
    """Why ``value`` cannot come from ``domain`` (None when it can)."""
    if isinstance(domain, sp.Float):
        if type(value) is not float:
            return f"a {type(value).__name__}, not a Python float"
        if not math.isfinite(value):
            return "not a finite number"
        if domain.bounds is not None:
            low, high = domain.bounds
            slack = 1e-9 * max(1.0, abs(low), abs(high))
            if not low - slack <= value <= high + slack:
                return f"outside [{low}, {high}]"
        if domain.q is not None and not _multiple(value, domain.q):
            return f"not a multiple of {domain.q}"
        return None
    if isinstance(domain, sp.Integer):
        if type(value) is not int:
            return f"a {type(value).__name__}, not a Python int"
        low, high = domain.bounds
        if not low <= value <= high:
            return f"outside [{low}, {high}] (both inclusive)"
        if domain.q is not None and value % domain.q:
            return f"not a multiple of {domain.q}"
        return None
    if isinstance(domain, (sp.Categorical, sp.Grid)):
        values = domain.categories if isinstance(domain, sp.Categorical) else domain.values
        return None if any(value == v and type(value) is type(v) for v in values) else f"not one of {values!r}"
    if isinstance(domain, sp.Function):
        expected = _twice_a(sp.Spec(config=config, rng=None)) if domain.func is _twice_a else None  # type: ignore[arg-type]
        if expected is None:
            return None
        if type(value) is not float or not math.isclose(value, expected):
            return f"not {expected}, twice nested/a (sample_from)"
        return None
    return None


def check_within_space(space: dict[str, Any], config: Any) -> None:
    """Assert that ``config`` is a resolved config of ``space``: every domain's value inside it, constants kept."""
    assert isinstance(config, dict), f"a proposal must be a dict, got {config!r}"

    def constants(node: Any, got: Any, path: str) -> None:
        if isinstance(node, sp.Domain):
            return
        if isinstance(node, dict):
            assert isinstance(got, dict), f"{path or 'the config'} must be a dict, got {got!r}"
            assert set(got) == set(node), f"{path or 'the config'} has keys {sorted(got)}, the space {sorted(node)}"
            for key, value in node.items():
                constants(value, got[key], f"{path}/{key}" if path else str(key))
        else:
            assert got == node, f"the constant {path} is {got!r}, the space says {node!r}"

    constants(space, config, "")
    for param in sp.walk_space(space):
        value = sp.get_path(config, param.path)
        why = _within(param.domain, value, config)
        assert why is None, f"{param.name} = {value!r} is {why}: {param.domain!r}"


def _point(params: list[sp.Parameter], config: dict[str, Any]) -> dict[str, Any]:
    """The values of ``params`` in ``config``, nested as in the config (a complete point, constants left out)."""
    point: dict[Any, Any] = {}
    for param in params:
        node = point
        for key in param.path[:-1]:
            node = node.setdefault(key, {})
        node[param.path[-1]] = sp.get_path(config, param.path)
    return point


def _objective(config: dict[str, Any]) -> float:
    """A deterministic loss of a proposal (its numeric values, summed smoothly)."""
    total = 0.0
    for value in sp.flatten(config).values():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            total += math.sin(float(value))
    return total


def _canonical(value: Any) -> str:
    return repr(value)


class _Base:
    metric: ClassVar[str] = "loss"
    """The metric of the experiments the suite runs."""
    mode: ClassVar[str] = "min"
    """Their mode."""

    def _need(self, capability: str, reason: str) -> None:
        if not getattr(self, capability):
            pytest.skip(f"{type(self).__name__}.{capability} is False: {reason}")

    def _experiment(self, tmp_path: Path, **kwargs: Any) -> Any:
        import tunecore

        def train(config: dict[str, Any]) -> None:
            for step in range(1, 5):
                tunecore.report({"loss": _objective(config) + 1.0 / step, "acc": float(step)})

        tune_kwargs: dict[str, Any] = {"executor": "inline", "metric": self.metric, "mode": self.mode, "seed": 0}
        run_kwargs: dict[str, Any] = {"name": "conformance", "storage_path": str(tmp_path), "loggers": [], "verbose": 0}
        for key in ("stoppers", "stop"):
            if key in kwargs:
                run_kwargs[key] = kwargs.pop(key)
        space = kwargs.pop("param_space", {"x": sp.uniform(0.0, 1.0)})
        tuner = tunecore.Tuner(
            train,
            param_space=space,
            tune_config=tunecore.TuneConfig(**tune_kwargs, **kwargs),
            run_config=tunecore.RunConfig(**run_kwargs),
        )
        return tuner.fit()


# ------------------------------------------------------------------------------------------------ searchers


class SearcherConformance(_Base):
    """The searcher protocol, checked: subclass it and build the searcher in :meth:`make_searcher`."""

    unsupported_domains: ClassVar[Mapping[str, str]] = {}
    """Domain constructors (``"randn"``, ``"grid_search"``, ... see :data:`DOMAIN_NAMES`) the searcher refuses
    at setup, each with the reason; the suite checks that it does, with an error naming the parameter."""
    honours_num_samples: ClassVar[bool] = True
    """False when the searcher never returns FINISHED and leaves ``num_samples`` to the controller."""
    takes_points_to_evaluate: ClassVar[bool] = True
    """False when ``make_searcher(points_to_evaluate=[...])`` is not an option of the searcher."""
    multi_objective: ClassVar[bool] = False
    """True when it accepts several metrics (``setup(metric=[...], mode=[...])``); False: it refuses them with
    a ValueError that says so."""
    proposals: ClassVar[int] = 12
    """How many configs the longer checks ask for (each told a result before the next)."""

    def make_searcher(self, **options: Any) -> Searcher:
        """A new searcher; ``options`` is ``points_to_evaluate=[...]`` for that check, else empty."""
        raise NotImplementedError("subclass SearcherConformance and override make_searcher")

    # -- helpers ----------------------------------------------------------------------------------------------

    def space(self) -> dict[str, Any]:
        """The space searched: every domain but the unsupported ones."""
        return all_domains_space(self.unsupported_domains)

    def setup_searcher(self, seed: int | None = 0, num_samples: int = 1000, **options: Any) -> Searcher:
        """A searcher set up on :meth:`space` for ``metric``/``mode``."""
        searcher = self.make_searcher(**options)
        searcher.setup(self.space(), self.metric, self.mode, seed, num_samples)
        return searcher

    def drive(self, searcher: Searcher, count: int, start: int = 0) -> list[Any]:
        """Ask for ``count`` configs, telling each its result (an intermediate one, then the last) before the next."""
        proposals = []
        for i in range(start, start + count):
            trial_id = f"t{i:04d}"
            config = searcher.suggest(trial_id)
            proposals.append(config)
            if isinstance(config, dict):
                result = {self.metric: _objective(config), "training_iteration": 1, "trial_id": trial_id}
                searcher.on_trial_result(trial_id, result)
                searcher.on_trial_complete(trial_id, {**result, "training_iteration": 2})
        return proposals

    # -- checks ---------------------------------------------------------------------------------------------

    def test_every_proposal_is_inside_every_domain(self) -> None:
        space = self.space()
        searcher = self.setup_searcher()
        proposals = self.drive(searcher, self.proposals)
        assert any(isinstance(p, dict) for p in proposals), "the searcher proposed nothing"
        for proposal in proposals:
            assert proposal is None or isinstance(proposal, dict), f"suggest() gave {proposal!r}, not a dict or None"
            if isinstance(proposal, dict):
                check_within_space(space, proposal)

    def test_unsupported_domains_are_refused_at_setup_naming_them(self) -> None:
        if not self.unsupported_domains:
            pytest.skip("every domain is supported (checked with every proposal)")
        unknown = set(self.unsupported_domains) - set(DOMAIN_NAMES)
        assert not unknown, f"unsupported_domains names no domain constructor: {sorted(unknown)}"
        for domain in self.unsupported_domains:
            space = {"x": sp.uniform(0.0, 1.0), "nested": {"a": sp.uniform(0.0, 1.0)}, "odd_one": _DOMAINS[domain]()}
            searcher = self.make_searcher()
            with pytest.raises(ValueError) as refused:
                searcher.setup(space, self.metric, self.mode, 0, 10)
            assert "odd_one" in str(refused.value), f"refusing {domain}, the error does not name it: {refused.value}"

    def test_the_same_seed_gives_the_same_proposals(self) -> None:
        first = self.drive(self.setup_searcher(seed=7), self.proposals)
        second = self.drive(self.setup_searcher(seed=7), self.proposals)
        assert list(map(_canonical, first)) == list(map(_canonical, second)), "the same seed gave other proposals"

    def test_a_different_seed_gives_other_proposals(self) -> None:
        first = self.drive(self.setup_searcher(seed=1), 3)
        second = self.drive(self.setup_searcher(seed=2), 3)
        assert list(map(_canonical, first)) != list(map(_canonical, second)), "the seed changes nothing"

    def test_num_samples_is_honoured_and_finished_stays_finished(self) -> None:
        self._need("honours_num_samples", "it leaves num_samples to the controller")
        space = {key: value for key, value in self.space().items() if key != "grid_search"}  # one grid point
        searcher = self.make_searcher()
        searcher.setup(space, self.metric, self.mode, 0, 3)
        answers = self.drive(searcher, 8)
        configs = [a for a in answers if isinstance(a, dict)]
        assert len(configs) == 3, f"num_samples=3 gave {len(configs)} configs"
        first = next(i for i, a in enumerate(answers) if a is FINISHED)
        assert all(a is FINISHED for a in answers[first:]), f"after FINISHED it answered {answers[first:]!r}"

    def test_answers_are_configs_none_or_finished(self) -> None:
        searcher = self.setup_searcher(num_samples=4)
        for answer in self.drive(searcher, 8):
            assert answer is None or answer is FINISHED or isinstance(answer, dict), f"suggest() gave {answer!r}"

    def test_several_suggestions_before_any_result(self) -> None:
        space = self.space()
        searcher = self.setup_searcher()
        pending = {f"p{i}": searcher.suggest(f"p{i}") for i in range(4)}
        configs = {k: v for k, v in pending.items() if isinstance(v, dict)}
        assert configs, "nothing proposed with trials pending (None is only 'not now')"
        for config in configs.values():
            check_within_space(space, config)
        assert len({_canonical(c) for c in configs.values()}) == len(configs), "pending trials got the same config"
        for trial_id, config in reversed(list(configs.items())):  # they end in any order
            searcher.on_trial_complete(trial_id, {self.metric: _objective(config), "training_iteration": 1})
        after = self.drive(searcher, 2, start=10)
        assert any(isinstance(a, dict) for a in after), "after the pending trials ended, the searcher proposed nothing"

    def test_odd_results_are_accepted(self) -> None:
        space = self.space()
        searcher = self.setup_searcher()
        odd: list[dict[str, Any] | None] = [
            {self.metric: math.nan},
            {self.metric: math.inf},
            {self.metric: -math.inf},
            {"other": 1.0},  # the metric missing
            None,  # a trial that reported nothing
        ]
        for i, result in enumerate(odd * 2):
            trial_id = f"odd{i}"
            config = searcher.suggest(trial_id)
            if not isinstance(config, dict):
                continue
            if result is not None:
                searcher.on_trial_result(trial_id, {**result, "training_iteration": 1})
            searcher.on_trial_complete(trial_id, result)
        config = searcher.suggest("errored")
        if isinstance(config, dict):
            searcher.on_trial_complete("errored", None, error=True)
        for proposal in self.drive(searcher, 3, start=100):
            if isinstance(proposal, dict):
                check_within_space(space, proposal)

    def test_save_and_restore_in_the_middle_of_a_run(self) -> None:
        live = self.setup_searcher(seed=3)
        self.drive(live, self.proposals // 2)
        pending = live.suggest("pending")
        state = pickle.loads(pickle.dumps(live.save()))  # what a snapshot does
        restored = self.setup_searcher(seed=3)
        restored.restore(state)
        for searcher in (live, restored):
            if isinstance(pending, dict):
                searcher.on_trial_complete("pending", {self.metric: _objective(pending), "training_iteration": 1})
        after_live = self.drive(live, 4, start=500)
        after_restored = self.drive(restored, 4, start=500)
        assert list(map(_canonical, after_restored)) == list(map(_canonical, after_live)), (
            "restored from save(), the searcher proposes other configs than the live one"
        )

    def test_points_to_evaluate_come_first(self) -> None:
        self._need("takes_points_to_evaluate", "it has no points_to_evaluate option")
        space = self.space()
        donor = self.drive(self.setup_searcher(seed=11), 2)
        params = [p for p in sp.walk_space(space) if p.kind != "function"]
        points = [_point(params, config) for config in donor]
        searcher = self.setup_searcher(seed=12, points_to_evaluate=points)
        proposals = self.drive(searcher, 2)
        for point, proposal in zip(points, proposals, strict=True):
            check_within_space(space, proposal)
            for p in params:
                assert sp.get_path(proposal, p.path) == sp.get_path(point, p.path), (
                    f"{p.name}: points_to_evaluate gave {sp.get_path(point, p.path)!r}, the searcher proposed "
                    f"{sp.get_path(proposal, p.path)!r}"
                )

    def test_several_objectives(self) -> None:
        searcher = self.make_searcher()
        metrics, modes = [self.metric, "acc"], [self.mode, "max"]
        if not self.multi_objective:
            with pytest.raises(ValueError, match="metric"):
                searcher.setup(self.space(), metrics, modes, 0, 10)
            return
        searcher.setup(self.space(), metrics, modes, 0, 10)
        for i in range(4):
            config = searcher.suggest(f"m{i}")
            if isinstance(config, dict):
                check_within_space(self.space(), config)
                searcher.on_trial_complete(f"m{i}", {self.metric: _objective(config), "acc": float(i)})

    def test_a_real_experiment(self, tmp_path: Path) -> None:
        space = self.space()
        grid = self._experiment(tmp_path, searcher=self.make_searcher(), num_samples=4, param_space=space)
        assert 1 <= len(grid) <= 4 * max(1, len(sp.grid_points(space)))
        for result in grid:
            assert result.error is None, result.error
            check_within_space(space, result.config)


# ------------------------------------------------------------------------------------------------- stoppers


class StopperConformance(_Base):
    """The stopper protocol, checked: subclass it and build the stopper in :meth:`make_stopper`."""

    def make_stopper(self) -> Stopper:
        """A new stopper (not set up)."""
        raise NotImplementedError("subclass StopperConformance and override make_stopper")

    def setup_stopper(self) -> Stopper:
        """A stopper set up for ``metric``/``mode``."""
        stopper = self.make_stopper()
        stopper.setup(self.metric, self.mode)
        return stopper

    def results(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(trial_id, result)`` pairs fed to the stopper: three trials, interleaved, some odd values."""
        for step in range(1, 9):
            for k, trial_id in enumerate(("a", "b", "c")):
                value: Any = 1.0 / step + k if trial_id != "c" or step % 3 else math.nan
                yield (
                    trial_id,
                    {
                        self.metric: value,
                        "training_iteration": step,
                        "time_total_s": float(step),
                        "trial_id": trial_id,
                    },
                )
        yield "d", {"training_iteration": 1, "time_total_s": 1.0}  # the metric missing

    def feed(self, stopper: Stopper, results: list[tuple[str, dict[str, Any]]]) -> list[tuple[bool, bool]]:
        """``(should_stop, stop_all)`` after each result, as the controller asks them; checks they are bools."""
        answers = []
        for trial_id, result in results:
            stop = stopper.should_stop(trial_id, dict(result))
            everything = stopper.stop_all()
            assert type(stop) is bool, f"should_stop() returned {stop!r} ({type(stop).__name__}), not a bool"
            assert type(everything) is bool, f"stop_all() returned {everything!r} ({type(everything).__name__})"
            answers.append((stop, everything))
        return answers

    def test_answers_are_bools(self) -> None:
        stopper = self.setup_stopper()
        assert type(stopper.stop_all()) is bool, "stop_all() before any result is not a bool"
        self.feed(stopper, list(self.results()))

    def test_the_same_results_give_the_same_answers(self) -> None:
        results = list(self.results())
        assert self.feed(self.setup_stopper(), results) == self.feed(self.setup_stopper(), results)

    def test_save_and_restore_in_the_middle_of_a_run(self) -> None:
        results = list(self.results())
        half = len(results) // 2
        live = self.setup_stopper()
        self.feed(live, results[:half])
        state = pickle.loads(pickle.dumps(live.save()))
        restored = self.setup_stopper()
        restored.restore(state)
        assert self.feed(restored, results[half:]) == self.feed(live, results[half:]), (
            "restored from save(), the stopper answers otherwise than the live one"
        )

    def test_a_real_experiment(self, tmp_path: Path) -> None:
        grid = self._experiment(tmp_path, stoppers=[self.make_stopper()], num_samples=3)
        assert len(grid) <= 3
        for result in grid:
            assert result.error is None, result.error


# ----------------------------------------------------------------------------------------------- schedulers


def make_trial(trial_id: str, config: dict[str, Any] | None = None, **fields: Any) -> Trial:
    """A trial view as the controller hands one to a scheduler."""
    return Trial(trial_id=trial_id, config=dict(config or {"x": 0.5}), **fields)


class SchedulerConformance(_Base):
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


# -------------------------------------------------------------------------------------------------- loggers


def _event_hooks() -> dict[str, set[str]]:
    """Every experiment event hook of :mod:`tunecore.hookspecs` with its argument names."""
    import inspect

    from tunecore import hookspecs

    return {
        name: set(inspect.signature(func).parameters)
        for name, func in vars(hookspecs).items()
        if name.startswith("tunecore_") and not name.startswith("tunecore_register_") and callable(func)
    }


def _every_event(config: dict[str, Any]) -> None:
    """The trainable of :class:`LoggerConformance`: results with checkpoints, a failure and a retry, an error."""
    import tunecore

    checkpoint = tunecore.get_checkpoint()
    start = checkpoint.to_dict()["step"] if checkpoint else 0
    for step in range(start + 1, 4):
        tunecore.report({"loss": 1.0 / step, "step": step}, checkpoint=tunecore.Checkpoint.from_dict({"step": step}))
        marker = Path(config["marker"])
        if config["kind"] == "fail_once" and step == 2 and not marker.exists():
            marker.touch()
            raise RuntimeError("failing once, as the logger conformance suite asks")
        if config["kind"] == "error" and step >= 2:  # the retry resumes from step 2's checkpoint: fails at 3
            raise RuntimeError("failing every time, as the logger conformance suite asks")


class LoggerConformance(_Base):
    """The logger protocol, checked: subclass it and build the logger in :meth:`make_logger`."""

    def make_logger(self, tmp_path: Path) -> Any:
        """A new logger (an object with ``tunecore_*`` event methods); ``tmp_path`` is for what it writes."""
        raise NotImplementedError("subclass LoggerConformance and override make_logger")

    def test_its_event_methods_are_hooks_taking_their_arguments(self, tmp_path: Path) -> None:
        import inspect

        hooks = _event_hooks()
        logger = self.make_logger(tmp_path)
        methods = [name for name in dir(logger) if name.startswith("tunecore_")]
        assert methods, "the logger has no tunecore_* event method"
        for name in methods:
            assert name in hooks, f"{name} is no event hook (they are {sorted(hooks)})"
            taken = set(inspect.signature(getattr(logger, name)).parameters)
            assert taken <= hooks[name], f"{name} takes {sorted(taken - hooks[name])}, not arguments of the hook"

    def test_a_real_experiment_with_every_event(self, tmp_path: Path) -> None:
        import tunecore

        marker = str(tmp_path / "failed_once")
        grid = tunecore.Tuner(
            _every_event,
            param_space={"kind": sp.grid_search(["ok", "fail_once", "error"]), "marker": marker},
            tune_config=tunecore.TuneConfig(executor="inline", metric=self.metric, mode=self.mode, seed=0),
            run_config=tunecore.RunConfig(
                name="conformance",
                storage_path=str(tmp_path / "storage"),
                loggers=[self.make_logger(tmp_path)],
                verbose=0,
                failure_config=tunecore.FailureConfig(max_failures=1),
            ),
        ).fit()
        errors = {result.config["kind"]: result.error for result in grid}
        assert errors["ok"] is None and errors["fail_once"] is None, f"the logger broke the experiment: {errors}"
        assert errors["error"] is not None and "failing every time" in errors["error"], errors["error"]
        assert {result.config["kind"]: result.status for result in grid} == {
            "ok": "TERMINATED",
            "fail_once": "TERMINATED",
            "error": "ERROR",
        }
