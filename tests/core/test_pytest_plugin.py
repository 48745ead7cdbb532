"""tunecore's pytest plugin (the ``pytest11`` entry point): its fixtures, in real pytest sessions (pytester)."""

from __future__ import annotations

import pytest

from tunecore.errors import PluginLoadError
from tunecore.testing.pytest_plugin import isolated_plugins

PLUGIN_MODULE = '''
import tunecore


class EveryOther(tunecore.Stopper):
    """Stop each trial at its second result."""

    def should_stop(self, trial_id, result):
        return result["training_iteration"] >= 2


def tunecore_register_stoppers(register):
    register("every_other", EveryOther)
'''


def test_a_plain_pytest_session_has_the_fixtures(pytester: pytest.Pytester) -> None:
    """The fixtures come from the installed entry point, with no conftest and no -p option."""
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    for fixture in ("tunecore_plugins", "tunecore_executor", "tunecore_experiment"):
        result.stdout.fnmatch_lines([f"{fixture} -- *tunecore/testing/pytest_plugin.py:*"])
    assert "PytestAssertRewriteWarning" not in result.stdout.str()


def test_a_plugin_under_test_runs_on_both_local_executors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(my_stopper_plugin=PLUGIN_MODULE)
    pytester.makepyfile(
        test_mine='''
        import tunecore
        import my_stopper_plugin


        def train(config):
            for step in range(5):
                tunecore.report({"loss": config["x"] + step})


        def test_it_stops_at_the_second_result(tunecore_plugins, tunecore_experiment, tunecore_executor):
            plugins = tunecore_plugins(my_stopper_plugin)
            assert "every_other" in plugins.registry.names("stopper")
            assert {p.dist for p in plugins.loaded} == {"tunecore", "(in-process)"}
            grid = tunecore_experiment(
                train, {"x": tunecore.uniform(0, 1)}, plugins=plugins, metric="loss", mode="min",
                num_samples=2, stoppers=["every_other"],
            )
            assert [r.metrics["training_iteration"] for r in grid] == [2, 2]
            assert grid.experiment_path.endswith(tunecore_executor + "/experiment")
        '''
    )
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_it_stops_at_the_second_result?inline? PASSED*", "*?local? PASSED*"])


def test_an_installed_plugin_by_name_or_module_is_the_only_one_loaded(with_fixture_plugins) -> None:
    import tune_fixture_good.plugin

    by_name = isolated_plugins("tune-fixture-good")
    by_module = isolated_plugins(tune_fixture_good.plugin)
    for plugins in (by_name, by_module):
        assert [(p.dist, p.version) for p in plugins.loaded] == [
            ("tunecore", plugins.loaded[0].version),
            ("tune-fixture-good", "1.2.3"),
        ]
        assert plugins.registry.get("searcher", "sequence").dist == "tune-fixture-good"
        assert "asha" not in plugins.registry.names("scheduler")  # installed here, not asked for


def test_a_name_that_is_not_installed_is_an_error_saying_what_to_do() -> None:
    with pytest.raises(LookupError, match=r"no installed tunecore plugin is called 'tune-nothing-here'.*pip install"):
        isolated_plugins("tune-nothing-here")


def test_a_broken_plugin_under_test_raises_instead_of_warning() -> None:
    class Broken:
        def tunecore_register_searchers(self, register):
            raise RuntimeError("cannot register")

    with pytest.raises(PluginLoadError, match="cannot register"):
        isolated_plugins(Broken())
