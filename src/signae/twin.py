"""The Gaussian twin N(0, Sigma_hat) of a real data variant, trained on (figure 5; docs/theory.md eq. (32)).

Projected GD on the twin's exact risk tells how close a gradient method gets to the water-filling formula on
this very spectrum; the sample-based trainer of the images, run on fresh Gaussian draws of the twin, tells
whether that trainer finds the optimum where it is known; and the exact twin risk of every trained encoder
tells whether the encoder learned something the covariance does not describe (signae.universality).
"""

from __future__ import annotations

import numpy as np
import torch

from . import theory, train
from .gaussian_source import SpectralGaussianSource
from .runs import check_trained, diverged, load, step_keys
from .universality import covariance, gaussian_equivalent_loss, gaussian_norm_concentration, norm_concentration

TWIN_FLOOR = 1e-6  # twin eigenvalues below TWIN_FLOOR * mean are raised to it (projected GD needs Sigma > 0)


def twin_pgd(
    eigenvalues: np.ndarray, n: int, steps: int, lr: float, seed: int, device: str | torch.device = "cpu"
) -> train.TrainResult:
    """Projected GD (decoder A*(B), backtracking) on the exact risk of N(0, diag(eigenvalues)), floored
    at TWIN_FLOOR: the Gaussian twin of docs/theory.md eq. (32), trained by docs/theory.md eq. (19).

    A Gaussian initialisation in whitened coordinates is rotation invariant, so the eigenbasis of
    Sigma_hat does not change the distribution of the result; the diagonal form is used.
    """
    lam = np.asarray(eigenvalues, dtype=float)
    lam = np.maximum(lam, TWIN_FLOOR * lam.mean())
    what, keys = f"projected GD on the Gaussian twin at n = {n}", "realdata.twin.lr"
    try:
        res = train.projected_gd(
            len(lam),
            n,
            steps,
            lr=lr,
            Sigma=np.diag(lam),
            seed=seed,
            device=device,
            record_every=max(1, steps // 20),
            backtrack=True,
        )
    except torch.linalg.LinAlgError as err:
        raise diverged(what, keys, err) from err
    check_trained(res, what, keys, trivial=float(lam.mean()))  # tr Sigma / d
    return res


def extrapolated_limit(steps: np.ndarray, losses: np.ndarray) -> tuple[float, float]:
    """(limit, relative correction) of a descending risk curve, extrapolated to t -> infinity from its last fifth
    under R(t) = R_inf + c / t (docs/theory.md eq. (49)): with t0 the recorded step nearest 4/5 of the last, T,
    R_inf = R(T) - (R(t0) - R(T)) t0 / (T - t0); the correction is (R(T) - R_inf) / R(T). The convergence
    criterion of figure 5's reference: the smaller the correction, the closer the run is to its limit."""
    steps, losses = np.asarray(steps, dtype=float), np.asarray(losses, dtype=float)
    T = steps[-1]
    k = int(np.argmin(np.abs(steps - 0.8 * T)))
    t0 = steps[k]
    if not 0 < t0 < T:
        return float(losses[-1]), 0.0
    drop = max(float(losses[k] - losses[-1]), 0.0)  # backtracking keeps the recorded curve from rising
    limit = float(losses[-1]) - drop * t0 / (T - t0)
    return limit, (float(losses[-1]) - limit) / float(losses[-1])


def twin_trainer(
    eigenvalues: np.ndarray,
    kept: int,
    n: int,
    settings: dict,
    fit_samples: int,
    seed: int,
    device,
    section: str = "realdata.trainer",
) -> train.TrainResult:
    """The sample-based trainer of the real images (``settings``: the config section ``section``) on fresh
    draws of the Gaussian twin N(0, diag(eigenvalues)), from a Gaussian initialisation (``gaussian_init_steps``
    steps, or ``steps``), with the encoder on the same ``kept`` whitened directions
    (:class:`signae.gaussian_source.SpectralGaussianSource`; docs/theory.md eq. (32)); fresh draws cannot
    be overfitted, so no early stopping. Its final loss is the exact risk of the encoder with its least-squares
    decoder from ``fit_samples`` fresh draws."""
    source = SpectralGaussianSource(eigenvalues, torch.device(device), kept=kept, fit_samples=fit_samples)
    steps = settings.get("gaussian_init_steps") or settings["steps"]
    options = {**train.options(train.train_on_samples, settings), "steps": steps, "select": "last", "seed": seed}
    what, keys = f"the sample-based trainer on Gaussian samples of the twin at n = {n}", step_keys(section, settings)
    try:
        res = train.train_on_samples(source, n, record_every=max(1, steps // 10), **options)
    except torch.linalg.LinAlgError as err:
        raise diverged(what, keys, err) from err
    check_trained(res, what, keys, trivial=float(np.mean(eigenvalues)))  # tr Sigma / d
    if not np.isfinite(res.extra["encoder_risk"]):
        raise diverged(what, keys, ValueError("non-finite exact risk of the encoder"))
    return res


def twin_trainer_rows(prep, r_values, settings: dict, seed: int, device) -> list[dict]:
    """Figure 5's rows of the sample-based trainer on Gaussian samples of an unwhitened variant's twin, one per r
    (:func:`twin_trainer`): the trainer checked where the optimum is known (docs/theory.md eq. (32)).

    ``loss`` is the trained encoder's exact twin risk with its optimal decoder A*(B), the quantity water-filling
    predicts and projected GD's rows report; ``loss_fitted_decoder`` is the exact risk with the least-squares
    decoder from as many fresh samples as the training split has rows (``fit_samples``), which adds about
    n / (fit_samples - n) of the risk whatever the encoder (docs/theory.md eq. (32))."""
    d, kept = prep.x_train.shape[1], prep.z_train.shape[1]
    rows = []
    for r in r_values:
        n = theory.hidden_units(r, d)
        res = twin_trainer(prep.eigenvalues, kept, n, settings, len(prep.x_train), seed, device)
        predicted = theory.variant_prediction("unwhitened", prep.eigenvalues, n)
        rows.append(
            {
                "series": "Gaussian twin samples, sample-based training",
                "r": n / d,
                "seed": seed,
                "loss": res.extra["encoder_risk"],
                "loss_fitted_decoder": res.final_loss,
                "fit_samples": len(prep.x_train),
                "predicted": predicted,
                "wall_time_s": res.wall_time_s,
            }
        )
        print(
            f"twin samples r={n / d:.4f}: exact risk with A* {res.extra['encoder_risk']:.5f} (decoder from"
            f" {len(prep.x_train)} samples: {res.final_loss:.5f}), water-filling {predicted:.5f},"
            f" {res.wall_time_s:.1f} s"
        )
    return rows


def twin_diagnostics(
    prep, variant: str, run_jsons, r_values, steps: int, lr: float, seed: int, device
) -> tuple[list[dict], dict]:
    """Figure 5's Gaussian-twin rows and norm concentrations of one preprocessed variant.

    Rows: projected GD on the twin per r (unwhitened variants only: for whitened ones the twin is
    N(0, I), which is figure 1) with its risk extrapolated to t -> infinity (:func:`extrapolated_limit`,
    eq. (49)), and the exact twin risk of every trained encoder in ``run_jsons``.
    Returns (rows, {"kappa_x", "kappa_g", "kappa"}) with kappa = kappa_x / kappa_g. The twin is that of
    docs/theory.md eq. (32); kappa enters the norm correction of docs/theory.md eq. (34).
    """
    d = prep.x_train.shape[1]
    Sigma = covariance(prep.x_train)  # (d, d) training covariance, tr = d
    rows = []
    if variant == "unwhitened":
        for r in r_values:
            n = theory.hidden_units(r, d)
            res = twin_pgd(prep.eigenvalues, n, steps, lr, seed, device)
            predicted = theory.variant_prediction(variant, prep.eigenvalues, n)
            limit, correction = extrapolated_limit(res.steps, res.losses)
            rows.append(
                {
                    "series": "Gaussian twin, projected GD",
                    "r": n / d,
                    "seed": seed,
                    "loss": res.final_loss,
                    "predicted": predicted,
                    "loss_extrapolated": limit,  # the reference of the trainer's claim (eq. (49))
                    "extrapolation": correction,
                    "steps": int(res.steps[-1]),
                }
            )
            print(
                f"twin pgd r={n / d:.4f}: {res.final_loss:.5f} after {int(res.steps[-1])} steps, extrapolated "
                f"{limit:.5f} ({100 * correction:.2f}% lower; water-filling {predicted:.5f}), {res.wall_time_s:.1f} s"
            )
    for path in run_jsons:
        meta, weights = load(path)
        loss = gaussian_equivalent_loss(weights["B"], Sigma)  # B (n, d): the variant's coordinates
        rows.append(
            {
                "series": "trained encoder, on the Gaussian twin",
                "r": meta["r"],
                "seed": meta["seed"],
                "loss": loss,
                "predicted": meta["predicted_loss"],
            }
        )
        print(
            f"trained r={meta['r']:.4f} seed={meta['seed']}: images {meta['final_loss']:.5f}, twin {loss:.5f},"
            f" predicted {meta['predicted_loss']:.5f}"
        )
    kappa_x = norm_concentration(prep.x_train)
    kappa_g = gaussian_norm_concentration(prep.eigenvalues)  # the spectrum the prediction uses
    return rows, {"kappa_x": kappa_x, "kappa_g": kappa_g, "kappa": kappa_x / kappa_g}
