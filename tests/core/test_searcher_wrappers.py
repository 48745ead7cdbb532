"""ConcurrencyLimiter and Repeater around the random searcher and a small deterministic searcher."""

from __future__ import annotations

import math
import pickle
import warnings
from typing import Any

import pytest

import tunecore
from tunecore.builtin.searcher_wrappers import ConcurrencyLimiter, Repeater
from tunecore.builtin.searchers import RandomSearcher
from tunecore.protocols import FINISHED, Searcher


class CountingSearcher(Searcher):
    """Proposes ``{"x": 0}``, ``{"x": 1}``, ...; FINISHED after ``limit``; with ``sequential``, None while waiting."""

    def __init__(self, limit: int | None = None, sequential: bool = False) -> None:
        self.limit = limit
        self.sequential = sequential
        self.count = 0
        self.setup_args: tuple | None = None
        self.suggested: list[str] = []
        self.results: list[tuple[str, dict[str, Any]]] = []
        self.completed: list[tuple[str, dict[str, Any] | None, bool]] = []

    def setup(self, space, metric, mode, seed, num_samples=1):
        super().setup(space, metric, mode, seed, num_samples)
        self.setup_args = (space, metric, mode, seed, num_samples)

    def suggest(self, trial_id):
        if self.limit is not None and self.count >= self.limit:
            return FINISHED
        if self.sequential and len(self.suggested) > len(self.completed):
            return None
        self.count += 1
        self.suggested.append(trial_id)
        return {"x": self.count - 1, "nested": {"values": [self.count - 1]}}

    def on_trial_result(self, trial_id, result):
        self.results.append((trial_id, result))

    def on_trial_complete(self, trial_id, result, error=False):
        self.completed.append((trial_id, result, error))

    def save(self):
        return {"count": self.count, "suggested": list(self.suggested), "completed": list(self.completed)}

    def restore(self, state):
        self.count = state["count"]
        self.suggested = list(state["suggested"])
        self.completed = list(state["completed"])


def ids(n: int, start: int = 0) -> list[str]:
    return [f"t{i:04d}" for i in range(start, start + n)]


# --- ConcurrencyLimiter -------------------------------------------------------------------------------


def test_limiter_returns_none_at_the_limit_and_resumes_after_a_completion():
    inner = CountingSearcher()
    limiter = ConcurrencyLimiter(inner, max_concurrent=2)
    limiter.setup({}, "loss", "min", 7, num_samples=5)
    assert inner.setup_args == ({}, "loss", "min", 7, 5)
    assert (limiter.metric, limiter.mode) == ("loss", "min")
    assert limiter.suggest("t0")["x"] == 0
    assert limiter.suggest("t1")["x"] == 1
    assert limiter.suggest("t2") is None
    assert limiter.suggest("t2") is None
    assert inner.count == 2  # the wrapped searcher was not asked while the limit was reached
    assert limiter.running == 2

    limiter.on_trial_result("t0", {"loss": 3.0})
    assert inner.results == [("t0", {"loss": 3.0})]
    assert limiter.suggest("t2") is None  # a result frees nothing

    limiter.on_trial_complete("t0", {"loss": 2.0})
    assert inner.completed == [("t0", {"loss": 2.0}, False)]
    assert limiter.suggest("t2")["x"] == 2
    assert limiter.suggest("t3") is None
    limiter.on_trial_complete("t1", None, error=True)
    assert inner.completed[-1] == ("t1", None, True)
    assert limiter.suggest("t3")["x"] == 3


def test_limiter_passes_finished_through_and_does_not_count_it():
    limiter = ConcurrencyLimiter(CountingSearcher(limit=1), max_concurrent=3)
    limiter.setup({}, None, None, None)
    assert limiter.suggest("a") == {"x": 0, "nested": {"values": [0]}}
    assert limiter.suggest("b") is FINISHED
    assert limiter.running == 1


def test_limiter_with_the_random_searcher_keeps_its_sequence():
    space = {"lr": tunecore.loguniform(1e-4, 1e-1), "layers": tunecore.choice([1, 2, 3])}
    plain = RandomSearcher()
    plain.setup(space, "loss", "min", 3, num_samples=6)
    expected = [plain.suggest(tid) for tid in ids(6)]
    assert plain.suggest("t9999") is FINISHED

    limiter = ConcurrencyLimiter(RandomSearcher(), max_concurrent=2)
    limiter.setup(space, "loss", "min", 3, num_samples=6)
    got: list[Any] = []
    running: list[str] = []
    for tid in ids(20):
        config = limiter.suggest(tid)
        if config is None:
            assert len(running) == 2
            finished = running.pop(0)
            limiter.on_trial_complete(finished, {"loss": 1.0})
            config = limiter.suggest(tid)
        if config is FINISHED:
            break
        got.append(config)
        running.append(tid)
    assert got == expected


