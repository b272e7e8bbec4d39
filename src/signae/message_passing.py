"""Message passing for the one-bit encoder y = sgn(B x): the state evolution of generalized vector AMP (GVAMP;
Schniter, Rangan, Fletcher 2016) for a rotationally invariant B and an i.i.d. source, and the decoder that runs
its iterations on samples (docs/theory.md section 11; figure 11).

Every iteration has three steps. The source's posterior-mean denoiser acts on x, seen through a Gaussian channel
of precision gamma1x; the sign channel's posterior mean acts on z = B x, given a Gaussian pseudo-prior of precision
tau1z and the bits; a linear (LMMSE) step combines the two "extrinsic" messages (precisions gamma2x and tau2z)
through B. The state evolution tracks the four precisions; its mean squared error after k linear steps,
mmse_x(gamma1x), is what the decoder unrolled k times reaches as d -> infinity. Rows are taken unit-norm
(sgn(B x) does not see their norms), so z has unit variance when x has.

Pure functions on numbers (state evolution) and on tensors (the decoder): nothing here trains.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from . import sparse
from .linalg import unit_rows

#: Gauss-Hermite nodes and weights (probabilists': weight exp(-u^2 / 2)), for expectations over N(0, 1)
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(160)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _mills(t):
    """phi(t) / Phi(t), stable for large |t| (numpy or torch)."""
    if isinstance(t, torch.Tensor):
        return torch.exp(-0.5 * t.square() - 0.5 * math.log(2 * math.pi) - torch.special.log_ndtr(t))
    from scipy.special import log_ndtr

    return np.exp(-0.5 * t**2 - 0.5 * math.log(2 * math.pi) - log_ndtr(t))


def sign_channel(p1z: torch.Tensor, tau1z: float, y: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Posterior mean of z (any shape) under the pseudo-prior z ~ N(p1z, 1/tau1z) given y = sgn(z), and the mean
    posterior variance (docs/theory.md eq. (55)): with V = 1/tau1z, t = y p1z / sqrt(V) and a = phi(t) / Phi(t),
    E[z | y] = p1z + y sqrt(V) a and Var[z | y] = V (1 - a (t + a))."""
    sd = tau1z**-0.5 if isinstance(tau1z, torch.Tensor) else 1.0 / math.sqrt(tau1z)  # a tensor: learned (eq. (57))
    t = y * p1z / sd
    a = _mills(t)
    mean = p1z + y * sd * a
    var = (sd**2) * (1 - a * (t + a))
    return mean, float(var.detach().mean())


def sign_channel_mmse(V: float) -> float:
    """E Var(z | p, sgn(z)) for z = p + sqrt(V) g with p ~ N(0, 1 - V), g ~ N(0, 1) (so z ~ N(0, 1)), 0 < V <= 1:
    the sign channel's error in the state evolution (docs/theory.md eq. (55)); 1 - 2/pi at V = 1 (no prior
    information), by Gauss-Hermite quadrature over p."""
    V = min(max(V, 1e-12), 1.0)
    t = math.sqrt((1 - V) / V) * _NODES  # t = p / sqrt(V) for y = +1; y = -1 is the mirror image
    from scipy.special import ndtr

    a = _mills(t)
    return float(2 * np.sum(_WEIGHTS * ndtr(t) * V * (1 - a * (t + a))))


def prior_mmse(p: float, gamma: float, law: str = "gaussian") -> float:
    """The source's denoiser error of eq. (55): one coordinate of the Bernoulli-Gaussian source (p = 1: Gaussian) seen
    as x + N(0, 1/gamma), mmse_BG(p, 1/gamma); 1 at gamma = 0."""
    if law != "gaussian":
        raise ValueError(f"the state evolution is implemented for the Bernoulli-Gaussian source, got law {law!r}")
    return 1.0 if gamma <= 0 else sparse.mmse(p, 1.0 / gamma)


def prior_denoiser(r1x: torch.Tensor, gamma1x: float, p: float) -> tuple[torch.Tensor, float]:
    """The source's denoiser of eq. (55): E[x | r1x] and the mean posterior variance for r1x = x + N(0, 1/gamma1x),
    x Bernoulli-Gaussian (:func:`signae.sparse.posterior_moments`); at gamma1x = 0 the prior itself (mean 0,
    variance 1)."""
    if gamma1x <= 0:
        return torch.zeros_like(r1x), 1.0
    mean, var = sparse.posterior_moments(r1x, p, 1.0 / gamma1x)
    return mean, float(var.detach().mean())


def spectrum(n: int, d: int) -> np.ndarray:
    """The eigenvalues of Bbar^T Bbar (d,) of the ideal encoder, as the linear step of eq. (55) needs them: n ones and
    d - n zeros (n <= d), or d values n / d (a tight frame, n > d)."""
    if n <= d:
        return np.concatenate([np.ones(n), np.zeros(d - n)])
    return np.full(d, n / d)


