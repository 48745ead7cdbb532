"""Population Based Training on a toy whose best learning rate changes during training.

A "model" is a score between 0 and 100. Each step with learning rate ``lr`` adds up to 1: all of it when
``lr`` is the best rate for the current score, less the further (in decades) it is from it, nothing beyond
half a decade. The best rate rises from 1e-3 (score 0) to 1e-2 (score 50) and falls back to 1e-3 (score 100),
so any fixed rate stalls below 50; a schedule that follows the best rate goes further. PBT (the ``pbt``
scheduler of the ``tune-pbt`` plugin) finds such a schedule: every 4 iterations the worst quarter of the
population copies the checkpoint of a member of the best quarter and perturbs its learning rate.

Run it with ``python examples/pbt_toy.py`` or, from its TOML twin, ``tunecore run examples/pbt_toy.toml``.
"""

from __future__ import annotations

import json
import math
import os

import tunecore

STEPS = 100
"""Training iterations of every member."""
SPACE = {"lr": tunecore.loguniform(3e-4, 3e-3)}
"""The population's initial learning rates."""
SCHEDULER = {
    "name": "pbt",
    "time_attr": "training_iteration",
    "perturbation_interval": 4,
    "hyperparam_mutations": {"lr": {"loguniform": [1e-4, 1e-1]}},
    "synch": True,
    "seed": 0,
}
"""PBT by name: every 4 iterations, all members together; the learning rate is perturbed (x1.2 or x0.8) or,
one time in four, drawn again from [1e-4, 1e-1]."""


def best_lr(score: float) -> float:
    """The learning rate with the largest gain at ``score``."""
    return 10 ** (-3 + min(score, 100 - score) / 50)


def train(config: dict) -> None:
    """Improve the score one step per result, from the checkpoint PBT gives (the member's own or a donor's)."""
    checkpoint = tunecore.get_checkpoint()
    score = checkpoint.to_dict()["score"] if checkpoint else 0.0
    for _ in range(tunecore.get_context().start_iteration, STEPS):
        score = min(100.0, score + max(0.0, 1 - 2 * abs(math.log10(config["lr"] / best_lr(score)))))
        tunecore.report({"score": score}, checkpoint=tunecore.Checkpoint.from_dict({"score": score}))


def run(scheduler: dict | str, name: str) -> tunecore.ResultGrid:
    """A population of 4 on the inline executor with ``scheduler``."""
    tuner = tunecore.Tuner(
        train,
        param_space=SPACE,
        tune_config=tunecore.TuneConfig(
            metric="score", mode="max", num_samples=4, seed=0, scheduler=scheduler, executor="inline"
        ),
        run_config=tunecore.RunConfig(name=name, verbose=0),
    )
    return tuner.fit()


def main() -> None:
    """Run PBT, then the same four learning rates kept fixed; print both and the best member's schedule."""
    pbt = run(SCHEDULER, "pbt-toy")
    fixed = run("fifo", "pbt-toy-fixed")
    best = pbt.get_best_result()
    print(f"PBT: best score {best.metrics['score']:.1f} after {STEPS} iterations")
    print(f"the same learning rates kept fixed: best score {fixed.get_best_result().metrics['score']:.1f}")
    policy = os.path.join(pbt.experiment_path, f"pbt_policy_{best.trial_id}.jsonl")
    if os.path.exists(policy):
        with open(policy) as file:
            lineage = [json.loads(line) for line in file]
        schedule = [f"lr {lineage[0]['donor_config']['lr']:.2g}"]
        schedule += [f"from step {line['step']}: lr {line['new_config']['lr']:.2g}" for line in lineage]
        print("the schedule behind the best model:\n  " + "\n  ".join(schedule))
        print(f"replay it: scheduler 'pbt_replay' with policy_file={policy!r}")
    print(f"results in {pbt.experiment_path}  (tunecore show {pbt.experiment_path})")


if __name__ == "__main__":
    main()
