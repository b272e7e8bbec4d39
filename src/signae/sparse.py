"""Sparse sources and their posterior-mean denoiser (Kögler, Shevchenko, Hassani, Mondelli, ICML 2024,
arXiv:2402.05013), in this project's own derivation: docs/theory.md, section 7.

The Bernoulli-Gaussian source has i.i.d. coordinates x_i = b_i g_i, b_i ~ Bernoulli(p), g_i ~ N(0, 1/p):
unit variance, Sigma = I, and p = 1 is the Gaussian source of the first paper. The encoder is one bit per
unit with the convention sign(0) = +1 (:func:`sign_bit`); on exactly sparse data an axis-aligned unit
sees x_i = 0 with probability 1 - p, and torch.sign would make it a three-valued symbol.

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


def draw(k: int, d: int, p: float, g: torch.Generator, device=None, dtype=torch.float32) -> torch.Tensor:
    """k samples of the Bernoulli-Gaussian source, shape (k, d): x = b g with b ~ Bernoulli(p),
    g ~ N(0, 1/p), so E x = 0, E x^2 = 1, E x^4 = 3/p (docs/theory.md eq. (37))."""
    gauss = torch.randn(k, d, generator=g, device=device, dtype=dtype)  # (k, d)
    if p >= 1.0:
        return gauss
    keep = torch.rand(k, d, generator=g, device=device, dtype=dtype) < p  # (k, d) Bernoulli(p)
    return gauss * keep / math.sqrt(p)


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


def axis_aligned_risk(p: float, n: int, d: int) -> float:
    """Exact risk of the axis-aligned encoder (unit k sees coordinate k, n <= d) with its least-squares
    linear decoder (no bias), sign(0) = +1 (docs/theory.md eq. (40)):

        1 - (n/d) (2p/pi) [S^{-1}]_kk,  S = (1 - q) I + q 1 1^T,  q = (1 - p)^2,

    the bits' Gram matrix (E s_k = 1 - p). For large n it is 1 - (n/d) 2 / (pi (2 - p)), above R*(n/d) for
    every p < 1: with one bit per unit and a linear decoder, aligning with the axes does not pay."""
    if not 1 <= n <= d:
        raise ValueError(f"the axis-aligned encoder needs 1 <= n <= d, got n={n}, d={d}")
    q = (1.0 - p) ** 2
    diag = (1.0 / (1.0 - q)) * (1.0 - q / (1.0 - q + n * q)) if q < 1.0 else 1.0
    return 1.0 - (n / d) * (2.0 * p / math.pi) * diag