def state_evolution(p: float, r: float, iterations: int, eigenvalues: np.ndarray | None = None) -> np.ndarray:
    """The mean squared error per coordinate of GVAMP on y = sgn(B x), x i.i.d. Bernoulli-Gaussian of sparsity p
    (p = 1: Gaussian), B with unit rows, right-rotationally invariant, n = r d rows, the spectrum of Bbar^T Bbar
    given by ``eigenvalues`` (d,) (default: :func:`spectrum` at d = 1000) (docs/theory.md eq. (55), eq. (56)).
    Entry 0 is the first linear step's estimate (R*(r) for the ideal encoder at r <= 1: the linear decoder);
    entry k >= 1 is mmse_x(gamma1x) after k linear steps, the source's denoiser applied: entry 1 is
    mmse_BG(p, v(r)), the single denoiser's value. -> (iterations + 1,)"""
    lam = spectrum(round(r * 1000), 1000) if eigenvalues is None else np.asarray(eigenvalues, dtype=float)
    n_over_d = lam.sum() / len(lam)  # tr(Bbar^T Bbar) / d = n / d for unit rows
    gamma1x, tau1z = 0.0, 1.0
    out = []
    for _ in range(iterations):
        gamma2x = 1.0 / prior_mmse(p, gamma1x) - gamma1x  # x-denoiser: extrinsic precision
        tau2z = 1.0 / sign_channel_mmse(1.0 / tau1z) - tau1z  # sign channel: extrinsic precision
        v2x = float(np.mean(1.0 / (gamma2x + tau2z * lam)))  # LMMSE on x: its error
        v2z = float(np.mean(lam / (gamma2x + tau2z * lam))) / n_over_d  # LMMSE on z = B x
        if not out:
            out.append(v2x)
        gamma1x, tau1z = 1.0 / v2x - gamma2x, 1.0 / v2z - tau2z
        out.append(prior_mmse(p, gamma1x))
    return np.asarray(out)


def linear_step_basis(B) -> tuple[torch.Tensor, torch.Tensor]:
    """The eigenvalues (d,) and eigenvectors (d, d) of Bbar^T Bbar for the encoder B (n, d), its rows made
    unit-norm, float64: what the linear step of eq. (55) needs."""
    Bb = unit_rows(torch.as_tensor(B, dtype=torch.float64))  # (n, d)
    lam, W = torch.linalg.eigh(Bb.T @ Bb)
    return lam.clamp(min=0.0), W


