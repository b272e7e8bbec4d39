"""What a trained autoencoder learned (docs/theory.md eq. (10) to eq. (12) and eq. (28); figures 3 and 4).

All functions take numpy arrays on the host: B (n, d) encoder, A (d, n) decoder.
"""

from __future__ import annotations

import numpy as np

from .linalg import unit_rows


def frame_spectrum(B: np.ndarray) -> np.ndarray:
    """Non-trivial eigenvalues of the learned frame, descending (docs/theory.md eq. (11), figure 3).

    r <= 1: the n eigenvalues of Bbar Bbar^T (all 1 at the optimum, G = I).
    r > 1:  the d eigenvalues of Bbar^T Bbar (all r at the optimum, a tight frame).
    """
    Bbar = unit_rows(B)
    n, d = Bbar.shape
    M = Bbar @ Bbar.T if n <= d else Bbar.T @ Bbar
    return np.sort(np.linalg.eigvalsh(M))[::-1]


def decoder_scale(A: np.ndarray, B: np.ndarray) -> tuple[float, float]:
    """Least-squares fit A ~ beta Bbar^T: returns (beta_hat, relative residual ||A - beta Bbar^T|| / ||A||).

    The optimum is weight-tied with beta(r) (docs/theory.md eq. (10)), so the residual should be small.
    """
    BbarT = unit_rows(B).T  # (d, n)
    beta = float((A * BbarT).sum() / (BbarT * BbarT).sum())
    resid = float(np.linalg.norm(A - beta * BbarT) / np.linalg.norm(A))
    return beta, resid


def axis_alignment(B: np.ndarray) -> np.ndarray:
    """d times the inverse participation ratio of each row, d * sum_j bbar_ij^4 (docs/theory.md eq. (12)). -> (n,)

    1-sparse rows (aligned with a coordinate axis) give d; a uniformly random unit vector gives
    3d/(d + 2) ~ 3. Learned rows that are a random rotation sit at ~3, not at d.
    """
    Bbar = unit_rows(B)
    return Bbar.shape[1] * (Bbar**4).sum(axis=1)


def random_rotation_alignment(d: int) -> float:
    """E[d sum_j u_j^4] for u uniform on the unit sphere of R^d: 3d/(d + 2) (docs/theory.md eq. (12))."""
    return 3 * d / (d + 2)


def learned_allocation(B: np.ndarray, Sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The learned m_i of docs/theory.md eq. (28), to compare with the water-filling allocation.

    U = unit-row version of B Sigma^{1/2} (n, d); M = U^T U (d, d); returns (eigenvalues of Sigma
    descending, diag(Q^T M Q)) with Q Sigma's eigenvectors in that order. sum of the result = n.
    """
    evals, Q = np.linalg.eigh(Sigma)
    order = np.argsort(evals)[::-1]
    evals, Q = evals[order], Q[:, order]
    root = (Q * np.sqrt(np.clip(evals, 0, None))) @ Q.T
    U = unit_rows(B @ root)
    UQ = U @ Q  # (n, d)
    return evals, (UQ**2).sum(axis=0)
