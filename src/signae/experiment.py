"""One training run of the pipeline: from a :class:`signae.runs.RunSpec` and its settings to a checked result.

This is what the Snakemake rules ``train`` and ``train_real`` call (workflow/scripts/train.py,
train_real.py); the tests and the benchmark call it too, so every path through the package trains the
same way. A result that cannot be right (a non-finite loss or weight, or a final loss above the trivial
risk of predicting 0) raises :class:`TrainingDiverged`, naming the run and the config keys of its step
sizes, before anything is saved.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from . import data, provenance, theory, train
from .device import resolve_device
from .runs import RunSpec, hidden_units


class TrainingDiverged(RuntimeError):
    """A trainer produced a result that cannot be right; nothing was saved."""


#: The config keys that set each trainer's step sizes, named when a run diverges.
STEP_KEYS = {
    "pgd": "trainers.pgd.lr, trainers.pgd.lr_decoder (figure 4: covariance.pgd.lr)",
    "tied": "trainers.tied.lr, trainers.tied.lr_beta",
    "sample": "trainers.sample.lr, trainers.sample.sharpness",
    "real": "realdata.trainer.lr, realdata.trainer.sharpness",
    "sparse": "sparse.trainer.lr, sparse.trainer.sharpness",
}


def _keys(spec: RunSpec) -> str:
    return "real" if spec.real else "sparse" if spec.sparsity is not None else spec.trainer


def run_provenance(res: train.TrainResult, dev) -> dict:
    """The part of every run's metadata that says what produced it: wall time, versions, device, time."""
    return {
        "wall_time_s": res.wall_time_s,
        "versions": provenance.package_versions(),
        "device": provenance.device_info(dev),
        "finished_utc": provenance.now_utc(),
    }


def check_trained(result: train.TrainResult, what: str, keys: str, trivial: float) -> None:
    """Refuse a trained result whose losses or weights are not finite, or whose final loss is not below the
    trivial risk (the loss of predicting x_hat = 0: tr Sigma / d, 1 on isotropic Gaussian data). ``what`` names
    the result in the message ("run <stem>", "projected GD on the Gaussian twin at n = 512"), ``keys`` the
    config keys of its step sizes."""
    bad = [name for name in ("losses", "B", "A") if not np.all(np.isfinite(getattr(result, name)))]
    if not np.isfinite(result.final_loss):
        bad.append("final_loss")
    if bad:
        raise TrainingDiverged(
            f"{what}: non-finite {', '.join(bad)}; the training diverged. Lower the step "
            f"size ({keys}) and rerun; nothing was saved"
        )
    if not result.final_loss < trivial:
        raise TrainingDiverged(
            f"{what}: final loss {result.final_loss:.6g} is not below the trivial risk "
            f"{trivial:.6g} of predicting 0; the training failed. Check the step size ({keys}); "
            f"nothing was saved"
        )


def check_result(result: train.TrainResult, spec: RunSpec, trivial: float) -> None:
    """:func:`check_trained` for a run of the run record, named by its stem."""
    check_trained(result, f"run {spec.stem}", STEP_KEYS[_keys(spec)], trivial)


def diverged(what: str, keys: str, err: Exception) -> TrainingDiverged:
    """A linear-algebra failure inside a trainer (a singular or non-finite Gram matrix) is a diverged result;
    ``what`` and ``keys`` as in :func:`check_trained`."""
    return TrainingDiverged(
        f"{what}: the training diverged ({type(err).__name__}: {str(err).splitlines()[0]}). Lower the "
        f"step size ({keys}) and rerun; nothing was saved"
    )


def diverged_error(spec: RunSpec, err: Exception) -> TrainingDiverged:
    """:func:`diverged` for a run of the run record."""
    return diverged(f"run {spec.stem}", STEP_KEYS[_keys(spec)], err)


