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


def scalar_channel_mmse(values: np.ndarray, v: float, bins: int = 4096) -> float:
    """MMSE of a scalar t drawn from the empirical distribution of ``values`` (any shape, pooled) observed as
    y = t + sqrt(v) w, w ~ N(0, 1) (docs/theory.md eq. (50)): E[(t - E[t | y])^2], by quadrature over y on a grid
    of step sqrt(v) / 16 reaching 8 sqrt(v) beyond the values. The distribution is the histogram of ``values`` on
    ``bins`` equal bins (exact for values on at most that many levels, such as 8-bit pixels)."""
    t = np.asarray(values, dtype=np.float64).reshape(-1)
    counts, edges = np.histogram(t, bins=bins)
    sums, _ = np.histogram(t, bins=edges, weights=t)
    keep = counts > 0
    atoms, w = sums[keep] / counts[keep], counts[keep] / counts.sum()  # (K,) each bin's mean value and weight
    sd = math.sqrt(v)
    y = np.arange(atoms.min() - 8 * sd, atoms.max() + 8 * sd, sd / 16)  # (G,)
    log_k = -0.5 * ((y[:, None] - atoms[None, :]) / sd) ** 2 + np.log(w)[None, :]  # (G, K)
    log_k -= log_k.max(axis=1, keepdims=True)
    post = np.exp(log_k)
    post /= post.sum(axis=1, keepdims=True)  # (G, K): P(t = atom | y)
    mean = post @ atoms  # (G,) E[t | y]
    var = post @ atoms**2 - mean**2  # (G,) Var[t | y]
    density = np.exp(-0.5 * ((y[:, None] - atoms[None, :]) / sd) ** 2) @ w / (sd * math.sqrt(2 * math.pi))  # (G,)
    return float(np.sum(var * density) * (sd / 16))


def channel(pairs, mean: torch.Tensor) -> tuple[float, float]:
    """(alpha, v) of the linear decoder's output read as a scalar channel in pixel units (docs/theory.md eq. (50)):
    with c = t - mean and c_lin = u - mean per pixel (pairs: chunks of (u, t) (k, d); mean (d,)),
    alpha = <c, c_lin> / <c, c> and v = mean (c_lin / alpha - c)^2, the noise level the linear decoder leaves once
    its shrinkage is undone, as on sparse data. One pass: v from the three sums."""
    cc = cl_c = clcl = 0.0
    count = 0
    for u, t in pairs:
        c, cl = (t - mean).double(), (u - mean).double()
        cc, cl_c, clcl = cc + float(c.square().sum()), cl_c + float((c * cl).sum()), clcl + float(cl.square().sum())
        count += c.numel()
    alpha = cl_c / cc
    return alpha, (clcl / alpha**2 - 2 * cl_c / alpha + cc) / count


def fit(prep: Prepared, A: np.ndarray, B: np.ndarray, knots: int, seed: int = 0) -> dict:
    """Fit phi on the training split, measure both splits (docs/theory.md eq. (43)). A (d, n), B (n, d): the
    run's decoder and encoder; ``seed`` draws the training rows whose reconstructions set phi's range.

    Returns: loss_linear / loss_denoised (test split; loss_denoised_se its standard error over the test images),
    train_loss_linear / train_loss_denoised, the channel (alpha, noise_variance) of :func:`channel` and
    predicted_denoised, the scalar-channel MMSE of the training split's pixel values at that noise (eq. (50)),
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

    def losses(X):  # -> (linear, denoised, the denoised loss's standard error) in x units
        sse_lin = total = squares = 0.0
        with torch.no_grad():
            for u, target in pairs(X):
                sse_lin += float((u - target).double().square().sum())
                per = scale**2 * (phi(u) - target).double().square().mean(dim=1)  # (k,) one per image
                total, squares = total + float(per.sum()), squares + float(per.square().sum())
        den = total / len(X)
        return scale**2 * sse_lin / X.numel(), den, math.sqrt(max(squares / len(X) - den**2, 0.0) / len(X))

    test_lin, test_den, test_se = losses(Xte)
    train_lin, train_den, _ = losses(Xtr)
    alpha, v = channel(pairs(Xtr), mean_t)
    pixels = prep.x_train / np.float32(scale) + mean.astype(np.float32)  # (N, d) the training split's pixel values
    predicted = scale**2 * scalar_channel_mmse(pixels, v)  # eq. (50), in x units
    grid = torch.linspace(lo, hi, knots)
    with torch.no_grad():
        curve = phi(grid)
    return {
        "loss_linear": test_lin,
        "loss_denoised": test_den,
        "loss_denoised_se": test_se,
        "alpha": alpha,
        "noise_variance": v,
        "predicted_denoised": predicted,
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
