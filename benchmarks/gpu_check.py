"""GPU check of the local executor: trials sharing one GPU (gpu=0.5 each) really run on it, two at a time.

Run on a machine with an NVIDIA GPU and PyTorch: ``python benchmarks/gpu_check.py``. Each trial reports
what it saw (CUDA_VISIBLE_DEVICES, torch's device), times a bf16 matrix product on the GPU and checks
its result; the script prints one line per trial, whether trials overlapped, and exits non-zero on any
failure.
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
import time

import tunecore


def train(config):
    import torch

    start = time.time()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    device = torch.device("cuda")
    a = torch.randn(4096, 4096, device=device, dtype=torch.bfloat16)
    b = torch.eye(4096, device=device, dtype=torch.bfloat16) * config["scale"]
    torch.cuda.synchronize()
    tic = time.perf_counter()
    for _ in range(20):
        c = a @ b
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - tic) / 20
    error = float((c.float() - a.float() * config["scale"]).abs().max())
    tunecore.report(
        {
            "loss": error,
            "visible": visible,
            "device": torch.cuda.get_device_name(0),
            "count": torch.cuda.device_count(),
            "tflops": 2 * 4096**3 / seconds / 1e12,
            "start": start,
            "end": time.time(),
            "gpu": tunecore.get_context().resources.get("gpu"),
        }
    )


def main() -> int:
    grid = tunecore.Tuner(
        tunecore.with_resources(train, {"cpu": 1, "gpu": 0.5}),
        param_space={"scale": tunecore.grid_search([1.0, 2.0, 0.5, 4.0])},
        tune_config=tunecore.TuneConfig(
            metric="loss", mode="min", executor="local", executor_options={"num_gpus": 1, "num_cpus": 4}
        ),
        run_config=tunecore.RunConfig(storage_path=tempfile.mkdtemp(), loggers=[], verbose=0),
    ).fit()
    ok = grid.num_errors == 0 and len(grid) == 4
    for error in grid.errors:
        print(error.traceback)
    spans = []
    for result in grid:
        m = result.metrics
        if not m:
            continue
        print(
            f"{result.trial_id} {result.status} CUDA_VISIBLE_DEVICES={m['visible']} device={m['device']}"
            f" count={m['count']} gpu={m['gpu']} bf16 {m['tflops']:.0f} TFLOP/s max error {m['loss']:.3g}"
        )
        spans.append((m["start"], m["end"]))
        ok = ok and m["visible"] == "0" and m["count"] == 1 and m["loss"] == 0.0 and m["gpu"] == 0.5
    spans.sort()
    overlapped = any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans))
    print(f"two trials shared the GPU at once: {overlapped}")
    print("OK" if ok and overlapped else "FAILED")
    return 0 if ok and overlapped else 1


if __name__ == "__main__":
    sys.exit(main())
