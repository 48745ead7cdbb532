"""PB2's bandit: a time-varying Gaussian process on reward changes and a batch GP-UCB acquisition.

As in Parker-Holder et al. (2020): each observation is ``(t, r, h) -> y`` where ``y`` is the change of the
reward per unit of ``time_attr`` over an interval ending at ``t`` that started at reward ``r`` with
hyperparameters ``h``. The kernel is the paper's time-varying squared exponential, ``k = exp(-|x - x'|^2 /
(2 l^2)) * (1 - eps)^(|t - t'| / 2)`` on ``x = (r, h)``, so older observations count less. New
hyperparameters maximise ``mean + sqrt(beta_n) * std`` at the donor's current ``(t, r)``, with ``beta_n = 0.2
+ log(0.4 n)`` (n observations); the standard deviation also accounts for the configs already proposed in
the same batch (their outcome unknown), which spreads a batch out.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Hyperparameter, Kernel, WhiteKernel

CANDIDATES = 2000
"""Random candidate points the acquisition is maximised over (in the unit cube of the hyperparameters)."""


class TimeVaryingKernel(Kernel):
    """The time-varying squared exponential of PB2; the first input column is time, the rest the features."""

    def __init__(
        self,
        length_scale: float = 1.0,
        epsilon: float = 0.1,
        length_scale_bounds: tuple[float, float] = (1e-2, 1e2),
        epsilon_bounds: tuple[float, float] = (1e-4, 0.5),
    ) -> None:
        self.length_scale = length_scale
        self.epsilon = epsilon
        self.length_scale_bounds = length_scale_bounds
        self.epsilon_bounds = epsilon_bounds

    @property
    def hyperparameter_length_scale(self) -> Hyperparameter:
        """The squared exponential's length scale."""
        return Hyperparameter("length_scale", "numeric", self.length_scale_bounds)

    @property
    def hyperparameter_epsilon(self) -> Hyperparameter:
        """How fast correlation decays with the time between observations."""
        return Hyperparameter("epsilon", "numeric", self.epsilon_bounds)

    def __call__(self, X: np.ndarray, Y: np.ndarray | None = None, eval_gradient: bool = False) -> Any:
        """The kernel matrix (and its gradient in the log hyperparameters, epsilon first, when asked)."""
        X = np.atleast_2d(X)
        if Y is not None and eval_gradient:
            raise ValueError("the gradient is only available when Y is None")
        Y = X if Y is None else np.atleast_2d(Y)
        elapsed = np.abs(X[:, :1] - Y[:, :1].T)
        squared = np.sum((X[:, None, 1:] - Y[None, :, 1:]) ** 2, axis=-1)
        scale, eps = self.length_scale, self.epsilon
        K = np.exp(-squared / (2 * scale**2)) * (1 - eps) ** (elapsed / 2)
        if not eval_gradient:
            return K
        d_epsilon = -K * elapsed / 2 * eps / (1 - eps)
        d_scale = K * squared / scale**2
        return K, np.dstack([d_epsilon, d_scale])  # sklearn orders hyperparameters by name

    def diag(self, X: np.ndarray) -> np.ndarray:
        """The kernel's diagonal: ones."""
        return np.ones(np.atleast_2d(X).shape[0])

    def is_stationary(self) -> bool:
        """False: correlation depends on when observations were made."""
        return False


def ucb_beta(count: int) -> float:
    """``beta_n`` of the time-varying GP-UCB for ``count`` observations (never below 0.2)."""
    return 0.2 + max(0.0, math.log(0.4 * count))


def propose(
    observations: np.ndarray,
    context: tuple[float, float],
    batch: list[np.ndarray],
    rng: np.random.Generator,
) -> np.ndarray:
    """Hyperparameters in the unit cube that maximise GP-UCB at ``context`` = (time, reward).

    ``observations`` rows are ``(t, r, h_1 ... h_d, y)`` with ``h`` in the unit cube; ``batch`` holds the
    unit-cube hyperparameters proposed since the last new observation time.
    """
    times, rewards, hypers, y = observations[:, 0], observations[:, 1], observations[:, 2:-1], observations[:, -1]
    t_low, t_high = _range(np.append(times, context[0]))
    r_low, r_high = _range(np.append(rewards, context[1]))
    X = np.column_stack([(times - t_low) / t_high, (rewards - r_low) / r_high, hypers])
    here = np.array([(context[0] - t_low) / t_high, (context[1] - r_low) / r_high])
    std = y.std()
    target = (y - y.mean()) / std if std > 0 else y - y.mean()
    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * TimeVaryingKernel() + WhiteKernel(1e-2, (1e-6, 1.0))
    seed = int(rng.integers(2**31))
    model = GaussianProcessRegressor(kernel, normalize_y=False, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, target)
    candidates = rng.random((CANDIDATES, hypers.shape[1]))
    points = np.column_stack([np.tile(here, (len(candidates), 1)), candidates])
    mean, sd = model.predict(points, return_std=True)
    if batch:  # the variance knowing where this batch already went (the outcome there does not matter)
        pending = np.column_stack([np.tile(here, (len(batch), 1)), np.array(batch)])
        informed = GaussianProcessRegressor(model.kernel_, optimizer=None, normalize_y=False)
        informed.fit(np.vstack([X, pending]), np.append(target, np.zeros(len(batch))))
        _, sd = informed.predict(points, return_std=True)
    score = mean + math.sqrt(ucb_beta(len(y))) * sd
    return candidates[int(np.argmax(score))]


def _range(values: np.ndarray) -> tuple[float, float]:
    """The minimum and the width of ``values`` (1 when they are all equal)."""
    low, high = float(np.min(values)), float(np.max(values))
    return low, (high - low) or 1.0
