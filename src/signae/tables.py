"""The tidy tables behind the figures: one row per plotted point, with the theory's value beside it.

Each builder reads run files through :func:`signae.runs.load` (which checks the weights against their
recorded SHA-256) and evaluates the theory; plotting (signae.plotting) and the claims table
(signae.claims) read only these tables, so no figure ever retrains and nothing downstream recomputes a
formula. The builders' keyword arguments are the input names of the figure registry (signae.registry).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import evaluate, theory
from .images import flatten, load_images, load_prepared
from .runs import load
from .spectra import gaussian_covariance
from .theory import hidden_units


def theory_grid(r_values, points: int = 200) -> np.ndarray:
    """A log-spaced r grid spanning r_values that also contains each of them exactly (and r = 1)."""
    lo, hi = min(r_values), max(r_values)
    grid = np.geomspace(lo, hi, points)
    extra = [r for r in (*r_values, 1.0) if lo <= r <= hi]
    return np.unique(np.concatenate([grid, extra]))


def limit_table(runs, untrained: str | Path, r) -> pd.DataFrame:
    """Figure 1: theory curves vs r, trained markers (one row per run) and simulated untrained encoders,
    each with its prediction (R*(r), or the Marchenko-Pastur risk for the untrained encoders)."""
    rows = []
    for rate in theory_grid(r):
        for series, value in (
            ("R*(r)", theory.optimal_risk(rate)),
            ("Shannon 2^(-2r)", float(theory.shannon_distortion(rate))),
            ("PCA max(0, 1-r)", float(theory.pca_risk(rate))),
            ("untrained (Marchenko-Pastur)", theory.marchenko_pastur_risk(rate)),
        ):
            rows.append({"series": series, "kind": "theory", "r": rate, "d": None, "seed": None, "loss": value})
    for path in runs:
        meta, _ = load(path)
        rows.append(
            {
                "series": meta["trainer"],
                "kind": "trained",
                "r": meta["r"],
                "d": meta["d"],
                "seed": meta["seed"],
                "loss": meta["final_loss"],
                "predicted": theory.optimal_risk(meta["r"]),
            }
        )
    sim = pd.read_csv(untrained)
    for rec in sim.to_dict("records"):
        rows.append(
            {
                "series": "untrained (simulated)",
                "kind": "simulated",
                "r": rec["r"],
                "d": rec["d"],
                "seed": rec["seed"],
                "loss": rec["loss"],
                "predicted": theory.marchenko_pastur_risk(rec["r"]),
            }
        )
    df = pd.DataFrame(rows)
    return df.astype({"d": "Int64", "seed": "Int64"})


def dynamics_table(runs) -> pd.DataFrame:
    """Figure 2: the exact-risk curve of each run, with R*(r) beside every point."""
    rows = []
    for path in runs:
        meta, arr = load(path)
        limit = theory.optimal_risk(meta["r"])
        for step, loss in zip(arr["steps"], arr["losses"], strict=True):
            rows.append(
                {
                    "series": meta["trainer"],
                    "r": meta["r"],
                    "d": meta["d"],
                    "seed": meta["seed"],
                    "step": int(step),
                    "loss": float(loss),
                    "limit": limit,
                }
            )
    return pd.DataFrame(rows)


def features_table(features, scales) -> pd.DataFrame:
    """Figure 3: spectra at init and after training with the MP density, decoder scales, axis alignment
    (docs/theory.md eq. (11)).

    panel spectrum:     one row per eigenvalue (series init / trained), predicted = 1 or r
    panel mp_density:   the Marchenko-Pastur density of the init spectrum (index = eigenvalue x)
    panel decoder_scale: fitted beta of every run (feature and scale runs), predicted beta(r)
    panel alignment:    d * IPR of every learned row, predicted 3d/(d+2)
    panel beta_curve:   beta(r) on a grid spanning the runs' rates (index = r), drawn beside the fits
    """
    rows = []
    for path in features:
        meta, arr = load(path)
        r, d, seed, trainer = meta["r"], meta["d"], meta["seed"], meta["trainer"]
        target = r if r > 1 else 1.0
        for series, B in (("init", arr["B_init"]), ("trained", arr["B"])):
            for i, ev in enumerate(evaluate.frame_spectrum(B)):
                rows.append(
                    {
                        "panel": "spectrum",
                        "series": series,
                        "trainer": trainer,
                        "r": r,
                        "d": d,
                        "seed": seed,
                        "index": i,
                        "value": float(ev),
                        "predicted": target,
                    }
                )
        for x, dens in zip(*theory.marchenko_pastur_density(r), strict=True):
            rows.append(
                {
                    "panel": "mp_density",
                    "series": "Marchenko-Pastur",
                    "trainer": None,
                    "r": r,
                    "d": d,
                    "seed": None,
                    "index": x,
                    "value": dens,
                    "predicted": None,
                }
            )
        for i, ipr in enumerate(evaluate.axis_alignment(arr["B"])):
            rows.append(
                {
                    "panel": "alignment",
                    "series": "trained",
                    "trainer": trainer,
                    "r": r,
                    "d": d,
                    "seed": seed,
                    "index": i,
                    "value": float(ipr),
                    "predicted": evaluate.random_rotation_alignment(d),
                }
            )
    rates = []
    for path in scales:
        meta, arr = load(path)
        beta, resid = evaluate.decoder_scale(arr["A"], arr["B"])
        rates.append(meta["r"])
        rows.append(
            {
                "panel": "decoder_scale",
                "series": meta["trainer"],
                "trainer": meta["trainer"],
                "r": meta["r"],
                "d": meta["d"],
                "seed": meta["seed"],
                "index": resid,
                "value": beta,
                "predicted": theory.optimal_decoder_scale(meta["r"]),
            }
        )
    if rates:  # the plotted beta(r): at least r in [1/4, 4]
        for r in np.geomspace(min(min(rates), 0.25), max(max(rates), 4), 200):
            rows.append(
                {
                    "panel": "beta_curve",
                    "series": "beta(r)",
                    "trainer": None,
                    "r": r,
                    "d": None,
                    "seed": None,
                    "index": r,
                    "value": theory.optimal_decoder_scale(r),
                    "predicted": None,
                }
            )
    return pd.DataFrame(rows).astype({"d": "Int64", "seed": "Int64"})


def covariance_table(runs, spectra: dict, d: int, covariance_seed: int) -> pd.DataFrame:
    """Figure 4: loss vs r (water-filling, PCA, trained: projected GD, and the sample-based trainer on Gaussian
    samples) and projected GD's allocation m_i, predicted vs learned (docs/theory.md eq. (28)).

    Eigenvalues that are equal (the blocks of the levels spectrum) span an eigenspace in which the
    allocation is not unique, so both allocations are averaged over each block of equal eigenvalues.
    """
    rows = []
    r_values = sorted({json.loads(Path(p).read_text())["r"] for p in runs})
    for kind, args in spectra.items():
        _, lam = gaussian_covariance(kind, d, args, covariance_seed)
        for r in theory_grid(r_values, 60):
            n = hidden_units(r, d)
            rows.append(
                {
                    "panel": "loss",
                    "series": "water-filling",
                    "spectrum": kind,
                    "r": n / d,
                    "d": d,
                    "seed": None,
                    "loss": theory.water_filling(lam, n).risk,
                }
            )
            rows.append(
                {
                    "panel": "loss",
                    "series": "PCA",
                    "spectrum": kind,
                    "r": n / d,
                    "d": d,
                    "seed": None,
                    "loss": theory.pca_risk_spectrum(lam, n / d),
                }
            )
    for path in runs:
        meta, arr = load(path)
        kind, r, seed = meta["source"], meta["r"], meta["seed"]
        Sigma, lam = gaussian_covariance(kind, d, spectra[kind], covariance_seed)
        rows.append(
            {
                "panel": "loss",
                "series": meta["trainer"],
                "spectrum": kind,
                "r": r,
                "d": d,
                "seed": seed,
                "loss": meta["final_loss"],
                "predicted": meta["predicted_loss"],
            }
        )
        if meta["trainer"] != "pgd":
            continue  # the allocation panel and its claims are projected GD's
        evals, learned = evaluate.learned_allocation(arr["B"], Sigma)
        predicted = theory.water_filling(lam, meta["n"]).allocation
        pairs = zip(evals, block_average(lam, predicted), block_average(evals, learned), strict=True)
        for i, (ev, p, m) in enumerate(pairs):
            for name, value in (("predicted", p), ("learned", m)):
                rows.append(
                    {
                        "panel": "allocation",
                        "series": name,
                        "spectrum": kind,
                        "r": r,
                        "d": d,
                        "seed": seed,
                        "index": i,
                        "eigenvalue": ev,
                        "value": value,
                    }
                )
    return pd.DataFrame(rows).astype({"seed": "Int64"})


def block_average(eigenvalues: np.ndarray, values: np.ndarray, rtol: float = 1e-8) -> np.ndarray:
    """values averaged over each run of (numerically) equal eigenvalues; both arrays descending-ordered
    (docs/theory.md eq. (28))."""
    out = np.asarray(values, dtype=float).copy()
    lam = np.asarray(eigenvalues, dtype=float)
    start = 0
    for i in range(1, lam.size + 1):
        if i == lam.size or abs(lam[i] - lam[start]) > rtol * max(abs(lam[start]), 1e-300):
            out[start:i] = out[start:i].mean()
            start = i
    return out


def universality_table(
    runs, designed: dict, preps: dict, twins: dict, norms: dict, r, twin_trainers: dict | None = None
) -> pd.DataFrame:
    """Figure 5: per (dataset, variant): theory vs r, trained test losses, designed-encoder test losses,
    and the Gaussian-twin diagnostics of signae.universality.

    designed, preps, twins, norms: {(dataset, variant): path} of designed.csv, the variant's .json,
    gaussian_twin.csv and norms.json; twin_trainers: {dataset: path} of the unwhitened variant's
    twin_trainer.csv (the sample-based trainer on Gaussian samples of the twin, kind "twin"). Theory:
    water-filling and PCA from the training spectrum (unwhitened), R*(r) (whitened, whose spectrum is flat
    by construction), and the prediction corrected for the spread of the images' norms (kind "theory",
    series "... norm-corrected"). Trained runs: kind "trained" (series named by the run's init) and, where
    the run recorded it, the same trainer from a Gaussian initialisation (kind "gaussian_init"). Markers:
    kind "trained" and "designed" (test split of the images), kind "twin" (exact risks on N(0, Sigma_hat));
    the twin-sample rows also carry ``loss_fitted_decoder`` (their encoder with the decoder fitted on as many
    samples as the training split has rows), NaN elsewhere.
    """
    from . import universality  # here, not at the top: it imports torch, which the other builders do without

    rows = []
    for (dataset, variant), path in preps.items():
        info = json.loads(Path(path).read_text())
        lam = np.asarray(info["eigenvalues"])
        d = int(info["d"])
        base = {"dataset": dataset, "variant": variant, "d": d, "seed": None}
        twin_csv, norms_json = twins[(dataset, variant)], norms[(dataset, variant)]
        kappa = json.loads(Path(norms_json).read_text())["kappa"]
        name = "R*(r)" if variant == "whitened" else "water-filling"
        for rate in theory_grid(r, 80):
            n = hidden_units(rate, d)
            pred = theory.variant_prediction(variant, lam, n)
            if variant == "unwhitened":
                rows.append(
                    {
                        **base,
                        "series": "PCA",
                        "kind": "theory",
                        "r": n / d,
                        "loss": theory.pca_risk_spectrum(lam, n / d),
                    }
                )
            rows.append({**base, "series": name, "kind": "theory", "r": n / d, "loss": pred})
            rows.append(
                {
                    **base,
                    "series": f"{name}, norm-corrected",
                    "kind": "theory",
                    "r": n / d,
                    "loss": float(universality.norm_corrected(pred, kappa)),
                    "kappa": kappa,
                }
            )
        des = pd.read_csv(designed[(dataset, variant)])
        for rec in des.to_dict("records"):
            rows.append(
                {
                    **base,
                    "series": "designed",
                    "kind": "designed",
                    "r": rec["r"],
                    "seed": rec["seed"],
                    "loss": rec["loss"],
                }
            )
        extra = [twin_trainers[dataset]] if variant == "unwhitened" and dataset in (twin_trainers or {}) else []
        for rec in (rec for csv in [twin_csv, *extra] for rec in pd.read_csv(csv).to_dict("records")):
            rows.append(
                {
                    **base,
                    "series": rec["series"],
                    "kind": "twin",
                    "r": rec["r"],
                    "seed": rec["seed"],
                    "loss": rec["loss"],
                    "predicted": rec["predicted"],
                    # the twin-sample rows: the same encoder with the decoder fitted on N samples (eq. (32))
                    **({"loss_fitted_decoder": rec["loss_fitted_decoder"]} if "loss_fitted_decoder" in rec else {}),
                    # projected GD's rows: its risk extrapolated to t -> infinity, the trainer's reference (eq. (49))
                    **{k: rec[k] for k in ("loss_extrapolated", "extrapolation", "steps") if k in rec},
                }
            )
    for path in runs:
        meta = json.loads(Path(path).read_text())
        common = {
            "dataset": meta["source"],
            "variant": meta["variant"],
            "d": meta["d"],
            "seed": meta["seed"],
            "r": meta["r"],
            "predicted": meta["predicted_loss"],
        }
        refined = meta["settings"].get("init") == "designed"
        rows.append(
            {
                **common,
                "series": REFINED if refined else meta["trainer"],
                "kind": "trained",
                "loss": meta["final_loss"],
                "train_loss": meta["train_loss"],
                "validation_loss": meta.get("validation_loss"),
            }
        )
        beside = meta.get("gaussian_init")
        if beside:  # the same trainer from a Gaussian initialisation, recorded by the run
            rows.append(
                {
                    **common,
                    "series": GAUSSIAN_INIT,
                    "kind": "gaussian_init",
                    "loss": beside["final_loss"],
                    "train_loss": beside["train_loss"],
                    "validation_loss": beside["validation_loss"],
                }
            )
    return pd.DataFrame(rows).astype({"d": "Int64", "seed": "Int64"})


#: Figure 5's series of the trained runs (docs/theory.md eq. (44)).
REFINED = "sample, refined from the designed encoder"
GAUSSIAN_INIT = "sample, from a Gaussian initialisation"


def reconstruction_table(images: dict, records: dict, runs: dict, preps: dict, count: int) -> pd.DataFrame:
    """Figure 6: the first `count` test images and their reconstructions, in pixel values in [0, 1].

    images: {dataset: path of the raw .npz}; records: {dataset: its images.json, whose SHA-256 is checked};
    runs: {dataset: [json of a run per r]};
    preps: {dataset: (variant npz path, variant json path)} of the variant the runs were trained on.
    One row per pixel: dataset, image, r (empty for the original), height, width, channels, pixel, value.
    """
    rows = []
    for dataset, run_list in runs.items():
        prep = load_prepared(*preps[dataset])
        prep_info = prep.info
        _, x_test, _ = load_images(images[dataset], records[dataset], test_samples=count)  # checks its SHA-256
        raw = x_test[:count]
        shape = raw.shape[1:3] + ((1,) if (raw.ndim == 3 or prep_info["grayscale"]) else (3,))
        originals = flatten(raw, prep_info["grayscale"])  # (count, pixels)
        versions = [(None, originals)]
        for path in run_list:
            meta, arr = load(path)
            x = prep.x_test[:count].astype(np.float64)  # (count, d)
            x_hat = np.sign(x @ arr["B"].T) @ arr["A"].T  # (count, d)
            versions.append((meta["r"], np.clip(x_hat @ prep.pixel_map + prep.pixel_mean, 0, 1)))
        for r, pix in versions:
            for i in range(count):
                for j, v in enumerate(pix[i]):
                    rows.append((dataset, i, r, shape[0], shape[1], shape[2], j, float(v)))
    return pd.DataFrame(rows, columns=["dataset", "image", "r", "height", "width", "channels", "pixel", "value"])


def sparse_table(runs, deep=()) -> pd.DataFrame:
    """Figure 7: sparse (Bernoulli-Gaussian) data (docs/theory.md eq. (39)). Theory rows per p on a grid of r:
    R*(r) (the linear decoder's limit) and mmse_BG(p, v(r)) (the denoised prediction). One row per run and
    decoder: "linear" (predicted R*(r)), "eta" (the posterior-mean denoiser) and "learned" (the learned
    coordinate-wise denoiser), both predicted mmse_BG(p, v(r)); ``calibrated`` is mmse_BG(p, v) at the noise
    variance v measured for that encoder, ``loss_se`` each test loss's standard error. The linear rows also carry
    the rows' axis alignment (signae.evaluate.axis_alignment) and the exact risk of the axis-aligned encoder where
    n <= d. Rows of kind "reference" hold the same three losses of the ideal encoder at the run's d and n with the
    same decoder fits (signae.sparse_source.reference, eq. (48)): the finite-d value each claim compares with.

    ``deep``: the deep decoders (signae.deep_decoder, eq. (42)), one "deep" row each, with the linear
    decoder's and the learned denoiser's losses on the same test samples (``paired_linear``,
    ``paired_learned``): depth's gain is loss / paired_learned - 1."""
    from . import sparse  # here, not at the top: it imports torch, which the other builders do without

    rows, metas = [], []
    for path in runs:
        meta, arrays = load(path)
        metas.append(meta)
        p, d, n, r = meta["sparsity"], meta["d"], meta["n"], meta["r"]
        common = {"kind": "trained", "p": p, "r": r, "d": d, "seed": meta["seed"]}
        axis = sparse.axis_aligned_risk(p, n, d) if n <= d else None
        rows.append(
            {
                **common,
                "series": "linear",
                "loss": meta["final_loss"],
                "loss_se": meta["final_loss_se"],
                "predicted": meta["predicted_loss"],
                "axis_alignment": float(evaluate.axis_alignment(arrays["B"]).mean()),
                "axis_aligned_risk": axis,
            }
        )
        for series, key in (("eta", "loss_eta"), ("learned", "loss_learned_denoiser")):
            rows.append(
                {
                    **common,
                    "series": series,
                    "loss": meta[key],
                    "loss_se": meta[f"{key}_se"],
                    "predicted": meta["predicted_denoised"],
                    "calibrated": meta["calibrated_denoised"],
                }
            )
        ideal = meta["reference"]  # the ideal encoder at this d and n, same decoder fits (eq. (48))
        for series, key, predicted in (
            ("linear", "loss", meta["predicted_loss"]),
            ("eta", "loss_eta", meta["predicted_denoised"]),
            ("learned", "loss_learned_denoiser", meta["predicted_denoised"]),
        ):
            rows.append(
                {
                    **common,
                    "kind": "reference",
                    "series": series,
                    "loss": ideal[key],
                    "loss_se": ideal["loss_se" if key == "loss" else f"{key}_se"],
                    "predicted": predicted,
                    "calibrated": sparse.mmse(p, ideal["noise_variance"]) if series != "linear" else None,
                }
            )
    for path in deep:
        rec = json.loads(Path(path).read_text())
        rows.append(
            {
                "kind": "trained",
                "p": rec["sparsity"],
                "r": rec["r"],
                "d": rec["d"],
                "seed": rec["seed"],
                "series": "deep",
                "loss": rec["loss_deep"],
                "loss_se": rec["loss_deep_se"],
                "predicted": sparse.denoised_prediction(rec["sparsity"], rec["r"]),
                "paired_linear": rec["paired_loss_linear"],
                "paired_learned": rec["paired_loss_learned_denoiser"],
            }
        )
    rates = sorted({m["r"] for m in metas})
    grid = theory_grid([rates[0] / 2, *rates, rates[-1] * 2], points=60) if metas else []  # curves beyond the points
    for p in sorted({m["sparsity"] for m in metas}, reverse=True):
        for rate in grid:
            rows.append({"series": "R*(r)", "kind": "theory", "p": p, "r": rate, "loss": theory.optimal_risk(rate)})
            rows.append(
                {
                    "series": "mmse_BG(p, v(r))",
                    "kind": "theory",
                    "p": p,
                    "r": rate,
                    "loss": sparse.denoised_prediction(p, rate),
                }
            )
    df = pd.DataFrame(rows)
    return df.astype({"d": "Int64", "seed": "Int64"})


def phase_table(points) -> pd.DataFrame:
    """Figure 10: the phase transition of the Bernoulli-Rademacher source (docs/theory.md eq. (51) to eq. (54)).
    ``points``: the rule train_phase's JSON files. Rows of kind "trained" (one per run: init, seed, test loss and
    its standard error, the rows' mean concentration sum_j bbar_ij^4 and largest |entry|) and "candidate" (the
    rotation and the identity at the same d with the same decoder fit), each with ``critical`` = p*(n) of
    eq. (54); rows of kind "theory": the closed forms on a grid of p per d and r, the axis-aligned risk
    (eq. (52), "identity") and R*(r) ("rotation, d -> infinity")."""
    from . import sparse  # here, not at the top: it imports torch, which the other builders do without

    rows, shapes = [], set()
    for path in points:
        rec = json.loads(Path(path).read_text())
        shapes.add((rec["d"], rec["n"]))
        rows += [{**row, "critical": rec["critical_sparsity"]} for row in rec["rows"]]
    for d, n in sorted(shapes):
        critical = sparse.critical_sparsity(n / d, "rademacher", n)
        for p in np.linspace(0.05, 1.0, 96):
            base = {"kind": "theory", "p": float(p), "d": d, "n": n, "r": n / d, "critical": critical}
            rows.append({**base, "init": "identity", "loss": sparse.axis_aligned_risk(float(p), n, d, "rademacher")})
            rows.append({**base, "init": "rotation, d -> infinity", "loss": theory.optimal_risk(n / d)})
    df = pd.DataFrame(rows)
    first = ["kind", "init", "p", "d", "n", "r", "seed", "loss"]
    return df[[c for c in first if c in df] + [c for c in df if c not in first]].astype({"d": "Int64"})


def message_passing_table(points) -> pd.DataFrame:
    """Figure 11: the decoder that unrolls message passing (docs/theory.md eq. (55), eq. (56)). ``points``: the rule
    message_passing's JSON files, one per (p, r). Rows of kind "state evolution" (the ideal encoder as
    d -> infinity, ``loss`` at depth k = 0 ... K: k = 0 the first linear step, k = 1 the single denoiser) and
    "unrolled" (one per encoder, d, seed and depth: ``loss`` and ``loss_se`` measured on fresh samples,
    ``predicted`` the state evolution of that encoder's own spectrum), and "learned" (the decoder with learned
    precisions, eq. (57), at its last depth K only, which it was trained for; the ideal encoder at one d, on the
    same test samples as the unrolled rows of that d)."""
    rows = []
    for path in points:
        rec = json.loads(Path(path).read_text())
        p, r = rec["sparsity"], rec["r"]
        rows += [{"kind": "state evolution", "encoder": "ideal", "p": p, "r": r, "depth": k, "loss": v}
                 for k, v in enumerate(rec["state_evolution"])]  # fmt: skip
        for enc in rec["encoders"]:
            base = {"kind": "unrolled", "encoder": enc["encoder"], "p": p, "r": r, "d": enc["d"], "seed": enc["seed"]}
            for k, (loss, se, pred) in enumerate(zip(enc["loss"], enc["loss_se"], enc["state_evolution"], strict=True)):
                rows.append({**base, "depth": k, "loss": loss, "loss_se": se, "predicted": pred})
        learned = rec["learned"]
        rows.append({"kind": "learned", "encoder": learned["encoder"], "p": p, "r": r, "d": learned["d"],
                     "seed": learned["seed"], "depth": learned["depth"], "loss": learned["loss"],
                     "loss_se": learned["loss_se"], "predicted": learned["state_evolution"]})  # fmt: skip
    df = pd.DataFrame(rows, columns=["kind", "encoder", "p", "r", "d", "seed", "depth", "loss", "loss_se", "predicted"])
    return df.astype({"d": "Int64", "seed": "Int64"})


def real_denoiser_table(denoised: dict) -> pd.DataFrame:
    """Figure 8: the pixel-domain denoiser after the linear decoder on real images (docs/theory.md eq. (43)).
    ``denoised``: {dataset: the rule real_denoiser's JSON}. One row per run and decoder ("linear",
    "denoised") with the test loss (``loss``) and the training loss (``train_loss``); the denoised rows carry the
    test loss's standard error, the linear decoder's noise level in pixel units and the prediction, the
    scalar-channel MMSE of the training pixels at that level (eq. (50)); and the fitted
    function as rows of series "phi" (pixel value ``u`` -> ``value``), for every run."""
    rows = []
    for dataset, path in denoised.items():
        for rec in json.loads(Path(path).read_text())["runs"]:
            common = {"dataset": dataset, "r": rec["r"], "d": rec["d"], "seed": rec["seed"]}
            for series in ("linear", "denoised"):
                rows.append(
                    {
                        **common,
                        "series": series,
                        "loss": rec[f"loss_{series}"],
                        "train_loss": rec[f"train_loss_{series}"],
                        **(
                            {"loss_se": rec["loss_denoised_se"], "predicted": rec["predicted_denoised"],
                             "noise_variance": rec["noise_variance"]}
                            if series == "denoised" else {}
                        ),
                    }
                )  # fmt: skip
            curve = zip(rec["phi_u"], rec["phi"], strict=True)
            rows += [{**common, "series": "phi", "u": u, "value": v} for u, v in curve]
    columns = ["dataset", "r", "d", "seed", "series", "loss", "train_loss", "loss_se", "predicted", "noise_variance"]
    df = pd.DataFrame(rows, columns=[*columns, "u", "value"])
    return df.astype({"d": "Int64", "seed": "Int64"})


def structure_table(structure: dict) -> pd.DataFrame:
    """Figure 9: what trained encoders exploit in the images (docs/theory.md eq. (47)).
    ``structure``: {dataset: the rule structure's CSV}. Rows of kind "encoder" (test loss, water-filling,
    mean sign efficiency and excess kurtosis of the projections, localisation, misallocated fraction), "unit"
    (one unit's statistics) and "allocation" (learned m_i per eigen-direction), for data "images" and
    "shuffled" (principal components shuffled independently) and encoder "trained" (from a Gaussian start, on
    that data), "designed" and, on the images, "refined" (figure 5's runs)."""
    frames = [pd.read_csv(path).assign(dataset=dataset) for dataset, path in structure.items()]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["dataset", "kind", "loss"])
    first = ["dataset", "kind", "data", "encoder", "r", "d", "seed"]
    return df[[c for c in first if c in df] + [c for c in df if c not in first]]
