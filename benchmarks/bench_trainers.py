"""Speed of the three trainers. Run on demand, not in the tests:

    python benchmarks/bench_trainers.py [--device cpu|cuda] [--dims 256 512 1024] [--threads N]

Prints, from one run on one machine:
1. time per step of each trainer at d in --dims with r = 2, and the matmul GFLOP/s it achieves
   (FLOPs of matrix products counted by torch's FlopCounterMode over one step, forward + backward,
   plus the n^3/3 + 2 n^2 d of the Cholesky factorisation and solve that pgd and sample do each step;
   element-wise work is not counted), next to a plain torch matmul of similar size timed in the
   same run (ratio = trainer rate / matmul rate);
2. for each trainer at d = 512, r = 2: the wall time to come within 1% of R*(2) (3% for the
   sample-based trainer, whose target in figure 1 is 3%), with the step count.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from signae import gaussian_source, theory, train
from signae.device import resolve_device

R = 2.0


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul_rate(m: int, k: int, n: int, dtype, device, repeats: int = 10) -> float:
    """GFLOP/s of a plain (m, k) @ (k, n) product."""
    a = torch.randn(m, k, dtype=dtype, device=device)
    b = torch.randn(k, n, dtype=dtype, device=device)
    a @ b
    sync(device)
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync(device)
    return 2 * m * k * n * repeats / (time.perf_counter() - t0) / 1e9


def run_trainer(name: str, d: int, steps: int, device, **kw):
    n = int(R * d)
    if name == "pgd":
        return train.projected_gd(d, n, steps, device=device, **kw)
    if name == "tied":
        return train.tied_gd(d, n, steps, device=device, **kw)
    every = max(steps, 1)
    return gaussian_source.sample_gd(d, n, steps, device=device, record_every=every, fit_samples_per_unit=4, **kw)


def per_step(name: str, d: int, device) -> tuple[float, float]:
    """(seconds per step, matmul GFLOP counted per step): the time of a long run minus a short one,
    divided by the step difference, so set-up and the final decoder fit cancel out."""
    run_trainer(name, d, 1, device)  # warm-up (allocations, kernels)
    with FlopCounterMode(display=False) as counter:
        run_trainer(name, d, 1, device)
    one = counter.get_total_flops()
    with FlopCounterMode(display=False) as counter:
        run_trainer(name, d, 2, device)
    flops_per_step = (counter.get_total_flops() - one) / 1e9
    if name in ("pgd", "sample"):  # + the Cholesky factorisation (n^3/3) and its solve (2 n^2 d) of each step
        n = int(R * d)
        flops_per_step += (n**3 / 3 + 2 * n * n * d) / 1e9
    short, long = (5, 45) if device.type == "cuda" else ((1, 4) if d >= 1024 else (2, 7))
    times = {}
    for steps in (short, long):
        t0 = time.perf_counter()
        run_trainer(name, d, steps, device)
        times[steps] = time.perf_counter() - t0
    return (times[long] - times[short]) / (long - short), flops_per_step


def time_to_target(name: str, d: int, device, tol: float) -> tuple[float, int]:
    """Wall time and steps until the exact risk is within tol of R*(2): the smallest step budget that
    reaches it (runs are re-done from scratch for each budget, as a user would)."""
    target = theory.optimal_risk(R) * (1 + tol)
    budgets = {
        "pgd": [2, 4, 6, 8, 10, 13, 16, 20, 30],
        "tied": [5, 10, 20, 40, 80, 160],
        "sample": [10, 20, 30, 40, 60, 80],
    }[name]
    for steps in budgets:
        t0 = time.perf_counter()
        n = int(R * d)
        if name == "sample":
            res = gaussian_source.sample_gd(d, n, steps, device=device, record_every=steps)
        else:
            res = run_trainer(name, d, steps, device)
        wall = time.perf_counter() - t0
        if res.final_loss <= target:
            return wall, steps
    return float("nan"), budgets[-1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--dims", type=int, nargs="+", default=[256, 512, 1024])
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--skip-target", action="store_true", help="only the per-step table")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    device = resolve_device(a.device)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, r = {R}")
    print(f"{'trainer':8} {'d':>5} {'s/step':>9} {'GFLOP/step':>11} {'GFLOP/s':>8} {'matmul GFLOP/s':>15} {'ratio':>6}")
    for d in a.dims:
        n = int(R * d)
        for name, dtype in (("pgd", torch.float64), ("tied", torch.float64), ("sample", torch.float32)):
            sec, gflop = per_step(name, d, device)
            # a plain matmul of the trainer's dominant shape: (n, d) @ (d, n), or (batch, d) @ (d, n)
            ref = matmul_rate(8192 if name == "sample" else n, d, n, dtype, device)
            rate = gflop / sec
            print(f"{name:8} {d:5d} {sec:9.4f} {gflop:11.2f} {rate:8.1f} {ref:15.1f} {rate / ref:6.2f}")
    if a.skip_target:
        return
    print("\ntime to reach R*(2) at d = 512 (within 1%; sample-based within 3%)")
    for name, tol in (("pgd", 0.01), ("tied", 0.01), ("sample", 0.03)):
        wall, steps = time_to_target(name, 512, device, tol)
        print(f"{name:8} {wall:8.2f} s  ({steps} steps)")


if __name__ == "__main__":
    main()
