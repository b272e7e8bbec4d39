"""Gaussian data: covariance spectra, covariances with a Haar eigenbasis, and seeded draws (docs/theory.md eq. (24)).

A spectrum is a (d,) vector of eigenvalues in descending order, normalised to tr Sigma = d so that
the per-coordinate risk of the zero decoder is 1 for every spectrum. Sigma = Q diag(lambda) Q^T with a
Haar-random Q drawn from the seed, so that nothing is aligned with the coordinate axes and a trained
encoder has to find Sigma's eigenbasis itself.
"""

from __future__ import annotations

import numpy as np

from . import linalg

SPECTRA = ("isotropic", "power_law", "levels")


def spectrum(kind: str, d: int, exponent: float = 1.0, levels: tuple[float, ...] = (4.0, 1.0, 0.25)) -> np.ndarray:
    """Eigenvalues (d,), descending, with sum d (docs/theory.md eq. (24)).

    isotropic: all ones.
    power_law: lambda_i proportional to i^(-exponent), i = 1..d.
    levels:    len(levels) equal blocks of d / len(levels) eigenvalues at the given relative values.
    """
    if d < 1:
        raise ValueError(f"dimension d must be >= 1, got {d}")
    if kind == "isotropic":
        lam = np.ones(d)
    elif kind == "power_law":
        lam = np.arange(1, d + 1, dtype=float) ** (-float(exponent))
    elif kind == "levels":
        if not levels or min(levels) <= 0:
            raise ValueError(f"levels must be positive numbers, got {levels}")
        blocks = np.array_split(np.arange(d), len(levels))
        lam = np.empty(d)
        for value, idx in zip(sorted(levels, reverse=True), blocks, strict=True):
            lam[idx] = value
    else:
        raise ValueError(f"unknown spectrum {kind!r}; choose one of {SPECTRA}")
    return np.sort(lam)[::-1] * (d / lam.sum())


def covariance(eigenvalues: np.ndarray, seed: int | None) -> np.ndarray:
    """Sigma = Q diag(lambda) Q^T (d, d); seed None keeps the eigenbasis on the coordinate axes
    (docs/theory.md eq. (24))."""
    lam = np.asarray(eigenvalues, dtype=float)
    if seed is None:
        return np.diag(lam)
    Q = linalg.haar_rotation(lam.size, seed)
    return (Q * lam) @ Q.T


def draw(Sigma: np.ndarray | None, d: int, count: int, seed: int) -> np.ndarray:
    """count i.i.d. rows x ~ N(0, Sigma) (Sigma None: identity), x = L g with L the Cholesky factor of Sigma
    (docs/theory.md eq. (24)). -> (count, d)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((count, d))
    if Sigma is None:
        return z
    return z @ np.linalg.cholesky(Sigma + 1e-12 * np.eye(d)).T


def gaussian_covariance(source: str, d: int, spectrum_args: dict, seed: int) -> tuple[np.ndarray | None, np.ndarray]:
    """(Sigma, or None for the isotropic source, and its eigenvalues descending) of a Gaussian source
    (docs/theory.md eq. (24))."""
    lam = spectrum(source, d, **spectrum_args)
    return (None if source == "isotropic" else covariance(lam, seed)), lam
