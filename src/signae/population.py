"""Exact population risk of x_hat = A sign(B x) for Gaussian data (docs/theory.md, "Model and exact
population risk").

For x ~ N(0, Sigma) Grothendieck's identity gives every moment the loss needs in closed form, so the
risk, the optimal decoder and (through autograd) the exact population gradient are available at any
finite d with no sampling noise. Sigma = None means the identity and takes a cheaper path.

Shapes: B is (n, d) (n hidden units, d inputs), A is (d, n), Sigma is (d, d).
All functions are differentiable with respect to A and B.
"""

from __future__ import annotations

import math

import torch

from .linalg import unit_rows

#: Off-diagonal entries of the correlation matrix are clamped to [-1 + eps, 1 - eps] before arcsin,
#: whose slope is infinite at +-1 (docs/theory.md eq. (2)). 1e-7 bounds the slope by ~2.2e3.
ARCSIN_EPS = 1e-7

SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def arcsin_correlation(C: torch.Tensor) -> torch.Tensor:
    """(2/pi)^-1 E[sign(u_i) sign(u_j)] for u ~ N(0, C) with unit diagonal: entrywise arcsin(C).

    The diagonal is the constant pi/2 and is not differentiated through arcsin; off-diagonal
    entries are clamped away from +-1 (docs/theory.md eq. (2)). (n, n) -> (n, n).
    """
    eye = torch.eye(C.shape[0], dtype=C.dtype, device=C.device)
    off = (C * (1 - eye)).clamp(-1 + ARCSIN_EPS, 1 - ARCSIN_EPS)
    return torch.asin(off) * (1 - eye) + (math.pi / 2) * eye


class SecondMoments:
    """The two moments of (x, s = sign(Bx)) the risk depends on, for x ~ N(0, Sigma).

    cross: E[x s^T] / sqrt(2/pi) = Sigma B^T D^{-1/2}   (d, n)
    gram:  E[s s^T] / (2/pi)     = arcsin(C)             (n, n)
    trace: tr(Sigma)

    With Sigma = I these are Bbar^T and arcsin(Bbar Bbar^T) (docs/theory.md eq. (2)).
    """

    def __init__(self, B: torch.Tensor, Sigma: torch.Tensor | None = None):
        d = B.shape[1]
        if Sigma is None:
            Bbar = unit_rows(B)  # (n, d)
            self.cross = Bbar.T  # (d, n)
            self.gram = arcsin_correlation(Bbar @ Bbar.T)  # (n, n)
            self.trace = float(d)
        else:
            SB = Sigma @ B.T  # (d, n)
            inv_sqrt_D = torch.rsqrt((B * SB.T).sum(dim=1))  # (n,) 1/sqrt(diag(B Sigma B^T))
            self.cross = SB * inv_sqrt_D  # (d, n)
            corr = (B @ self.cross) * inv_sqrt_D[:, None]  # (n, n) D^-1/2 B Sigma B^T D^-1/2
            self.gram = arcsin_correlation(corr)
            self.trace = float(torch.diagonal(Sigma).sum())

    @classmethod
    def whitened(cls, V: torch.Tensor, root: torch.Tensor | None) -> SecondMoments:
        """The same moments from the whitened encoder V = B Sigma^{1/2} (n, d), root = Sigma^{1/2}.

        sign(Bx) = sign(V z) with z = Sigma^{-1/2} x white, so D = diag(V V^T), C = Vbar Vbar^T and
        Sigma B^T D^{-1/2} = Sigma^{1/2} Vbar^T (docs/theory.md eq. (17)). root None means Sigma = I.
        """
        mom = cls.__new__(cls)
        Vbar = unit_rows(V)  # (n, d)
        mom.cross = Vbar.T if root is None else root @ Vbar.T  # (d, n)
        mom.gram = arcsin_correlation(Vbar @ Vbar.T)  # (n, n)
        mom.trace = float(V.shape[1]) if root is None else float((root * root).sum())  # tr(Sigma)
        return mom


def risk(A: torch.Tensor, B: torch.Tensor, Sigma: torch.Tensor | None = None) -> torch.Tensor:
    """R(A, B) = E||x - A sign(Bx)||^2 / d, exactly: docs/theory.md eq. (3), and its isotropic
    form docs/theory.md eq. (4) when Sigma is None.

    R = (1/d)[tr Sigma - 2 sqrt(2/pi) tr(A K^T) + (2/pi) tr(A arcsin(C) A^T)], K = Sigma B^T D^-1/2.
    """
    return risk_from_moments(A, SecondMoments(B, Sigma), B.shape[1])


def risk_from_moments(A: torch.Tensor, mom: SecondMoments, d: int) -> torch.Tensor:
    """R(A, B) from the encoder's SecondMoments (docs/theory.md eq. (3)); A is (d, n)."""
    linear = (A * mom.cross).sum()  # tr(A K^T)
    quadratic = ((A @ mom.gram) * A).sum()  # tr(A arcsin(C) A^T)
    return (mom.trace - 2 * SQRT_2_OVER_PI * linear + (2 / math.pi) * quadratic) / d


