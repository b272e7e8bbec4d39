"""The coordinate-wise denoiser after the trained linear decoder on real images (docs/theory.md eq. (43)).

For a run of figure 5 on an unwhitened variant (x = scale * (pixels - training mean) on the kept pixels),
the linear reconstruction x_lin = A sign(B x) is read as pixel values u = x_lin / scale + mean and one
scalar function phi, shared by every pixel, maps u to the denoised pixel value:

    x_hat = scale * (phi(x_lin / scale + mean) - mean),   phi piecewise linear (signae.denoisers),

fitted by least squares on the training split only and judged on the test split. Pixels live in [0, 1]
and MNIST's are mostly exactly 0, so phi can clip and shrink towards the background, which a linear
decoder cannot; this is the real-image counterpart of the denoiser on sparse data (eq. (41)).
"""

from __future__ import annotations

import numpy as np
import torch

from .denoisers import fit_piecewise_linear
from .realdata import Prepared

TAIL = 1e-4  # the fraction of training reconstructions left beyond each end of phi's knots


def pixel_frame(prep: Prepared) -> tuple[float, np.ndarray]:
    """(scale, mean (d,)) with x = scale * (pixel - mean) on the variant's kept pixels (unwhitened only)."""
    if prep.info.get("d") != prep.info.get("pixels_kept") or prep.eigenvalues.shape[0] != prep.x_train.shape[1]:
        raise ValueError("the pixel-domain denoiser needs an unwhitened variant (x in pixel coordinates)")
    kept = np.flatnonzero(np.abs(prep.pixel_map).sum(axis=0) > 0)  # (d,) pixel index of every x coordinate
    return float(prep.info["scale"]), prep.pixel_mean[kept]


def _batches(B: torch.Tensor, A: torch.Tensor, X: torch.Tensor, chunk: int = 8192):
    """(x_lin, x) in chunks: x_lin = A sign(B x); B (n, d), A (d, n), X (N, d)."""
    for i in range(0, X.shape[0], chunk):
        x = X[i : i + chunk]
        yield torch.sign(x @ B.T) @ A.T, x  # (k, d), (k, d)


def fit(prep: Prepared, A: np.ndarray, B: np.ndarray, knots: int) -> dict:
    """Fit phi on the training split, measure both splits (docs/theory.md eq. (43)). A (d, n), B (n, d): the
    run's decoder and encoder.

    Returns: loss_linear / loss_denoised (test split), train_loss_linear / train_loss_denoised,
    and the fitted phi as knots u (K,) and phi(u) (K,) in pixel units.
    """
    scale, mean = pixel_frame(prep)
    A_t, B_t = torch.as_tensor(A, dtype=torch.float32), torch.as_tensor(B, dtype=torch.float32)
    mean_t = torch.as_tensor(mean, dtype=torch.float32)  # (d,)
    Xtr, Xte = torch.as_tensor(prep.x_train), torch.as_tensor(prep.x_test)

    def pixels(x):  # x-coordinates -> pixel values
        return x / scale + mean_t

    train = [(pixels(xl), pixels(x)) for xl, x in _batches(B_t, A_t, Xtr)]  # (k, d) pixel values, chunks
    # phi's range: the training reconstructions less their 1e-4 tails on each side, so that every knot
    # has data (beyond it phi continues with a constant offset)
    every = torch.cat([u.reshape(-1) for u, _ in train])
    sample = every[torch.randperm(every.numel(), generator=torch.Generator().manual_seed(0))[:1_000_000]]
    lo, hi = (float(q) for q in torch.quantile(sample, torch.tensor([TAIL, 1 - TAIL])))
    del every
    phi = fit_piecewise_linear(train, lo, hi, knots)

    def losses(pairs, count):  # pairs of pixel values (u, target) -> (linear, denoised) loss in x units
        sse_lin = sse_den = 0.0
        with torch.no_grad():
            for u, t in pairs:
                sse_lin += float((u - t).double().square().sum())
                sse_den += float((phi(u) - t).double().square().sum())
        return scale**2 * sse_lin / count, scale**2 * sse_den / count

    test_lin, test_den = losses(((pixels(xl), pixels(x)) for xl, x in _batches(B_t, A_t, Xte)), Xte.numel())
    train_lin, train_den = losses(train, Xtr.numel())
    u = torch.linspace(lo, hi, knots)
    with torch.no_grad():
        curve = phi(u)
    return {
        "loss_linear": test_lin,
        "loss_denoised": test_den,
        "train_loss_linear": train_lin,
        "train_loss_denoised": train_den,
        "phi_u": u.tolist(),
        "phi": curve.tolist(),
    }
