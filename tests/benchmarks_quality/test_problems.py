"""The problems of ``benchmarks/quality.py``: known optima, fidelity bias, the stored table, a quick run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import quality
from benchmarks.problems import MAX_T, DigitsProblem, DigitsSizeProblem, fidelity, hypervolume, load_table, problems
from benchmarks.problems import synthetic as syn


def test_known_optima() -> None:
    """Each function's value at its known minimiser is the quoted minimum, and the problems use it."""
    assert syn.branin(np.array([-math.pi, 12.275])) == pytest.approx(0.397887, abs=1e-6)
    assert syn.branin(np.array([math.pi, 2.275])) == pytest.approx(0.397887, abs=1e-6)
    assert syn.branin(np.array([9.42478, 2.475])) == pytest.approx(0.397887, abs=1e-6)
    assert syn.hartmann3(np.array([0.114614, 0.555649, 0.852547])) == pytest.approx(-3.86278, abs=1e-5)
    h6 = np.array([0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573])
    assert syn.hartmann6(h6) == pytest.approx(-3.32237, abs=1e-5)
    d = syn.STYBLINSKI_TANG_DIM
    assert syn.styblinski_tang(np.full(d, -2.903534)) == pytest.approx(-39.16617 * d, abs=1e-4)
    found = problems()
    assert list(found) == ["branin", "hartmann3", "hartmann6", f"styblinski{d}", "digits", "digits-noisy"]
    assert found["branin"].optimum == pytest.approx(0.397887, abs=1e-6)
    assert found["hartmann3"].optimum == pytest.approx(-3.86278, abs=1e-5)
    assert found["hartmann6"].optimum == pytest.approx(-3.32237, abs=1e-5)
    assert found[f"styblinski{d}"].optimum == pytest.approx(-39.16617 * d, abs=1e-4)


@pytest.mark.parametrize("name", ["branin", "hartmann3", "hartmann6", f"styblinski{syn.STYBLINSKI_TANG_DIM}"])
def test_fidelity_bias_vanishes_at_full_fidelity(name: str) -> None:
    """f(x, 1) is the plain function, lower fidelities differ, and no config beats the optimum."""
    problem = problems()[name]
    rng = np.random.default_rng(0)
    for _ in range(20):
        config = {key: domain.sample(rng) for key, domain in problem.space.items()}
        x = problem.point(config)
        assert problem.value(config, MAX_T, seed=0) == problem.true_value(config) == problem.function(x, 1.0)
        assert problem.value(config, 1, seed=0) != problem.true_value(config)
        assert problem.regret(config) >= 0
    if not name.startswith("styblinski"):  # the standard formulas, written out independently
        x = np.array([0.3, 0.6, 0.2, 0.8, 0.1, 0.5][: len(problem.space)])
        if name == "branin":
            x = np.array([2.0, 7.0])
            b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
            expected = (x[1] - b * x[0] ** 2 + c * x[0] - 6) ** 2 + 10 * (1 - t) * math.cos(x[0]) + 10
        else:
            a, p = (syn.HARTMANN3_A, syn.HARTMANN3_P) if name == "hartmann3" else (syn.HARTMANN6_A, syn.HARTMANN6_P)
            expected = -float(np.sum(syn.ALPHA * np.exp(-np.sum(a * (x - p) ** 2, axis=1))))
        assert problem.function(x, 1.0) == pytest.approx(expected, rel=1e-12)
    assert fidelity(1) == 0 and fidelity(MAX_T) == 1 and fidelity(3) == pytest.approx(1 / 3)


def test_table_shape_and_problems() -> None:
    """The stored table has the documented grid, seeds and epochs; the tabular problems read it."""
    table = load_table()
    assert table.params == ["hidden_size", "learning_rate_init", "alpha", "batch_size"]
    assert [len(table.grid[key]) for key in table.params] == [5, 5, 3, 3]
    assert table.errors.shape == (225, 3, 27) and table.epochs == MAX_T
    assert table.n_val == 599
    assert np.all((table.errors >= 0) & (table.errors <= 1))
    assert table.errors[:, :, -1].min() < 0.05  # a good MLP gets digits mostly right
    clean, noisy = DigitsProblem(), DigitsProblem(noisy=True)
    assert clean.optimum == noisy.optimum == pytest.approx(table.mean[:, -1].min())
    config = dict(zip(table.params, table.configs[7], strict=True))
    assert clean.value(config, MAX_T, seed=0) == clean.true_value(config) == pytest.approx(table.mean[7, -1])
    assert noisy.value(config, MAX_T, seed=3) in set(table.errors[7, :, -1].tolist())
    assert noisy.true_value(config) == clean.true_value(config)


