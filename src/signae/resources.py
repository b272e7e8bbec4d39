"""Resource requests of the workflow's jobs: memory (MB) and run time (minutes) as pure functions.

The Snakefile (workflow/rules/common.smk) extracts the sizes of a job from its wildcards and the
config and calls these functions; nothing here reads a config, a wildcard or the machine. The
formulas are deliberately pessimistic: SLURM kills a job that exceeds its request, and Snakemake's
``attempt`` (1 on the first try, 2 on the first retry, ...) doubles every request on each retry.

Units: memory in MB (1 MB = 1e6 bytes, Snakemake's ``mem_mb``), run time in whole minutes
(Snakemake's ``runtime``), rates in floating-point operations per second. Sizes: ``d`` input
dimension (pixels for real data), ``n`` hidden units (``round(r * d)``), ``batch`` rows per step
(0 for the exact-risk trainers, which draw no samples), ``steps`` gradient steps.
"""

from __future__ import annotations

import math

# A Python process with torch, numpy, pandas imported, measured max_rss ~ 600-900 MB.
TORCH_BASE_MB = 1500
# Pessimistic sustained rates for run-time requests: 5 GFLOP/s per CPU thread, 1 TFLOP/s on a GPU.
CPU_FLOPS_PER_THREAD = 5e9
GPU_FLOPS = 1e12
# Floors of the run-time requests (minutes): scheduling, start-up and imports dominate small jobs.
TRAIN_MIN_MINUTES = 10
REAL_MIN_MINUTES = 15
# Run-time requests are this multiple of the estimated matrix-product work at the rate above.
SAFETY = 3
# Rows of the final least-squares decoder fit in the real-data run-time estimate: the largest training
# split (MNIST's), whatever the data set, as the request has always been computed.
DECODER_FIT_ROWS = 60000


def _retry_factor(attempt: int) -> int:
    """2 ** (attempt - 1): every request doubles on each retry (attempt 1 is the first try)."""
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    return 2 ** (attempt - 1)


def uses_gpu(device: str, has_nvidia_smi: bool) -> bool:
    """Whether training jobs ask for a GPU (``resources: gpu=1``).

    ``device`` is the config's ``device`` ("auto", "cpu" or "cuda"): "cuda" always asks for one, "auto"
    asks when the machine that plans the jobs has ``nvidia-smi`` on its PATH, "cpu" never does.
    The workstation profile caps the gpu resource at 1 so two such jobs never share a card by accident.
    """
    return device == "cuda" or (device == "auto" and has_nvidia_smi)


def rate_flops(gpu: bool, threads: int) -> float:
    """Assumed sustained rate (FLOP/s): 1e12 on a GPU, else 5e9 per CPU thread of the job."""
    return GPU_FLOPS if gpu else CPU_FLOPS_PER_THREAD * threads


def train_mem_mb(d: int, n: int, batch: int, attempt: int = 1) -> int:
    """Peak memory (MB) of a Gaussian training job, doubled on every retry.

    float64 matrices of n x n (about 10 alive at once, in the arcsin Gram, its Cholesky factor and
    their gradients), of n x d (about 10) and of d x d (2), plus float32 activations
    of batch x (n + d) (about 6), over the base of an imported torch:

        (TORCH_BASE_MB + [8 (10 n^2 + 10 n d + 2 d^2) + 4 * 6 batch (n + d)] / 1e6) * 2^(attempt - 1)

    truncated to an integer.
    """
    payload = 8 * (10 * n * n + 10 * n * d + 2 * d * d) + 4 * 6 * batch * (n + d)
    return int((TORCH_BASE_MB + payload / 1e6) * _retry_factor(attempt))


def train_runtime_min(d: int, n: int, batch: int, steps: int, rate: float, attempt: int = 1) -> int:
    """Run time (minutes) of a Gaussian training job: three times its matrix-product work at ``rate``
    FLOP/s, at least 10 minutes, doubled on every retry.

    Work per step: 8 n^2 d (the Gram of the rows and its gradient), n^3 (Cholesky / solves) and
    6 batch n (n + d) (forward and backward through a batch), so ``flops = steps * (...)``.
    """
    flops = steps * (8 * n * n * d + n**3 + 6 * batch * n * (n + d))
    seconds = flops / rate
    return int(max(TRAIN_MIN_MINUTES, math.ceil(SAFETY * seconds / 60)) * _retry_factor(attempt))


def real_pixels(shape: tuple[int, ...], grayscale: bool) -> int:
    """Input dimension d of a real data set of images of ``shape`` ((H, W) or (H, W, 3); signae.datasets):
    H W grey levels, or H W 3 colour values unless ``grayscale`` (the config's ``realdata.cifar10_grayscale``
    for CIFAR-10) turns colour into grey levels."""
    pixels = 1
    for size in shape[:2]:
        pixels *= size
    return pixels if grayscale or len(shape) == 2 else pixels * shape[2]


def real_rows(train_images: int, test_images: int, train_samples: int | None, test_samples: int | None) -> int:
    """Rows of a prepared real-data variant, train plus test: the config's ``realdata`` caps
    ``train_samples`` / ``test_samples``, where None (or 0) means the whole official split of ``train_images``
    / ``test_images`` (signae.datasets)."""
    return (train_samples or train_images) + (test_samples or test_images)


def real_mem_mb(pixels: int, rows: int, n: float, batch: int, attempt: int = 1) -> int:
    """Peak memory (MB) of a real-data job (preprocess, train_real, designed_real, gaussian_twin),
    doubled on every retry.

    The cached variant (train and test, x and z, float32; budgeted as 4 * 3 * rows * pixels bytes)
    is loaded whole, plus the Gaussian-job payload with d = ``pixels``: float64 n x n (6), n x d (4),
    d x d (2) and float32 batch x n (6). ``n`` is the largest hidden size of the config,
    ``max(realdata.r) * pixels``, used unrounded (a float) exactly as the Snakefile always has.
    """
    payload = 4 * 3 * rows * pixels + 8 * (6 * n * n + 4 * n * pixels + 2 * pixels * pixels) + 4 * 6 * batch * n
    return int((TORCH_BASE_MB + payload / 1e6) * _retry_factor(attempt))


def real_runtime_min(pixels: int, n: float, steps: int, batch: int, rate: float, attempt: int = 1) -> int:
    """Run time (minutes) of a real-data job: three times its work at ``rate`` FLOP/s, at least
    15 minutes, doubled on every retry.

    Work: ``steps`` batches of forward and backward, 8 * batch * n * 2 * pixels each, plus the final
    least-squares decoder over 60000 training rows (F^T F and F^T X: 2 * 60000 * n * (n + pixels)).
    ``n`` as in :func:`real_mem_mb` (``max(realdata.r) * pixels``, unrounded).
    """
    flops = steps * 8 * batch * n * 2 * pixels + DECODER_FIT_ROWS * n * (n + pixels) * 2
    return int(max(REAL_MIN_MINUTES, math.ceil(SAFETY * flops / rate / 60)) * _retry_factor(attempt))
