"""Real images as inputs x in R^d, and autoencoders trained and judged on them (docs/theory.md, real data).

The last ``validation`` training images are held out as a validation split (for choosing the trainer's
hyper-parameters; the test split is never used for that). Preprocessing is fitted on the remaining
training images only and then applied to all three splits:
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import provenance, theory
from .linalg import haar_rotation, unit_rows
from .train import TrainResult, decoder_from_moments, fit_on_samples, gaussian_init

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
    x_val, z_val:    (N_val, d), (N_val, k) the validation split (N_val = 0: none), held out of the training
                     images before anything is fitted
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
    x_val: np.ndarray | None = None
    z_val: np.ndarray | None = None


def flatten(images: np.ndarray, grayscale: bool) -> np.ndarray:
    """uint8 images (N, H, W) or (N, H, W, 3) -> (N, pixels) float64 in [0, 1]. (docs/theory.md eq. (29))"""
    x = images.astype(np.float64) / 255.0
    if grayscale and x.ndim == 4:
        x = x @ GREY
    return x.reshape(x.shape[0], int(np.prod(x.shape[1:])))  # -1 fails on an empty split


def preprocess(
    x_train_raw: np.ndarray,
    x_test_raw: np.ndarray,
    variant: str,
    floor: float,
    grayscale: bool = False,
    validation: int = 0,
) -> Prepared:
    """Hold out the last ``validation`` training images, fit the preprocessing on the rest of the training
    split, apply it to all three splits (docs/theory.md eq. (29))."""
    if variant not in ("unwhitened", "whitened"):
        raise ValueError(f"variant must be 'unwhitened' or 'whitened', got {variant!r}")
    if not 0 <= validation <= len(x_train_raw) - 100:
        raise ValueError(
            f"realdata.validation_samples = {validation} leaves {len(x_train_raw) - validation} training images"
            f" of {len(x_train_raw)}; keep at least 100 (lower validation_samples or raise train_samples)"
        )
    cut = len(x_train_raw) - validation
    xva = flatten(x_train_raw[cut:], grayscale)
    xtr, xte = flatten(x_train_raw[:cut], grayscale), flatten(x_test_raw, grayscale)
    pixels = xtr.shape[1]
    var = xtr.var(axis=0)
    keep = var > 1e-12 * var.max()  # pixels that never change in training carry nothing
    xtr, xte, xva = xtr[:, keep], xte[:, keep], xva[:, keep]
    mean = xtr.mean(axis=0)
    xtr, xte, xva = xtr - mean, xte - mean, xva - mean
    d = xtr.shape[1]
    cov = xtr.T @ xtr / xtr.shape[0]  # (d, d) training covariance
    scale = math.sqrt(d / np.trace(cov))
    xtr, xte, xva, cov = xtr * scale, xte * scale, xva * scale, cov * scale**2  # tr(Sigma_hat) = d
    lam, Q = np.linalg.eigh(cov)
    lam, Q = lam[::-1].clip(min=0), Q[:, ::-1]
    kept = int(np.sum(lam >= floor))  # mean eigenvalue is 1
    if kept < 1:
        raise ValueError(f"whitening floor {floor} keeps no direction; lower realdata.whitening_floor")
    W = Q[:, :kept] / np.sqrt(lam[:kept])  # (d, k): x -> z
    ztr, zte, zva = xtr @ W, xte @ W, xva @ W
    info = {
        "pixels": pixels,
        "pixels_kept": d,
        "whitened_dims": kept,
        "scale": scale,
        "floor": floor,
        "grayscale": grayscale,
        "train": int(xtr.shape[0]),
        "validation": int(xva.shape[0]),
        "test": int(xte.shape[0]),
    }
    to_pixels = np.zeros((d, pixels))  # x -> (pixels - mean): undo the scale, put kept pixels in place
    to_pixels[np.arange(d), np.flatnonzero(keep)] = 1 / scale
    pixel_mean = np.zeros(pixels)
    pixel_mean[keep] = mean
    pixel_mean[~keep] = flatten(x_train_raw[:1], grayscale)[0, ~keep]  # constant pixels keep their value
    f32 = lambda a: a.astype(np.float32)
    if variant == "whitened":
        unwhiten = (Q[:, :kept] * np.sqrt(lam[:kept])).T  # (k, d): z -> x
        return Prepared(
            f32(ztr),
            f32(zte),
            f32(ztr),
            f32(zte),
            np.ones(kept),
            np.eye(kept),
            unwhiten @ to_pixels,
            pixel_mean,
            {**info, "d": kept},
            f32(zva),
            f32(zva),
        )
    return Prepared(
        f32(xtr), f32(xte), f32(ztr), f32(zte), lam, W, to_pixels, pixel_mean, {**info, "d": d}, f32(xva), f32(zva)
    )


def save_prepared(prep: Prepared, path) -> None:
    np.savez(
        path,
        x_train=prep.x_train,
        x_test=prep.x_test,
        z_train=prep.z_train,
        z_test=prep.z_test,
        eigenvalues=prep.eigenvalues,
        encoder_basis=prep.encoder_basis,
        pixel_map=prep.pixel_map,
        pixel_mean=prep.pixel_mean,
        x_val=prep.x_val if prep.x_val is not None else np.zeros((0, prep.x_train.shape[1]), np.float32),
        z_val=prep.z_val if prep.z_val is not None else np.zeros((0, prep.z_train.shape[1]), np.float32),
    )


def load_prepared(npz_path, json_path, verify: bool = True) -> Prepared:
    """A variant cached by the preprocess rule: arrays from its .npz, checked against the SHA-256 its .json
    records, and info (d, spectrum, ...) from the .json."""
    info = json.loads(Path(json_path).read_text())
    if verify:
        fix = f"remake it: snakemake --cores all --forcerun preprocess {npz_path} (with the run's --configfile files)"
        provenance.verify_sha256(npz_path, info.get("arrays_sha256"), json_path, fix)
    with np.load(npz_path) as z:
        return Prepared(
            *(
                z[k]
                for k in (
                    "x_train",
                    "x_test",
                    "z_train",
                    "z_test",
                    "eigenvalues",
                    "encoder_basis",
                    "pixel_map",
                    "pixel_mean",
                )
            ),
            info,
            z["x_val"],
            z["z_val"],
        )


def prediction(variant: str, eigenvalues: np.ndarray, n: int) -> float:
    """The Gaussian theory a variant is compared with (docs/theory.md eq. (30)): R*(n/d) once whitened,
    water-filling on the training spectrum otherwise."""
    if variant == "whitened":
        return float(theory.optimal_risk(n / len(eigenvalues)))
    return theory.water_filling(eigenvalues, n).risk


def sign_fit(V: torch.Tensor, Z: torch.Tensor, X: torch.Tensor, chunk: int = 16384) -> tuple[torch.Tensor, float]:
    """(A, in-sample loss): the least-squares decoder of the true-sign features F = sign(Z V^T) of a split and
    its loss on that split, from one pass over the split (docs/theory.md eq. (23)).

    The products of a chunk are taken in Z's dtype (float32 on images) and summed over chunks in float64.
    F^T F is then exact: its entries are sums of at most ``chunk`` terms +-1 or 0, integers below 2^24.
    X^T F carries float32 rounding only (relative ~1e-7 per entry). The loss needs no second pass:
    sum ||x - A f||^2 = sum ||x||^2 - 2 <A, X^T F> + <A F^T F, A>.
    V (n, k), Z (N, k), X (N, d). -> (A (d, n) float64, loss float).
    """
    V = V.to(Z.dtype)
    ff = xf = None
    sxx = 0.0
    for i in range(0, Z.shape[0], chunk):
        F = torch.sign(Z[i : i + chunk] @ V.T)  # (c, n)
        Xc = X[i : i + chunk]  # (c, d)
        f2, x2 = (F.T @ F).double(), (Xc.T @ F).double()  # (n, n), (d, n)
        ff, xf = (f2, x2) if ff is None else (ff + f2, xf + x2)
        sxx += float(Xc.double().pow(2).sum())
    A = decoder_from_moments(ff, xf)  # (d, n)
    loss = (sxx - 2 * float((A * xf).sum()) + float(((A @ ff) * A).sum())) / (Z.shape[0] * X.shape[1])
    return A, loss


def test_loss(A: torch.Tensor, V: torch.Tensor, Z: torch.Tensor, X: torch.Tensor, chunk: int = 16384) -> float:
    """mean ||x - A sign(V z)||^2 / d over a split, true sign. V (n, k), Z (N, k), X (N, d). (docs/theory.md eq. (1))"""
    total = 0.0
    for i in range(0, Z.shape[0], chunk):
        s = torch.sign(Z[i : i + chunk] @ V.T).double()
        total += float(((X[i : i + chunk].double() - s @ A.T) ** 2).sum())
    return total / (Z.shape[0] * X.shape[1])


def trivial_loss(prep: Prepared) -> float:
    """The test loss of predicting x_hat = 0, mean ||x||^2 / d over the test split: a trained encoder's test loss
    must be below it (the real-data counterpart of tr Sigma / d)."""
    x = prep.x_test.astype(np.float64)  # (N_test, d)
    return float(np.mean(np.sum(x**2, axis=1))) / x.shape[1]


def split_loss(A: torch.Tensor, V: torch.Tensor, z: np.ndarray, x: np.ndarray, device: torch.device) -> float:
    """:func:`test_loss` of (A, V) on the host arrays of one split (z (N, k), x (N, d))."""
    return test_loss(A, V, torch.as_tensor(z, device=device), torch.as_tensor(x, device=device))


def designed_encoder(eigenvalues: np.ndarray, kept: int, n: int, seed: int) -> np.ndarray:
    """The training-free designed encoder (docs/theory.md eq. (31)), in whitened coordinates. -> V (n, kept), unit rows.

    Water-filling allocation m_i on the kept spectrum, U = W diag(sqrt(m)) with W (n, kept) having
    orthonormal columns over the active directions (a Haar rotation), rows then normalised.
    """
    lam = np.asarray(eigenvalues[:kept], dtype=float)
    m = theory.water_filling(lam, n).allocation  # (kept,)
    active = int(np.sum(m > 0))  # <= min(n, kept): water-filling keeps at most n directions
    H = haar_rotation(n, seed)  # (n, n)
    W = np.zeros((n, kept))
    W[:, :active] = H[:, :active]  # orthonormal columns on the active directions
    U = W * np.sqrt(m)
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    U = np.where(norms > 0, U / np.where(norms > 0, norms, 1), 0)
    return U


class SplitSource:
    """The rows of a preprocessed training split as the batch source of :func:`signae.train.fit_on_samples`.

    The encoder V (n, k) acts on the whitened coordinates z of the k kept directions. It starts either as a
    Gaussian encoder in the variant's own coordinates (``init="gaussian"``: B with N(0, 1) entries in
    x-space, so V = B Sigma^{1/2} restricted to the kept directions) or at the designed encoder
    (``init="designed"``, :func:`designed_encoder`: training as refinement); batches are rows drawn
    uniformly with replacement. Every encoder is judged with the decoder the run would return: the
    least-squares fit on the whole training split (:func:`sign_fit`). The recorded curve is that decoder's
    training-split loss, ``validation_risk`` its loss on the validation split (early stopping,
    docs/theory.md eq. (44)); the last fit is kept, so the two share one pass over the split at each recorded
    step. The final loss is the test-split loss (the training- and validation-split losses in ``extra``).
    """

    def __init__(self, prep: Prepared, device: torch.device, init: str = "gaussian"):
        if init not in ("gaussian", "designed"):
            raise ValueError(f"realdata.trainer.init must be 'gaussian' or 'designed', got {init!r}")
        self.prep, self.device, self.init = prep, device, init
        self.d = prep.x_train.shape[1]
        self.lambda_max = float(prep.eigenvalues[0])
        self.X = torch.as_tensor(prep.x_train, device=device)  # (N, d)
        self.Z = torch.as_tensor(prep.z_train, device=device)  # (N, k)
        self.basis = torch.as_tensor(prep.encoder_basis, dtype=torch.float32, device=device)  # (d, k): x -> z
        has_val = prep.x_val is not None and len(prep.x_val) > 0
        self.Z_val = torch.as_tensor(prep.z_val, device=device) if has_val else None  # (N_val, k)
        self.X_val = torch.as_tensor(prep.x_val, device=device) if has_val else None  # (N_val, d)
        self._last_fit = None  # (V, A, training-split loss) of the last encoder fitted

    def init_encoder(self, n: int, seed: int) -> torch.Tensor:
        if self.init == "designed":
            V = designed_encoder(self.prep.eigenvalues, self.Z.shape[1], n, seed)  # (n, k)
            return torch.as_tensor(V, dtype=torch.float32, device=self.device)
        root_k = torch.as_tensor(
            np.linalg.pinv(self.prep.encoder_basis), dtype=torch.float32, device=self.device
        )  # (k, d): z -> x
        B0 = gaussian_init(n, self.d, seed, self.device, torch.float32)  # Gaussian rows in x-space
        return unit_rows(B0 @ root_k.T)  # (n, k): B x = B root_k^T z

    def batch(self, k: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, self.Z.shape[0], (k,), generator=g, device=self.device)
        return self.Z[idx], self.X[idx]

    def to_x(self, V: torch.Tensor) -> torch.Tensor:
        return unit_rows(V @ self.basis.T)  # (n, d) encoder in x-space: sign(B x) = sign(V z)

    def fit(self, V: torch.Tensor) -> tuple[torch.Tensor, float]:
        """(A (d, n), training-split loss) of encoder V (n, k) with the least-squares decoder of the whole
        training split (:func:`sign_fit`); the last one is kept, so asking again for the same V costs nothing."""
        Vd = V.detach()
        if self._last_fit is None or not torch.equal(self._last_fit[0], Vd):
            self._last_fit = (Vd.clone(), *sign_fit(Vd, self.Z, self.X))
        return self._last_fit[1], self._last_fit[2]

    def risk(self, V: torch.Tensor) -> torch.Tensor:
        return torch.tensor(self.fit(V)[1], dtype=torch.float64)

    def validation_risk(self, V: torch.Tensor) -> float:
        """Loss on the validation split of the decoder the run would return with this encoder: the
        least-squares fit on the whole training split (as in :meth:`finish`). A decoder fitted on fewer rows
        would rank encoders by how well they fit from few rows: at r = 1 on grey CIFAR-10 (8192 rows, 1024
        units) it preferred a refined encoder that is worse than the designed one with the full decoder, on
        validation as on test (docs/theory.md eq. (44))."""
        if self.Z_val is None:
            raise ValueError("early stopping needs a validation split: set realdata.validation_samples > 0")
        return test_loss(self.fit(V)[0], V.detach(), self.Z_val, self.X_val)

    def finish(self, V: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, float, dict]:
        A, train_loss = self.fit(V)
        loss_test = split_loss(A, V, self.prep.z_test, self.prep.x_test, self.device)
        extra = {"train_loss": train_loss}
        if self.prep.x_val is not None and len(self.prep.x_val):
            extra["validation_loss"] = split_loss(A, V, self.prep.z_val, self.prep.x_val, self.device)
        return A, loss_test, extra


def trainer_options(settings: dict, seed: int) -> dict:
    """The keyword options of :func:`signae.train.fit_on_samples` that config ``realdata.trainer`` sets (batch,
    lr, sharpness, ridge of the batch decoder, estimator, momentum; docs/theory.md eq. (21), eq. (44)), with
    the run's seed: one reading of the settings for the runs on images, on shuffled images (figure 9) and on
    Gaussian samples of the twins."""
    options = {
        "batch": settings["batch"],
        "lr": settings["lr"],
        "sharpness": tuple(settings["sharpness"]),
        "seed": seed,
    }
    # the config always sets these (the schema requires them); absent, fit_on_samples' own defaults apply
    optional = ("ridge", "estimator", "momentum")
    return options | {key: settings[key] for key in optional if key in settings}


def train_sample(
    prep: Prepared, n: int, steps: int, device: torch.device, record_every: int = 10, init: str = "gaussian", **options
) -> TrainResult:
    """Sample-based training on a real training split (docs/theory.md eq. (21), eq. (44)):
    :func:`signae.train.fit_on_samples` on a :class:`SplitSource` started at ``init`` ("gaussian" or
    "designed"; ``options``: batch, lr, sharpness, seed, ridge, estimator, momentum, select); final loss on
    the test split, ``extra["train_loss"]`` on the training split."""
    return fit_on_samples(SplitSource(prep, device, init=init), n, steps, record_every=record_every, **options)


def evaluate_designed(prep: Prepared, n: int, seed: int, device: torch.device) -> tuple[float, float]:
    """(test loss, train loss) of the designed encoder with its least-squares decoder. (docs/theory.md eq. (31))"""
    k = prep.z_train.shape[1]
    V = torch.as_tensor(designed_encoder(prep.eigenvalues, k, n, seed), dtype=torch.float32, device=device)
    Ztr, Xtr = torch.as_tensor(prep.z_train, device=device), torch.as_tensor(prep.x_train, device=device)
    A, train_loss = sign_fit(V, Ztr, Xtr)
    return split_loss(A, V, prep.z_test, prep.x_test, device), train_loss
