"""Sparse sources and their posterior-mean denoiser (Kögler, Shevchenko, Hassani, Mondelli, ICML 2024,
arXiv:2402.05013), in this project's own derivation: docs/theory.md, section 7.

The Bernoulli-Gaussian source has i.i.d. coordinates x_i = b_i g_i, b_i ~ Bernoulli(p), g_i ~ N(0, 1/p):
unit variance, Sigma = I, and p = 1 is the Gaussian source of the first paper. The Bernoulli-Rademacher source
(``law="rademacher"``) has x_i = b_i s_i / sqrt(p), s_i = +-1: the same sparsity, non-zero values one bit
describes exactly; with it the shape of the best encoder changes with p (docs/theory.md section 9). The encoder
is one bit per unit with the convention sign(0) = +1 (:func:`sign_bit`); on exactly sparse data an axis-aligned
unit sees x_i = 0 with probability 1 - p, and torch.sign would make it a three-valued symbol.

Everything here is pure: numbers and arrays in, numbers and arrays out (the draws from a generator the caller
passes). The learned denoiser is signae.denoisers; training on this source is signae.sparse_source.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from . import theory


def sign_bit(z: torch.Tensor) -> torch.Tensor:
    """+1 where z >= 0, -1 elsewhere: one bit per unit, sign(0) = +1 (docs/theory.md eq. (37))."""
    return torch.where(z >= 0, 1.0, -1.0).to(z.dtype)


LAWS = ("gaussian", "rademacher")  # the law of the non-zero values (unit variance before the 1/sqrt(p))


def draw(
    k: int, d: int, p: float, g: torch.Generator, device=None, dtype=torch.float32, law: str = "gaussian"
) -> torch.Tensor:
    """k samples of the sparse source, shape (k, d): x = b w / sqrt(p) with b ~ Bernoulli(p) and w ~ N(0, 1)
    (Bernoulli-Gaussian, docs/theory.md eq. (37)) or w = +-1 (Bernoulli-Rademacher, eq. (51)), so E x = 0,
    E x^2 = 1."""
    if law not in LAWS:
        raise ValueError(f"law must be one of {LAWS}, got {law!r}")
    if law == "gaussian":
        w = torch.randn(k, d, generator=g, device=device, dtype=dtype)  # (k, d)
    else:
        w = torch.randint(0, 2, (k, d), generator=g, device=device).to(dtype) * 2 - 1  # (k, d) +-1
    if p >= 1.0:
        return w
    keep = torch.rand(k, d, generator=g, device=device, dtype=dtype) < p  # (k, d) Bernoulli(p)
    return w * keep / math.sqrt(p)


def posterior_mean(y, p: float, v: float):
    """eta(y) = E[x | y] for y = x + sqrt(v) z, x Bernoulli-Gaussian with sparsity p, z ~ N(0, 1)
    (docs/theory.md eq. (38)):

        eta(y) = pi1(y) y s / (s + v),  s = 1/p,
        pi1(y) = p N(y; 0, s + v) / (p N(y; 0, s + v) + (1 - p) N(y; 0, v)).

    Works on numpy arrays and on torch tensors (coordinate-wise)."""
    s = 1.0 / p
    if isinstance(y, torch.Tensor):
        if p >= 1.0:
            return y * (s / (s + v))
        # log-odds of "nonzero" against "zero", stable for large |y|
        logit = math.log(p / (1.0 - p)) - 0.5 * math.log((s + v) / v) + 0.5 * y.square() * (1.0 / v - 1.0 / (s + v))
        return torch.sigmoid(logit) * y * (s / (s + v))
    y = np.asarray(y, dtype=float)
    if p >= 1.0:
        return y * (s / (s + v))
    logit = math.log(p / (1.0 - p)) - 0.5 * math.log((s + v) / v) + 0.5 * y**2 * (1.0 / v - 1.0 / (s + v))
    return 0.5 * (1.0 + np.tanh(0.5 * logit)) * y * (s / (s + v))


def posterior_moments(y: torch.Tensor, p: float, v) -> tuple[torch.Tensor, torch.Tensor]:
    """(E[x | y], Var[x | y]) for y = x + sqrt(v) z, x Bernoulli-Gaussian, torch, coordinate-wise: the source's
    denoiser of message passing (docs/theory.md eq. (55)); with pi1(y) and s = 1/p as in :func:`posterior_mean`,
    E[x^2 | y] = pi1(y) (s v / (s + v) + (y s / (s + v))^2). ``v`` a float, or a 0-d tensor that gradients flow
    through (the learned decoder, docs/theory.md eq. (57))."""
    s = 1.0 / p
    shrink = s / (s + v)
    if p >= 1.0:
        return y * shrink, torch.zeros_like(y) + s * v / (s + v)
    log = torch.log if isinstance(v, torch.Tensor) else math.log  # v a tensor: the learned decoder's gradient
    logit = math.log(p / (1.0 - p)) - 0.5 * log((s + v) / v) + 0.5 * y.square() * (1.0 / v - 1.0 / (s + v))
    on = torch.sigmoid(logit)  # P(x != 0 | y)
    mean = on * y * shrink
    return mean, on * (s * v / (s + v) + (y * shrink).square()) - mean.square()


def mmse(p: float, v: float) -> float:
    """mmse_BG(p, v) = E (x - eta(y))^2 = 1 - E eta(y)^2 for the Bernoulli-Gaussian coordinate observed in
    Gaussian noise of variance v (docs/theory.md eq. (38)), by adaptive quadrature over each component of
    y's mixture density p N(0, 1/p + v) + (1 - p) N(0, v). At p = 1 it is v / (1 + v)."""
    from scipy import integrate

    if p >= 1.0:
        return v / (1.0 + v)
    total = 0.0
    for weight, var in ((p, 1.0 / p + v), (1.0 - p, v)):
        sd = math.sqrt(var)

        def integrand(t, sd=sd):  # E over t ~ N(0, 1) of eta(sd t)^2
            return float(posterior_mean(sd * t, p, v) ** 2) * math.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)

        value, _ = integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-13, epsrel=1e-11, limit=200)
        total += weight * value
    return 1.0 - total


