"""Depth on sparse data: a decoder with one hidden nonlinear layer on a trained encoder of figure 7
(docs/theory.md eq. (42)).

    x_hat = W2 phi(W1 f + b1) + b2,   f = sign(B x) in {-1, +1}^n (sign(0) = +1),

with hidden width d and phi a shared learned scalar activation, piecewise linear
(:class:`signae.denoisers.PiecewiseLinear`).
It starts at the learned coordinate-wise denoiser of the same encoder (W1 = A / alpha, phi = the fitted
:class:`signae.denoisers.CoordinateDenoiser` sampled on phi's knots, W2 = I, b = 0), so the loss it gains
over that denoiser is what depth adds: the second linear layer mixes the denoised coordinates, and W1
and phi adapt to it. Trained end to end by Adam on fresh Bernoulli-Gaussian samples; every loss is
measured on the same fresh test samples. (phi is piecewise linear rather than the denoiser's small
network because evaluating that network on every hidden unit of every sample costs 25 times the two
linear layers.)
"""

from __future__ import annotations

import copy
import math
import time

import torch

from .denoisers import FitFailed, PiecewiseLinear
from .sparse_source import SparseSource


class DeepDecoder(torch.nn.Module):
    """f (k, n) -> x_hat (k, d) = W2 phi(W1 f + b1) + b2, initialised at phi(A f / alpha) (docs/theory.md eq. (42))."""

    def __init__(self, A: torch.Tensor, alpha: float, phi: torch.nn.Module):
        super().__init__()
        d, n = A.shape
        kw = {"device": A.device, "dtype": A.dtype}
        self.first = torch.nn.Linear(n, d, **kw)  # W1 (d, n), b1 (d,)
        self.second = torch.nn.Linear(d, d, **kw)  # W2 (d, d), b2 (d,)
        self.phi = phi
        with torch.no_grad():
            self.first.weight.copy_(A / alpha)
            self.first.bias.zero_()
            self.second.weight.copy_(torch.eye(d, dtype=A.dtype, device=A.device))
            self.second.bias.zero_()

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return self.second(self.phi(self.first(f)))


def train(
    B: torch.Tensor, p: float, settings: dict, seed: int, chunk: int = 16384
) -> tuple[dict, list[tuple[int, float]]]:
    """Train the deep decoder of encoder B (n, d) on Bernoulli-Gaussian samples of sparsity p (docs/theory.md
    eq. (42)).

    settings (signae.registry.deep_decoder_settings): fit_samples_per_unit, test_samples_per_unit (as figure
    7's runs), steps, batch, lr, knots. The linear decoder and the learned denoiser are refitted here, on
    fresh samples of their own (the run's own are on others), so that all four decoders are judged on the same
    ``test_samples_per_unit * n`` test samples. Returns (losses, curve). losses: paired_loss_linear,
    paired_loss_learned_denoiser, paired_loss_deep_start (the piecewise-linear copy of that denoiser the
    deep decoder starts from), loss_deep and its standard error loss_deep_se; paired_alpha,
    paired_noise_variance (the refit's calibration),
    wall_time_s. curve: [(step, batch loss)] every tenth step and the last.
    """
    n, d = B.shape
    start = time.perf_counter()
    source = SparseSource(
        d,
        p,
        B.device,
        B.dtype,
        fit_samples=settings["fit_samples_per_unit"] * n,
        test_samples=settings["test_samples_per_unit"] * n,
        eval_samples=1,  # no curve is recorded here
        seed=seed,
    )
    g = torch.Generator(device=B.device).manual_seed(20_000 + seed)  # apart from the run's own streams
    A, alpha, v, denoiser = source.decoders(B, g, seed, chunk)
    A = A.to(B.dtype)
    F, X = next(source.chunks(B, 4 * chunk, g, 4 * chunk))  # phi's range: the hidden units' values at the start
    L = float((F @ A.T / alpha).abs().max())
    with torch.no_grad():
        phi = PiecewiseLinear.matching(denoiser, -L, L, settings["knots"], B.device, B.dtype)
    model = DeepDecoder(A, alpha, phi)
    phi_start = copy.deepcopy(phi)
    opt = torch.optim.Adam(model.parameters(), lr=settings["lr"])
    steps, curve = settings["steps"], []
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    with torch.enable_grad():
        for it in range(steps):
            F, X = next(source.chunks(B, settings["batch"], g, settings["batch"]))  # (batch, n), (batch, d)
            loss = (model(F) - X).square().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if it % 10 == 0 or it == steps - 1:
                curve.append((it, float(loss.detach())))
    model.eval()
    decoders = {
        "linear": lambda F: F @ A.T,
        "learned": lambda F: denoiser(F @ A.T / alpha),
        "deep_start": lambda F: phi_start(F @ A.T / alpha),
        "deep": model,
    }
    per = source.test_losses(B, decoders, g, chunk)  # {name: (loss, standard error)}, the same test samples
    return {
        "paired_loss_linear": per["linear"][0],
        "paired_loss_learned_denoiser": per["learned"][0],
        "paired_loss_deep_start": per["deep_start"][0],
        "loss_deep": per["deep"][0],
        "loss_deep_se": per["deep"][1],
        "paired_alpha": alpha,
        "paired_noise_variance": v,
        "wall_time_s": time.perf_counter() - start,
    }, curve


def check(losses: dict, run: str) -> None:
    """Stop, naming the fix, when a loss cannot be right: not finite, or not below the trivial risk 1
    (Sigma = I: the loss of predicting 0). Nothing is saved then."""
    fixes = {
        "paired_loss_linear": f"the encoder of {run} is at fault: rerun it (snakemake --cores all --forcerun {run})",
        "paired_loss_learned_denoiser": f"the encoder of {run} is at fault: rerun it (snakemake --cores all "
        f"--forcerun {run})",
        "paired_loss_deep_start": "the activation's knots do not match the denoiser: raise sparse.depth.knots",
        "loss_deep": "the deep decoder's training diverged: lower sparse.depth.lr",
    }
    for key, fix in fixes.items():
        value = losses[key]
        if not (math.isfinite(value) and 0 <= value < 1.0):
            raise FitFailed(
                f"deep decoder on {run}: {key} = {value:.6g} is not in [0, 1) (1 is the trivial risk); nothing "
                f"was saved. {fix}"
            )