def test_batch_mode_waits_for_the_whole_batch_and_reports_it_together():
    inner = CountingSearcher()
    limiter = ConcurrencyLimiter(inner, max_concurrent=2, batch=True)
    limiter.setup({}, "loss", "min", None)
    assert [limiter.suggest(t)["x"] for t in ("t0", "t1")] == [0, 1]
    assert limiter.suggest("t2") is None
    limiter.on_trial_complete("t0", {"loss": 1.0})
    assert limiter.suggest("t2") is None  # t1 of the batch still runs
    assert inner.completed == []  # completions are held back until the batch completed
    limiter.on_trial_complete("t1", {"loss": 2.0})
    assert inner.completed == [("t0", {"loss": 1.0}, False), ("t1", {"loss": 2.0}, False)]
    assert limiter.suggest("t2")["x"] == 2
    assert limiter.suggest("t3")["x"] == 3
    assert limiter.suggest("t4") is None


def test_batch_mode_fills_a_batch_that_is_not_full_yet():
    inner = CountingSearcher()
    limiter = ConcurrencyLimiter(inner, max_concurrent=3, batch=True)
    limiter.setup({}, None, None, None)
    limiter.suggest("t0")
    limiter.suggest("t1")
    limiter.on_trial_complete("t0", {"v": 0})  # e.g. the executor had room for two trials only
    assert limiter.suggest("t2")["x"] == 2  # joins the batch
    limiter.on_trial_complete("t1", {"v": 1})
    assert inner.completed == []
    assert limiter.suggest("t3") is None
    limiter.on_trial_complete("t2", {"v": 2})
    assert [c[0] for c in inner.completed] == ["t0", "t1", "t2"]


def test_batch_mode_closes_a_short_batch_when_the_searcher_finished():
    inner = CountingSearcher(limit=2)
    limiter = ConcurrencyLimiter(inner, max_concurrent=3, batch=True)
    limiter.setup({}, None, None, None)
    assert limiter.suggest("t0") is not None and limiter.suggest("t1") is not None
    assert limiter.suggest("t2") is FINISHED
    limiter.on_trial_complete("t0", {"v": 0})
    limiter.on_trial_complete("t1", {"v": 1})
    assert [c[0] for c in inner.completed] == ["t0", "t1"]


def test_batch_mode_never_deadlocks_a_searcher_that_waits_for_its_results():
    inner = CountingSearcher(sequential=True)  # proposes one config at a time
    limiter = ConcurrencyLimiter(inner, max_concurrent=3, batch=True)
    limiter.setup({}, None, None, None)
    assert limiter.suggest("t0")["x"] == 0
    assert limiter.suggest("t1") is None  # the searcher declines: the batch is t0 alone
    limiter.on_trial_complete("t0", {"v": 0})
    assert inner.completed == [("t0", {"v": 0}, False)]
    assert limiter.suggest("t1")["x"] == 1
    # the completion may also arrive before the searcher declined
    limiter.on_trial_complete("t1", {"v": 1})
    assert inner.completed[-1][0] == "t0"
    assert limiter.suggest("t2")["x"] == 2  # asking released t1's result, then the searcher proposed again
    assert inner.completed[-1][0] == "t1"


def test_limiter_save_restore_round_trip():
    inner = CountingSearcher()
    limiter = ConcurrencyLimiter(inner, max_concurrent=2, batch=True)
    limiter.setup({}, None, None, None)
    limiter.suggest("t0")
    limiter.suggest("t1")
    limiter.on_trial_complete("t0", {"v": 0})
    state = pickle.loads(pickle.dumps(limiter.save()))

    restored = ConcurrencyLimiter(CountingSearcher(), max_concurrent=2, batch=True)
    restored.setup({}, None, None, None)
    restored.restore(state)
    assert restored.searcher.count == 2
    assert restored.suggest("t2") is None
    restored.on_trial_complete("t1", {"v": 1})
    assert [c[0] for c in restored.searcher.completed] == ["t0", "t1"]
    assert restored.suggest("t2")["x"] == 2


