"""The Bernoulli-Gaussian source as a batch source of the sample-based trainer (signae.train.fit_on_samples),
with the measurements of figure 7's decoders: linear, posterior-mean denoiser, learned denoiser.

Kept apart from signae.train so that the rules that import the trainers do not depend on figure 7's code.
"""

from __future__ import annotations

import torch

from . import sparse
from .train import SampledSource, fit_decoder


class SparseSource(SampledSource):
    """Fresh Bernoulli-Gaussian samples (sparsity p, Sigma = I; signae.sparse) as the batch source of
    :func:`signae.train.fit_on_samples` (docs/theory.md eq. (37)).

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
        g = torch.Generator(device=device).manual_seed(10_000 + seed)  # the evaluation set, apart from the stream
        self.X_eval = sparse.sample(eval_samples, d, p, g, device, dtype)  # (eval_samples, d)

    def _sample(self, k: int, g: torch.Generator) -> torch.Tensor:  # (k, d)
        return sparse.sample(k, self.d, self.p, g, self.device, self.dtype)

    def risk(self, V: torch.Tensor) -> torch.Tensor:
        F = sparse.sign_bit(self.X_eval @ V.detach().T)  # (eval, n)
        A = fit_decoder([(F, self.X_eval)])  # (d, n)
        return ((self.X_eval.double() - F.double() @ A.T).square().sum(1).mean() / self.d).float()

    def finish(self, V: torch.Tensor, g: torch.Generator, chunk: int = 16384) -> tuple[torch.Tensor, float, dict]:
        """(A, linear-decoder test loss, extra): extra holds alpha, the effective noise variance v, and the
        test losses of the posterior-mean denoiser eta and of the learned coordinate-wise denoiser applied
        to x_lin / alpha (signae.sparse)."""

        def chunks(count):
            for start in range(0, count, chunk):
                X = self._sample(min(chunk, count - start), g)  # (k, d)
                yield sparse.sign_bit(X @ V.T), X

        A = fit_decoder(chunks(self.fit_samples))  # (d, n)
        # calibration on fresh samples: x_lin = alpha x + w, alpha = <x, x_lin> / <x, x>, v = E (x_lin/alpha - x)^2
        F, X = next(chunks(min(4 * chunk, max(chunk, self.fit_samples))))
        Xlin = F @ A.T.to(F.dtype)  # (k, d)
        alpha = float((X * Xlin).sum() / X.square().sum())
        v = float((Xlin / alpha - X).square().mean())
        denoiser = sparse.fit_denoiser(Xlin / alpha, X, seed=int(self.fit_samples) % 1000)
        sse = {"linear": 0.0, "eta": 0.0, "learned": 0.0}
        with torch.no_grad():
            for F, X in chunks(self.test_samples):
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
