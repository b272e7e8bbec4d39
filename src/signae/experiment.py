"""One training run of the pipeline: from (data, trainer, d, r, seed, settings) to saved files.

This is the function the Snakemake rule ``train`` calls (workflow/scripts/train.py); it is also what
the tests and the benchmark call, so every path through the package trains the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from . import data, provenance, theory, train


def hidden_units(d: int, r: float) -> int:
    """n = round(r d); an error if r d is not (close to) an integer, since r would then be misreported."""
    n = int(round(r * d))
    if n < 1 or abs(n - r * d) > 1e-9 * max(1.0, r * d):
        raise ValueError(f"r * d must be a positive integer, got r = {r}, d = {d}; pick d divisible by 1/r")
    return n


def covariance_for(kind: str, d: int, spectrum_args: dict, seed: int) -> tuple[np.ndarray | None, np.ndarray]:
    """(Sigma or None for isotropic, its eigenvalues descending) for the named data set."""
    lam = data.spectrum(kind, d, **spectrum_args)
    return (None if kind == "isotropic" else data.covariance(lam, seed)), lam


def run(
    kind: str,
    trainer: str,
    d: int,
    r: float,
    seed: int,
    settings: dict,
    spectrum_args: dict | None = None,
    covariance_seed: int = 0,
    device: str = "auto",
) -> tuple[train.TrainResult, dict]:
    """Train one autoencoder. Returns the result and its metadata (everything needed to redo it)."""
    dev = train.resolve_device(device)
    n = hidden_units(d, r)
    Sigma, lam = covariance_for(kind, d, spectrum_args or {}, covariance_seed)
    s = dict(settings)
    if trainer == "pgd":
        res = train.projected_gd(d, n, s["steps"], lr=s["lr"], decoder=s["decoder"], lr_decoder=s["lr_decoder"],
                                 seed=seed, Sigma=Sigma, device=dev)
    elif trainer == "tied":
        if Sigma is not None:
            raise ValueError("the weight-tied trainer is defined for isotropic data only (BRIEF section 4)")
        res = train.tied_gd(d, n, s["steps"], lr=s["lr"], lr_beta=s["lr_beta"], seed=seed, device=dev)
    elif trainer == "sample":
        res = train.sample_gd(d, n, s["steps"], batch=s["batch"], lr=s["lr"], sharpness=tuple(s["sharpness"]),
                              fit_samples=s["fit_samples_per_unit"] * n, seed=seed, Sigma=Sigma, device=dev,
                              estimator=s.get("estimator", "tanh"))
    else:
        raise ValueError(f"unknown trainer {trainer!r}; choose pgd, tied or sample")
    rate = n / d
    if kind == "isotropic":
        predicted = theory.optimal_risk(rate)
    else:
        predicted = theory.water_filling(lam, n).risk
    meta = {
        "data": kind,
        "trainer": trainer,
        "d": d,
        "n": n,
        "r": rate,
        "seed": seed,
        "settings": s,
        "spectrum": spectrum_args or {},
        "covariance_seed": covariance_seed if Sigma is not None else None,
        "final_loss": res.final_loss,
        "predicted_loss": predicted,
        "wall_time_s": res.wall_time_s,
        "extra": res.extra,
        "versions": provenance.package_versions(),
        "device": provenance.device_info(dev),
        "finished_utc": provenance.now_utc(),
    }
    return res, meta


def save(result: train.TrainResult, meta: dict, npz_path: str | Path, json_path: str | Path) -> None:
    """Weights and curve as .npz, metadata as .json (the .npz's SHA-256 is recorded in the .json)."""
    np.savez(
        npz_path,
        steps=result.steps,
        losses=result.losses,
        B_init=result.B_init,
        B=result.B,
        A=result.A,
        final_loss=np.float64(result.final_loss),
    )
    provenance.write_json(json_path, {**meta, "weights_sha256": provenance.sha256_file(npz_path)})


def set_threads(threads: int, deterministic: bool = False) -> None:
    """torch's CPU threads for this job and, if asked, deterministic GPU kernels.

    On the CPU the same seed and thread count already give bit-identical results. On a GPU some kernels
    (atomics in reductions, cuBLAS workspaces) are nondeterministic; ``deterministic`` turns on
    torch.use_deterministic_algorithms and the cuBLAS workspace setting PyTorch documents for it
    (CUBLAS_WORKSPACE_CONFIG=:4096:8), at some cost in speed. PyTorch's caveat applies: results are then
    reproducible on the same GPU model, driver and library versions, not across them.
    """
    import os

    torch.set_num_threads(max(1, int(threads)))
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False


def run_real(npz_path: str | Path, json_path: str | Path, dataset: str, variant: str, r: float, seed: int,
             settings: dict, device: str = "auto") -> tuple[train.TrainResult, dict]:
    """Train on a preprocessed real data set (signae.realdata.train_sample); loss on the test split."""
    from . import realdata

    dev = train.resolve_device(device)
    prep = realdata.load_prepared(npz_path, json_path)
    d = prep.x_train.shape[1]
    n = realdata.hidden_units(r, d)
    res, _ = realdata.train_sample(prep, n, settings["steps"], settings["batch"], settings["lr"],
                                   tuple(settings["sharpness"]), seed, dev,
                                   estimator=settings.get("estimator", "tanh"))
    predicted = realdata.prediction(variant, prep.eigenvalues, n)
    meta = {
        "data": dataset, "variant": variant, "trainer": "sample", "d": d, "n": n, "r": n / d, "r_asked": r,
        "seed": seed, "settings": dict(settings),
        "preprocessing": {k: v for k, v in prep.info.items() if k != "eigenvalues"},
        "final_loss": res.final_loss, "train_loss": res.extra["train_loss"], "predicted_loss": predicted,
        "wall_time_s": res.wall_time_s, "versions": provenance.package_versions(),
        "device": provenance.device_info(dev), "finished_utc": provenance.now_utc(),
    }
    return res, meta
