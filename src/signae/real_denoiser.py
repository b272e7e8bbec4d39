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

import math

import numpy as np
import torch

from .denoisers import FitFailed, fit_piecewise_linear
from .images import Prepared

TAIL = 1e-4  # the fraction of training reconstructions left beyond each end of phi's knots


def pixel_frame(prep: Prepared) -> tuple[float, np.ndarray]:
    """(scale, mean (d,)) with x = scale * (pixel - mean) on the variant's kept pixels. Only an unwhitened
    variant has them: its pixel_map (d, pixels) selects one pixel per coordinate, scaled by 1 / scale."""
    M = np.asarray(prep.pixel_map)
    scale = float(prep.info.get("scale", 0.0))
    nonzero = M != 0
    if scale <= 0 or not (nonzero.sum(axis=1) == 1).all() or not np.allclose(M[nonzero], 1 / scale):
        raise ValueError("the pixel-domain denoiser needs an unwhitened variant (x in scaled pixel coordinates)")
    kept = nonzero.argmax(axis=1)  # (d,) pixel index of every x coordinate
    return scale, prep.pixel_mean[kept]


def _batches(B: torch.Tensor, A: torch.Tensor, X: torch.Tensor, chunk: int = 8192):
    """(x_lin, x) in chunks: x_lin = A sign(B x); B (n, d), A (d, n), X (N, d)."""
    for i in range(0, X.shape[0], chunk):
        x = X[i : i + chunk]
        yield torch.sign(x @ B.T) @ A.T, x  # (k, d), (k, d)


def fit(prep: Prepared, A: np.ndarray, B: np.ndarray, knots: int, seed: int = 0) -> dict:
    """Fit phi on the training split, measure both splits (docs/theory.md eq. (43)). A (d, n), B (n, d): the
    run's decoder and encoder; ``seed`` draws the training rows whose reconstructions set phi's range.

    Returns: loss_linear / loss_denoised (test split), train_loss_linear / train_loss_denoised,
    trivial / train_trivial (each split's mean ||x||^2 / d: the loss of predicting the training mean), and
    the fitted phi as knots u (K,) and phi(u) (K,) in pixel units. Memory stays O(chunk * d): the training
    split is streamed three times (range, fit, loss).
    """
    scale, mean = pixel_frame(prep)
    A_t, B_t = torch.as_tensor(A, dtype=torch.float32), torch.as_tensor(B, dtype=torch.float32)
    mean_t = torch.as_tensor(mean, dtype=torch.float32)  # (d,)
    Xtr, Xte = torch.as_tensor(prep.x_train), torch.as_tensor(prep.x_test)

    def pairs(X):  # (reconstruction, target) in pixel values, chunks of (k, d)
        return ((xl / scale + mean_t, x / scale + mean_t) for xl, x in _batches(B_t, A_t, X))

    # phi's range: the training reconstructions less their TAIL on each side (from up to 2000 random
    # training images), so that every knot has data; beyond it phi continues with slope 1
    g = torch.Generator().manual_seed(seed)
    rows = torch.randint(0, Xtr.shape[0], (min(2000, Xtr.shape[0]),), generator=g)
    u = next(pairs(Xtr[rows]))[0].reshape(-1)
    lo, hi = (float(q) for q in torch.quantile(u, torch.tensor([TAIL, 1 - TAIL])))
    phi = fit_piecewise_linear(pairs(Xtr), lo, hi, knots)

    def losses(X):  # -> (linear, denoised) loss in x units
        sse_lin = sse_den = 0.0
        with torch.no_grad():
            for u, target in pairs(X):
                sse_lin += float((u - target).double().square().sum())
                sse_den += float((phi(u) - target).double().square().sum())
        return scale**2 * sse_lin / X.numel(), scale**2 * sse_den / X.numel()

    test_lin, test_den = losses(Xte)
    train_lin, train_den = losses(Xtr)
    grid = torch.linspace(lo, hi, knots)
    with torch.no_grad():
        curve = phi(grid)
    return {
        "loss_linear": test_lin,
        "loss_denoised": test_den,
        "train_loss_linear": train_lin,
        "train_loss_denoised": train_den,
        "trivial": float(Xte.double().square().mean()),
        "train_trivial": float(Xtr.double().square().mean()),
        "phi_u": grid.tolist(),
        "phi": curve.tolist(),
    }


def check(res: dict, run: str, recorded_loss: float, same: float = 1e-4) -> None:
    """Stop, naming the fix, when a loss cannot be right: not finite or not below its split's trivial risk,
    or a linear test loss that does not reproduce the run's record (relative ``same``: the weights belong
    to other data). Nothing is saved then."""
    rerun = f"rerun it: snakemake --cores all --forcerun {run} (with the run's --configfile files before it)"
    for key, trivial, fix in (
        ("loss_linear", "trivial", rerun),
        ("train_loss_linear", "train_trivial", rerun),
        ("loss_denoised", "trivial", "the denoiser's fit failed: lower realdata.denoiser.knots"),
        ("train_loss_denoised", "train_trivial", "the denoiser's fit failed: lower realdata.denoiser.knots"),
    ):
        if not (math.isfinite(res[key]) and 0 <= res[key] < res[trivial]):
            raise FitFailed(
                f"denoiser after {run}: {key} = {res[key]:.6g} is not in [0, {res[trivial]:.6g}) (the trivial risk "
                f"of its split); nothing was saved. {fix}"
            )
    if abs(res["loss_linear"] / recorded_loss - 1) > same:
        raise FitFailed(
            f"{run} records the test loss {recorded_loss:.6f} but its weights give {res['loss_linear']:.6f} on "
            f"this data: the run belongs to other data; nothing was saved. {rerun}"
        )
