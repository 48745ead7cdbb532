"""The ``hyperopt`` searcher: Hyperopt's TPE, annealing or random search, driven one trial at a time."""

from __future__ import annotations

import functools
from typing import Any

from tune_bayesopt.base import LibrarySearcher, Values
from tune_bayesopt.hyperopt_space import hyperopt_space
from tune_bayesopt.values import ValueMap
from tunecore.options import check_choice, check_fraction, check_int
from tunecore.space import Parameter

ALGOS = ("tpe", "anneal", "rand")
"""The ``algo`` option."""


def _identity(config: Any) -> Any:
    return config


class HyperoptSearcher(LibrarySearcher):
    """Hyperopt's ``tpe``, ``anneal`` or ``rand`` algorithm over a ``hyperopt.Trials`` kept by the searcher.

    Every suggested trial is inserted into the trials as pending: TPE counts pending trials as the worst
    ones, so parallel trials get different suggestions. ``n_initial_points`` (random trials before TPE
    models, pending ones included) and ``gamma`` (the fraction of good trials) apply to ``tpe`` only. A
    trial that failed or reported no metric is told as failed (status ``fail``).
    """

    searcher_name = "hyperopt"

    def __init__(
        self,
        algo: str = "tpe",
        n_initial_points: int = 20,
        gamma: float = 0.25,
        metric: str | None = None,
        mode: str | None = None,
        seed: int | None = None,
        points_to_evaluate: list[dict[str, Any]] | None = None,
        evaluated_rewards: list[Any] | None = None,
    ) -> None:
        super().__init__(
            metric=metric,
            mode=mode,
            seed=seed,
            points_to_evaluate=points_to_evaluate,
            evaluated_rewards=evaluated_rewards,
        )
        self.algo = check_choice("algo", algo, ALGOS)
        self.n_initial_points = check_int("n_initial_points", n_initial_points, minimum=0)
        self.gamma = check_fraction("gamma", gamma, exclusive=True)
        self.space: dict[str, Any] = {}
        """The Hyperopt space: ``{name: hp expression}``."""
        self.trials: Any = None
        """The ``hyperopt.Trials`` holding every suggested and evaluated point."""
        self._domain: Any = None
        self._suggest: Any = None

    def _convert(self, parameters: list[Parameter]) -> dict[str, ValueMap]:
        maps, self.space = hyperopt_space(parameters, self.searcher_name)
        return maps

    def _start(self) -> None:
        import hyperopt
        from hyperopt import anneal, rand, tpe

        self.trials = hyperopt.Trials()
        self._domain = hyperopt.Domain(_identity, self.space) if self.space else None
        if self.algo == "tpe":
            self._suggest = functools.partial(
                tpe.suggest, n_startup_jobs=self.n_initial_points, gamma=self.gamma, verbose=False
            )
        else:
            self._suggest = {"anneal": anneal.suggest, "rand": rand.suggest}[self.algo]

    def _tell_evaluated(self, points: list[Values], rewards: list[list[float]]) -> None:
        from hyperopt import STATUS_OK
        from hyperopt.base import JOB_STATE_DONE

        docs = []
        for point, values in zip(points, rewards, strict=True):
            doc = self._new_doc(point)
            doc["state"], doc["result"] = JOB_STATE_DONE, {"loss": self._loss(values), "status": STATUS_OK}
            docs.append(doc)
        self.trials.insert_trial_docs(docs)
        self.trials.refresh()

    def _ask(self, trial_id: str, fixed: dict[str, Any] | None) -> Values:
        if fixed is not None:
            doc = self._new_doc(self._encode(self._complete(0, fixed)))
        elif self._domain is None:  # nothing to search: every parameter has one value
            doc = self._new_doc({})
        else:
            (tid,) = self.trials.new_trial_ids(1)
            seed = int(self._rng.integers(2**31 - 1))
            (doc,) = self._suggest([tid], self._domain, self.trials, seed)
        self.trials.insert_trial_docs([doc])
        self.trials.refresh()
        self._pending[trial_id] = doc["tid"]
        return {name: values[0] for name, values in doc["misc"]["vals"].items() if values}

    def _tell(self, handle: int, values: list[float] | None, *, stopped: bool, error: bool) -> None:
        from hyperopt import STATUS_FAIL, STATUS_OK
        from hyperopt.base import JOB_STATE_DONE

        doc = self._doc(handle)
        doc["state"] = JOB_STATE_DONE
        doc["result"] = {"status": STATUS_FAIL} if values is None else {"loss": self._loss(values), "status": STATUS_OK}
        self.trials.refresh()

    def _state(self) -> Any:
        return self.trials

    def _set_state(self, state: Any, pending: dict[str, Any]) -> None:
        self.trials = state
        self._pending = pending

    def _new_doc(self, point: Values) -> dict[str, Any]:
        """A pending trial document holding ``point`` (library values by name)."""
        (tid,) = self.trials.new_trial_ids(1)
        misc = {
            "tid": tid,
            "cmd": getattr(self._domain, "cmd", None),
            "workdir": None,
            "idxs": {m.name: [tid] for m in self.searched},
            "vals": {m.name: [point[m.name]] for m in self.searched},
        }
        (doc,) = self.trials.new_trial_docs([tid], [None], [{"status": "new"}], [misc])
        return doc

    def _doc(self, tid: int) -> dict[str, Any]:
        """The stored document of trial ``tid`` (documents are stored in tid order)."""
        docs = self.trials.trials
        if tid < len(docs) and docs[tid]["tid"] == tid:
            return docs[tid]
        return next(doc for doc in docs if doc["tid"] == tid)
