"""`import tunecore` stays light: nothing heavy is imported until it is needed."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "pandas", "torch", "optuna", "ray", "cloudpickle", "tomllib", "tomli")


def test_import_and_space_definition_import_nothing_heavy():
    code = (
        "import sys, tunecore\n"
        "space = {'lr': tunecore.loguniform(1e-4, 1e-1), 'n': tunecore.choice([1, 2])}\n"
        "tunecore.TuneConfig(metric='loss', mode='min', searcher='random')\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_version_matches_the_distribution():
    from importlib.metadata import version

    import tunecore

    assert tunecore.__version__ == version("tunecore")


def test_public_names_resolve():
    import tunecore

    for name in tunecore.__all__:
        assert getattr(tunecore, name) is not None
