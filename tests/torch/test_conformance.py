"""tune-torch's logger passes the logger conformance suite of tunecore.testing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tune_torch.tensorboard import TensorBoardLogger
from tunecore.testing.components import LoggerConformance


class TestTensorBoardLogger(LoggerConformance):
    def make_logger(self, tmp_path: Path) -> Any:
        return TensorBoardLogger()
