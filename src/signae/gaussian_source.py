"""The Gaussian source x ~ N(0, Sigma): its fresh draws as batch sources of the sample-based trainer, and one
checked training run on it with any trainer (figures 1-4; docs/theory.md sections 3 and 4).

:func:`run` is what the rule ``train`` calls (workflow/scripts/train.py); the tests and the benchmarks call it
too, so every path through the package trains the same way. :data:`TRAINERS` names the function of each
trainer of the config section ``trainers``; they all take (d, n, seed, Sigma, device) and the keyword
arguments their settings give (:func:`signae.train.options`). A result that cannot be right raises
:class:`signae.runs.TrainingDiverged` before anything is saved.
"""

from __future__ import annotations

import numpy as np
import torch

from . import population as pop
from . import spectra, theory, train
from .device import resolve_device
from .linalg import unit_rows
from .runs import RunSpec, check_trained, diverged, run_provenance, step_keys
from .train import BatchSource, SampledSource, TrainResult, fresh_decoder, gaussian_init, train_on_samples


class GaussianSource(SampledSource):
    """Fresh samples x ~ N(0, I_d) as the batch source of :func:`signae.train.train_on_samples` (a general covariance:
    :class:`SpectralGaussianSource`).

    The encoder acts on x itself (Z = X), its rows are B; the recorded curve and the final loss are
    the exact population risk (no sampling noise); the final decoder is the least-squares fit of
    true-sign features on ``fit_samples`` fresh samples.
    """

    def __init__(self, d: int, device: torch.device, dtype: torch.dtype, fit_samples: int | None = None):
        self.d, self.device, self.dtype = d, device, dtype
        self.lambda_max = 1.0
        self.fit_samples = fit_samples  # None: 200 n

    def _draw(self, k: int, g: torch.Generator) -> torch.Tensor:  # (k, d) rows ~ N(0, I)
        return torch.randn(k, self.d, generator=g, dtype=self.dtype, device=self.device)

    def risk(self, V: torch.Tensor) -> torch.Tensor:
        return pop.encoder_risk(V.detach().double())

    def finish(self, V: torch.Tensor, g: torch.Generator, chunk: int = 16384) -> tuple[torch.Tensor, float, dict]:
        """(A, exact risk of (A, V), extra): A is the least-squares decoder of true-sign features on
        fit_samples fresh samples (docs/theory.md eq. (23))."""
        A = fresh_decoder(self, V, g, chunk)
        B64 = V.double()
        return A, float(pop.risk(A, B64)), {"encoder_risk": float(pop.encoder_risk(B64))}