def _solve_gram(gram: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
    """gram^{-1} rhs for the symmetric positive-definite arcsin(C). (n, n), (n, k) -> (n, k)."""
    L, info = torch.linalg.cholesky_ex(gram)
    if _factorised(info):
        return torch.cholesky_solve(rhs, L)
    return torch.linalg.solve(gram, rhs)  # numerically singular (e.g. repeated rows): LU fallback


def _factorised(info: torch.Tensor) -> bool:
    """Whether cholesky_ex succeeded. On a GPU the check would stall the stream every step, so it is
    skipped there: a failed factorisation shows up as NaN in the recorded loss instead."""
    return info.device.type != "cpu" or int(info) == 0


def optimal_decoder(B: torch.Tensor, Sigma: torch.Tensor | None = None) -> torch.Tensor:
    """A*(B) = sqrt(pi/2) K arcsin(C)^{-1}, the least-squares decoder for a fixed encoder
    (docs/theory.md eq. (5)). -> (d, n)."""
    mom = SecondMoments(B, Sigma)
    return math.sqrt(math.pi / 2) * _solve_gram(mom.gram, mom.cross.T).T


def encoder_risk(B: torch.Tensor, Sigma: torch.Tensor | None = None) -> torch.Tensor:
    """R(A*(B), B) = (1/d)[tr Sigma - tr(K arcsin(C)^{-1} K^T)], the risk of B with its best decoder
    (docs/theory.md eq. (6))."""
    return encoder_risk_from_moments(SecondMoments(B, Sigma), B.shape[1])


def whitened_encoder_risk(V: torch.Tensor, root: torch.Tensor) -> torch.Tensor:
    """encoder_risk of B = V Sigma^{-1/2}, computed from V (n, d) and root = Sigma^{1/2} (d, d)
    (docs/theory.md eq. (17))."""
    return encoder_risk_from_moments(SecondMoments.whitened(V, root), V.shape[1])


def spectral_encoder_risk(V: torch.Tensor, eigenvalues: torch.Tensor) -> torch.Tensor:
    """R(A*(B), B) for x ~ N(0, diag(eigenvalues)) and the encoder held in whitened coordinates of the first k
    directions: B = V diag(lambda_1..k)^{-1/2}, zero on the others: the exact risk on a Gaussian twin
    (docs/theory.md eq. (32)) of an encoder on a real variant's kept directions.

    V: (n, k), k <= d = len(eigenvalues), eigenvalues positive on the first k. The cross moment is
    diag(sqrt(lambda)) Vbar^T on the first k rows and zero below, so no (d, d) matrix is formed.
    """
    k, d = V.shape[1], eigenvalues.shape[0]
    Vbar = unit_rows(V)  # (n, k)
    cross = Vbar.T * eigenvalues[:k, None].sqrt()  # (k, n): the non-zero rows of K
    explained = (cross.T * _solve_gram(arcsin_correlation(Vbar @ Vbar.T), cross.T)).sum()
    return (eigenvalues.sum() - explained) / d


def encoder_risk_from_moments(mom: SecondMoments, d: int) -> torch.Tensor:
    """R(A*(B), B) from the encoder's SecondMoments (docs/theory.md eq. (6))."""
    explained = (mom.cross.T * _solve_gram(mom.gram, mom.cross.T)).sum()  # tr(K S^-1 K^T)
    return (mom.trace - explained) / d


def tied_risk(beta: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Risk of the weight-tied model A = beta Bbar^T on x ~ N(0, I_d) (docs/theory.md eq. (7))."""
    return risk(beta * unit_rows(B).T, B)


def encoder_risk_and_grad(V: torch.Tensor, Sigma: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """R(A*(B), B) and its gradient with respect to a unit-row whitened encoder V, in closed form
    (docs/theory.md eq. (18)).

    V: (n, d) with unit rows (V = B Sigma^{1/2}; V = Bbar for Sigma = I). Sigma: (d, d), its diagonal (d,) when
    it is diagonal (W Sigma is then a column scaling, the same numbers without the (n, d, d) product), or
    None (I).
    With G = V V^T, S = arcsin(G) (unit diagonal kept at pi/2), W = S^{-1} V and
    f = tr(S^{-1} V Sigma V^T), R = (tr Sigma - f) / d and

        df/dV = 2 W Sigma - 2 P V,   P = (W Sigma W^T) o arcsin'(G) o (1 - I),

    projected on the tangent space of the spheres (each row minus its radial part). This is the
    gradient autograd gives for encoder_risk (a test checks it) at about half the cost: only matrix
    products and one Cholesky factorisation. Returns (risk, gradient (n, d)).
    """
    d = V.shape[1]
    off = V @ V.T  # (n, n) G, then its off-diagonal part, in place: no masks, few passes over n^2
    off.fill_diagonal_(0).clamp_(-1 + ARCSIN_EPS, 1 - ARCSIN_EPS)
    S = torch.asin(off).fill_diagonal_(math.pi / 2)  # arcsin(G), unit diagonal kept at pi/2
    L, info = torch.linalg.cholesky_ex(S)
    W = torch.cholesky_solve(V, L) if _factorised(info) else torch.linalg.solve(S, V)  # (n, d)
    diagonal = Sigma is not None and Sigma.dim() == 1
    WS = W if Sigma is None else W * Sigma if diagonal else W @ Sigma  # (n, d)
    f = (WS * V).sum()  # tr(S^-1 V Sigma V^T)
    trace = float(d) if Sigma is None else Sigma.sum() if diagonal else torch.diagonal(Sigma).sum()
    P = (WS @ W.T).mul_(off.mul_(off).neg_().add_(1).rsqrt_())  # arcsin'(x) = 1/sqrt(1 - x^2)
    P.fill_diagonal_(0)  # (n, n)
    grad = (P @ V).sub_(WS).mul_(2 / d)  # dR/dV = -(2/d)(W Sigma - P V)
    grad -= (grad * V).sum(dim=1, keepdim=True) * V  # tangent to the unit spheres
    return (trace - f) / d, grad
