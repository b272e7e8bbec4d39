"""The Bernoulli-Gaussian source as a batch source of the sample-based trainer (signae.train.train_on_samples),
with the measurements of figure 7's decoders (linear, posterior-mean denoiser, learned denoiser), and one
checked training run on it (:func:`run`, what the rule ``train_sparse`` calls).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from . import sparse, theory, train
from .denoisers import train_denoiser
from .device import resolve_device
from .linalg import ideal_encoder, unit_rows
from .runs import RunSpec, TrainingDiverged, check_trained, diverged, run_provenance, step_keys
from .train import SampledSource, fit_decoder


class SparseSource(SampledSource):
    """Fresh Bernoulli-Gaussian samples (sparsity p, Sigma = I; signae.sparse) as the batch source of
    :func:`signae.train.train_on_samples` (docs/theory.md eq. (37)).

    No closed form gives this source's risk, so the recorded curve is the in-sample risk of the
    least-squares decoder on one fixed evaluation set of ``eval_samples`` (drawn once from ``seed``). The
    final decoder is fitted on ``fit_samples`` fresh samples and every final loss is measured on
    ``test_samples`` further fresh samples, all with one-bit features sign(0) = +1. ``finish`` also
    measures the two denoising decoders (signae.sparse) on the same test samples.
    """

    def __init__(
        self,
        d: int,
        p: float,
        device: torch.device,
        dtype: torch.dtype,
        fit_samples: int,
        test_samples: int,
        eval_samples: int = 16384,
        seed: int = 0,
        law: str = "gaussian",
        init: str = "gaussian",
        denoise: bool = True,
    ):
        if init not in ("gaussian", "rotation"):
            raise ValueError(f"init must be 'gaussian' or 'rotation', got {init!r}")
        self.d, self.p, self.device, self.dtype, self.law, self.init = d, p, device, dtype, law, init
        self.lambda_max = 1.0  # Sigma = I
        self.fit_samples, self.test_samples = fit_samples, test_samples
        self.seed = seed  # the learned denoiser's
        self.denoise = denoise  # finish() also measures the denoisers (figure 7); else the linear decoder only
        g = torch.Generator(device=device).manual_seed(10_000 + seed)  # the evaluation set, apart from the stream
        self.X_eval = sparse.draw(eval_samples, d, p, g, device, dtype, law)  # (eval_samples, d)

    def _draw(self, k: int, g: torch.Generator) -> torch.Tensor:  # (k, d)
        return sparse.draw(k, self.d, self.p, g, self.device, self.dtype, self.law)

    def init_encoder(self, n: int, seed: int) -> torch.Tensor:
        """A Gaussian initialisation, or (``init="rotation"``) n orthonormal rows of a Haar rotation (n <= d)."""
        if self.init == "gaussian":
            return super().init_encoder(n, seed)
        if n > self.d:
            raise ValueError(f"a rotation has at most d = {self.d} orthonormal rows, asked for n = {n}")
        rows = ideal_encoder(n, self.d, seed)  # (n, d) orthonormal rows
        return torch.as_tensor(rows, dtype=self.dtype, device=self.device)

    def risk(self, V: torch.Tensor) -> torch.Tensor:
        F = sparse.sign_bit(self.X_eval @ V.detach().T)  # (eval, n)
        A = fit_decoder([(F, self.X_eval)])  # (d, n)
        return ((self.X_eval.double() - F.double() @ A.T).square().sum(1).mean() / self.d).float()

    def chunks(self, V: torch.Tensor, count: int, g: torch.Generator, chunk: int = 16384):
        """Fresh samples in chunks: (sign features F (k, n), X (k, d)), sign(0) = +1."""
        for start in range(0, count, chunk):
            X = self._draw(min(chunk, count - start), g)  # (k, d)
            yield sparse.sign_bit(X @ V.T), X

    def decoders(self, V: torch.Tensor, g: torch.Generator, seed: int, chunk: int = 16384):
        """The linear decoder and the learned denoiser of an encoder V (n, d), from fresh samples:
        (A (d, n), alpha, v, denoiser). A is the least-squares fit on ``fit_samples``; the calibration
        x_lin = alpha x + w, alpha = <x, x_lin> / <x, x>, v = E (x_lin / alpha - x)^2, and the learned denoiser
        (fitted on pairs (x_lin / alpha, x) with ``seed``) come from one further chunk set
        (docs/theory.md eq. (39), eq. (41))."""
        A = fit_decoder(self.chunks(V, self.fit_samples, g, chunk))  # (d, n)
        F, X = next(self.chunks(V, min(4 * chunk, max(chunk, self.fit_samples)), g, 4 * chunk))
        Xlin = F @ A.T.to(F.dtype)  # (k, d)
        alpha = float((X * Xlin).sum() / X.square().sum())
        v = float((Xlin / alpha - X).square().mean())
        denoiser = train_denoiser(Xlin / alpha, X, seed=seed)
        return A, alpha, v, denoiser

    def test_losses(self, V: torch.Tensor, decoders: dict, g: torch.Generator, chunk: int = 16384) -> dict:
        """{name: (test loss, its standard error)} of the encoder V (n, d) with each decoder of ``decoders``
        ({name: F (k, n) -> x_hat (k, d)}), all on the same ``test_samples`` fresh samples: the loss the mean of
        ||x - x_hat||^2 / d over the samples, the standard error that of a mean of that many i.i.d. terms
        (docs/theory.md eq. (48))."""
        sums = {name: [0.0, 0.0] for name in decoders}  # sum and sum of squares of the per-sample losses
        with torch.no_grad():
            for F, X in self.chunks(V, self.test_samples, g, chunk):
                for name, decode in decoders.items():
                    per = (X - decode(F)).double().square().sum(dim=1) / self.d  # (k,) one per sample
                    sums[name][0] += float(per.sum())
                    sums[name][1] += float(per.square().sum())
        out = {}
        for name, (total, squares) in sums.items():
            mean = total / self.test_samples
            out[name] = (mean, math.sqrt(max(squares / self.test_samples - mean**2, 0.0) / self.test_samples))
        return out

    def linear(self, V: torch.Tensor, g: torch.Generator, chunk: int = 16384) -> tuple[torch.Tensor, float, float]:
        """(A, test loss, its standard error) of the encoder V (n, d) with its least-squares decoder A, fitted on
        ``fit_samples`` fresh samples (:meth:`test_losses`)."""
        A = fit_decoder(self.chunks(V, self.fit_samples, g, chunk))  # (d, n)
        At = A.T.to(self.dtype)  # (n, d)
        loss, se = self.test_losses(V, {"linear": lambda F: F @ At}, g, chunk)["linear"]
        return A, loss, se

    def finish(self, V: torch.Tensor, g: torch.Generator, chunk: int = 16384) -> tuple[torch.Tensor, float, dict]:
        """(A, linear-decoder test loss, extra): extra holds alpha, the effective noise variance v, the test losses
        of the posterior-mean denoiser eta and of the learned coordinate-wise denoiser applied to x_lin / alpha
        (signae.sparse), and the standard error of each loss (:meth:`test_losses`); with ``denoise=False`` only
        the linear decoder's loss and its standard error (:meth:`linear`)."""
        if not self.denoise:
            A, loss, se = self.linear(V, g, chunk)
            return A, loss, {"loss_se": se}
        A, alpha, v, denoiser = self.decoders(V, g, self.seed, chunk)
        At = A.T.to(self.dtype)  # (n, d)
        decoders = {
            "linear": lambda F: F @ At,
            "eta": lambda F: sparse.posterior_mean(F @ At / alpha, self.p, v),
            "learned": lambda F: denoiser(F @ At / alpha),
        }
        losses = self.test_losses(V, decoders, g, chunk)
        extra = {
            "alpha": alpha,
            "noise_variance": v,
            "loss_se": losses["linear"][1],
            "loss_eta": losses["eta"][0],
            "loss_eta_se": losses["eta"][1],
            "loss_learned_denoiser": losses["learned"][0],
            "loss_learned_denoiser_se": losses["learned"][1],
        }
        return A, losses["linear"][0], extra


