"""Real images as inputs x in R^d, and autoencoders trained and judged on them (BRIEF section 6).

Preprocessing is fitted on the training split only and then applied to both splits:
flatten, scale pixels to [0, 1], (optionally) convert CIFAR-10 to grey levels, drop pixels of zero
training variance, center with the training mean, scale so that tr(Sigma_hat) = d. From the
eigendecomposition Sigma_hat = Q diag(lambda) Q^T two variants follow:

- unwhitened: x itself (d = pixels kept); compared with water-filling on lambda.
- whitened:   z = diag(lambda_k)^{-1/2} Q_k^T x over the k directions with lambda >= floor
              (floor relative to the mean eigenvalue, 1); d = k; compared with R*(r).

The encoder always sees the whitened coordinates of its input (the k kept directions) and the decoder
reconstructs the variant's own x; for the whitened variant they coincide.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import theory
from .train import TrainResult, _host, fit_decoder, gaussian_init, sharpening, surrogate_loss
from . import population as pop

GREY = np.array([0.299, 0.587, 0.114])  # ITU-R 601 luma weights


@dataclass
class Prepared:
    """One preprocessed variant. Arrays float32 unless noted.

    x_train, x_test: (N, d) the variant's inputs (what is reconstructed)
    z_train, z_test: (N, k) whitened coordinates over the kept directions (what the encoder sees)
    eigenvalues:     (d,) float64 spectrum of the variant's training covariance, descending
    encoder_basis:   (d, k) float64 map x -> z: z = x @ encoder_basis
    pixel_map:       (d, pixels) float64 map x -> pixels - training mean (unwhitened: x / scale on the kept
                     pixels; whitened: through the inverse whitening), for drawing reconstructions
    pixel_mean:      (pixels,) float64 training mean of every pixel
    """

    x_train: np.ndarray
    x_test: np.ndarray
    z_train: np.ndarray
    z_test: np.ndarray
    eigenvalues: np.ndarray
    encoder_basis: np.ndarray
    pixel_map: np.ndarray
    pixel_mean: np.ndarray
    info: dict


def flatten(images: np.ndarray, grayscale: bool) -> np.ndarray:
    """uint8 images (N, H, W) or (N, H, W, 3) -> (N, pixels) float64 in [0, 1]."""
    x = images.astype(np.float64) / 255.0
    if grayscale and x.ndim == 4:
        x = x @ GREY
    return x.reshape(x.shape[0], -1)


def preprocess(x_train_raw: np.ndarray, x_test_raw: np.ndarray, variant: str, floor: float,
               grayscale: bool = False) -> Prepared:
    """Fit the preprocessing on the training split, apply it to both (BRIEF section 6)."""
    if variant not in ("unwhitened", "whitened"):
        raise ValueError(f"variant must be 'unwhitened' or 'whitened', got {variant!r}")
    xtr, xte = flatten(x_train_raw, grayscale), flatten(x_test_raw, grayscale)
    pixels = xtr.shape[1]
    var = xtr.var(axis=0)
    keep = var > 1e-12 * var.max()  # pixels that never change in training carry nothing
    xtr, xte = xtr[:, keep], xte[:, keep]
    mean = xtr.mean(axis=0)
    xtr, xte = xtr - mean, xte - mean
    d = xtr.shape[1]
    cov = xtr.T @ xtr / xtr.shape[0]  # (d, d) training covariance
    scale = math.sqrt(d / np.trace(cov))
    xtr, xte, cov = xtr * scale, xte * scale, cov * scale**2  # tr(Sigma_hat) = d
    lam, Q = np.linalg.eigh(cov)
    lam, Q = lam[::-1].clip(min=0), Q[:, ::-1]
    kept = int(np.sum(lam >= floor))  # mean eigenvalue is 1
    if kept < 1:
        raise ValueError(f"whitening floor {floor} keeps no direction; lower realdata.whitening_floor")
    W = Q[:, :kept] / np.sqrt(lam[:kept])  # (d, k): x -> z
    ztr, zte = xtr @ W, xte @ W
    info = {"pixels": pixels, "pixels_kept": d, "whitened_dims": kept, "scale": scale, "floor": floor,
            "grayscale": grayscale, "train": int(xtr.shape[0]), "test": int(xte.shape[0])}
    to_pixels = np.zeros((d, pixels))  # x -> (pixels - mean): undo the scale, put kept pixels in place
    to_pixels[np.arange(d), np.flatnonzero(keep)] = 1 / scale
    pixel_mean = np.zeros(pixels)
    pixel_mean[keep] = mean
    pixel_mean[~keep] = flatten(x_train_raw[:1], grayscale)[0, ~keep]  # constant pixels keep their value
    f32 = lambda a: a.astype(np.float32)  # noqa: E731
    if variant == "whitened":
        unwhiten = (Q[:, :kept] * np.sqrt(lam[:kept])).T  # (k, d): z -> x
        return Prepared(f32(ztr), f32(zte), f32(ztr), f32(zte), np.ones(kept), np.eye(kept),
                        unwhiten @ to_pixels, pixel_mean, {**info, "d": kept})
    return Prepared(f32(xtr), f32(xte), f32(ztr), f32(zte), lam, W, to_pixels, pixel_mean, {**info, "d": d})


def save_prepared(prep: Prepared, path) -> None:
    np.savez(path, x_train=prep.x_train, x_test=prep.x_test, z_train=prep.z_train, z_test=prep.z_test,
             eigenvalues=prep.eigenvalues, encoder_basis=prep.encoder_basis, pixel_map=prep.pixel_map,
             pixel_mean=prep.pixel_mean)


def load_prepared(npz_path, json_path) -> Prepared:
    """A variant cached by the preprocess rule: arrays from its .npz, info (d, spectrum, ...) from its .json."""
    info = json.loads(Path(json_path).read_text())
    with np.load(npz_path) as z:
        return Prepared(*(z[k] for k in ("x_train", "x_test", "z_train", "z_test", "eigenvalues", "encoder_basis",
                                         "pixel_map", "pixel_mean")), info)


def hidden_units(r: float, d: int) -> int:
    """n = round(r d), at least 1: on real data d is the data's own (pixels kept or whitened directions),
    so r d is rarely an integer and the realised rate n / d is what every table reports."""
    return max(1, int(round(r * d)))


def prediction(variant: str, eigenvalues: np.ndarray, n: int) -> float:
    """The Gaussian theory a variant is compared with (BRIEF section 6): R*(n/d) once whitened,
    water-filling on the training spectrum otherwise."""
    if variant == "whitened":
        return float(theory.optimal_risk(n / len(eigenvalues)))
    return theory.water_filling(eigenvalues, n).risk


def least_squares_decoder(F: torch.Tensor, X: torch.Tensor, chunk: int = 16384) -> torch.Tensor:
    """A = X^T F (F^T F)^{-1} from features F (N, n) and targets X (N, d), in chunks. -> (d, n)."""
    return fit_decoder((F[i:i + chunk], X[i:i + chunk]) for i in range(0, F.shape[0], chunk))


def test_loss(A: torch.Tensor, V: torch.Tensor, Z: torch.Tensor, X: torch.Tensor, chunk: int = 16384) -> float:
    """mean ||x - A sign(V z)||^2 / d over a split, true sign. V (n, k), Z (N, k), X (N, d)."""
    total = 0.0
    for i in range(0, Z.shape[0], chunk):
        s = torch.sign(Z[i:i + chunk] @ V.T).double()
        total += float(((X[i:i + chunk].double() - s @ A.T) ** 2).sum())
    return total / (Z.shape[0] * X.shape[1])


def designed_encoder(eigenvalues: np.ndarray, kept: int, n: int, seed: int) -> np.ndarray:
    """The training-free encoder of BRIEF section 6, in whitened coordinates. -> V (n, kept), unit rows.

    Water-filling allocation m_i on the kept spectrum, U = W diag(sqrt(m)) with W (n, kept) having
    orthonormal columns over the active directions (a Haar rotation), rows then normalised.
    """
    lam = np.asarray(eigenvalues[:kept], dtype=float)
    m = theory.water_filling(lam, n).allocation  # (kept,)
    active = int(np.sum(m > 0))  # <= min(n, kept): water-filling keeps at most n directions
    rng = np.random.default_rng(seed)
    H, R = np.linalg.qr(rng.standard_normal((n, n)))
    H = H * np.sign(np.diag(R))  # (n, n) Haar rotation
    W = np.zeros((n, kept))
    W[:, :active] = H[:, :active]  # orthonormal columns on the active directions
    U = W * np.sqrt(m)
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    U = np.where(norms > 0, U / np.where(norms > 0, norms, 1), 0)
    return U


def train_sample(prep: Prepared, n: int, steps: int, batch: int, lr: float, sharpness: tuple[float, float],
                 seed: int, device: torch.device, record_every: int = 10, ridge: float = 1e-3,
                 estimator: str = "tanh") -> tuple[TrainResult, dict]:
    """Sample-based training on a real training split (the trainer of signae.train.sample_gd).

    The encoder V (n, k) acts on whitened inputs z; it starts as a Gaussian encoder in the variant's own
    coordinates (B ~ N(0, 1) entries in x-space, so V = B Sigma^{1/2} restricted to the kept directions).
    Each step: a random batch of training rows; features tanh(s Vbar z) (or sign with tanh's gradient,
    estimator="ste", see signae.train.surrogate_loss); decoder = batch least squares
    to x; step V by lr_t * d / lambda_max along the gradient, lr_t cosine-decayed; rows renormalised.
    The returned decoder is the least-squares fit of true-sign features on the whole training split.
    The recorded curve is the training-batch surrogate loss (no closed form exists for real data).
    """
    d = prep.x_train.shape[1]
    Xtr = torch.as_tensor(prep.x_train, device=device)
    Ztr = torch.as_tensor(prep.z_train, device=device)
    root_k = torch.as_tensor(np.linalg.pinv(prep.encoder_basis), dtype=torch.float32, device=device)  # (k, d): z -> x
    B0 = gaussian_init(n, d, seed, device, torch.float32)  # Gaussian rows in x-space
    V = pop.normalize_rows(B0 @ root_k.T).requires_grad_()  # (n, k), k kept directions: B x = B root_k^T z
    V_init = _host(V)
    step = lr * d / float(prep.eigenvalues[0])
    g = torch.Generator(device=device).manual_seed(seed + 1)
    rec_steps, rec_losses = [], []
    t0 = time.perf_counter()
    for it in range(steps):
        s, decay = sharpening(it, steps, sharpness)
        idx = torch.randint(0, Ztr.shape[0], (batch,), generator=g, device=device)
        loss = surrogate_loss(Ztr[idx], Xtr[idx], V, s, ridge, estimator)
        (gV,) = torch.autograd.grad(loss, V)
        with torch.no_grad():
            V -= decay * step * gV
            V.copy_(pop.normalize_rows(V))
        if it % record_every == 0 or it == steps - 1:
            rec_steps.append(it)
            rec_losses.append(loss.detach())
    with torch.no_grad():
        Vd = V.detach()
        A = least_squares_decoder(torch.sign(Ztr @ Vd.T), Xtr)
        loss_test = test_loss(A, Vd, torch.as_tensor(prep.z_test, device=device),
                              torch.as_tensor(prep.x_test, device=device))
        loss_train = test_loss(A, Vd, Ztr, Xtr)
    wall = time.perf_counter() - t0
    basis = torch.as_tensor(prep.encoder_basis, dtype=torch.float32, device=device)
    B = _host(pop.normalize_rows(Vd @ basis.T))  # (n, d) encoder in x-space: sign(B x) = sign(V z)
    res = TrainResult(np.asarray(rec_steps), _host(torch.stack(rec_losses)), V_init, B, _host(A), loss_test, wall,
                      {"train_loss": loss_train})
    return res, {"V": _host(Vd)}


def evaluate_designed(prep: Prepared, n: int, seed: int, device: torch.device) -> tuple[float, float]:
    """(test loss, train loss) of the designed encoder with its least-squares decoder."""
    k = prep.z_train.shape[1]
    V = torch.as_tensor(designed_encoder(prep.eigenvalues, k, n, seed), dtype=torch.float32, device=device)
    Ztr, Xtr = torch.as_tensor(prep.z_train, device=device), torch.as_tensor(prep.x_train, device=device)
    A = least_squares_decoder(torch.sign(Ztr @ V.T), Xtr)
    te = test_loss(A, V, torch.as_tensor(prep.z_test, device=device), torch.as_tensor(prep.x_test, device=device))
    return te, test_loss(A, V, Ztr, Xtr)
