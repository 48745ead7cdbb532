"""Plugin discovery with real installed distributions and real entry points."""

from __future__ import annotations

import warnings

import pytest

import tunecore
from tests.conftest import CORE_AND_FIXTURES
from tunecore.errors import ComponentError, PluginLoadError
from tunecore.plugins import PluginLoadWarning, load_plugins


def load_quietly(environ: dict[str, str]) -> tunecore.plugins.Plugins:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginLoadWarning)
        return load_plugins(environ)


def test_builtins_are_registered_through_the_core_entry_point(plain_env):
    plugins = load_plugins(plain_env)
    builtin = [p for p in plugins.loaded if p.dist == "tunecore"]
    assert [(p.name, p.module) for p in builtin] == [("builtin", "tunecore.builtin.plugin")]
    random = plugins.registry.get("searcher", "random")
    assert (random.dist, random.version) == ("tunecore", tunecore.__version__)
    assert plugins.registry.names("scheduler") == ["fifo"]
    assert set(plugins.registry.names("stopper")) >= {
        "max_iter",
        "threshold",
        "plateau",
        "experiment_plateau",
        "timeout",
    }


def test_good_plugin_components_are_selectable_by_name(with_fixture_plugins, plain_env):
    plugins = load_quietly(plain_env)
    info = plugins.registry.get("searcher", "sequence")
    assert (info.dist, info.version, info.summary) == ("tune-fixture-good", "1.2.3", "Propose fixed configs in order")
    searcher = plugins.create("searcher", "sequence", {"configs": [{"x": 1}], "repeat": 2})
    assert [searcher.suggest("a"), searcher.suggest("b"), searcher.suggest("c")] == [
        {"x": 1},
        {"x": 1},
        tunecore.FINISHED,
    ]
    for kind, name in [
        ("scheduler", "halving"),
        ("stopper", "never"),
        ("executor", "fixture_executor"),
        ("logger", "list"),
    ]:
        assert plugins.registry.get(kind, name).dist == "tune-fixture-good"
    # The summary defaults to the first line of the factory's docstring.
    assert plugins.registry.get("scheduler", "halving").summary.startswith("Stops every trial")


def test_each_broken_plugin_is_reported_once_and_skipped(with_fixture_plugins, plain_env):
    with pytest.warns(PluginLoadWarning) as caught:
        plugins = load_plugins(plain_env)
    failures = {f.name: f for f in plugins.failures}
    assert set(failures) == {"broken_import", "broken_register", "typo"}
    assert all(f.dist == "tune-fixture-broken" and f.version == "0.0.1" for f in failures.values())
    assert "ModuleNotFoundError" in failures["broken_import"].error
    assert "tune_fixture_missing_dependency" in failures["broken_import"].error
    assert "registration exploded" in failures["broken_register"].error
    assert "tunecore_register_searcher" in failures["typo"].error
    assert "Did you mean 'tunecore_register_searchers'?" in failures["typo"].error
    messages = [str(w.message) for w in caught]
    assert len(messages) == 3
    assert any("plugin 'broken_import' from tune-fixture-broken 0.0.1 failed to load" in m for m in messages)
    # Nothing registered by a plugin that failed half-way stays; the good plugins are unaffected.
    assert "partial" not in plugins.registry.names("scheduler")
    assert "lost" not in plugins.registry.names("searcher")
    assert "sequence" in plugins.registry.names("searcher")
    loaded = {p.name for p in plugins.loaded}
    assert {"builtin", "good", "clash"} <= loaded
    assert not loaded & set(failures)


def test_failed_plugins_are_unregistered_from_the_manager(with_fixture_plugins, plain_env):
    plugins = load_quietly(plain_env)
    names = {name for name, _ in plugins.manager.list_name_plugin()}
    assert "tune-fixture-broken:broken_register" not in names
    assert "tune-fixture-good:good" in names


