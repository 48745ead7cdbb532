"""TuneReportCallback with a real Lightning Trainer (tiny model, CPU): every validation reported (never the
sanity check), ASHA's stop ends Trainer.fit through Lightning's own stopping, and a retried trial resumes from
the reported Lightning checkpoint."""

from __future__ import annotations

import os
import tempfile

import pytest

pytest.importorskip("lightning", reason="Lightning is not installed: pip install 'tune-torch[lightning]'")

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

import tunecore
from tests.torch.support import trial_session
from tune_torch.lightning import CHECKPOINT_FILE, TuneReportCallback, checkpoint_path
from tunecore.protocols import Action
from tunecore.session import TrialInterrupt

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


class Scheduled(Regression):
    """Regression with a StepLR schedule (halving each epoch) and the learning rate seen at each epoch start."""

    def __init__(self, lr: float, schedule: bool) -> None:
        super().__init__(lr)
        self.schedule = schedule
        self.seen: list[float] = []

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=self.lr)
        if not self.schedule:
            return optimizer
        return [optimizer], [torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)]

    def on_train_epoch_start(self) -> None:
        self.seen.append(self.trainer.optimizers[0].param_groups[0]["lr"])


def quiet_trainer(max_epochs: int, *callbacks) -> pl.Trainer:
    return pl.Trainer(
        max_epochs=max_epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=list(callbacks),
    )


@pytest.mark.filterwarnings("ignore:You defined a `validation_step` but have no `val_dataloader`")
@pytest.mark.parametrize("schedule", [False, True])
def test_an_exploited_member_trains_with_its_new_learning_rate(tmp_path, schedule):
    train_loader, _ = loaders()
    path = str(tmp_path / CHECKPOINT_FILE)
    with trial_session(config={"lr": 0.1}):  # the donor: one epoch at lr 0.1, then its checkpoint
        trainer = quiet_trainer(1, TuneReportCallback(checkpoint=False))
        trainer.fit(Scheduled(0.1, schedule), train_loader)
        trainer.save_checkpoint(path)
    donor_lr = 0.05 if schedule else 0.1  # the rate the donor's optimizer had when it saved
    for config_lr, expected in ((0.4, donor_lr * 4), (0.1, donor_lr)):  # an exploit (new lr), then a resume
        with trial_session(config={"lr": config_lr, "momentum": 0.9}):  # SGD(momentum=0) has it: applied too
            member = Scheduled(config_lr, schedule)
            quiet_trainer(2, TuneReportCallback(checkpoint=False)).fit(member, train_loader, ckpt_path=path)
        # Lightning loads the donor's param groups over configure_optimizers' lr; the callback puts the member's
        # own back: lr 0.4 (under the schedule: 0.4's schedule at epoch 1, 0.1); a plain resume keeps the rate
        assert member.seen == [pytest.approx(expected)], (config_lr, member.seen)
        momentum = member.trainer.optimizers[0].param_groups[0]["momentum"]
        assert momentum == 0.9


def test_a_reused_callback_reports_again_in_its_next_fit(monkeypatch):
    reports: list[dict] = []

    def report(metrics, checkpoint=None):
        reports.append(metrics)
        if len(reports) == 1:
            raise TrialInterrupt(Action.STOP)

    monkeypatch.setattr(tunecore, "report", report)
    callback = TuneReportCallback({"loss": "val_loss"}, checkpoint=False)
    train_loader, val_loader = loaders()
    with trial_session(), pytest.raises(TrialInterrupt):
        quiet_trainer(3, callback).fit(Regression(0.1), train_loader, val_loader)
    assert len(reports) == 1
    with trial_session():
        quiet_trainer(2, callback).fit(Regression(0.1), train_loader, val_loader)  # the same instance, a new fit
    assert len(reports) == 3


class FakeStrategy:
    def __init__(self, directory: str | None) -> None:
        self.directory = directory
        self.broadcasts: list = []

    def broadcast(self, value, src=0):
        self.broadcasts.append(value)
        if value is None or isinstance(value, str):  # the checkpoint directory (None on the ranks but 0)
            return self.directory if self.directory is not None else value
        return value  # should_stop


class FakeTrainer:
    """What the callback uses of a Trainer, on one rank of a two-process run."""

    def __init__(self, rank: int, directory: str | None = None) -> None:
        self.is_global_zero = rank == 0
        self.world_size = 2
        self.sanity_checking = False
        self.should_stop = False
        self.callback_metrics = {"val_loss": torch.tensor(0.5)}
        self.strategy = FakeStrategy(directory)
        self.saved: list[str] = []

    def save_checkpoint(self, path: str) -> None:
        self.saved.append(path)
        os.makedirs(path)  # as a sharded strategy writes it: a directory of shards, one written by each rank


def test_only_global_rank_zero_reports_and_every_rank_saves_into_rank_zeros_directory(tmp_path, monkeypatch):
    reports: list = []
    monkeypatch.setattr(tunecore, "report", lambda metrics, checkpoint=None: reports.append((metrics, checkpoint)))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rank0 = FakeTrainer(0)
    TuneReportCallback({"loss": "val_loss"}).on_validation_end(rank0, None)
    [(metrics, checkpoint)] = reports
    assert metrics == {"loss": 0.5} and rank0.saved == [os.path.join(checkpoint.path, CHECKPOINT_FILE)]
    assert rank0.strategy.broadcasts[0] == checkpoint.path  # rank 0 made the directory and sent it to the others
    shared = str(tmp_path / "rank0-dir")
    os.makedirs(shared)
    rank1 = FakeTrainer(1, directory=shared)
    TuneReportCallback({"loss": "val_loss"}).on_validation_end(rank1, None)
    assert len(reports) == 1  # rank 1 reports nothing ...
    assert rank1.saved == [os.path.join(shared, CHECKPOINT_FILE)]  # ... and saves its part in rank 0's directory
    assert os.path.isdir(rank1.saved[0])  # which it leaves to rank 0
    assert sorted(os.listdir(tmp_path)) == sorted([os.path.basename(checkpoint.path), "rank0-dir"])  # no own dir
