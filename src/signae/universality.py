"""Where real-data losses leave the Gaussian prediction, and why (diagnostics for figure 5).

Figure 5 compares real images with the prediction for Gaussian data of the same covariance
(water-filling, or R*(r) after whitening: docs/theory.md eq. (30)). A gap between the two has three
possible sources, and this module measures each one separately (this project's addition, not the
paper's; docs/theory.md eq. (32) to eq. (34)):

1. the prediction itself, and the trainer: water-filling is an asymptotic formula (docs/theory.md
   eq. (27)). `twin_pgd` trains projected GD on the exact population risk of the *Gaussian twin*
   x ~ N(0, Sigma_hat), which tells how close a gradient method gets to the formula on this very
   spectrum, and `twin_samples` runs the sample-based trainer of the images on fresh Gaussian samples of
   the twin, which tells whether that trainer finds the optimum where it is known;
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
from . import train

TWIN_FLOOR = 1e-6  # twin eigenvalues below TWIN_FLOOR * mean are raised to it (projected GD needs Sigma > 0)


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


def twin_pgd(
    eigenvalues: np.ndarray, n: int, steps: int, lr: float, seed: int, device: str | torch.device = "cpu"
) -> train.TrainResult:
    """Projected GD (decoder A*(B), backtracking) on the exact risk of N(0, diag(eigenvalues)), floored
    at TWIN_FLOOR: the Gaussian twin of docs/theory.md eq. (32), trained by docs/theory.md eq. (19).

    A Gaussian initialisation in whitened coordinates is rotation invariant, so the eigenbasis of
    Sigma_hat does not change the distribution of the result; the diagonal form is used.
    """
    from .experiment import check_trained, diverged

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


def twin_samples(
    eigenvalues: np.ndarray, kept: int, n: int, settings: dict, fit_samples: int, seed: int, device
) -> train.TrainResult:
    """The sample-based trainer of the real images (``settings``: realdata.trainer) on fresh samples of the
    Gaussian twin N(0, diag(eigenvalues)), from a Gaussian initialisation (``gaussian_init_steps`` steps, or
    ``steps``), with the encoder on the same ``kept`` whitened directions
    (:class:`signae.train.SpectralGaussianSource`; docs/theory.md eq. (32)); fresh samples cannot
    be overfitted, so no early stopping. Its final loss is
    the exact risk of the encoder with its least-squares decoder from ``fit_samples`` fresh samples."""
    from . import realdata
    from .experiment import STEP_KEYS, check_trained, diverged

    source = train.SpectralGaussianSource(eigenvalues, torch.device(device), kept=kept, fit_samples=fit_samples)
    steps = settings.get("gaussian_init_steps") or settings["steps"]
    what = f"the sample-based trainer on Gaussian samples of the twin at n = {n}"
    try:
        res = train.fit_on_samples(
            source, n, steps, record_every=max(1, steps // 10), **realdata.trainer_options(settings, seed)
        )
    except torch.linalg.LinAlgError as err:
        raise diverged(what, STEP_KEYS["real"], err) from err
    check_trained(res, what, STEP_KEYS["real"], trivial=float(np.mean(eigenvalues)))  # tr Sigma / d
    if not np.isfinite(res.extra["encoder_risk"]):
        raise diverged(what, STEP_KEYS["real"], ValueError("non-finite exact risk of the encoder"))
    return res


def twin_sample_rows(prep, r_values, settings: dict, seed: int, device) -> list[dict]:
    """Figure 5's rows of the sample-based trainer on Gaussian samples of an unwhitened variant's twin, one per r
    (:func:`twin_samples`): the trainer checked where the optimum is known (docs/theory.md eq. (32)).

    ``loss`` is the trained encoder's exact twin risk with its optimal decoder A*(B), the quantity water-filling
    predicts and projected GD's rows report; ``loss_fitted_decoder`` is the exact risk with the least-squares
    decoder from as many fresh samples as the training split has rows (``fit_samples``), which adds about
    n / (fit_samples - n) of the risk whatever the encoder (docs/theory.md eq. (32))."""
    from . import realdata
    from .runs import hidden_units

    d, kept = prep.x_train.shape[1], prep.z_train.shape[1]
    rows = []
    for r in r_values:
        n = hidden_units(r, d)
        res = twin_samples(prep.eigenvalues, kept, n, settings, len(prep.x_train), seed, device)
        predicted = realdata.prediction("unwhitened", prep.eigenvalues, n)
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
    N(0, I), which is figure 1), and the exact twin risk of every trained encoder in ``run_jsons``.
    Returns (rows, {"kappa_x", "kappa_g", "kappa"}) with kappa = kappa_x / kappa_g. The twin is that of
    docs/theory.md eq. (32); kappa enters the norm correction of docs/theory.md eq. (34).
    """
    from . import realdata
    from .runs import hidden_units, load

    d = prep.x_train.shape[1]
    Sigma = covariance(prep.x_train)  # (d, d) training covariance, tr = d
    rows = []
    if variant == "unwhitened":
        for r in r_values:
            n = hidden_units(r, d)
            res = twin_pgd(prep.eigenvalues, n, steps, lr, seed, device)
            predicted = realdata.prediction(variant, prep.eigenvalues, n)
            rows.append(
                {
                    "series": "Gaussian twin, projected GD",
                    "r": n / d,
                    "seed": seed,
                    "loss": res.final_loss,
                    "predicted": predicted,
                }
            )
            print(
                f"twin pgd r={n / d:.4f}: {res.final_loss:.5f} (water-filling {predicted:.5f}), {res.wall_time_s:.1f} s"
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
