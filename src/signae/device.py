"""Where a computation runs: device choice, CPU threads, deterministic kernels, host copies.

Every trainer and every script that touches torch goes through these four functions, so the device
rules (``auto`` picks CUDA when torch sees a GPU; a GPU asked for but absent is an error) are stated once.
"""

from __future__ import annotations

import os

import numpy as np
import torch

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU; 'cpu' / 'cuda' as asked (error if CUDA is missing)."""
    if name not in DEVICES:
        raise ValueError(f"config key device must be one of {DEVICES}, got {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("config key device is 'cuda' but torch sees no GPU; set device: auto or cpu")
    return torch.device(name)


def set_threads(threads: int, deterministic: bool = False) -> None:
    """torch's CPU threads for this job and, if asked, deterministic GPU kernels.

    On the CPU the same seed and thread count already give bit-identical results. On a GPU some kernels
    (atomics in reductions, cuBLAS workspaces) are nondeterministic; ``deterministic`` turns on
    torch.use_deterministic_algorithms and the cuBLAS workspace setting PyTorch documents for it
    (CUBLAS_WORKSPACE_CONFIG=:4096:8), at some cost in speed. PyTorch's caveat applies: results are then
    reproducible on the same GPU model, driver and library versions, not across them.
    """
    torch.set_num_threads(max(1, int(threads)))
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued kernels (timings on a GPU are meaningless without it)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def to_host(t: torch.Tensor) -> np.ndarray:
    """A float64 host copy (never a view: training updates its tensors in place)."""
    return t.detach().to("cpu", torch.float64).numpy().copy()
