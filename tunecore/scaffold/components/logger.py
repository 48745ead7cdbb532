"""A logger to start from: each trial's outcome as JSON in its own directory."""

import json
import os

import tunecore
from tunecore.options import check_text


class ExampleLogger(tunecore.Logger):
    """Writes ``<trial dir>/<filename>`` when a trial ends: its status, error, config and last result.

    Options: ``filename`` (default ``outcome.json``; a plain file name).
    """

    def __init__(self, filename="outcome.json"):
        self.filename = check_text("filename", filename)
        if os.path.basename(self.filename) != self.filename or self.filename in (".", ".."):
            raise ValueError(f"filename must be a plain file name (no directory), got {filename!r}")

    def tunecore_trial_finished(self, trial, status, error):
        """A trial ended (TERMINATED or ERROR): write what it ended with, inside its directory."""
        outcome = {
            "trial_id": trial.trial_id,
            "status": status,
            "error": error,
            "config": trial.config,
            "last_result": trial.last_result,
        }
        os.makedirs(trial.path, exist_ok=True)
        with open(os.path.join(trial.path, self.filename), "w", encoding="utf-8") as file:
            json.dump(outcome, file, indent=2, default=repr)
