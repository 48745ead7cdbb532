"""``SearcherConformance``: the searcher protocol of :mod:`tunecore.protocols`, checked (docs/plugins.md)."""

from __future__ import annotations

import math
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tunecore import space as sp
from tunecore.protocols import FINISHED, Searcher
from tunecore.testing.spaces import DOMAIN_NAMES, DOMAINS, all_domains_space, check_within_space, point_of
from tunecore.testing.suite import ConformanceSuite, canonical, objective

__all__ = ["SearcherConformance"]


class SearcherConformance(ConformanceSuite):
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
                result = {self.metric: objective(config), "training_iteration": 1, "trial_id": trial_id}
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
            space = {"x": sp.uniform(0.0, 1.0), "nested": {"a": sp.uniform(0.0, 1.0)}, "odd_one": DOMAINS[domain]()}
            searcher = self.make_searcher()
            with pytest.raises(ValueError) as refused:
                searcher.setup(space, self.metric, self.mode, 0, 10)
            assert "odd_one" in str(refused.value), f"refusing {domain}, the error does not name it: {refused.value}"

    def test_the_same_seed_gives_the_same_proposals(self) -> None:
        first = self.drive(self.setup_searcher(seed=7), self.proposals)
        second = self.drive(self.setup_searcher(seed=7), self.proposals)
        assert list(map(canonical, first)) == list(map(canonical, second)), "the same seed gave other proposals"

    def test_a_different_seed_gives_other_proposals(self) -> None:
        first = self.drive(self.setup_searcher(seed=1), 3)
        second = self.drive(self.setup_searcher(seed=2), 3)
        assert list(map(canonical, first)) != list(map(canonical, second)), "the seed changes nothing"

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
        assert len({canonical(c) for c in configs.values()}) == len(configs), "pending trials got the same config"
        for trial_id, config in reversed(list(configs.items())):  # they end in any order
            searcher.on_trial_complete(trial_id, {self.metric: objective(config), "training_iteration": 1})
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
                searcher.on_trial_complete("pending", {self.metric: objective(pending), "training_iteration": 1})
        after_live = self.drive(live, 4, start=500)
        after_restored = self.drive(restored, 4, start=500)
        assert list(map(canonical, after_restored)) == list(map(canonical, after_live)), (
            "restored from save(), the searcher proposes other configs than the live one"
        )

    def test_points_to_evaluate_come_first(self) -> None:
        self._need("takes_points_to_evaluate", "it has no points_to_evaluate option")
        space = self.space()
        donor = self.drive(self.setup_searcher(seed=11), 2)
        params = [p for p in sp.walk_space(space) if p.kind != "function"]
        points = [point_of(params, config) for config in donor]
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
                searcher.on_trial_complete(f"m{i}", {self.metric: objective(config), "acc": float(i)})

    def test_a_real_experiment(self, tmp_path: Path) -> None:
        space = self.space()
        grid = self._experiment(tmp_path, searcher=self.make_searcher(), num_samples=4, param_space=space)
        assert 1 <= len(grid) <= 4 * max(1, len(sp.grid_points(space)))
        for result in grid:
            assert result.error is None, result.error
            check_within_space(space, result.config)
