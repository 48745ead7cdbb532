"""TuneReportCallback with a real Lightning Trainer (tiny model, CPU): every validation reported (never the
sanity check), ASHA's stop ends Trainer.fit through Lightning's own stopping, and a retried trial resumes from
the reported Lightning checkpoint."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("lightning", reason="Lightning is not installed: pip install 'tune-torch[lightning]'")

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

import tunecore
from tune_torch.lightning import CHECKPOINT_FILE, TuneReportCallback, checkpoint_path

pytestmark = pytest.mark.filterwarnings("ignore:`isinstance.treespec, LeafSpec.` is deprecated")
EPOCHS = 8
failed: list[str] = []
events: list[tuple] = []
"""What the Lightning side saw, per trial (the inline executor runs them in this process)."""


class Regression(pl.LightningModule):
    def __init__(self, lr: float) -> None:
        super().__init__()
        self.lr = lr
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.layer(x), y))

    def on_validation_end(self) -> None:
        trial = tunecore.get_context().trial_id
        events.append((trial, "validation", self.trainer.sanity_checking, self.current_epoch))

    def on_train_start(self) -> None:
        events.append((tunecore.get_context().trial_id, "train_start", self.current_epoch))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)


def loaders() -> tuple[DataLoader, DataLoader]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=generator)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    data = TensorDataset(x, y)
    return DataLoader(data, batch_size=16), DataLoader(data, batch_size=32)


class Ends(pl.Callback):
    """Notes how fit ended: Lightning's own teardown done, the exception it saw."""

    def on_fit_end(self, trainer, pl_module):
        events.append((tunecore.get_context().trial_id, "fit_end", trainer.current_epoch, trainer.should_stop))

    def on_exception(self, trainer, pl_module, exception):
        events.append((tunecore.get_context().trial_id, "exception", type(exception).__name__))


def train(config: dict) -> None:
    torch.manual_seed(0)
    trainer = pl.Trainer(
        max_epochs=EPOCHS,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[Ends(), TuneReportCallback({"loss": "val_loss"}, checkpoint=config.get("checkpoint", False))],
    )
    if config.get("fail_at") and not failed:
        failed.append(tunecore.get_context().trial_id)  # fail once: the retry runs to the end
        trainer.callbacks.append(FailAt(config["fail_at"]))
    train_loader, val_loader = loaders()
    trainer.fit(Regression(config["lr"]), train_loader, val_loader, ckpt_path=checkpoint_path())


class FailAt(pl.Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == self.epoch:
            raise RuntimeError("boom")


def fit(tmp_path, space, retries=0, **tune) -> tunecore.ResultGrid:
    events.clear()
    failed.clear()
    return tunecore.Tuner(
        train,
        param_space=space,
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", seed=0, executor="inline", **tune),
        run_config=tunecore.RunConfig(
            storage_path=str(tmp_path),
            verbose=0,
            loggers=[],
            failure_config=tunecore.FailureConfig(max_failures=retries),
        ),
    ).fit()


def test_every_validation_is_reported_and_ashas_stop_ends_fit(tmp_path):
    scheduler = {"name": "asha", "max_t": EPOCHS, "grace_period": 1, "reduction_factor": 2}
    grid = fit(tmp_path, {"lr": tunecore.grid_search([0.1, 0.03, 1e-4, 3e-5])}, scheduler=scheduler)
    assert grid.num_errors == 0, [r.error for r in grid]
    stopped = 0
    for result in grid:
        mine = [event for event in events if event[0] == result.trial_id]
        validations = [event for event in mine if event[1] == "validation" and not event[2]]
        assert any(event[1] == "validation" and event[2] for event in mine)  # the sanity check ran, unreported
        reported = [r["training_iteration"] for r in result.metrics_history]
        assert reported == list(range(1, len(reported) + 1))
        assert all(isinstance(r["loss"], float) for r in result.metrics_history)
        end = [event for event in mine if event[1] == "fit_end"]
        assert len(end) == 1, mine  # the fit loop ended (as early stopping ends it), teardown done
        if len(reported) == EPOCHS:
            assert len(validations) == EPOCHS and end[0][3] is False
        else:  # stopped by ASHA: the validation whose report found the stop is not delivered
            stopped += 1
            assert len(validations) == len(reported) + 1, mine
            assert end[0][2:] == (len(validations), True), mine  # no epoch after the stop
            assert (result.trial_id, "exception", "TrialInterrupt") in mine  # handed back to tunecore
    assert stopped >= 1, [len(r.metrics_history) for r in grid]


def test_a_retried_trial_resumes_from_the_reported_lightning_checkpoint(tmp_path):
    grid = fit(tmp_path, {"lr": 0.05, "checkpoint": True, "fail_at": 3}, retries=1, num_samples=1)
    result = grid[0]
    assert failed == [result.trial_id] and result.status == "TERMINATED", result.error
    seen = [event for event in events if not (event[1] == "validation" and event[2])]  # no sanity checks
    after_failure = seen[[event[1] for event in seen].index("exception") + 1]
    assert after_failure[1:] == ("train_start", 2)
    # the retry restores the checkpoint reported at epoch 2's validation end: the end of epoch 2, then epochs 3-7
    validated = [event[3] for event in events if event[1] == "validation" and not event[2]]
    assert validated == [0, 1, 2, 3, 4, 5, 6, 7]
    assert [r["training_iteration"] for r in result.metrics_history] == list(range(1, EPOCHS + 1))
    assert os.listdir(result.checkpoint.path) == [CHECKPOINT_FILE]


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="on must be one of"):
        TuneReportCallback(on="test_end")
    with pytest.raises(ValueError, match="metrics must be"):
        TuneReportCallback(metrics="val_loss")
