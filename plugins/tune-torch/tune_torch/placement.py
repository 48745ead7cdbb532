"""Where a trial computes: the GPUs its executor assigned (``CUDA_VISIBLE_DEVICES``), else MPS, else the CPU."""

from __future__ import annotations

import torch

import tunecore


def _trial_gpus() -> float | None:
    """GPUs the running trial asked for (its resources' ``gpu``), or None outside a trial."""
    try:
        resources = tunecore.get_context().resources
    except tunecore.TuneError:  # outside a trial
        return None
    return float(resources.get("gpu", 0) or 0)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def devices() -> list[torch.device]:
    """The devices this trial may use, as a list (one entry for most trials).

    * Inside a trial that asked for GPUs (``with_resources(train, {"gpu": 0.5})``): ``cuda:0`` ... ``cuda:n-1``,
      the devices its executor made visible through ``CUDA_VISIBLE_DEVICES`` (torch numbers them from 0;
      trials sharing a GPU at ``gpu=0.5`` both see it as ``cuda:0``).
    * Outside a trial: every visible CUDA device.
    * Otherwise (no CUDA, or a trial that asked for no GPU): ``[mps]`` where Apple's MPS is available, else
      ``[cpu]``. A trial that asked for no GPU never takes one: other trials may have been given it.

    Raises RuntimeError when a trial asked for GPUs but torch sees neither CUDA nor MPS (a CPU-only build of
    torch, a driver problem): better than training on the CPU unnoticed.
    """
    wanted = _trial_gpus()
    if wanted is None or wanted > 0:
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count:
            return [torch.device("cuda", index) for index in range(count)]
    if _mps_available():
        return [torch.device("mps")]
    if wanted:
        raise RuntimeError(
            f"the trial asked for {wanted:g} GPU but torch sees no CUDA (nor MPS) device"
            f" (torch {torch.__version__}, CUDA build: {torch.version.cuda or 'none'})"
        )
    return [torch.device("cpu")]


def device() -> torch.device:
    """The trial's first device: ``cuda:0`` for a trial given GPUs, else ``mps``, else ``cpu`` (see :func:`devices`)."""
    return devices()[0]