def run(
    spec: RunSpec, settings: dict, spectrum_args: dict | None = None, covariance_seed: int = 0, device: str = "auto"
) -> tuple[train.TrainResult, dict]:
    """Train one autoencoder on Gaussian data. Returns the checked result and its metadata."""
    dev = resolve_device(device)
    d, n = spec.d, spec.n
    Sigma, lam = data.gaussian_covariance(spec.source, d, spectrum_args or {}, covariance_seed)
    s = dict(settings)
    try:
        if spec.trainer == "pgd":
            res = train.projected_gd(
                d,
                n,
                s["steps"],
                lr=s["lr"],
                decoder=s["decoder"],
                lr_decoder=s["lr_decoder"],
                seed=spec.seed,
                Sigma=Sigma,
                device=dev,
            )
        elif spec.trainer == "tied":
            if Sigma is not None:
                raise ValueError(
                    "the weight-tied trainer is defined for isotropic data only (docs/theory.md, weight-tied decoder)"
                )
            res = train.tied_gd(d, n, s["steps"], lr=s["lr"], lr_beta=s["lr_beta"], seed=spec.seed, device=dev)
        else:
            res = train.sample_gd(
                d,
                n,
                s["steps"],
                batch=s["batch"],
                lr=s["lr"],
                sharpness=tuple(s["sharpness"]),
                fit_samples=s["fit_samples_per_unit"] * n,
                seed=spec.seed,
                Sigma=Sigma,
                device=dev,
                estimator=s.get("estimator", "tanh"),
                momentum=s.get("momentum", 0.0),
            )
    except torch.linalg.LinAlgError as err:
        raise diverged_error(spec, err) from err
    check_result(res, spec, trivial=float(lam.sum()) / d)
    predicted = theory.optimal_risk(n / d) if Sigma is None else theory.water_filling(lam, n).risk
    meta = {
        "source": spec.source,
        "trainer": spec.trainer,
        "d": d,
        "n": n,
        "r": n / d,
        "seed": spec.seed,
        "settings": s,
        "spectrum": spectrum_args or {},
        "covariance_seed": covariance_seed if Sigma is not None else None,
        "final_loss": res.final_loss,
        "predicted_loss": predicted,
        "extra": res.extra,
        **run_provenance(res, dev),
    }
    return res, meta


def run_real(
    spec: RunSpec, npz_path: str | Path, json_path: str | Path, settings: dict, device: str = "auto"
) -> tuple[train.TrainResult, dict]:
    """Train on a preprocessed real data set (signae.realdata.SplitSource; docs/theory.md eq. (44)): from the
    start ``settings["init"]``, with momentum and early stopping as ``settings`` say, and, with
    ``gaussian_init_steps``, the same trainer from a Gaussian initialisation recorded beside; loss on the test
    split."""
    from . import realdata

    dev = resolve_device(device)
    prep = realdata.load_prepared(npz_path, json_path)
    d = prep.x_train.shape[1]
    n = hidden_units(spec.r, d)
    options = {**realdata.trainer_options(settings, spec.seed), "select": settings.get("select", "last")}
    trivial = realdata.trivial_loss(prep)
    try:
        res = realdata.train_sample(prep, n, settings["steps"], dev, init=settings.get("init", "gaussian"), **options)
        check_result(res, spec, trivial)
        beside = None
        if settings.get("gaussian_init_steps"):  # the same trainer from a Gaussian initialisation, for the record
            steps = settings["gaussian_init_steps"]
            gauss = realdata.train_sample(prep, n, steps, dev, init="gaussian", **options)
            check_result(gauss, spec, trivial)
            beside = {
                "steps": steps,
                "final_loss": gauss.final_loss,
                "train_loss": gauss.extra["train_loss"],
                "validation_loss": gauss.extra.get("validation_loss"),
                "selected_step": gauss.extra.get("selected_step"),
            }
    except torch.linalg.LinAlgError as err:
        raise diverged_error(spec, err) from err
    predicted = realdata.prediction(spec.variant, prep.eigenvalues, n)
    meta = {
        "source": spec.source,
        "variant": spec.variant,
        "trainer": "sample",
        "d": d,
        "n": n,
        "r": n / d,
        "r_asked": spec.r,
        "seed": spec.seed,
        "settings": dict(settings),
        "preprocessing": {k: v for k, v in prep.info.items() if k != "eigenvalues"},
        "final_loss": res.final_loss,
        "train_loss": res.extra["train_loss"],
        "validation_loss": res.extra.get("validation_loss"),
        "selected_step": res.extra.get("selected_step"),
        "gaussian_init": beside,
        "predicted_loss": predicted,
        **run_provenance(res, dev),
    }
    return res, meta