def noise_variance(r: float) -> float:
    """v(r) = R*(r) / (1 - R*(r)): the variance of the effective noise of x_lin / alpha for the optimal
    encoder, alpha = 1 - R*(r) (docs/theory.md eq. (39)); pi / (2 r) - 1 for r <= 1."""
    risk = float(theory.optimal_risk(r))
    return risk / (1.0 - risk)


def denoised_prediction(p: float, r: float) -> float:
    """The loss of the optimal encoder followed by the coordinate-wise posterior-mean denoiser,
    mmse_BG(p, v(r)) (docs/theory.md eq. (39)). Equals R*(r) at p = 1."""
    return mmse(p, noise_variance(r))


def sign_efficiency(law: str) -> float:
    """eta = (E|w|)^2 for the unit-variance law of the non-zero values (docs/theory.md eq. (52)): the fraction of a
    non-zero coordinate's variance its sign carries; 2/pi Gaussian, 1 Rademacher."""
    if law not in LAWS:
        raise ValueError(f"law must be one of {LAWS}, got {law!r}")
    return 2.0 / math.pi if law == "gaussian" else 1.0


def axis_aligned_risk(p: float, n: int, d: int, law: str = "gaussian") -> float:
    """Exact risk of the axis-aligned encoder (unit k sees coordinate k, n <= d) with its least-squares
    linear decoder (no bias), sign(0) = +1 (docs/theory.md eq. (40), eq. (52)):

        1 - (n/d) p eta [S^{-1}]_kk,  S = (1 - q) I + q 1 1^T,  q = (1 - p)^2,

    the bits' Gram matrix (E s_k = 1 - p), eta the sign efficiency of the non-zero law (:func:`sign_efficiency`;
    2/pi for the Bernoulli-Gaussian source, eq. (40)). For large n it is 1 - (n/d) eta / (2 - p): above R*(n/d)
    for every p < 1 on Bernoulli-Gaussian data, below it for p > 2 - pi/2 on Bernoulli-Rademacher data."""
    if not 1 <= n <= d:
        raise ValueError(f"the axis-aligned encoder needs 1 <= n <= d, got n={n}, d={d}")
    q = (1.0 - p) ** 2
    diag = (1.0 / (1.0 - q)) * (1.0 - q / (1.0 - q + n * q)) if q < 1.0 else 1.0
    return 1.0 - (n / d) * p * sign_efficiency(law) * diag


def axis_aligned_risk_three_valued(p: float, n: int, d: int, law: str = "gaussian") -> float:
    """The axis-aligned encoder's risk with torch's sign(0) = 0 (a unit then sends one of three values: more
    than one bit), with its least-squares decoder (docs/theory.md eq. (53)): 1 - (n/d) eta. For Bernoulli-Gaussian
    data that is R*(n/d) exactly, for Bernoulli-Rademacher data 1 - n/d (the n coordinates recovered exactly):
    the convention decides the comparison."""
    if not 1 <= n <= d:
        raise ValueError(f"the axis-aligned encoder needs 1 <= n <= d, got n={n}, d={d}")
    return 1.0 - (n / d) * sign_efficiency(law)


def critical_sparsity(r: float, law: str = "rademacher", n: int | None = None) -> float:
    """The sparsity p* at which the axis-aligned encoder (sign(0) = +1, least-squares decoder) and a delocalised
    encoder reaching R*(r) have the same risk, r <= 1 (docs/theory.md eq. (54)): for n -> infinity
    p* = 2 - pi eta / 2 (2 - pi/2 = 0.4292 on Bernoulli-Rademacher data, whatever r), with n = r d units the root
    of p eta [S^{-1}]_kk = 2/pi. Above p* the axes win. None where they never win (Bernoulli-Gaussian data)."""
    if not 0 < r <= 1:
        raise ValueError(f"the axis-aligned encoder needs r <= 1, got {r}")
    eta = sign_efficiency(law)
    if n is None:
        p = 2.0 - math.pi * eta / 2.0
        return p if 0 < p < 1 else None
    from scipy.optimize import brentq

    def gain(p: float) -> float:  # explained variance per encoded coordinate, minus the delocalised one's
        return (1.0 - axis_aligned_risk(p, n, n, law)) - 2.0 / math.pi

    if gain(1.0 - 1e-12) <= 0:
        return None
    return float(brentq(gain, 1e-9, 1.0 - 1e-12, xtol=1e-12))
