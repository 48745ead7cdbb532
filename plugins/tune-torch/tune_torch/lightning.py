"""A Lightning callback that reports to tunecore, checkpoints, and ends ``Trainer.fit`` on tunecore's stop.

Needs Lightning: ``pip install 'tune-torch[lightning]'`` (the ``lightning`` package; ``pytorch_lightning`` is
used when ``lightning`` is not installed)::

    trainer = lightning.pytorch.Trainer(callbacks=[TuneReportCallback({"loss": "val_loss"})], ...)
    trainer.fit(model, ckpt_path=checkpoint_path())   # resumes from the trial's checkpoint, if any
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import tunecore
from tunecore.session import TrialDone, TrialInterrupt

try:
    from lightning.pytorch import Callback, LightningModule, Trainer
except ImportError:  # pragma: no cover - depends on what is installed
    try:
        from pytorch_lightning import Callback, LightningModule, Trainer  # type: ignore[assignment]
    except ImportError as exc:
        raise ImportError(
            "tune_torch.lightning needs Lightning: pip install 'tune-torch[lightning]' (or pytorch-lightning)"
        ) from exc

CHECKPOINT_FILE = "lightning.ckpt"
"""The file ``Trainer.save_checkpoint`` writes in each checkpoint the callback reports."""

EVENTS = ("validation_end", "train_epoch_end")
"""When the callback may report: after each validation run, or at the end of each training epoch."""


def checkpoint_path() -> str | None:
    """The Lightning checkpoint file of the trial's checkpoint (``tunecore.get_checkpoint()``), or None.

    Pass it to ``trainer.fit(model, ckpt_path=checkpoint_path())``: a resumed, restarted (PBT) or retried
    trial goes on from there; a fresh one (None) starts from scratch.
    """
    checkpoint = tunecore.get_checkpoint()
    if checkpoint is None:
        return None
    path = os.path.join(checkpoint.path, CHECKPOINT_FILE)
    return path if os.path.isfile(path) else None


class TuneReportCallback(Callback):
    """Reports Lightning's logged metrics to tunecore, with a checkpoint, and stops when tunecore says so.

    * ``metrics``: what to report. A dict ``{reported name: logged name}`` (``{"loss": "val_loss"}``), a list of
      logged names (reported as they are), or None for every metric in ``trainer.callback_metrics``.
      Tensors are reported as Python numbers; a name that was not logged is an error naming the logged ones.
    * ``on``: ``"validation_end"`` (after each validation run; the default) or ``"train_epoch_end"``, or a
      list of both. Lightning's sanity check (validation before training) is never reported.
    * ``checkpoint``: report a checkpoint with each result (``Trainer.save_checkpoint`` into
      :data:`CHECKPOINT_FILE`), for resume, PBT and retries (see :func:`checkpoint_path`).

    Only global rank 0 reports (every rank saves: the strategy decides who writes). When a report ends the
    trial (a scheduler's stop, pause or restart, or ``done``), the callback sets ``trainer.should_stop`` on
    every rank, so that the fit loop ends as it does for early stopping and Lightning tears down; tunecore's
    interrupt is then raised again from ``on_fit_end`` (it must reach tunecore: a pause is not an end). Should
    ``min_epochs``/``min_steps`` keep the loop going, it is raised at the next training batch instead.
    """

    def __init__(
        self,
        metrics: Mapping[str, str] | Sequence[str] | None = None,
        on: str | Sequence[str] = "validation_end",
        checkpoint: bool = True,
    ) -> None:
        super().__init__()
        if metrics is None:
            self.metrics: dict[str, str] | None = None
        elif isinstance(metrics, Mapping):
            self.metrics = {str(name): str(logged) for name, logged in metrics.items()}
        elif isinstance(metrics, Sequence) and not isinstance(metrics, str):
            self.metrics = {str(name): str(name) for name in metrics}
        else:
            raise ValueError(f"metrics must be a dict, a list of names or None, got {metrics!r}")
        events = [on] if isinstance(on, str) else list(on)
        unknown = [event for event in events if event not in EVENTS]
        if unknown or not events:
            raise ValueError(f"on must be one of {', '.join(EVENTS)} (or a list of them), got {on!r}")
        if not isinstance(checkpoint, bool):
            raise ValueError(f"checkpoint must be True or False, got {checkpoint!r}")
        self.on = tuple(events)
        self.checkpoint = checkpoint
        self.interrupt: BaseException | None = None
        """tunecore's interrupt once a report ended the trial (raised again from ``on_fit_end``)."""
        self._stopped = False

    # Lightning hooks

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Report after a validation run (not the sanity check) when ``on`` includes ``validation_end``."""
        if "validation_end" in self.on and not trainer.sanity_checking:
            self._report(trainer)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Report at the end of a training epoch when ``on`` includes ``train_epoch_end``."""
        if "train_epoch_end" in self.on:
            self._report(trainer)

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int) -> None:
        """Raise tunecore's interrupt when the fit loop went on after it (``min_epochs``, ``min_steps``)."""
        self._raise_interrupt()

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Hand tunecore's interrupt back to tunecore once Lightning has ended the fit loop and torn down."""
        self._raise_interrupt()

    # internals

    def _raise_interrupt(self) -> None:
        interrupt, self.interrupt = self.interrupt, None
        if interrupt is not None:
            raise interrupt

    def _metrics(self, trainer: Trainer) -> dict[str, Any]:
        logged = trainer.callback_metrics
        names = self.metrics if self.metrics is not None else {name: name for name in logged}
        missing = [name for name in names.values() if name not in logged]
        if missing:
            raise KeyError(
                f"TuneReportCallback: {', '.join(missing)} not logged (self.log(...)); logged now:"
                f" {', '.join(sorted(logged)) or 'nothing'}"
            )
        return {name: _plain(logged[source]) for name, source in names.items()}

    def _report(self, trainer: Trainer) -> None:
        if self._stopped:
            return
        checkpoint = None
        if self.checkpoint:
            directory = tempfile.mkdtemp(prefix="tune-torch-lightning-")
            trainer.save_checkpoint(os.path.join(directory, CHECKPOINT_FILE))
            if trainer.is_global_zero:
                checkpoint = tunecore.Checkpoint(directory, owned=True)
            else:
                shutil.rmtree(directory, ignore_errors=True)
        stop = False
        if trainer.is_global_zero:
            try:
                tunecore.report(self._metrics(trainer), checkpoint=checkpoint)
            except (TrialInterrupt, TrialDone) as interrupt:
                self.interrupt = interrupt
                stop = True
        if trainer.world_size > 1:
            stop = bool(trainer.strategy.broadcast(stop, src=0))
        if stop:
            self._stopped = True
            trainer.should_stop = True


def _plain(value: Any) -> Any:
    """A logged value as a Python number (tensors of one element), else unchanged."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "numel", lambda: 0)() == 1:
        return item()
    return value