def test_random_searcher_state_survives_through_the_limiter():
    space = {"x": tunecore.uniform(0, 1)}
    limiter = ConcurrencyLimiter(RandomSearcher(), max_concurrent=4)
    limiter.setup(space, None, None, 11, num_samples=-1)
    limiter.suggest("t0")
    state = pickle.loads(pickle.dumps(limiter.save()))
    following = [limiter.suggest(t) for t in ("t1", "t2")]
    restored = ConcurrencyLimiter(RandomSearcher(), max_concurrent=4)
    restored.setup(space, None, None, 11, num_samples=-1)
    restored.restore(state)
    assert [restored.suggest(t) for t in ("t1", "t2")] == following
    assert restored.running == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"searcher": CountingSearcher(), "max_concurrent": 0}, "max_concurrent must be a positive integer"),
        ({"searcher": CountingSearcher(), "max_concurrent": 1.5}, "max_concurrent must be a positive integer"),
        ({"searcher": RandomSearcher, "max_concurrent": 1}, "searcher must be a searcher instance"),
        ({"searcher": "random", "max_concurrent": 1}, "searcher must be a searcher instance"),
    ],
)
def test_limiter_rejects_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ConcurrencyLimiter(**kwargs)


# --- Repeater -----------------------------------------------------------------------------------------


def test_repeater_repeats_each_config_with_its_index():
    inner = CountingSearcher()
    repeater = Repeater(inner, repeat=3)
    repeater.setup({}, "loss", "min", 1, num_samples=6)
    configs = [repeater.suggest(t) for t in ids(6)]
    assert configs == [{"x": x, "nested": {"values": [x]}, "__trial_index__": i} for x in (0, 1) for i in range(3)]
    assert inner.suggested == ["t0000", "t0003"]  # asked once per group, with the group's first trial id
    configs[0]["nested"]["values"].append(99)  # repeats never share mutable values
    assert configs[1]["nested"]["values"] == [0]


def test_repeater_reports_the_mean_once_per_group():
    inner = CountingSearcher()
    repeater = Repeater(inner, repeat=3)
    repeater.setup({}, "loss", "min", None, num_samples=6)
    for tid in ids(6):
        repeater.suggest(tid)
    repeater.on_trial_result("t0000", {"loss": 9.0})
    assert inner.results == []  # intermediate results are not passed on
    repeater.on_trial_complete("t0000", {"loss": 1.0, "training_iteration": 3, "trial_id": "t0000"})
    repeater.on_trial_complete("t0002", {"loss": 3.0, "training_iteration": 5, "trial_id": "t0002"})
    assert inner.completed == []
    repeater.on_trial_complete("t0001", {"loss": 5.0, "training_iteration": 4, "trial_id": "t0001"})
    assert inner.completed == [("t0000", {"loss": 3.0, "training_iteration": 5, "trial_id": "t0000"}, False)]


def test_repeater_ignores_errored_and_nan_results_and_reports_all_errors_as_an_error():
    inner = CountingSearcher()
    repeater = Repeater(inner, repeat=3)
    repeater.setup({}, "loss", "min", None, num_samples=9)
    for tid in ids(9):
        repeater.suggest(tid)
    repeater.on_trial_complete("t0000", {"loss": 2.0})
    repeater.on_trial_complete("t0001", None, error=True)
    repeater.on_trial_complete("t0002", {"loss": float("nan")})
    assert inner.completed == [("t0000", {"loss": 2.0, "trial_id": "t0000"}, False)]
    for tid in ("t0003", "t0004", "t0005"):
        repeater.on_trial_complete(tid, {"loss": 1.0}, error=True)
    assert inner.completed[-1] == ("t0003", None, True)
    repeater.on_trial_complete("t0006", {"other": 1})
    repeater.on_trial_complete("t0007", None)
    repeater.on_trial_complete("t0008", {"loss": "bad"})
    key, result, error = inner.completed[-1]
    assert (key, error) == ("t0006", False) and math.isnan(result["loss"])


def test_repeater_without_index_and_with_numpy_metrics():
    np = pytest.importorskip("numpy")
    inner = CountingSearcher()
    repeater = Repeater(inner, repeat=2, set_index=False)
    repeater.setup({}, "acc", "max", None, num_samples=2)
    assert [repeater.suggest(t) for t in ("a", "b")] == [{"x": 0, "nested": {"values": [0]}}] * 2
    repeater.on_trial_complete("a", {"acc": np.float32(0.5)})
    repeater.on_trial_complete("b", {"acc": np.int64(1)})
    assert inner.completed == [("a", {"acc": 0.75, "trial_id": "a"}, False)]