REFERENCE_STREAM = 40_000  # the ideal encoder's samples: generator seed REFERENCE_STREAM + seed, apart from the run's


def reference(source: SparseSource, n: int, seed: int) -> dict:
    """The ideal encoder at the run's d and n (signae.linalg.ideal_encoder: Haar rows, or a tight frame for n > d)
    with the run's decoders fitted and tested on as many fresh samples (:meth:`SparseSource.finish`): what the
    trained encoder is compared with at the size that was run (docs/theory.md eq. (48))."""
    V = torch.as_tensor(ideal_encoder(n, source.d, seed), dtype=source.dtype, device=source.device)  # (n, d)
    g = torch.Generator(device=source.device).manual_seed(REFERENCE_STREAM + seed)
    _, loss, extra = source.finish(V, g)
    return {"encoder": "ideal (Haar rows; tight frame for n > d)", "loss": loss, **extra}


def run(
    spec: RunSpec, settings: dict, device: str = "auto", section: str = "sparse.trainer"
) -> tuple[train.TrainResult, dict]:
    """Train on the Bernoulli-Gaussian source of sparsity spec.sparsity (signae.sparse) with the sample-based
    trainer; the final loss is the linear decoder's on fresh test samples, and the metadata adds the
    denoised losses and their predictions (docs/theory.md eq. (39)), each loss's standard error, and the same
    losses of the ideal encoder at this d and n (:func:`reference`, eq. (48)). ``section``: the config section of
    ``settings``, named if the run diverges."""
    dev = resolve_device(device)
    d, n, p = spec.d, spec.n, spec.sparsity
    s = dict(settings)
    source = SparseSource(
        d,
        p,
        dev,
        torch.float32,
        fit_samples=s["fit_samples_per_unit"] * n,
        test_samples=s["test_samples_per_unit"] * n,
        eval_samples=s["eval_samples"],
        seed=spec.seed,
    )
    what, keys = f"run {spec.stem}", step_keys(section, s)
    try:
        res = train.train_on_samples(source, n, **{**train.options(train.train_on_samples, s), "seed": spec.seed})
    except torch.linalg.LinAlgError as err:
        raise diverged(what, keys, err) from err
    check_trained(res, what, keys, trivial=1.0)
    ideal = reference(source, n, spec.seed)
    for where, losses in (("", res.extra), ("the ideal encoder's ", ideal)):
        for key in ("loss", "loss_eta", "loss_learned_denoiser"):
            if key in losses and not 0 <= losses[key] < 1.0:
                raise TrainingDiverged(
                    f"run {spec.stem}: {where}loss {key} = {losses[key]:.6g} is not in [0, 1) (the trivial risk); "
                    "nothing was saved. Check sparse.trainer in the config"
                )
    r = n / d
    meta = {
        "source": spec.source,
        "trainer": spec.trainer,
        "sparsity": p,
        "d": d,
        "n": n,
        "r": r,
        "seed": spec.seed,
        "settings": s,
        "final_loss": res.final_loss,
        "final_loss_se": res.extra["loss_se"],
        "predicted_loss": float(theory.optimal_risk(r)),
        "loss_eta": res.extra["loss_eta"],
        "loss_eta_se": res.extra["loss_eta_se"],
        "loss_learned_denoiser": res.extra["loss_learned_denoiser"],
        "loss_learned_denoiser_se": res.extra["loss_learned_denoiser_se"],
        "reference": ideal,
        "alpha": res.extra["alpha"],
        "noise_variance": res.extra["noise_variance"],
        "predicted_denoised": sparse.denoised_prediction(p, r),
        "calibrated_denoised": sparse.mmse(p, res.extra["noise_variance"]),
        "sign_convention": "sign(0) = +1",
        "extra": res.extra,
        **run_provenance(res, dev),
    }
    return res, meta


