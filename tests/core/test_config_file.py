"""TOML experiment files: a valid file equals its Python twin; every kind of mistake is named."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import tunecore
from tunecore.config import CheckpointConfig, ExperimentSpec, FailureConfig, RunConfig, TuneConfig
from tunecore.config_file import load_experiment
from tunecore.errors import ConfigError
from tunecore.references import resolve_reference

DATA = Path(__file__).parent / "data"

VALID = """
trainable = "{trainable}"
metric = "loss"
mode = "min"
num_samples = 4
seed = 7
max_concurrent_trials = 2
time_budget_s = 60
name = "toml-twin"
storage_path = "/tmp/results"
verbose = 0
loggers = ["json", {{ name = "csv" }}]

[param_space]
lr = {{ loguniform = [1e-4, 1e-1] }}
act = {{ choice = ["relu", "tanh"] }}
layers = {{ grid_search = [1, 2, 3] }}
batch = 32

[param_space.optimizer]
momentum = {{ uniform = [0.8, 0.99] }}
steps = {{ qrandint = [10, 100, 10] }}

[searcher]
name = "random"
points_to_evaluate = [{{ lr = 0.01 }}]

[scheduler]
name = "fifo"

[executor]
name = "local"
workers = 2

[[stoppers]]
name = "max_iter"
max_iter = 10

[[stoppers]]
name = "threshold"
value = 0.001

[stop]
training_iteration = 20

[checkpoint_config]
num_to_keep = 2
checkpoint_score_attribute = "loss"
checkpoint_score_order = "min"

[failure_config]
max_failures = 1
"""


def write(tmp_path: Path, text: str, name: str = "experiment.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def python_twin(trainable) -> ExperimentSpec:
    return ExperimentSpec(
        trainable=trainable,
        param_space={
            "lr": tunecore.loguniform(1e-4, 1e-1),
            "act": tunecore.choice(["relu", "tanh"]),
            "layers": tunecore.grid_search([1, 2, 3]),
            "batch": 32,
            "optimizer": {"momentum": tunecore.uniform(0.8, 0.99), "steps": tunecore.qrandint(10, 100, 10)},
        },
        tune_config=TuneConfig(
            metric="loss",
            mode="min",
            num_samples=4,
            seed=7,
            max_concurrent_trials=2,
            time_budget_s=60,
            searcher="random",
            searcher_options={"points_to_evaluate": [{"lr": 0.01}]},
            scheduler="fifo",
            executor={"name": "local", "workers": 2},
        ),
        run_config=RunConfig(
            name="toml-twin",
            storage_path="/tmp/results",
            verbose=0,
            loggers=["json", {"name": "csv"}],
            stoppers=[{"name": "max_iter", "max_iter": 10}, {"name": "threshold", "value": 0.001}],
            stop={"training_iteration": 20},
            checkpoint_config=CheckpointConfig(
                num_to_keep=2, checkpoint_score_attribute="loss", checkpoint_score_order="min"
            ),
            failure_config=FailureConfig(max_failures=1),
        ),
    )


def test_file_path_trainable_equals_python_twin(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "quad.py").write_text((DATA / "trainables.py").read_text())
    spec = load_experiment(write(tmp_path, VALID.format(trainable="code/quad.py:train")))
    assert spec.trainable({"lr": 0.01}) == {"loss": 0.0}
    assert spec == python_twin(spec.trainable)
    assert spec.to_data() == python_twin(spec.trainable).to_data()


def test_module_trainable_equals_python_twin(tmp_path):
    from tests.core.data.trainables import train

    spec = load_experiment(write(tmp_path, VALID.format(trainable="tests.core.data.trainables:train")))
    assert spec.trainable is train
    assert spec == python_twin(train)


def test_minimal_file_uses_defaults(tmp_path):
    spec = load_experiment(write(tmp_path, 'trainable = "tests.core.data.trainables:train"\n'))
    assert spec.tune_config == TuneConfig()
    assert spec.run_config == RunConfig()
    assert spec.param_space == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'trainable = "tests.core.data.trainables:train"\nnum_sample = 3\n',
            "experiment.toml: unknown key 'num_sample'. Did you mean 'num_samples'?",
        ),
        (
            'trainable = "tests.core.data.trainables:train"\nnum_samples = "10"\n',
            "experiment.toml: 'num_samples' must be an integer, e.g. num_samples = 10 (-1 = until stopped);"
            " got a string ('10')",
        ),
        ('trainable = "tests.core.data.trainables:train"\nseed = true\n', "'seed' must be an integer"),
        (
            'trainable = "tests.core.data.trainables:train"\n[param_space]\nlr = { loguniform = [0, 1] }\n',
            "experiment.toml: in [param_space]:",
        ),
        (
            'trainable = "tests.core.data.trainables:train"\nmode = "best"\n',
            "experiment.toml: TuneConfig.mode must be 'min', 'max'",
        ),
        (
            'trainable = "tests.core.data.trainables:train"\n[searcher]\npoints_to_evaluate = []\n',
            "experiment.toml: TuneConfig.searcher: a searcher given as a mapping needs a 'name' key",
        ),
        (
            'trainable = "tests.core.data.trainables:train"\n[checkpoint_config]\nnum_to_kep = 1\n',
            "experiment.toml: unknown key 'num_to_kep' in [checkpoint_config]. Did you mean 'num_to_keep'?",
        ),
        ('metric = "loss"\n', "experiment.toml: 'trainable' is missing"),
        ('trainable = "tests.core.data.trainables"\n', "must look like 'package.module:function'"),
        ('trainable = "tests.core.data.trainables:trian"\n', "has no attribute 'trian'"),
        ('trainable = "no_such_module_xyz:train"\n', "cannot import module 'no_such_module_xyz'"),
        ('trainable = "missing.py:train"\n', "does not exist"),
        ('trainable = "tests.core.data.trainables:train"\nmetric = \n', "experiment.toml: not valid TOML"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path, body, message):
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as excinfo:
        load_experiment(path)
    assert message in str(excinfo.value)
    assert str(path) in str(excinfo.value)


def test_did_you_mean_for_attribute(tmp_path):
    with pytest.raises(ConfigError, match="Did you mean 'train'"):
        load_experiment(write(tmp_path, 'trainable = "tests.core.data.trainables:trian"\n'))


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read experiment file"):
        load_experiment(tmp_path / "nope.toml")


def test_resolve_reference_reuses_a_loaded_file(tmp_path):
    (tmp_path / "mod.py").write_text("def f():\n    return 1\n")
    assert resolve_reference("mod.py:f", tmp_path) is resolve_reference(str(tmp_path / "mod.py") + ":f")