def test_strict_mode_reraises_with_the_original_error(with_fixture_plugins):
    with pytest.raises(PluginLoadError, match="broken_import") as excinfo:
        load_plugins({**CORE_AND_FIXTURES, "TUNECORE_STRICT_PLUGINS": "1"})
    assert isinstance(excinfo.value.__cause__, ModuleNotFoundError)


def test_block_list_skips_plugins_by_entry_point_or_distribution(with_fixture_plugins):
    plugins = load_plugins({**CORE_AND_FIXTURES, "TUNECORE_DISABLE_PLUGINS": "tune-fixture-broken, clash"})
    assert plugins.failures == []
    assert {p.name for p in plugins.loaded} == {"builtin", "good"}


def test_disabling_autoload_keeps_builtins_and_the_allow_list(with_fixture_plugins):
    only_builtins = load_plugins({"TUNECORE_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert [p.name for p in only_builtins.loaded] == ["builtin"]
    assert only_builtins.failures == []
    allowed = load_plugins({"TUNECORE_DISABLE_PLUGIN_AUTOLOAD": "1", "TUNECORE_PLUGINS": "tune_fixture_good"})
    assert [p.name for p in allowed.loaded] == ["builtin", "good"]


def test_a_name_from_two_distributions_is_ambiguous_until_qualified(with_fixture_plugins, plain_env):
    registry = load_quietly(plain_env).registry
    with pytest.raises(ComponentError) as excinfo:
        registry.get("searcher", "shared_name")
    message = str(excinfo.value)
    assert "tune-fixture-clash 2.0.0" in message and "tune-fixture-good 1.2.3" in message
    assert "'tune-fixture-clash:shared_name'" in message and "'tune-fixture-good:shared_name'" in message
    assert registry.get("searcher", "tune-fixture-clash:shared_name").dist == "tune-fixture-clash"
    assert registry.get("searcher", "tune_fixture_good:shared_name").dist == "tune-fixture-good"
    other = registry.create("searcher", "tune-fixture-clash:shared_name", {"flavour": "spicy"})
    assert other.flavour == "spicy"
    with pytest.raises(ComponentError, match="not provided by a distribution named 'nobody'"):
        registry.get("searcher", "nobody:shared_name")


def test_unknown_name_lists_available_and_suggests(plain_env):
    registry = load_plugins(plain_env).registry
    with pytest.raises(ComponentError) as excinfo:
        registry.get("searcher", "randm")
    assert str(excinfo.value) == "unknown searcher 'randm'. Did you mean 'random'? Available searchers: random."


def test_unknown_first_party_name_says_which_package_to_install(plain_env):
    registry = load_plugins(plain_env).registry
    with pytest.raises(ComponentError, match=r"scheduler 'asha' is provided by tune-asha: pip install tune-asha\."):
        registry.get("scheduler", "asha")
    with pytest.raises(ComponentError, match="'max_iter' is a stopper, not a scheduler"):
        registry.get("scheduler", "max_iter")


def test_bad_options_name_component_provider_option_and_accepted(plain_env):
    plugins = load_plugins(plain_env)
    with pytest.raises(ComponentError) as excinfo:
        plugins.create("stopper", "max_iter", {"max_iters": 3})
    assert str(excinfo.value) == (
        f"stopper 'max_iter' (from tunecore {tunecore.__version__}) has no option 'max_iters'."
        " Did you mean 'max_iter'? Accepted options: max_iter."
    )
    with pytest.raises(ComponentError, match="needs the option max_iter"):
        plugins.create("stopper", "max_iter", {})
    with pytest.raises(ComponentError, match=r"rejected its options.*max_iter must be a positive integer"):
        plugins.create("stopper", "max_iter", {"max_iter": 0})


def test_in_process_plugins_register_like_installed_ones(plain_env):
    class Plugin:
        @staticmethod
        def tunecore_register_stoppers(register):
            register("in_process", tunecore.Stopper, "An in-process stopper")

    plugins = load_plugins(plain_env, extra=[("mine", Plugin())])
    assert plugins.registry.get("stopper", "in_process").dist == "(in-process)"


def test_bad_registrations_fail_only_that_plugin(plain_env):
    class BadName:
        def tunecore_register_searchers(self, register):
            register("has space", tunecore.Searcher)

    class NotCallable:
        def tunecore_register_searchers(self, register):
            register("thing", 42)

    class Twice:
        def tunecore_register_searchers(self, register):
            register("twice", tunecore.Searcher)
            register("twice", tunecore.Searcher)

    with pytest.warns(PluginLoadWarning):
        plugins = load_plugins(plain_env, extra=[("a", BadName()), ("b", NotCallable()), ("c", Twice())])
    errors = {f.name: f.error for f in plugins.failures}
    assert "searcher name 'has space' is invalid" in errors["a"]
    assert "the factory must be callable, got int" in errors["b"]
    assert "registers searcher 'twice' twice" in errors["c"]
    assert plugins.registry.names("searcher") == ["random"]


def test_managers_are_independent(plain_env):
    class Plugin:
        def tunecore_register_stoppers(self, register):
            register("only_here", tunecore.Stopper)

    first = load_plugins(plain_env, extra=[("p", Plugin())])
    second = load_plugins(plain_env)
    assert "only_here" in first.registry.names("stopper")
    assert "only_here" not in second.registry.names("stopper")


def test_several_unknown_components_are_named_at_once(tmp_path):
    """A file (or a Tuner) naming two unknown components gets one error naming both, not one per run."""
    tuner = tunecore.Tuner(
        lambda config: tunecore.report({"loss": 1.0}),
        param_space={},
        tune_config=tunecore.TuneConfig(searcher="nope", scheduler="nada", executor="inline"),
        run_config=tunecore.RunConfig(storage_path=str(tmp_path), loggers=["jsonn"], verbose=0),
    )
    with pytest.raises(tunecore.ComponentError) as raised:
        tuner.fit()
    message = str(raised.value)
    assert message.startswith("3 unknown components:")
    assert "unknown searcher 'nope'" in message and "unknown scheduler 'nada'" in message
    assert "unknown logger 'jsonn'. Did you mean 'json'?" in message
    assert not list(tmp_path.iterdir())  # nothing ran: no experiment directory left


def test_an_installed_plugin_passed_as_extra_too_loads_once_without_a_warning(with_fixture_plugins):
    """The documented unit-test recipe, load_plugins({}, extra=[...]), with the plugin under test also installed
    (as it is in development): it warned "already registered" and reported the plugin as failed."""
    import tune_fixture_good.plugin

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plugins = load_plugins(
            {"TUNECORE_DISABLE_PLUGIN_AUTOLOAD": "1", "TUNECORE_PLUGINS": "tune-fixture-good"},
            extra=[("good", tune_fixture_good.plugin)],
        )
    assert not plugins.failures
    assert [p.dist for p in plugins.loaded].count("tune-fixture-good") == 1
    assert plugins.registry.get("searcher", "sequence").dist == "tune-fixture-good"


def test_a_third_party_distribution_is_recorded_in_experiment_json(with_fixture_plugins, tmp_path):
    """experiment.json names the distribution and version of every component the experiment selected by name."""
    import json
    from importlib.metadata import version

    plugins = load_plugins({"TUNECORE_DISABLE_PLUGIN_AUTOLOAD": "1", "TUNECORE_PLUGINS": "tune-fixture-good"})
    tunecore.Tuner(
        lambda config: tunecore.report({"loss": config["x"]}),
        param_space={"x": 1.0},
        tune_config=tunecore.TuneConfig(
            metric="loss", mode="min", executor="inline", searcher="sequence", searcher_options={"configs": [{}]}
        ),
        run_config=tunecore.RunConfig(name="exp", storage_path=str(tmp_path), loggers=["list"], verbose=0),
        plugins=plugins,
    ).fit()
    versions = json.loads((tmp_path / "exp" / "experiment.json").read_text())["versions"]
    assert versions == {"tunecore": version("tunecore"), "tune-fixture-good": "1.2.3"}