class SpectralGaussianSource(BatchSource):
    """Fresh samples x ~ N(0, Q diag(lambda) Q^T) with the encoder held in whitened coordinates, as the batch
    source of :func:`signae.train.train_on_samples`: the parametrisation of :class:`signae.real_source.SplitSource`, on
    Gaussian data whose optimum is known (water-filling); with a real variant's spectrum, samples of its
    Gaussian twin (docs/theory.md eq. (32)).

    eigenvalues (d,) descending; the encoder sees z, the whitened coordinates of the first ``kept``
    directions (lambda > 0 there), and x = Q (sqrt(lambda) * z_full) is reconstructed; Q (d, d) or None
    (the eigenbasis itself: a Gaussian initialisation is rotation invariant, so the basis does not change the
    distribution of any result). The recorded curve and the final loss are exact risks; the final decoder is
    the least-squares fit of true-sign features on ``fit_samples`` fresh samples (default 200 n).
    """

    def __init__(
        self,
        eigenvalues: np.ndarray,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        kept: int | None = None,
        Q: np.ndarray | None = None,
        fit_samples: int | None = None,
    ):
        lam = np.asarray(eigenvalues, dtype=float)
        if np.any(np.diff(lam) > 0) or lam.min() < 0:
            raise ValueError("eigenvalues must be non-negative and in descending order")
        self.d, self.k = lam.size, int(kept if kept is not None else np.sum(lam > 0))
        if not 1 <= self.k <= self.d or lam[self.k - 1] <= 0:
            raise ValueError(f"kept = {kept}: the encoder needs 1 <= kept <= d directions of positive variance")
        self.device, self.dtype, self.fit_samples = device, dtype, fit_samples
        self.eigenvalues = lam
        self.lambda_max = float(lam[0])
        self.sqrt_lam = torch.as_tensor(np.sqrt(lam), dtype=dtype, device=device)  # (d,)
        self.lam64 = torch.as_tensor(lam, dtype=torch.float64, device=device)  # (d,)
        self.Q = None if Q is None else torch.as_tensor(Q, dtype=dtype, device=device)  # (d, d)

    def init_encoder(self, n: int, seed: int) -> torch.Tensor:
        # Gaussian rows in x-space, B = G: V = B Sigma^{1/2} on the kept directions (as SplitSource)
        B0 = gaussian_init(n, self.d, seed, self.device, self.dtype)  # (n, d), in the eigenbasis
        return unit_rows(B0[:, : self.k] * self.sqrt_lam[: self.k])  # (n, k)

    def batch(self, k: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        Zf = torch.randn(k, self.d, generator=g, dtype=self.dtype, device=self.device)  # (k, d) white
        X = Zf * self.sqrt_lam  # (k, d) in the eigenbasis
        return Zf[:, : self.k], X if self.Q is None else X @ self.Q.T

    def to_x(self, V: torch.Tensor) -> torch.Tensor:
        B = torch.zeros(V.shape[0], self.d, dtype=V.dtype, device=V.device)
        B[:, : self.k] = V / self.sqrt_lam[: self.k].to(V.dtype)  # sign(B x) = sign(V z)
        return unit_rows(B if self.Q is None else B @ self.Q.T.to(V.dtype))  # (n, d)

    def risk(self, V: torch.Tensor) -> torch.Tensor:
        return pop.spectral_encoder_risk(V.detach().double(), self.lam64)

    def finish(self, V: torch.Tensor, g: torch.Generator, chunk: int = 16384) -> tuple[torch.Tensor, float, dict]:
        """(A, exact risk of (A, B), extra): A is the least-squares decoder of true-sign features on
        fit_samples fresh samples."""
        A = fresh_decoder(self, V, g, chunk)  # (d, n)
        B64 = self.to_x(V.double())
        Q64 = None if self.Q is None else self.Q.double()
        S64 = torch.diag(self.lam64) if Q64 is None else (Q64 * self.lam64) @ Q64.T  # (d, d)
        return (
            A,
            float(pop.risk(A, B64, S64)),
            {"encoder_risk": float(pop.spectral_encoder_risk(V.double(), self.lam64))},
        )


def sample_gd(
    d: int,
    n: int,
    steps: int,
    batch: int = 8192,
    lr: float = 1.0,
    sharpness: tuple[float, float] = (1.0, 3.0),
    fit_samples_per_unit: int = 200,
    seed: int = 0,
    Sigma: np.ndarray | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    record_every: int = 5,
    ridge: float = 1e-3,
    estimator: str = "tanh",
    momentum: float = 0.0,
) -> TrainResult:
    """Sample-based training on fresh Gaussian samples x ~ N(0, Sigma) (docs/theory.md eq. (21); with
    momentum > 0, the heavy-ball average of eq. (44)): :func:`signae.train.train_on_samples` on a
    :class:`GaussianSource` (Sigma None: the identity) or, for a general Sigma, on a
    :class:`SpectralGaussianSource` in Sigma's eigenbasis (encoder in whitened coordinates, as on real data).
    The recorded curve is the exact risk R(A*(B), B) of the current encoder; the returned decoder is fitted on
    fit_samples_per_unit * n fresh samples with the true sign.
    """
    device = torch.device(device)
    fit_samples = fit_samples_per_unit * n
    if Sigma is None:
        source = GaussianSource(d, device, dtype, fit_samples)
    else:
        evals, evecs = np.linalg.eigh(np.asarray(Sigma, dtype=float))
        order = np.argsort(evals)[::-1]
        source = SpectralGaussianSource(
            np.clip(evals[order], 0, None), device, dtype, Q=evecs[:, order], fit_samples=fit_samples
        )
    return train_on_samples(
        source,
        n,
        steps,
        batch=batch,
        lr=lr,
        sharpness=sharpness,
        seed=seed,
        record_every=record_every,
        ridge=ridge,
        estimator=estimator,
        momentum=momentum,
    )


#: The trainers of config section ``trainers`` (docs/theory.md eq. (19) to eq. (21)), by name: each takes
#: (d, n, seed=, Sigma=, device=) and the keyword arguments of its settings. A new trainer is one entry here
#: and its section in config/config.yaml (docs/layout.md, "Adding a trainer").
TRAINERS = {"pgd": train.projected_gd, "tied": train.tied_gd, "sample": sample_gd}


def run(
    spec: RunSpec,
    settings: dict,
    spectrum_args: dict | None = None,
    covariance_seed: int = 0,
    device: str = "auto",
    keys: str | None = None,
) -> tuple[TrainResult, dict]:
    """Train one autoencoder on Gaussian data with the trainer ``spec.trainer`` and its ``settings``. Returns the
    checked result and its metadata. ``keys``: the config keys of the step sizes, named if the run diverges
    (default: those of ``trainers.<trainer>``, :func:`signae.runs.step_keys`)."""
    dev = resolve_device(device)
    d, n = spec.d, spec.n
    Sigma, lam = spectra.gaussian_covariance(spec.source, d, spectrum_args or {}, covariance_seed)
    s = dict(settings)
    if spec.trainer not in TRAINERS:
        raise ValueError(f"unknown trainer {spec.trainer!r}; the trainers are {', '.join(TRAINERS)}")
    trainer = TRAINERS[spec.trainer]
    unknown = sorted(set(s) - set(train.options(trainer, s)))
    if unknown:  # a config key no argument of the trainer takes would be ignored silently
        raise ValueError(f"trainers.{spec.trainer}: {unknown} are not arguments of {trainer.__name__}; remove them")
    what, keys = f"run {spec.stem}", keys or step_keys(f"trainers.{spec.trainer}", s)
    try:
        res = trainer(d, n, seed=spec.seed, Sigma=Sigma, device=dev, **train.options(trainer, s))
    except torch.linalg.LinAlgError as err:
        raise diverged(what, keys, err) from err
    check_trained(res, what, keys, trivial=float(lam.sum()) / d)
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