# --- the phase transition of the Bernoulli-Rademacher source (figure 10; docs/theory.md section 9) ----------


def concentration(B: np.ndarray) -> np.ndarray:
    """sum_j bbar_ij^4 per row of B (n, d) (docs/theory.md eq. (12)): 1 for a row on a coordinate axis, about
    3 / (d + 2) for a random direction; the rows' inverse participation ratio over d. -> (n,)"""
    Bbar = unit_rows(np.asarray(B, dtype=np.float64))
    return (Bbar**4).sum(axis=1)


def candidate(V: np.ndarray, p: float, trainer: dict, seed: int, device) -> tuple[float, float]:
    """(test loss, standard error) of a fixed encoder V (n, d) on the Bernoulli-Rademacher source of sparsity p,
    with the least-squares decoder fitted and tested on as many fresh samples as the phase runs use
    (``trainer``: fit_samples_per_unit, test_samples_per_unit; docs/theory.md eq. (48), eq. (54))."""
    n, d = V.shape
    source = SparseSource(
        d, p, device, torch.float32, trainer["fit_samples_per_unit"] * n, trainer["test_samples_per_unit"] * n,
        eval_samples=1, seed=seed, law="rademacher", denoise=False,
    )  # fmt: skip
    g = torch.Generator(device=device).manual_seed(REFERENCE_STREAM + seed)  # apart from every run's streams
    _, loss, se = source.linear(torch.as_tensor(V, dtype=torch.float32, device=device), g)
    return loss, se