def unrolled(
    B,
    Y: torch.Tensor,
    p: float,
    iterations: int,
    damping: float = 1.0,
    precisions=None,
    trace: list | None = None,
    basis: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> list[torch.Tensor]:
    """GVAMP run ``iterations`` times on the bits Y = sgn(X B^T) (N, n) of the encoder B (n, d), with the
    Bernoulli-Gaussian posterior mean as the source's denoiser (docs/theory.md eq. (56)): the decoder the state
    evolution describes, K layers deep, nothing trained. Returns the estimates of x, [(N, d)] * (iterations + 1),
    float64, as :func:`state_evolution` counts them: the first linear step's, then the denoiser's after each
    linear step. The linear step uses the eigendecomposition of Bbar^T Bbar, computed once (or handed in as
    ``basis``, :func:`linear_step_basis`, by a caller that runs the decoder many times). ``damping`` in (0, 1]:
    from the second iteration on, the messages into the denoiser and the channel are that convex combination of the
    new and the previous ones, their precisions likewise on the scale 1/sqrt(precision) (damped VAMP, eq. (56));
    1 is the undamped decoder the state evolution describes.

    Per iteration the decoder uses six precisions, in this order: gamma2x and tau2z (the nonlinear steps'
    extrinsic ones), gamma_new and tau_new (the linear step's extrinsic ones) and gamma1x and tau1z (after damping,
    what the next denoiser and channel see). ``trace``, a list: each iteration's six are appended to it (floats).
    ``precisions`` (iterations, 6), a tensor: used in place of the empirical averages, the posterior variances they
    replace derived from them (v1x = 1 / (gamma1x + gamma2x) and so on); gradients flow through them (the learned
    decoder, eq. (57); :mod:`signae.learned_message_passing`)."""
    Bb = unit_rows(torch.as_tensor(B, dtype=torch.float64))  # (n, d)
    Y = Y.to(torch.float64)
    n, d = Bb.shape
    lam, W = linear_step_basis(Bb) if basis is None else basis  # (d,), (d, d)
    N = Y.shape[0]
    r1x, gamma1x = torch.zeros(N, d, dtype=torch.float64), 0.0
    p1z, tau1z = torch.zeros(N, n, dtype=torch.float64), 1.0
    out = []
    for k in range(iterations):
        x1, v1x = prior_denoiser(r1x, gamma1x, p)
        z1, v1z = sign_channel(p1z, tau1z, Y)
        if precisions is None:
            gamma2x, tau2z = 1.0 / v1x - gamma1x, 1.0 / v1z - tau1z
        else:
            gamma2x, tau2z = precisions[k, 0], precisions[k, 1]
            v1x, v1z = 1.0 / (gamma1x + gamma2x), 1.0 / (tau1z + tau2z)
        r2x = (x1 / v1x - gamma1x * r1x) / gamma2x  # (N, d)
        p2z = (z1 / v1z - tau1z * p1z) / tau2z  # (N, n)
        inv = 1.0 / (gamma2x + tau2z * lam)  # (d,)
        x2 = ((gamma2x * r2x + tau2z * p2z @ Bb) @ W * inv) @ W.T  # (N, d)
        if precisions is None:
            v2x, v2z = float(inv.mean()), float((lam * inv).sum()) / n
            g_new, t_new = 1.0 / v2x - gamma2x, 1.0 / v2z - tau2z
        else:
            g_new, t_new = precisions[k, 2], precisions[k, 3]
            v2x, v2z = 1.0 / (gamma2x + g_new), 1.0 / (tau2z + t_new)
        if not out:
            out.append(x2)
        r_new = (x2 / v2x - gamma2x * r2x) / g_new  # (N, d)
        p_new = (x2 @ Bb.T / v2z - tau2z * p2z) / t_new  # (N, n)
        if len(out) == 1 or damping == 1.0:  # the first messages replace the prior's
            r1x, gamma1x, p1z, tau1z = r_new, g_new, p_new, t_new
        else:
            r1x, p1z = damping * r_new + (1 - damping) * r1x, damping * p_new + (1 - damping) * p1z
            gamma1x = (damping * g_new**-0.5 + (1 - damping) * gamma1x**-0.5) ** -2
            tau1z = (damping * t_new**-0.5 + (1 - damping) * tau1z**-0.5) ** -2
        if precisions is not None:
            gamma1x, tau1z = precisions[k, 4], precisions[k, 5]
        if trace is not None:
            trace.append([float(v) for v in (gamma2x, tau2z, g_new, t_new, gamma1x, tau1z)])
        out.append(prior_denoiser(r1x, gamma1x, p)[0])
    return out


def evaluate(
    B, p: float, iterations: int, samples: int, seed: int, damping: float = 1.0, chunk: int = 4096, precisions=None
) -> dict:
    """The unrolled decoder on the encoder B (n, d) for fresh Bernoulli-Gaussian samples (seed ``seed``): per
    depth k = 0 ... iterations (:func:`unrolled`), the test loss ||x - x_hat||^2 / d averaged over ``samples``
    samples and its standard error; and the state evolution of B's own spectrum (eq. (56)). ``precisions``
    (iterations, 6): the learned decoder's (eq. (57)) in place of the empirical ones; the same seed gives the same
    test samples, so two decoders evaluated with it are compared sample by sample.
    -> {"loss": [...], "loss_se": [...], "state_evolution": [...]}"""
    Bt = torch.as_tensor(B, dtype=torch.float64)  # (n, d)
    n, d = Bt.shape
    g = torch.Generator().manual_seed(seed)
    sums = np.zeros((iterations + 1, 2))  # per depth: sum and sum of squares of the per-sample losses
    basis = linear_step_basis(Bt)
    for start in range(0, samples, chunk):
        X = sparse.draw(min(chunk, samples - start), d, p, g, dtype=torch.float64)  # (k, d)
        with torch.no_grad():
            estimates = unrolled(Bt, sparse.sign_bit(X @ Bt.T), p, iterations, damping, precisions, basis=basis)
        for k, est in enumerate(estimates):
            per = (X - est).square().mean(dim=1)  # (k,)
            sums[k] += (float(per.sum()), float(per.square().sum()))
    mean = sums[:, 0] / samples
    se = np.sqrt(np.maximum(sums[:, 1] / samples - mean**2, 0.0) / samples)
    lam = np.linalg.eigvalsh((unit_rows(Bt).T @ unit_rows(Bt)).numpy()).clip(min=0.0)
    return {
        "loss": mean.tolist(),
        "loss_se": se.tolist(),
        "state_evolution": state_evolution(p, n / d, iterations, lam).tolist(),
    }


class MessagePassingFailed(RuntimeError):
    """A loss of the unrolled or the learned decoder that cannot be right (not finite, not below the trivial risk 1);
    nothing is saved."""


def check(losses: dict[int, float], what: str, fix: str | None = None) -> None:
    """Stop, naming the fix, when a loss of :func:`evaluate` cannot be right: not finite, or not below the trivial
    risk 1 (Sigma = I: the loss of predicting 0). ``losses``: {depth: loss} of the depths to check; ``what`` names
    the decoder and encoder, ``fix`` the remedy (default: the unrolled decoder's)."""
    bad = [(k, x) for k, x in losses.items() if not (math.isfinite(x) and 0 <= x < 1.0)]
    if bad:
        k, x = bad[0]
        fix = fix or "Lower sparse.message_passing.damping or iterations, or rerun the encoder's job"
        raise MessagePassingFailed(
            f"{what}: the loss after {k} steps is {x:.6g}, not in [0, 1) (1 is the trivial risk); nothing was "
            f"saved. {fix}"
        )
