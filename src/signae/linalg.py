"""Linear algebra shared by the trainers, the data and the evaluation: unit rows, Haar rotations,
matrix powers of a symmetric matrix. Each lives here once."""

from __future__ import annotations

import numpy as np


def unit_rows(B):
    """Bbar: B with unit-norm rows; sign(Bx) depends only on these directions (docs/theory.md eq. (1)).
    (n, d) -> (n, d).

    Works on a numpy array and on a torch tensor (differentiable, stays on its device). This module does
    not import torch, so that the table builders, which use it on arrays, start without it.
    """
    if isinstance(B, np.ndarray):
        return B / np.linalg.norm(B, axis=1, keepdims=True)
    return B / B.norm(dim=1, keepdim=True)


def haar_rotation(d: int, seed: int) -> np.ndarray:
    """A Haar-distributed orthogonal matrix (d, d): QR of a Gaussian matrix with the sign fix
    (docs/theory.md eq. (24))."""
    rng = np.random.default_rng(seed)
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    return Q * np.sign(np.diag(R))


def ideal_encoder(n: int, d: int, seed: int) -> np.ndarray:
    """The encoder the limit R*(r) assumes, drawn at random (docs/theory.md eq. (48)): for n <= d, n orthonormal
    rows of a Haar rotation; for n > d, a tight frame, the first d columns of a Haar rotation of R^n with unit
    rows (Bbar^T Bbar close to (n/d) I). -> (n, d) unit rows."""
    if n <= d:
        return haar_rotation(d, seed)[:n]
    return unit_rows(haar_rotation(n, seed)[:, :d])


def matrix_power(evals: np.ndarray, evecs: np.ndarray, power: float) -> np.ndarray:
    """Sigma^power = Q diag(lambda^power) Q^T from Sigma's eigendecomposition. (d,), (d, d) -> (d, d)."""
    return (evecs * evals**power) @ evecs.T