def test_hypervolume() -> None:
    """Two dominating points, a dominated one and one outside the reference."""
    assert hypervolume([(0.5, 0.5)], (1.0, 1.0)) == pytest.approx(0.25)
    assert hypervolume([(0.5, 0.5), (0.25, 0.75), (0.6, 0.6), (2.0, 0.0)], (1.0, 1.0)) == pytest.approx(0.3125)
    problem = DigitsSizeProblem()
    assert 0 < problem.best_hypervolume() < 1.1
    assert problem.size({"hidden_size": 8}) == 0 and problem.size({"hidden_size": 128}) == 1


def test_quick_run(capsys: pytest.CaptureFixture[str]) -> None:
    """quality.py's machinery on one problem and seed, tunecore methods only, a small budget."""
    methods = ["random", "asha+random", "hyperband+random", "mo:random"]
    methods += [name for name in ("hyperband+bohb", "mo_asha+random") if not quality.missing(quality.by_name(name))]
    quality.main(
        ["--seeds", "1", "--problems", "branin,digits-size", "--methods", ",".join(methods), "--full-trials", "4"]
    )
    out = capsys.readouterr().out
    assert "branin:" in out and "digits-size:" in out and "targets (issue 18):" in out
    for name in methods:
        assert f"  {name} " in out
    trace = quality.Trace(budget=4 * MAX_T)
    quality.run_tunecore(quality.by_name("asha+random"), problems()["branin"], 0, trace)
    assert trace.used == trace.budget and trace.exhausted
    assert 0 <= trace.regret < math.inf and trace.steps[-1][1] == trace.regret
    assert trace.budget_to(math.inf) == trace.steps[0][0] / trace.budget


def test_multi_fidelity_zdt1_is_zdt1_at_full_fidelity_and_biased_below() -> None:
    from benchmarks.problems.biobjective import ZDT1Problem, zdt1

    rng = np.random.default_rng(0)
    for _ in range(20):
        x = list(rng.uniform(0, 1, 6))
        g = 1 + 9 / 5 * sum(x[1:])
        assert zdt1(x) == pytest.approx((x[0], g * (1 - math.sqrt(x[0] / g))))  # Zitzler, Deb & Thiele's T1
        assert zdt1(x, 0.0) != pytest.approx(zdt1(x))
    front = [0.0] * 5
    assert zdt1([0.25, *front]) == pytest.approx((0.25, 0.5))  # on the Pareto front f2 = 1 - sqrt(f1)
    problem = ZDT1Problem()
    config = dict(zip(problem.names, [0.25, *front], strict=True))
    assert problem.values(config, MAX_T, seed=0) == pytest.approx((0.25, 0.5))


def test_mo_asha_schedules_quick_run(capsys: pytest.CaptureFixture[str]) -> None:
    """mo_asha_schedules.py's machinery: every schedule row, the perfect-signal table, one seed."""
    from benchmarks import mo_asha_schedules as schedules

    perfect, real = schedules.PerfectSignalDigits(), DigitsSizeProblem()
    config = {"hidden_size": 32, "learning_rate_init": 0.003, "alpha": 0.01, "batch_size": 64}
    assert perfect.values(config, 1, 0) == real.values(config, MAX_T, 0) != real.values(config, 1, 0)
    if quality.missing(quality.by_name("mo_asha+random")):
        pytest.skip("tune-asha is not installed: no mo_asha")
    schedules.main(["--seed-sets", "0", "--seeds-per-set", "1", "--problems", "digits-size", "--no-searchers"])
    out = capsys.readouterr().out
    assert "digits-size: random search's" in out and "digits-size, perfect signal:" in out
    rows = [line for line in out.splitlines() if line.startswith("  grace ")]
    assert len(rows) == 2 * len(schedules.methods(searchers=False)) == 2 * 17
