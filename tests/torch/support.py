"""Helpers shared by the tune-torch tests: a tiny data set and model, state checksums, a trial session."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

import torch

from tunecore.session import Session, TrialContext, activate


def digest(value: Any) -> str:
    """A sha256 of nested state (tensors by dtype, shape and bytes; other values by repr), keys in order."""
    hasher = hashlib.sha256()

    def feed(item: Any) -> None:
        if isinstance(item, torch.Tensor):
            tensor = item.detach().cpu().contiguous().reshape(-1)
            hasher.update(f"T{item.dtype}{tuple(item.shape)}".encode())
            hasher.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
        elif isinstance(item, Mapping):
            hasher.update(b"{")
            for key in sorted(item, key=repr):
                hasher.update(repr(key).encode())
                feed(item[key])
            hasher.update(b"}")
        elif isinstance(item, (list, tuple)):
            hasher.update(b"[")
            for element in item:
                feed(element)
            hasher.update(b"]")
        else:
            hasher.update(repr(item).encode())

    feed(value)
    return hasher.hexdigest()


def net(seed: int = 0) -> torch.nn.Module:
    """A small MLP (with dropout) initialised from ``seed``."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(8, 1))


def train_steps(model: torch.nn.Module, optimizer: torch.optim.Optimizer, steps: int = 3) -> float:
    """A few optimizer steps on random data from torch's global RNG; the last loss."""
    loss = torch.tensor(0.0)
    for _ in range(steps):
        x = torch.randn(16, 4)
        loss = (model(x) - x.sum(1, keepdim=True)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return float(loss.detach())


@contextlib.contextmanager
def trial_session(
    resources: dict[str, float] | None = None,
    checkpoint: str | None = None,
    trial_dir: str = "/tmp",
    config: dict[str, Any] | None = None,
) -> Iterator[Session]:
    """Run the block as inside a trial: ``tunecore.get_context()`` and ``get_checkpoint()`` answer from it."""
    context = TrialContext(
        trial_id="t_test",
        trial_dir=trial_dir,
        config=dict(config or {}),
        resources=dict(resources or {"cpu": 1.0}),
        seed=1234,
        start_iteration=0,
    )
    session = Session(context, channel=None, checkpoint=checkpoint)  # type: ignore[arg-type]  # never reports
    previous = activate(session)
    try:
        yield session
    finally:
        activate(previous)
