"""A misspelt domain in a TOML space is an error at load, naming the file and the key, with the right name."""

from __future__ import annotations

import pytest

import tunecore
from tunecore.config_file import load_experiment
from tunecore.errors import ConfigError
from tunecore.space import SpaceError, space_from_data, space_to_data


def write(tmp_path, space_lines):
    (tmp_path / "train.py").write_text("def train(config):\n    return {'loss': 1.0}\n")
    path = tmp_path / "exp.toml"
    path.write_text('trainable = "train.py:train"\nmetric = "loss"\nmode = "min"\n\n' + space_lines)
    return path


def test_a_misspelt_domain_is_an_error_at_load_naming_file_and_key(tmp_path):
    path = write(tmp_path, "[param_space]\nx = { unifrom = [0.0, 1.0] }\n")
    with pytest.raises(ConfigError) as excinfo:
        load_experiment(path)
    message = str(excinfo.value)
    assert str(path) in message and "'x'" in message and "'unifrom'" in message
    assert "Did you mean 'uniform'?" in message


def test_a_misspelt_nested_domain_names_the_nested_key(tmp_path):
    path = write(tmp_path, "[param_space.model]\nlr = { logunifrom = { low = 1e-4, high = 1e-1 } }\n")
    with pytest.raises(ConfigError, match=r"'model/lr'.*'logunifrom'.*Did you mean 'loguniform'\?"):
        load_experiment(path)


def test_the_error_says_how_to_write_a_constant_table_on_purpose():
    with pytest.raises(SpaceError, match=r"choise.*Did you mean 'choice'\?.*const"):
        space_from_data({"act": {"choise": ["relu", "tanh"]}})
    assert space_from_data({"act": {"const": {"choise": ["relu", "tanh"]}}}) == {"act": {"choise": ["relu", "tanh"]}}


def test_single_key_tables_far_from_any_domain_name_stay_constants(tmp_path):
    lines = (
        "[param_space]\nmodel = { layers = [64, 64] }\nopt = { name = 'sgd' }\nrandom = { seed = 1 }\n"
        "sched = { cosine = [1] }\nbetas = { normal = [0.9] }\nx = { range = [1, 2] }\nact = { random = [1] }\n"
    )
    path = write(tmp_path, lines)
    space = load_experiment(path).param_space
    assert space == {
        "model": {"layers": [64, 64]}, "opt": {"name": "sgd"}, "random": {"seed": 1}, "sched": {"cosine": [1]},
        "betas": {"normal": [0.9]}, "x": {"range": [1, 2]}, "act": {"random": [1]},
    }


def test_a_python_constant_that_looks_misspelt_round_trips_through_the_data_form():
    space = {"x": {"unifrom": [0.0, 1.0]}, "y": tunecore.uniform(0, 1)}
    data = space_to_data(space)
    assert data["x"] == {"const": {"unifrom": [0.0, 1.0]}}
    assert space_from_data(data) == space
