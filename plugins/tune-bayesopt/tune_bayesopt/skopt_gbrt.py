"""scikit-optimize's GBRT model, repaired for current scikit-learn and numpy (imported only when used).

scikit-optimize 0.10.2 (archived upstream) lists the base classes of ``GradientBoostingQuantileRegressor``
in an order that hides the regressor tag from scikit-learn >= 1.6, so ``Optimizer(base_estimator="GBRT")``
is refused; and its ``predict(return_std=True)`` calls ``numpy.in1d``, which numpy 2.4 removed.
"""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import GradientBoostingRegressor
from skopt.learning import GradientBoostingQuantileRegressor


class TaggedGBRT(GradientBoostingQuantileRegressor):
    """``GradientBoostingQuantileRegressor`` tagged as a regressor, with a numpy-2 ``predict``."""

    def __sklearn_tags__(self) -> Any:
        """The parent's tags, with ``estimator_type = "regressor"``."""
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        return tags

    def predict(self, X: Any, return_std: bool = False, return_quantiles: bool = False) -> Any:
        """As the parent's; with ``return_std``, the std is half the spread of the 0.16 and 0.84 quantiles."""
        if not return_std or return_quantiles:
            return super().predict(X, return_quantiles=return_quantiles)
        low, mean, high = (self.regressors_[self.quantiles.index(q)].predict(X) for q in (0.16, 0.5, 0.84))
        return mean, (high - low) / 2.0


def gbrt(seed: int | None) -> TaggedGBRT:
    """The model scikit-optimize makes for ``base_estimator="GBRT"`` (30 trees, quantile loss), seeded."""
    return TaggedGBRT(base_estimator=GradientBoostingRegressor(n_estimators=30, loss="quantile"), random_state=seed)
