"""The files of a new plugin distribution besides its component: ``str.format`` templates, filled by
:func:`tunecore.scaffold.new_plugin` (``{{``/``}}`` are literal braces)."""

from __future__ import annotations

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "{summary}"
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["tunecore>={core_minor},<{core_next}"{numpy}]

[project.optional-dependencies]
test = ["pytest>=8"]

# How tunecore finds the plugin: the module with its hook implementations.
[project.entry-points.tunecore]
{name} = "{package}.plugin"

[tool.setuptools]
packages = ["{package}"]

[tool.ruff]
line-length = 120

[tool.ruff.lint]
select = ["E", "F", "W", "I", "B", "UP", "RUF"]
"""

PACKAGE_INIT = '''"""{dist}: {summary}."""

from {package}.{kind} import {cls}

__all__ = ["{cls}"]
'''

PLUGIN = '''"""Hook implementations of {dist}: registers the ``{name}`` {kind}."""

import tunecore

from {package}.{kind} import {cls}


@tunecore.hookimpl
def tunecore_register_{kind}s(register):
    """The {kind} {name!r}: its options are the arguments of {cls}."""
    register("{name}", {cls}, "{summary}")
'''

TEST = '''"""{cls} against tunecore's contract (the conformance suite), and in an experiment selecting it by name."""
{imports}
import tunecore
from tunecore.testing import {suite}

from {package} import plugin
from {package}.{kind} import {cls}


class Test{cls}({suite}):
{suite_body}

def train(config):
    for step in range(1, 6):
        tunecore.report({{"loss": (config["x"] - 0.3) ** 2 + 1 / step}})


{experiment_test}
'''

SUITE_BODY = {
    "searcher": """\
    multi_objective = True  # it ignores the metric, so any number of them is fine; False if yours refuses them

    def make_searcher(self, **options):
        return {cls}(**options)
""",
    "scheduler": """\
    def make_scheduler(self):
        return {cls}()
""",
    "stopper": """\
    def make_stopper(self):
        return {cls}(patience=2)
""",
    "logger": """\
    def make_logger(self, tmp_path):
        return {cls}()
""",
    "executor": """\
    max_slots = 2  # the most trials it runs at once in these tests

    def make_executor(self, slots):
        return {cls}(num_cpus=slots)
""",
}

_EXPERIMENT = '''\
def test_an_experiment_selects_it_by_name(tunecore_plugins, tunecore_experiment):
    """Runs twice: on the inline and on the local executor (the tunecore_executor fixture)."""
    grid = tunecore_experiment(
        train,
        {{{{"x": tunecore.uniform(0, 1)}}}},
        plugins=tunecore_plugins(plugin),  # the core's components and this plugin, installed or not
        metric="loss",
        mode="min",
        num_samples=4,
        {selection},
    )
    assert len(grid) == 4 and all(result.error is None for result in grid)
{check}'''

EXPERIMENT_TEST = {
    "searcher": _EXPERIMENT.format(selection='searcher="{name}"', check=""),
    "scheduler": _EXPERIMENT.format(selection='scheduler="{name}"', check=""),
    "stopper": _EXPERIMENT.format(selection='stoppers=["{name}"]', check=""),
    "logger": _EXPERIMENT.format(
        selection='loggers=["{name}"]',
        check='    assert all(os.path.exists(os.path.join(r.path, "outcome.json")) for r in grid)\n',
    ),
    "executor": '''\
def test_an_experiment_selects_it_by_name(tunecore_plugins, tmp_path):
    grid = tunecore.Tuner(
        train,
        param_space={{"x": tunecore.uniform(0, 1)}},
        tune_config=tunecore.TuneConfig(
            metric="loss", mode="min", num_samples=4, seed=0, executor="{name}", executor_options={{"num_cpus": 2}}
        ),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), verbose=0),
        plugins=tunecore_plugins(plugin),  # the core's components and this plugin, installed or not
    ).fit()
    assert len(grid) == 4 and all(result.error is None for result in grid)
''',
}

README = """\
# {dist}

{summary}: a tunecore {kind} plugin, made with `tunecore new-plugin {name} --kind {kind}`.

## Install

```bash
pip install -e .          # in development; tunecore finds it through its entry point
tunecore plugins          # lists {kind} `{name}` from {dist}
```

## Use

{usage}

## Options

{options}

## Test

```bash
pip install -e '.[test]'
pytest
```

`tests/test_{kind}.py` runs tunecore's `{suite}` (the {kind} contract: see tunecore's docs/plugins.md,
"Testing a plugin") and an experiment selecting `{name}` by name{executors}. Change `{package}/{kind}.py`, keep
the suite green.
"""

USAGE = {
    kind: (
        f'Python: `{python}`. An experiment file: {toml}.'
    )
    for kind, python, toml in (
        ("searcher", 'TuneConfig(searcher="{name}", searcher_options={{...}})',
         '`searcher = "{name}"`, or a `[searcher]` table with `name = "{name}"` and its options'),
        ("scheduler", 'TuneConfig(scheduler="{name}", scheduler_options={{...}})',
         '`scheduler = "{name}"`, or a `[scheduler]` table with `name = "{name}"` and its options'),
        ("stopper", 'RunConfig(stoppers=[{{"name": "{name}", ...options}}])',
         'a `[[stoppers]]` entry with `name = "{name}"` and its options'),
        ("logger", 'RunConfig(loggers=[{{"name": "{name}", ...options}}])',
         'a `[[loggers]]` entry with `name = "{name}"` and its options (a list of loggers replaces the defaults,'
         " json, csv and console: name them too to keep them)"),
        ("executor", 'TuneConfig(executor="{name}", executor_options={{"num_cpus": 8}})',
         'an `[executor]` table with `name = "{name}"` and its options'),
    )
}

OPTIONS = {
    "searcher": "| option | default | meaning |\n|---|---|---|\n"
    "| `points_to_evaluate` | none | configs (possibly partial) proposed before any sampled one |",
    "scheduler": "| option | default | meaning |\n|---|---|---|\n"
    "| `grace_period` | 1 | steps before a trial can be stopped |\n"
    "| `tolerance` | 0.5 | how far (in the metric's units) a trial may trail the best at the same step |\n"
    "| `time_attr` | `training_iteration` | the result field counting steps |\n"
    "| `metric`, `mode` | the experiment's | what to rank trials by |",
    "stopper": "| option | default | meaning |\n|---|---|---|\n"
    "| `patience` | 3 | results without improvement before a trial stops |\n"
    "| `metric`, `mode` | the experiment's (mode `min` if none) | what to watch |",
    "logger": "| option | default | meaning |\n|---|---|---|\n"
    "| `filename` | `outcome.json` | the file written in each trial's directory when it ends |",
    "executor": "| option | default | meaning |\n|---|---|---|\n"
    "| `num_cpus` | 2 | CPUs the trials may use at once (each trial's `cpu` request counts) |\n"
    "| `start_method` | the platform's | the `multiprocessing` start method (`fork`, `spawn`, `forkserver`) |",
}
