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
from tune_torch.optim import OPTIMIZER_KEYS, update_optimizer
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
    return path if os.path.exists(path) else None  # a directory when a sharded strategy saved it


class TuneReportCallback(Callback):
    """Reports Lightning's logged metrics to tunecore, with a checkpoint, and stops when tunecore says so.

    * ``metrics``: what to report. A dict ``{reported name: logged name}`` (``{"loss": "val_loss"}``), a list of
      logged names (reported as they are), or None for every metric in ``trainer.callback_metrics``.
      Tensors are reported as Python numbers; a name that was not logged is an error naming the logged ones.
    * ``on``: ``"validation_end"`` (after each validation run; the default) or ``"train_epoch_end"``, or a
      list of both. Lightning's sanity check (validation before training) is never reported.
    * ``checkpoint``: report a checkpoint with each result (``Trainer.save_checkpoint`` into
      :data:`CHECKPOINT_FILE`), for resume, PBT and retries (see :func:`checkpoint_path`).

    * ``optimizer_keys``: ``{config key: param-group key}`` of what a restored checkpoint must not override (by
      default ``lr``, ``momentum``, ``weight_decay`` and ``betas``, each by its own name; ``{}``: nothing).
      ``fit(ckpt_path=...)`` loads the saved optimizers' param groups over what ``configure_optimizers`` made
      from the config, so after PBT's exploit the member would train with its donor's learning rate. When a
      checkpoint was restored, the callback applies, at ``on_train_start``, those keys of the trial's config
      that differ from the config that saved it (all of them when the checkpoint does not say) to each of
      ``trainer.optimizers`` that has them in every param group, with :func:`tune_torch.update_optimizer`
      (and the optimizer's first LR scheduler, so a schedule is rescaled, not restarted). A plain resume or
      retry (the same config) keeps the restored rates.

    Only global rank 0 reports (every rank saves: the strategy decides who writes). Checkpoint directories are
    made by rank 0 and broadcast to the others (``trainer.strategy.broadcast``), so that a sharded strategy
    (FSDP, DeepSpeed) writes every rank's part into the one directory rank 0 reports; the ranks must then share
    a file system, as those strategies need for any checkpoint. When a report ends the
    trial (a scheduler's stop, pause or restart, or ``done``), the callback sets ``trainer.should_stop`` on
    every rank, so that the fit loop ends as it does for early stopping and Lightning tears down; tunecore's
    interrupt is then raised again from ``on_fit_end`` (it must reach tunecore: a pause is not an end). Should
    ``min_epochs``/``min_steps`` keep the loop going, it is raised at the next training batch instead. Put
    the callback last in ``callbacks``: the callbacks after it do not get ``on_fit_end`` then (Lightning calls
    ``on_exception`` on all of them). One instance may serve several fits in turn.
    """

    def __init__(
        self,
        metrics: Mapping[str, str] | Sequence[str] | None = None,
        on: str | Sequence[str] = "validation_end",
        checkpoint: bool = True,
        optimizer_keys: Mapping[str, str] | None = None,
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
        if optimizer_keys is not None and not isinstance(optimizer_keys, Mapping):
            raise ValueError(f"optimizer_keys must be a dict of config key: param-group key, got {optimizer_keys!r}")
        self.on = tuple(events)
        self.checkpoint = checkpoint
        self.optimizer_keys: dict[str, str] = (
            {name: name for name in OPTIMIZER_KEYS}
            if optimizer_keys is None
            else {str(key): str(group_key) for key, group_key in optimizer_keys.items()}
        )
        self.interrupt: BaseException | None = None
        """tunecore's interrupt once a report ended the trial (raised again from ``on_fit_end``)."""
        self._stopped = False
        self._restored = False
        self._saved_config: dict[str, Any] | None = None

    # checkpointed state: the optimizer settings of the config that saved the checkpoint

    def state_dict(self) -> dict[str, Any]:
        """``{"optimizer_config": {config key: value}}``: the trial's optimizer settings when it saved."""
        config = _trial_config()
        values = {key: _comparable(config[key]) for key in self.optimizer_keys if key in config}
        return {"optimizer_config": values} if values else {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Note the optimizer settings of the config that saved the checkpoint being restored."""
        saved = state_dict.get("optimizer_config")
        self._saved_config = dict(saved) if isinstance(saved, Mapping) else None

    # Lightning hooks

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """Forget the checkpoint of an earlier fit (a checkpoint is restored after this)."""
        self._restored = False
        self._saved_config = None

    def on_load_checkpoint(self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]) -> None:
        """Note that this fit goes on from a checkpoint (``fit(ckpt_path=...)``)."""
        self._restored = True

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """A new fit reports again, even after an earlier fit of this instance was stopped."""
        self._stopped = False
        self.interrupt = None

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """After a restored checkpoint: apply the trial's own optimizer settings (see ``optimizer_keys``)."""
        if not self._restored or not self.optimizer_keys:
            return
        self._restored = False
        config = _trial_config()
        if trainer.world_size > 1:  # every rank applies rank 0's config (only the trial's process may know it)
            config = trainer.strategy.broadcast(config, src=0)
        saved = self._saved_config
        changed = {
            key: config[key]
            for key in self.optimizer_keys
            if key in config and (saved is None or key not in saved or saved[key] != _comparable(config[key]))
        }
        if not changed:
            return
        for optimizer in trainer.optimizers:
            keys = {
                key: group_key
                for key, group_key in self.optimizer_keys.items()
                if key in changed and all(group_key in group for group in optimizer.param_groups)
            }
            schedulers = [
                entry.scheduler
                for entry in trainer.lr_scheduler_configs
                if getattr(entry.scheduler, "optimizer", None) is optimizer
            ]
            try:
                update_optimizer(optimizer, changed, keys=keys, scheduler=schedulers[0] if schedulers else None)
            except ValueError as exc:
                raise ValueError(
                    f"TuneReportCallback could not apply the trial's config to the restored {type(optimizer).__name__}"
                    f" ({exc}); choose what it applies with TuneReportCallback(optimizer_keys=...)"
                ) from exc

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
            # rank 0 makes the directory and tells the others: a sharded strategy writes every rank's part there
            directory = tempfile.mkdtemp(prefix="tune-torch-lightning-") if trainer.is_global_zero else None
            if trainer.world_size > 1:
                directory = trainer.strategy.broadcast(directory, src=0)
            if directory is None:  # pragma: no cover - a single process is always global rank 0
                raise RuntimeError("TuneReportCallback: global rank 0 sent no checkpoint directory")
            try:
                trainer.save_checkpoint(os.path.join(directory, CHECKPOINT_FILE))
            except BaseException:
                if trainer.is_global_zero:
                    shutil.rmtree(directory, ignore_errors=True)
                raise
            if trainer.is_global_zero:
                checkpoint = tunecore.Checkpoint(directory, owned=True)
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


def _trial_config() -> dict[str, Any]:
    """The trial's config, or {} outside a trial (a rank that is not the trial's own process)."""
    try:
        return dict(tunecore.get_context().config)
    except tunecore.TuneError:
        return {}


def _comparable(value: Any) -> Any:
    """A config value as saved in the callback's state (plain data): pairs as lists, numbers as floats."""
    if isinstance(value, (list, tuple)):
        return [_comparable(item) for item in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value if isinstance(value, (str, bool, type(None))) else repr(value)


def _plain(value: Any) -> Any:
    """A logged value as a Python number (tensors of one element), else unchanged."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "numel", lambda: 0)() == 1:
        return item()
    return value
