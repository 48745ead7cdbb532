"""Seeding: python, numpy, torch and CUDA from the trial's seed, and a generator for the DataLoader."""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import torch

import tunecore

CUBLAS_WORKSPACE_CONFIG = ":4096:8"
"""What ``deterministic=True`` sets ``CUBLAS_WORKSPACE_CONFIG`` to (unless it is set already): cuBLAS needs it
for deterministic results on CUDA 10.2 and later."""

SEED_LIMIT = 2**32
"""Seeds are integers in ``[0, 2**32)``, as tunecore's (and numpy's legacy RNG) take them."""


@attrs.frozen
class Seeding:
    """What :func:`seed_everything` returns: the seed used and what a ``DataLoader`` needs to follow it.

    ``DataLoader(dataset, shuffle=True, **seeding.loader_kwargs)`` draws its order from :attr:`generator`,
    whose state :func:`tune_torch.checkpoint` saves and :func:`tune_torch.restore` puts back, so that a resumed
    or exploited trial goes on with the data order it would have had.
    """

    seed: int
    """The seed everything was seeded with (drawn at random when neither given nor set by the trial)."""
    generator: torch.Generator = attrs.field(eq=False)
    """A CPU generator seeded with :attr:`seed`, for ``DataLoader(generator=...)`` (shuffling, worker seeds)."""
    worker_init_fn: Callable[[int], None] = attrs.field(eq=False)
    """For ``DataLoader(worker_init_fn=...)``: seeds python's and numpy's RNG in each loader worker from the
    seed torch gives that worker (which follows :attr:`generator`)."""
    deterministic: bool = False
    """Whether torch's deterministic algorithms were turned on."""

    @property
    def loader_kwargs(self) -> dict[str, Any]:
        """``{"generator": ..., "worker_init_fn": ...}``, to pass to ``torch.utils.data.DataLoader``."""
        return {"generator": self.generator, "worker_init_fn": self.worker_init_fn}


def seed_worker(worker_id: int) -> None:
    """Seed python's and numpy's global RNG in a DataLoader worker from the seed torch gave the worker."""
    seed = torch.initial_seed() % SEED_LIMIT
    random.seed(seed)
    np.random.seed(seed)


@attrs.define
class _Current:
    """The latest :class:`Seeding` of this process, and the trial it was made in (None outside one)."""

    seeding: Seeding | None = None
    trial_id: str | None = None
    before_deterministic: tuple[bool, bool, bool, bool] | None = None
    """What ``deterministic=True`` changed, as it was before (deterministic algorithms, their warn-only mode,
    cuDNN's ``deterministic`` and ``benchmark``): put back by the next ``deterministic=False``."""


_current = _Current()


def current_seeding() -> Seeding | None:
    """The :class:`Seeding` that :func:`seed_everything` returned last in this trial (or outside any), else None.

    A worker process runs one trial after another: a seeding made in an earlier trial is not returned.
    """
    if _current.seeding is None or _current.trial_id != _trial_id():
        return None
    return _current.seeding


def _trial_id() -> str | None:
    try:
        return tunecore.get_context().trial_id
    except tunecore.TuneError:  # outside a trial
        return None


def _trial_seed() -> int | None:
    try:
        return tunecore.get_context().seed
    except tunecore.TuneError:  # outside a trial
        return None


def seed_everything(seed: int | None = None, deterministic: bool = False) -> Seeding:
    """Seed python's ``random``, numpy's global RNG, torch (CPU and every CUDA device) with one seed.

    ``seed`` defaults to the trial's (``tunecore.get_context().seed``, derived from the experiment's seed),
    else a random one (see :attr:`Seeding.seed`). ``deterministic=True`` also makes torch use deterministic
    algorithms only (``torch.use_deterministic_algorithms(True)``; an operation without one raises), turns off
    cuDNN's benchmark and sets ``CUBLAS_WORKSPACE_CONFIG`` for cuBLAS (set before CUDA is first used: call this
    at the start of the trainable). ``deterministic=False`` undoes what an earlier ``deterministic=True`` of
    this process changed (a worker process runs one trial after another), putting back the settings it found;
    settings made by the caller itself are left alone (``CUBLAS_WORKSPACE_CONFIG`` stays set: it is harmless).
    Returns a :class:`Seeding` with the DataLoader's generator and ``worker_init_fn``. Call it before
    :func:`tune_torch.restore`, which then puts the saved states back.
    """
    if not isinstance(deterministic, bool):
        raise ValueError(f"deterministic must be True or False, got {deterministic!r}")
    if seed is None:
        seed = _trial_seed()
    if seed is None:
        seed = secrets.randbelow(SEED_LIMIT)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < SEED_LIMIT:
        raise ValueError(f"seed must be an integer between 0 and 2**32 - 1 (or None), got {seed!r}")
    seed = int(seed)
    if deterministic:
        if _current.before_deterministic is None:
            _current.before_deterministic = (
                torch.are_deterministic_algorithms_enabled(),
                torch.is_deterministic_algorithms_warn_only_enabled(),
                bool(torch.backends.cudnn.deterministic),
                bool(torch.backends.cudnn.benchmark),
            )
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE_CONFIG)
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    elif _current.before_deterministic is not None:  # an earlier trial of this worker process turned them on
        enabled, warn_only, cudnn_deterministic, benchmark = _current.before_deterministic
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
        torch.backends.cudnn.deterministic = cudnn_deterministic
        torch.backends.cudnn.benchmark = benchmark
        _current.before_deterministic = None
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds every CUDA device too (lazily, when CUDA is initialised)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    seeding = Seeding(seed=seed, generator=generator, worker_init_fn=seed_worker, deterministic=deterministic)
    _current.seeding, _current.trial_id = seeding, _trial_id()
    return seeding