def phase_point(p: float, d: int, r: float, settings: dict, device="auto") -> tuple[list[dict], dict]:
    """One point (p, d, r) of figure 10 (docs/theory.md eq. (51) to eq. (54)): the sample-based trainer on the
    Bernoulli-Rademacher source from every initialisation ("gaussian", "rotation") and seed of ``settings``
    (signae.registry.phase_settings: trainer, seeds, inits), and the two candidates at the same d with the same
    decoder fit: the rows of a Haar rotation (delocalised) and the first n coordinate axes (the identity).
    Returns (rows, {"<init>_seed<k>": trained encoder B (n, d)}); each row holds the test loss, its standard error,
    the rows' mean concentration (:func:`concentration`) and mean largest |entry|; a candidate's row also its
    closed form with the exact decoder (``predicted``: R*(r), eq. (52)) and the decoder fit's relative excess
    n / (N - n) (``fit_excess``)."""
    dev = resolve_device(device)
    n = theory.hidden_units(r, d)
    t = dict(settings["trainer"])
    base = {"p": p, "d": d, "n": n, "r": n / d}
    rows, encoders = [], {}
    keys = step_keys("phase.trainer", t)
    for init in settings["inits"]:
        for seed in settings["seeds"]:
            source = SparseSource(
                d, p, dev, torch.float32, t["fit_samples_per_unit"] * n, t["test_samples_per_unit"] * n,
                eval_samples=t["eval_samples"], seed=seed, law="rademacher", init=init, denoise=False,
            )  # fmt: skip
            what = f"figure 10's run at p = {p:g}, d = {d}, init {init}, seed {seed}"
            try:
                res = train.train_on_samples(source, n, **{**train.options(train.train_on_samples, t), "seed": seed})
            except torch.linalg.LinAlgError as err:
                raise diverged(what, keys, err) from err
            check_trained(res, what, keys, trivial=1.0)
            rows.append(
                {**base, "kind": "trained", "init": init, "seed": seed, "loss": res.final_loss,
                 "loss_se": res.extra["loss_se"], "concentration": float(concentration(res.B).mean()),
                 "max_entry": float(np.abs(unit_rows(res.B)).max(axis=1).mean()), "wall_time_s": res.wall_time_s}
            )  # fmt: skip
            encoders[f"{init}_seed{seed}"] = res.B
    seed = settings["seeds"][0]
    closed = {"rotation": theory.optimal_risk(n / d), "identity": sparse.axis_aligned_risk(p, n, d, "rademacher")}
    fit = t["fit_samples_per_unit"] * n
    for name, V in (("rotation", ideal_encoder(n, d, seed)), ("identity", np.eye(d)[:n])):  # (n, d) each
        loss, se = candidate(V, p, t, seed, dev)
        rows.append(
            {**base, "kind": "candidate", "init": name, "seed": seed, "loss": loss, "loss_se": se,
             "concentration": float(concentration(V).mean()), "max_entry": float(np.abs(V).max(axis=1).mean()),
             "predicted": closed[name], "fit_excess": n / (fit - n)}
        )  # fmt: skip
    return rows, encoders
