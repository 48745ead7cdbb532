"""tune-asha is an installed distribution whose schedulers tunecore finds through its entry point."""

from __future__ import annotations

import pytest

import tune_asha
import tunecore
from tunecore.cli import main


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("asha", tune_asha.AsyncHyperBandScheduler),
        ("mo_asha", tune_asha.MOASHAScheduler),
        ("hyperband", tune_asha.HyperBandScheduler),
        ("median", tune_asha.MedianStoppingRule),
    ],
)
def test_registered_by_the_installed_distribution(name, cls):
    registry = tunecore.load_plugins({}).registry
    info = registry.get("scheduler", name)
    assert info.dist == "tune-asha" and info.factory is cls and info.summary
    assert registry.get("scheduler", f"tune-asha:{name}") is info


def test_listed_by_tunecore_plugins(capsys):
    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in ("asha", "mo_asha", "hyperband", "median"):
        assert any(line.split()[:2] == [name, "tune-asha"] for line in lines), name


def test_disabling_the_plugin_removes_its_schedulers():
    plugins = tunecore.load_plugins({"TUNECORE_DISABLE_PLUGINS": "tune-asha"})
    with pytest.raises(tunecore.ComponentError, match="provided by tune-asha: pip install tune-asha"):
        plugins.registry.get("scheduler", "asha")


def test_experiment_json_records_the_version_of_every_distribution_used(tmp_path):
    """The core and the distribution of each component chosen by name or given as an instance."""
    import json
    from importlib.metadata import version

    from tunecore.builtin.stoppers import MaxIterStopper

    class Mine(tunecore.Searcher):  # defined here: in no distribution, so not listed
        def suggest(self, trial_id):
            return tunecore.FINISHED

    tunecore.Tuner(
        lambda config: None,
        tune_config=tunecore.TuneConfig(scheduler="asha", metric="loss", mode="min", searcher=Mine(),
                                        executor="inline"),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), stoppers=[MaxIterStopper(3)],
                                      loggers=[], verbose=0),
    ).fit()
    versions = json.loads((tmp_path / "exp" / "experiment.json").read_text())["versions"]
    assert versions == {"tunecore": version("tunecore"), "tune-asha": version("tune-asha")}
