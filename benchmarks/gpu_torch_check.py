"""GPU check of tune-torch: device choice, two trials sharing one GPU (gpu=0.5), AMP and exact resume on CUDA.

Run on a machine with an NVIDIA GPU and a CUDA build of PyTorch: ``python benchmarks/gpu_torch_check.py``.
Without a CUDA device it says so and exits with status 2 (nothing was checked). It runs 4 trials on the local
executor with ``{"cpu": 1, "gpu": 0.5}`` (two at a time on one GPU) and one with no GPU. Each GPU trial:

* checks ``tune_torch.device()`` is ``cuda:0`` and ``devices()`` lists one device, with the executor's
  ``CUDA_VISIBLE_DEVICES`` (the trial without a GPU must get ``cpu``);
* trains a small CNN with AMP (``torch.autocast`` fp16, ``torch.amp.GradScaler("cuda")``, a forced overflow so
  that the scale changes) and checks the scaler's, the model's, the optimizer's and CUDA's RNG state round trip
  through ``tune_torch.checkpoint``/``restore`` (with ``torch.load(weights_only=True)``), and again with
  ``restore(map_location="cuda:0")`` (the RNG states must go back to the CPU to be restored);
* with ``seed_everything(deterministic=True)``, checks that 2 epochs + checkpoint + restore + 2 epochs end with
  the same weights, bit for bit, as 4 epochs straight.

It prints one line per trial, whether two trials overlapped on the GPU, the time per epoch, and ``OK`` or
``FAILED`` (exit status 1).
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
import time

import tunecore


def _cnn():
    import torch

    # strided convolutions, no pooling: every backward here has a deterministic CUDA implementation
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 32, 3, stride=2, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(32, 64, 3, stride=2, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(64 * 8 * 8, 10),
    )


def _epochs(model, optimizer, scaler, loader, device, count, overflow_at=None):
    import torch

    for epoch in range(count):
        for step, (x, y) in enumerate(loader):
            with torch.autocast("cuda", dtype=torch.float16):
                loss = torch.nn.functional.cross_entropy(model(x.to(device)), y.to(device))
            if overflow_at == (epoch, step):
                loss = loss * float("inf")  # the scaler skips this step and halves its scale
            optimizer.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()


def train(config):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    import tune_torch

    context = tunecore.get_context()
    seen = {
        "visible": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "device": str(tune_torch.device()),
        "devices": len(tune_torch.devices()),
        "gpu": context.resources.get("gpu", 0),
        "start": time.time(),
    }
    if not config["use_gpu"]:
        tunecore.report({**seen, "ok": seen["device"] == "cpu", "end": time.time()})
        return
    seeding = tune_torch.seed_everything(deterministic=True)
    device = tune_torch.device()
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(2048, 3, 32, 32, generator=generator), torch.randint(0, 10, (2048,)))

    def fresh():  # a new start of the trial: seeded again, new objects (restore() fills the generator's state)
        again = tune_torch.seed_everything(seeding.seed, deterministic=True)
        model = _cnn().to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        scaler = torch.amp.GradScaler("cuda", init_scale=2.0**12)
        loader = DataLoader(data, batch_size=128, shuffle=True, **again.loader_kwargs)
        return model, optimizer, scaler, loader

    # 4 epochs straight
    model, optimizer, scaler, loader = fresh()
    tic = time.perf_counter()
    _epochs(model, optimizer, scaler, loader, device, 4, overflow_at=(0, 1))
    torch.cuda.synchronize()
    per_epoch = (time.perf_counter() - tic) / 4
    straight = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    # 2 epochs, checkpoint, restore into fresh objects, 2 epochs
    model, optimizer, scaler, loader = fresh()
    _epochs(model, optimizer, scaler, loader, device, 2, overflow_at=(0, 1))
    saved = tune_torch.checkpoint(model=model, optimizer=optimizer, scaler=scaler, epoch=2)
    state = torch.load(os.path.join(saved.path, "tune_torch.pt"), weights_only=True)
    scale_saved = scaler.get_scale()
    cuda_next = torch.rand(4, device=device)
    model, optimizer, scaler, loader = fresh()
    rest = tune_torch.restore(model=model, optimizer=optimizer, scaler=scaler, checkpoint=saved)
    cuda_again = torch.rand(4, device=device)
    scaler_ok = scaler.state_dict() == state["scaler"] and scaler.get_scale() == scale_saved != 2.0**12
    rng_ok = torch.equal(cuda_next, cuda_again) and len(state["rng"]["cuda"]) == torch.cuda.device_count()
    _epochs(model, optimizer, scaler, loader, device, 2)
    exact = all(torch.equal(tensor, straight[name]) for name, tensor in model.state_dict().items())
    mapped_model, mapped_optimizer, mapped_scaler, _ = fresh()
    tune_torch.restore(
        model=mapped_model, optimizer=mapped_optimizer, scaler=mapped_scaler, checkpoint=saved, map_location=device
    )
    mapped_ok = torch.equal(torch.rand(4, device=device), cuda_next) and all(
        torch.equal(mapped_model.state_dict()[name], tensor) for name, tensor in state["model"].items()
    )
    ok = (
        seen["device"] == "cuda:0"
        and seen["devices"] == 1
        and seen["gpu"] == 0.5
        and rest == {"epoch": 2}
        and scaler_ok
        and rng_ok
        and exact
        and mapped_ok
    )
    tunecore.report(
        {
            **seen,
            "ok": ok,
            "scaler_ok": scaler_ok,
            "rng_ok": rng_ok,
            "exact": exact,
            "mapped_ok": mapped_ok,
            "scale": scale_saved,
            "per_epoch_s": per_epoch,
            "name": torch.cuda.get_device_name(0),
            "end": time.time(),
        }
    )


def main() -> int:
    try:
        import torch
    except ImportError:
        print("gpu_torch_check: PyTorch is not installed; nothing was checked", file=sys.stderr)
        return 2
    if not torch.cuda.is_available() or torch.cuda.device_count() == 0:
        print(
            f"gpu_torch_check: no CUDA device (torch {torch.__version__}, CUDA build: {torch.version.cuda or 'none'});"
            " run it on a machine with an NVIDIA GPU. Nothing was checked.",
            file=sys.stderr,
        )
        return 2
    storage = tempfile.mkdtemp()
    gpu = tunecore.Tuner(
        tunecore.with_resources(train, {"cpu": 1, "gpu": 0.5}),
        param_space={"use_gpu": True, "index": tunecore.grid_search([0, 1, 2, 3])},
        tune_config=tunecore.TuneConfig(
            metric="per_epoch_s", mode="min", executor={"name": "local", "num_gpus": 1, "num_cpus": 4}
        ),
        run_config=tunecore.RunConfig(storage_path=storage, name="gpu", loggers=[], verbose=0),
    ).fit()
    cpu = tunecore.Tuner(
        train,
        param_space={"use_gpu": False},
        tune_config=tunecore.TuneConfig(executor={"name": "local", "num_gpus": 1}),
        run_config=tunecore.RunConfig(storage_path=storage, name="cpu", loggers=[], verbose=0),
    ).fit()
    ok = gpu.num_errors == 0 and cpu.num_errors == 0 and len(gpu) == 4
    for error in [*gpu.errors, *cpu.errors]:
        print(error.traceback)
    spans = []
    for result in [*gpu, *cpu]:
        m = result.metrics
        if not m:
            ok = False
            continue
        line = f"{result.trial_id} {result.status} CUDA_VISIBLE_DEVICES={m['visible']} device={m['device']}"
        line += f" devices={m['devices']} gpu={m['gpu']}"
        if "per_epoch_s" in m:
            line += (
                f" {m['name']} {m['per_epoch_s'] * 1000:.0f} ms/epoch scaler={m['scaler_ok']} (scale {m['scale']:g})"
                f" cuda_rng={m['rng_ok']} exact_resume={m['exact']} map_location_cuda={m['mapped_ok']}"
            )
            spans.append((m["start"], m["end"]))
        print(line)
        ok = ok and bool(m["ok"])
    spans.sort()
    overlapped = any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans))
    print(f"two trials shared the GPU at once: {overlapped}")
    print("OK" if ok and overlapped else "FAILED")
    return 0 if ok and overlapped else 1


if __name__ == "__main__":
    sys.exit(main())
