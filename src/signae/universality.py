"""Where real-data losses leave the Gaussian prediction, and why: the formulas of figure 5's diagnostics.

Figure 5 compares real images with the prediction for Gaussian data of the same covariance
(water-filling, or R*(r) after whitening: docs/theory.md eq. (30)). A gap between the two has three
possible sources, and this module measures each one separately (this project's addition, not the
paper's; docs/theory.md eq. (32) to eq. (34)):

1. the prediction itself, and the trainer: water-filling is an asymptotic formula (docs/theory.md
   eq. (27)). signae.twin trains projected GD on the exact population risk of the *Gaussian twin*
   x ~ N(0, Sigma_hat), which tells how close a gradient method gets to the formula on this very
   spectrum, and the sample-based trainer of the images on fresh Gaussian samples of the twin, which tells
   whether that trainer finds the optimum where it is known;
2. the encoder: `gaussian_equivalent_loss` is the exact risk (docs/theory.md eq. (6), general covariance,
   decoder A*(B)) of a trained encoder on the Gaussian twin. A trained encoder that beats the
   prediction on the images while it is above it on the twin has learned non-Gaussian structure;
3. the norm: sign(Bx) does not change when x is multiplied by a positive scalar, so no sign code can
   tell an image from a brighter-contrast copy of itself. Gaussian vectors have nearly constant norms;
   images do not. `norm_corrected` is the prediction for the scale mixture x = s g (s > 0 a scalar
   independent of g, g Gaussian): for any encoder the best decoder is E[s] A_g and

       R = kappa R_g + (1 - kappa),    kappa = (E s)^2 / E[s^2]  (<= 1, = 1 iff s is constant),

   since E||sg - E[s] A_g h||^2 / d = E[s^2] - (E s)^2 (1 - R_g) with E[s^2] = 1 (tr Sigma = d is
   kept). ||x|| = s ||g|| with s independent of g, hence kappa = kappa_x / kappa_g, where
   kappa_x = (E||x||)^2 / E||x||^2 is measured on the training split and kappa_g is the same ratio for
   N(0, Sigma_hat) (`gaussian_norm_concentration`, by quadrature).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
from scipy import integrate

from . import population as pop


def norm_concentration(x: np.ndarray, chunk: int = 16384) -> float:
    """kappa_x = (mean ||x||)^2 / mean ||x||^2 over the rows of x (N, d) (docs/theory.md eq. (33))."""
    norms = np.concatenate(
        [np.linalg.norm(x[i : i + chunk].astype(np.float64), axis=1) for i in range(0, x.shape[0], chunk)]
    )
    return float(norms.mean() ** 2 / np.mean(norms**2))


def gaussian_norm_concentration(eigenvalues: np.ndarray) -> float:
    """kappa_g = (E||g||)^2 / E||g||^2 for g ~ N(0, diag(eigenvalues)), by one-dimensional quadrature
    (docs/theory.md eq. (33)).

    With Q = ||g||^2 and sqrt(q) = (1 / (2 sqrt(pi))) int_0^inf (1 - exp(-t q)) t^(-3/2) dt,
    E||g|| = (1 / (2 sqrt(pi))) int_0^inf (1 - prod_i (1 + 2 t lambda_i)^(-1/2)) t^(-3/2) dt;
    integrated over u = log t, where both tails decay like exp(-|u - log(1 / tr)| / 2).
    """
    lam = np.asarray(eigenvalues, dtype=float)
    lam = lam[lam > 0]
    total = float(lam.sum())

    def integrand(u: float) -> float:
        t = math.exp(u)
        one_minus_laplace = -math.expm1(-0.5 * float(np.log1p(2 * t * lam).sum()))
        return one_minus_laplace * math.exp(-u / 2)

    centre = -math.log(total)  # the integrand turns over near t = 1 / tr; 80 e-folds each side leave < 1e-17
    edges = centre + np.array([-80.0, -10.0, 10.0, 80.0])
    mean_norm = sum(
        integrate.quad(integrand, a, b, limit=200, epsabs=0, epsrel=1e-10)[0] for a, b in itertools.pairwise(edges)
    )
    mean_norm /= 2 * math.sqrt(math.pi)
    return mean_norm**2 / total


def norm_corrected(prediction, kappa: float):
    """The Gaussian prediction for the scale mixture x = s g: kappa R + (1 - kappa) (docs/theory.md eq. (34))."""
    return kappa * np.asarray(prediction) + (1 - kappa)


def covariance(x: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """Sigma_hat = x^T x / N (d, d), float64, for centred rows x (N, d): the covariance of the Gaussian twin
    (docs/theory.md eq. (32))."""
    cov = np.zeros((x.shape[1], x.shape[1]))
    for i in range(0, x.shape[0], chunk):
        block = x[i : i + chunk].astype(np.float64)
        cov += block.T @ block
    return cov / x.shape[0]


def gaussian_equivalent_loss(B: np.ndarray, Sigma: np.ndarray) -> float:
    """Exact risk of the encoder B (n, d) with its optimal decoder on N(0, Sigma): the Gaussian twin's
    encoder risk (docs/theory.md eq. (32))."""
    return float(pop.encoder_risk(torch.as_tensor(B, dtype=torch.float64), torch.as_tensor(Sigma, dtype=torch.float64)))
