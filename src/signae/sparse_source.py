"""The Bernoulli-Gaussian source as a batch source of the sample-based trainer (signae.train.train_on_samples),
with the measurements of figure 7's decoders (linear, posterior-mean denoiser, learned denoiser), and one
checked training run on it (:func:`run`, what the rule ``train_sparse`` calls).
"""

from __future__ import annotations

import torch

from . import sparse, theory, train
from .denoisers import train_denoiser
from .device import resolve_device
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
    ):
        self.d, self.p, self.device, self.dtype = d, p, device, dtype
        self.lambda_max = 1.0  # Sigma = I
        self.fit_samples, self.test_samples = fit_samples, test_samples
        self.seed = seed  # the learned denoiser's
        g = torch.Generator(device=device).manual_seed(10_000 + seed)  # the evaluation set, apart from the stream
        self.X_eval = sparse.draw(eval_samples, d, p, g, device, dtype)  # (eval_samples, d)

    def _draw(self, k: int, g: torch.Generator) -> torch.Tensor:  # (k, d)
        return sparse.draw(k, self.d, self.p, g, self.device, self.dtype)

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

    def finish(self, V: torch.Tensor, g: torch.Generator, chunk: int = 16384) -> tuple[torch.Tensor, float, dict]:
        """(A, linear-decoder test loss, extra): extra holds alpha, the effective noise variance v, and the
        test losses of the posterior-mean denoiser eta and of the learned coordinate-wise denoiser applied
        to x_lin / alpha (signae.sparse)."""
        A, alpha, v, denoiser = self.decoders(V, g, self.seed, chunk)
        sse = {"linear": 0.0, "eta": 0.0, "learned": 0.0}
        with torch.no_grad():
            for F, X in self.chunks(V, self.test_samples, g, chunk):
                Xlin = F @ A.T.to(F.dtype)
                Y = Xlin / alpha
                sse["linear"] += float((X - Xlin).double().square().sum())
                sse["eta"] += float((X - sparse.posterior_mean(Y, self.p, v)).double().square().sum())
                sse["learned"] += float((X - denoiser(Y)).double().square().sum())
        per = {k: s / (self.test_samples * self.d) for k, s in sse.items()}
        extra = {
            "alpha": alpha,
            "noise_variance": v,
            "loss_eta": per["eta"],
            "loss_learned_denoiser": per["learned"],
        }
        return A, per["linear"], extra


def run(
    spec: RunSpec, settings: dict, device: str = "auto", section: str = "sparse.trainer"
) -> tuple[train.TrainResult, dict]:
    """Train on the Bernoulli-Gaussian source of sparsity spec.sparsity (signae.sparse) with the sample-based
    trainer; the final loss is the linear decoder's on fresh test samples, and the metadata adds the
    denoised losses and their predictions (docs/theory.md eq. (39)). ``section``: the config section of
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
    for key in ("loss_eta", "loss_learned_denoiser"):
        if not 0 <= res.extra[key] < 1.0:
            raise TrainingDiverged(
                f"run {spec.stem}: the denoised loss {key} = {res.extra[key]:.6g} is not in [0, 1) (the trivial "
                f"risk); nothing was saved. Check sparse.trainer in the config"
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
        "predicted_loss": float(theory.optimal_risk(r)),
        "loss_eta": res.extra["loss_eta"],
        "loss_learned_denoiser": res.extra["loss_learned_denoiser"],
        "alpha": res.extra["alpha"],
        "noise_variance": res.extra["noise_variance"],
        "predicted_denoised": sparse.denoised_prediction(p, r),
        "calibrated_denoised": sparse.mmse(p, res.extra["noise_variance"]),
        "sign_convention": "sign(0) = +1",
        "extra": res.extra,
        **run_provenance(res, dev),
    }
    return res, meta
