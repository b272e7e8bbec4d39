"""Real images as inputs x in R^d: the preprocessed variants of a data set (docs/theory.md eq. (29)).

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
reconstructs the variant's own x; for the whitened variant they coincide. Training on a variant is
signae.real_source.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import paths, provenance

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
    if not var.max() > 0:
        raise ValueError("no pixel varies across the training images: the data set is blank")
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


def load_images(npz_path, json_path, train_samples: int | None = None, test_samples: int | None = None):
    """(x_train, x_test, record) of a data set's verified uint8 images (the rule ``dataset``): its .npz is checked
    against the SHA-256 its .json records; ``train_samples`` / ``test_samples`` keep the first N of each split,
    in the official order (None or 0: all)."""
    record = json.loads(Path(json_path).read_text())
    fix = f"remake it: snakemake --cores all --forcerun {npz_path} (with the run's --configfile files before it)"
    provenance.verify_sha256(npz_path, record.get("arrays_sha256"), json_path, fix)
    with np.load(npz_path) as z:
        x_train, x_test = z["x_train"], z["x_test"]
    source = record.get("path", npz_path)
    for split, images, asked, key in (
        ("training", x_train, train_samples, "realdata.train_samples"),
        ("test", x_test, test_samples, "realdata.test_samples"),
    ):
        if asked and len(images) < asked:
            raise ValueError(
                f"{npz_path} (from {source}) holds {len(images)} {split} images, but {key} asks for {asked}: give "
                f"the full data set, or lower {key}"
            )
    return x_train[: train_samples or None], x_test[: test_samples or None], record


def save_prepared(prep: Prepared, npz_path, json_path, **record) -> None:
    """A variant's arrays (.npz) and its record (.json): ``prep.info``, the spectrum, the .npz's SHA-256 and
    ``record`` (what it was made from)."""
    np.savez(
        npz_path,
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
    info = {**prep.info, **record, "arrays_sha256": provenance.sha256_file(npz_path)}
    provenance.write_json(json_path, {**info, "eigenvalues": prep.eigenvalues.tolist()})


def load_prepared(npz_path, json_path, verify: bool = True) -> Prepared:
    """A variant cached by the preprocess rule: arrays from its .npz, checked against the SHA-256 its .json
    records, and info (d, spectrum, ...) from the .json, which must name the data set and variant its path
    does (signae.paths.VARIANT)."""
    info = json.loads(Path(json_path).read_text())
    if verify:
        fix = f"remake it: snakemake --cores all --forcerun {npz_path} (with the run's --configfile files before it)"
        provenance.verify_sha256(npz_path, info.get("arrays_sha256"), json_path, fix)
        named = paths.parse(paths.VARIANT, str(json_path))
        for key in ("dataset", "variant"):
            if named and info.get(key) != named[key]:
                raise ValueError(
                    f"{json_path} is the {key} {info.get(key)!r}, but its path names {named[key]!r}: another "
                    f"variant's files were copied here; {fix}"
                )
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


def trivial_loss(prep: Prepared) -> float:
    """The test loss of predicting x_hat = 0, mean ||x||^2 / d over the test split: a trained encoder's test loss
    must be below it (the real-data counterpart of tr Sigma / d)."""
    x = prep.x_test.astype(np.float64)  # (N_test, d)
    return float(np.mean(np.sum(x**2, axis=1))) / x.shape[1]