def test_repeater_tells_the_wrapped_searcher_how_many_configs():
    for num_samples, expected in [(9, 3), (10, 4), (1, 1), (-1, -1)]:
        inner = CountingSearcher()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            Repeater(inner, repeat=3).setup({}, "m", "min", None, num_samples=num_samples)
        assert inner.setup_args[-1] == expected
        assert [str(w.message) for w in caught] == (
            [
                f"Repeater: num_samples={num_samples} is not a multiple of repeat=3; the last group of repeats may be"
                " cut short and then never reported to the wrapped searcher"
            ]
            if num_samples in (10, 1)
            else []
        )


def test_repeater_finishes_only_after_the_last_group_is_complete():
    space = {"lr": tunecore.loguniform(1e-4, 1e-1)}
    repeater = Repeater(RandomSearcher(), repeat=2)
    repeater.setup(space, "loss", "min", 5, num_samples=4)
    configs = [repeater.suggest(t) for t in ids(4)]
    assert repeater.suggest("t0004") is FINISHED
    assert configs[0]["lr"] == configs[1]["lr"] != configs[2]["lr"] == configs[3]["lr"]
    assert [c["__trial_index__"] for c in configs] == [0, 1, 0, 1]


def test_repeater_waits_when_the_searcher_waits():
    inner = CountingSearcher(sequential=True)
    repeater = Repeater(inner, repeat=2)
    repeater.setup({}, "loss", "min", None, num_samples=-1)
    assert repeater.suggest("a")["x"] == 0
    assert repeater.suggest("b")["x"] == 0
    assert repeater.suggest("c") is None
    repeater.on_trial_complete("a", {"loss": 1.0})
    assert repeater.suggest("c") is None
    repeater.on_trial_complete("b", {"loss": 2.0})
    assert repeater.suggest("c")["x"] == 1


def test_repeater_save_restore_round_trip_mid_group():
    inner = CountingSearcher()
    repeater = Repeater(inner, repeat=3)
    repeater.setup({}, "loss", "min", None, num_samples=6)
    for tid in ids(4):
        repeater.suggest(tid)
    repeater.on_trial_complete("t0000", {"loss": 1.0})
    repeater.on_trial_complete("t0001", {"loss": 2.0})
    state = pickle.loads(pickle.dumps(repeater.save()))

    restored = Repeater(CountingSearcher(), repeat=3)
    restored.setup({}, "loss", "min", None, num_samples=6)
    restored.restore(state)
    assert restored.suggest("t0004") == {"x": 1, "nested": {"values": [1]}, "__trial_index__": 1}
    assert restored.suggest("t0005")["__trial_index__"] == 2
    restored.on_trial_complete("t0002", {"loss": 6.0})
    assert restored.searcher.completed == [("t0000", {"loss": 3.0, "trial_id": "t0000"}, False)]
    for tid in ("t0003", "t0004", "t0005"):
        restored.on_trial_complete(tid, {"loss": 1.0})
    assert restored.searcher.completed[-1] == ("t0003", {"loss": 1.0, "trial_id": "t0003"}, False)


def test_repeater_ignores_unknown_trials_and_rejects_bad_options():
    repeater = Repeater(CountingSearcher(), repeat=2)
    repeater.setup({}, "loss", "min", None, num_samples=2)
    repeater.on_trial_complete("never-suggested", {"loss": 1.0})
    assert repeater.searcher.completed == []
    with pytest.raises(ValueError, match="repeat must be a positive integer"):
        Repeater(CountingSearcher(), repeat=0)
    with pytest.raises(ValueError, match="searcher must be a searcher instance"):
        Repeater(None, repeat=2)


def test_limiter_around_repeater_counts_trials():
    inner = CountingSearcher()
    searcher = ConcurrencyLimiter(Repeater(inner, repeat=2), max_concurrent=3)
    searcher.setup({}, "loss", "min", None, num_samples=4)
    assert inner.setup_args[-1] == 2
    configs = [searcher.suggest(t) for t in ("a", "b", "c", "d")]
    assert [c and (c["x"], c["__trial_index__"]) for c in configs] == [(0, 0), (0, 1), (1, 0), None]
    searcher.on_trial_complete("a", {"loss": 1.0})
    searcher.on_trial_complete("b", {"loss": 3.0})
    assert inner.completed == [("a", {"loss": 2.0, "trial_id": "a"}, False)]
    assert searcher.suggest("d") == {"x": 1, "nested": {"values": [1]}, "__trial_index__": 1}
    state = searcher.save()
    assert state["live"] == ["c", "d"] and state["searcher"]["groups"][0]["trial_ids"] == ["c", "d"]
