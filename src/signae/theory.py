"""Scalar theory of the two-layer sign autoencoder (docs/theory.md, "The fundamental limit" and
"General covariance").

Everything here is a closed form or a one-dimensional integral: the fundamental limit R*(r),
the optimal decoder scale beta(r), the reference curves drawn beside it (Shannon's distortion-rate
function, the linear/PCA line, the untrained-encoder Marchenko-Pastur baseline) and the
water-filling allocation for a general covariance. The matrix-valued population risk used for
training lives in :mod:`signae.population`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: c = pi/2 - 1: the self-interaction constant in arcsin(G) ~ G + c I (docs/theory.md eq. (8)).
C_SIGN = math.pi / 2 - 1


def optimal_risk(r: float | np.ndarray) -> float | np.ndarray:
    """The fundamental limit R*(r), docs/theory.md eq. (9) (sign activation, x ~ N(0, I_d), d -> inf).

    R*(r) = 1 - 2r/pi for r <= 1, and c/(r + c) for r >= 1; continuous at r = 1.
    """
    r_arr = np.asarray(r, dtype=float)
    if np.any(r_arr <= 0):
        raise ValueError(f"compression rate r must be > 0, got {r}")
    out = np.where(r_arr <= 1, 1 - 2 * r_arr / math.pi, C_SIGN / (r_arr + C_SIGN))
    return float(out) if out.ndim == 0 else out


def optimal_decoder_scale(r: float) -> float:
    """beta(r) of the optimal weight-tied decoder A = beta Bbar^T (docs/theory.md eq. (10)).

    sqrt(2/pi) for r <= 1 (orthogonal rows), sqrt(pi/2)/(r + c) for r > 1 (tight frame); the two
    agree at r = 1 because sqrt(pi/2)/(pi/2) = sqrt(2/pi).
    """
    if r <= 0:
        raise ValueError(f"compression rate r must be > 0, got {r}")
    return math.sqrt(2 / math.pi) if r <= 1 else math.sqrt(math.pi / 2) / (r + C_SIGN)


def shannon_distortion(r: float | np.ndarray) -> float | np.ndarray:
    """Shannon's distortion-rate function of a unit Gaussian source at r bits/coordinate: 2^(-2r)
    (docs/theory.md eq. (13))."""
    return np.power(2.0, -2 * np.asarray(r, dtype=float))


def pca_risk(r: float | np.ndarray) -> float | np.ndarray:
    """Linear autoencoder (PCA) with n = r d real-valued hidden units, isotropic data: max(0, 1 - r)
    (docs/theory.md eq. (14))."""
    return np.maximum(0.0, 1 - np.asarray(r, dtype=float))


def pca_risk_spectrum(eigenvalues: np.ndarray, r: float) -> float:
    """PCA with n = r d units on a general spectrum: the variance left outside the top n directions / d
    (docs/theory.md eq. (25)).

    eigenvalues: (d,) eigenvalues of Sigma (any order).
    """
    lam = np.sort(np.asarray(eigenvalues, dtype=float))[::-1]
    d = lam.size
    n = round(r * d)
    return float(lam[n:].sum() / d)


def marchenko_pastur_risk(r: float) -> float:
    """Risk of an untrained Gaussian encoder with the optimal decoder A*(B), d -> inf (docs/theory.md eq. (15)).

    The rows of Bbar are i.i.d. uniform unit vectors, so Bbar^T Bbar (d x d) = r X with X following
    the Marchenko-Pastur law of ratio y = d/n = 1/r (mean 1), plus an atom at 0 of mass 1 - r when
    r < 1. The risk is E[c / (m + c)] over the eigenvalues m of Bbar^T Bbar.
    """
    if r <= 0:
        raise ValueError(f"compression rate r must be > 0, got {r}")
    y = 1.0 / r
    a, b = (1 - math.sqrt(y)) ** 2, (1 + math.sqrt(y)) ** 2

    # Continuous part of the MP law: sqrt((b - x)(x - a)) / (2 pi y x) on [a, b], total mass
    # min(1, r). Its square-root edges are handled exactly by QUADPACK's algebraic weight.
    # At r = 1 the lower edge is 0 and the density behaves like x^(-1/2) there instead.
    if a > 0:
        integrand, wvar = (lambda x: C_SIGN / (r * x + C_SIGN) / (2 * math.pi * y * x)), (0.5, 0.5)
    else:
        integrand, wvar = (lambda x: C_SIGN / (r * x + C_SIGN) / (2 * math.pi * y)), (-0.5, 0.5)
    from scipy import integrate  # imported where used: the workflow reads this module while it builds its graph

    cont, _ = integrate.quad(integrand, a, b, weight="alg", wvar=wvar, epsabs=1e-13, epsrel=1e-12)
    atom = max(0.0, 1 - r)  # zero eigenvalues keep their full unit distortion (c / c = 1)
    return float(cont + atom)


@dataclass(frozen=True)
class WaterFilling:
    """The water-filling solution for one spectrum and one rate: the allocation of docs/theory.md eq. (27)
    and its risk, eq. (26).

    eigenvalues: (d,) eigenvalues of Sigma in descending order.
    allocation:  (d,) m_i >= 0, the eigenvalues of M = U^T U in Sigma's eigenbasis; sum = n.
    risk:        (1/d) [sum_active lambda_i c/(m_i + c) + sum_inactive lambda_i].
    active:      k, the number of non-zero m_i.
    theta:       the water level.
    """

    eigenvalues: np.ndarray
    allocation: np.ndarray
    risk: float
    active: int
    theta: float


def water_filling(eigenvalues: np.ndarray, n: int) -> WaterFilling:
    """Optimal allocation m_i = (theta sqrt(lambda_i) - c)_+ with sum m_i = n, docs/theory.md eq. (27);
    its risk is docs/theory.md eq. (26).

    Tries every active set of the k leading directions, k = 1..min(n, d), solves for theta from the
    budget, keeps those whose allocations are all positive, and returns the one of least risk.
    """
    lam = np.sort(np.asarray(eigenvalues, dtype=float))[::-1]  # (d,)
    d = lam.size
    if n < 1:
        raise ValueError(f"number of hidden units n must be >= 1, got {n}")
    if np.any(lam < 0):
        raise ValueError("covariance eigenvalues must be non-negative")
    sqrt_lam = np.sqrt(lam)
    best: WaterFilling | None = None
    for k in range(1, min(n, d) + 1):
        if lam[k - 1] <= 0:
            break
        theta = (n + k * C_SIGN) / sqrt_lam[:k].sum()
        m = theta * sqrt_lam[:k] - C_SIGN  # (k,)
        if m[-1] < 0:  # the k-th direction would get a negative share: not a valid active set
            continue
        risk = (np.sum(lam[:k] * C_SIGN / (m + C_SIGN)) + lam[k:].sum()) / d
        if best is None or risk < best.risk:
            alloc = np.zeros(d)
            alloc[:k] = m
            best = WaterFilling(lam, alloc, float(risk), k, float(theta))
    assert best is not None  # k = 1 is always valid: m_1 = n >= 1 > 0
    return best


def marchenko_pastur_density(r: float, points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Density of the non-zero eigenvalues of an untrained frame's spectrum (docs/theory.md eq. (16)).

    r <= 1: eigenvalues of Bbar Bbar^T (n x n) ~ Marchenko-Pastur with ratio r, mean 1.
    r > 1:  eigenvalues of Bbar^T Bbar (d x d) = r * Marchenko-Pastur with ratio 1/r.
    Returns (x, density) on `points` - 2 interior points of the support, the density normalised over
    the non-zero eigenvalues.
    """
    y = r if r <= 1 else 1 / r
    scale = 1.0 if r <= 1 else r
    a, b = (1 - np.sqrt(y)) ** 2, (1 + np.sqrt(y)) ** 2
    x = np.linspace(a, b, points)[1:-1]
    dens = np.sqrt((b - x) * (x - a)) / (2 * np.pi * y * x)
    return x * scale, dens / scale


def hidden_units(r: float, d: int) -> int:
    """n = max(1, round(r d)): the one rule for the number of hidden units everywhere (docs/theory.md eq. (30)).

    On Gaussian data the config is checked at parse time so that r d is an integer (:func:`integer_units`); on
    real data d is the data's own and the realised rate n / d is what every table reports.
    """
    return max(1, round(r * d))


def integer_units(r: float, d: int) -> bool:
    """Whether r d is (to rounding) a positive integer, i.e. r is exactly the realised rate n / d
    (docs/theory.md eq. (30))."""
    return r * d >= 1 - 1e-9 and abs(r * d - round(r * d)) <= 1e-9 * max(1.0, r * d)


def variant_prediction(variant: str, eigenvalues: np.ndarray, n: int) -> float:
    """The Gaussian theory a real data variant is compared with (docs/theory.md eq. (30)): R*(n/d) once
    whitened, water-filling on the training spectrum otherwise."""
    if variant == "whitened":
        return float(optimal_risk(n / len(eigenvalues)))
    return water_filling(eigenvalues, n).risk
