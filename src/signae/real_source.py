"""Training on real images: the rows of a preprocessed training split (signae.images) as the batch source of
the sample-based trainer, the designed encoder, the true-sign least-squares decoder of a split, and one checked
training run on a data variant (figures 5, 6, 8, 9; docs/theory.md eq. (29) to eq. (31), eq. (44)).

:func:`run` is what the rule ``train_real`` calls (workflow/scripts/train_real.py).
"""

from __future__ import annotations

import numpy as np
import torch

from . import theory, train
from .device import resolve_device
from .images import Prepared, load_prepared, trivial_loss
from .linalg import haar_rotation, unit_rows
from .runs import RunSpec, check_trained, diverged, run_provenance, step_keys
from .train import BatchSource, TrainResult, decoder_from_moments, gaussian_init, train_on_samples


def sum_of_squares(X: torch.Tensor, chunk: int = 16384) -> float:
    """sum ||x||^2 over the rows of a split, in float64, chunk by chunk as :func:`sign_fit` sums. X (N, d)."""
    total = 0.0
    for i in range(0, X.shape[0], chunk):  # a plain loop: sum() compensates float sums from Python 3.12 on
        total += float(X[i : i + chunk].double().pow(2).sum())
    return total


def sign_fit(
    V: torch.Tensor, Z: torch.Tensor, X: torch.Tensor, chunk: int = 16384, sxx: float | None = None
) -> tuple[torch.Tensor, float]:
    """(A, in-sample loss): the least-squares decoder of the true-sign features F = sign(Z V^T) of a split and
    its loss on that split, from one pass over the split (docs/theory.md eq. (23)).

    The products of a chunk are taken in Z's dtype (float32 on images) and summed over chunks in float64.
    F^T F is then exact: its entries are sums of at most ``chunk`` terms +-1 or 0, integers below 2^24.
    X^T F carries float32 rounding only (relative ~1e-7 per entry). The loss needs no second pass:
    sum ||x - A f||^2 = sum ||x||^2 - 2 <A, X^T F> + <A F^T F, A>; ``sxx``, sum ||x||^2 of the split
    (:func:`sum_of_squares`), does not depend on the encoder: a caller that fits several encoders gives it.
    V (n, k), Z (N, k), X (N, d). -> (A (d, n) float64, loss float).
    """
    V = V.to(Z.dtype)
    ff = xf = None
    for i in range(0, Z.shape[0], chunk):
        F = torch.sign(Z[i : i + chunk] @ V.T)  # (c, n)
        Xc = X[i : i + chunk]  # (c, d)
        f2, x2 = (F.T @ F).double(), (Xc.T @ F).double()  # (n, n), (d, n)
        ff, xf = (f2, x2) if ff is None else (ff + f2, xf + x2)
    if sxx is None:
        sxx = sum_of_squares(X, chunk)
    A = decoder_from_moments(ff, xf)  # (d, n)
    loss = (sxx - 2 * float((A * xf).sum()) + float(((A @ ff) * A).sum())) / (Z.shape[0] * X.shape[1])
    return A, loss


def test_loss(A: torch.Tensor, V: torch.Tensor, Z: torch.Tensor, X: torch.Tensor, chunk: int = 16384) -> float:
    """mean ||x - A sign(V z)||^2 / d over a split, true sign. V (n, k), Z (N, k), X (N, d). (docs/theory.md eq. (1))"""
    total = 0.0
    for i in range(0, Z.shape[0], chunk):
        s = torch.sign(Z[i : i + chunk] @ V.T).double()
        total += float(((X[i : i + chunk].double() - s @ A.T) ** 2).sum())
    return total / (Z.shape[0] * X.shape[1])


def split_loss(A: torch.Tensor, V: torch.Tensor, z: np.ndarray, x: np.ndarray, device: torch.device) -> float:
    """:func:`test_loss` of (A, V) on the host arrays of one split (z (N, k), x (N, d))."""
    return test_loss(A, V, torch.as_tensor(z, device=device), torch.as_tensor(x, device=device))


def designed_encoder(eigenvalues: np.ndarray, kept: int, n: int, seed: int) -> np.ndarray:
    """The training-free designed encoder (docs/theory.md eq. (31)), in whitened coordinates. -> V (n, kept), unit rows.

    Water-filling allocation m_i on the kept spectrum, U = W diag(sqrt(m)) with W (n, kept) having
    orthonormal columns over the active directions (a Haar rotation), rows then normalised.
    """
    lam = np.asarray(eigenvalues[:kept], dtype=float)
    m = theory.water_filling(lam, n).allocation  # (kept,)
    active = int(np.sum(m > 0))  # <= min(n, kept): water-filling keeps at most n directions
    H = haar_rotation(n, seed)  # (n, n)
    W = np.zeros((n, kept))
    W[:, :active] = H[:, :active]  # orthonormal columns on the active directions
    U = W * np.sqrt(m)
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    U = np.where(norms > 0, U / np.where(norms > 0, norms, 1), 0)
    return U


class SplitSource(BatchSource):
    """The rows of a preprocessed training split as the batch source of :func:`signae.train.train_on_samples`.

    The encoder V (n, k) acts on the whitened coordinates z of the k kept directions. It starts either as a
    Gaussian encoder in the variant's own coordinates (``init="gaussian"``: B with N(0, 1) entries in
    x-space, so V = B Sigma^{1/2} restricted to the kept directions) or at the designed encoder
    (``init="designed"``, :func:`designed_encoder`: training as refinement); batches are rows drawn
    uniformly with replacement. Every encoder is judged with the decoder the run would return: the
    least-squares fit on the whole training split (:func:`sign_fit`). The recorded curve is that decoder's
    training-split loss, ``validation_risk`` its loss on the validation split (early stopping,
    docs/theory.md eq. (44)); the last fit is kept, so the two share one pass over the split at each recorded
    step. The final loss is the test-split loss (the training- and validation-split losses in ``extra``).
    """

    def __init__(self, prep: Prepared, device: torch.device, init: str = "gaussian"):
        if init not in ("gaussian", "designed"):
            raise ValueError(f"realdata.trainer.init must be 'gaussian' or 'designed', got {init!r}")
        self.prep, self.device, self.init = prep, device, init
        self.d = prep.x_train.shape[1]
        self.lambda_max = float(prep.eigenvalues[0])
        self.X = torch.as_tensor(prep.x_train, device=device)  # (N, d)
        self.Z = torch.as_tensor(prep.z_train, device=device)  # (N, k)
        self.basis = torch.as_tensor(prep.encoder_basis, dtype=torch.float32, device=device)  # (d, k): x -> z
        has_val = prep.x_val is not None and len(prep.x_val) > 0
        self.Z_val = torch.as_tensor(prep.z_val, device=device) if has_val else None  # (N_val, k)
        self.X_val = torch.as_tensor(prep.x_val, device=device) if has_val else None  # (N_val, d)
        self._fits = []  # [(V, A, training-split loss)] of every encoder fitted (one per recorded step)
        self._sxx = None  # sum ||x||^2 over the training split, once

    def init_encoder(self, n: int, seed: int) -> torch.Tensor:
        if self.init == "designed":
            V = designed_encoder(self.prep.eigenvalues, self.Z.shape[1], n, seed)  # (n, k)
            return torch.as_tensor(V, dtype=torch.float32, device=self.device)
        root_k = torch.as_tensor(
            np.linalg.pinv(self.prep.encoder_basis), dtype=torch.float32, device=self.device
        )  # (k, d): z -> x
        B0 = gaussian_init(n, self.d, seed, self.device, torch.float32)  # Gaussian rows in x-space
        return unit_rows(B0 @ root_k.T)  # (n, k): B x = B root_k^T z

    def batch(self, k: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, self.Z.shape[0], (k,), generator=g, device=self.device)
        return self.Z.index_select(0, idx), self.X.index_select(0, idx)  # the rows Z[idx], X[idx]; 3x faster on a CPU

    def to_x(self, V: torch.Tensor) -> torch.Tensor:
        return unit_rows(V @ self.basis.T)  # (n, d) encoder in x-space: sign(B x) = sign(V z)

    def fit(self, V: torch.Tensor) -> tuple[torch.Tensor, float]:
        """(A (d, n), training-split loss) of encoder V (n, k) with the least-squares decoder of the whole
        training split (:func:`sign_fit`). Every fit is kept (a few per run, A is d x n), so asking again for
        an encoder already fitted costs nothing: the early-stopped encoder's decoder at the end of a run is the
        fit made at its recorded step, not a second pass over the split."""
        Vd = V.detach()
        for V_kept, A, loss in self._fits:
            if torch.equal(V_kept, Vd):
                return A, loss
        if self._sxx is None:
            self._sxx = sum_of_squares(self.X)
        self._fits.append((Vd.clone(), *sign_fit(Vd, self.Z, self.X, sxx=self._sxx)))
        return self._fits[-1][1], self._fits[-1][2]

    def risk(self, V: torch.Tensor) -> torch.Tensor:
        return torch.tensor(self.fit(V)[1], dtype=torch.float64)

    def validation_risk(self, V: torch.Tensor) -> float:
        """Loss on the validation split of the decoder the run would return with this encoder: the
        least-squares fit on the whole training split (as in :meth:`finish`). A decoder fitted on fewer rows
        would rank encoders by how well they fit from few rows: at r = 1 on grey CIFAR-10 (8192 rows, 1024
        units) it preferred a refined encoder that is worse than the designed one with the full decoder, on
        validation as on test (docs/theory.md eq. (44))."""
        if self.Z_val is None:
            raise ValueError("early stopping needs a validation split: set realdata.validation_samples > 0")
        return test_loss(self.fit(V)[0], V.detach(), self.Z_val, self.X_val)

    def finish(self, V: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, float, dict]:
        A, train_loss = self.fit(V)
        loss_test = split_loss(A, V, self.prep.z_test, self.prep.x_test, self.device)
        extra = {"train_loss": train_loss}
        if self.prep.x_val is not None and len(self.prep.x_val):
            extra["validation_loss"] = split_loss(A, V, self.prep.z_val, self.prep.x_val, self.device)
        return A, loss_test, extra


def evaluate_designed(prep: Prepared, n: int, seed: int, device: torch.device) -> tuple[float, float]:
    """(test loss, train loss) of the designed encoder with its least-squares decoder. (docs/theory.md eq. (31))"""
    k = prep.z_train.shape[1]
    V = torch.as_tensor(designed_encoder(prep.eigenvalues, k, n, seed), dtype=torch.float32, device=device)
    Ztr, Xtr = torch.as_tensor(prep.z_train, device=device), torch.as_tensor(prep.x_train, device=device)
    A, train_loss = sign_fit(V, Ztr, Xtr)
    return split_loss(A, V, prep.z_test, prep.x_test, device), train_loss


def train_on_split(
    prep: Prepared, n: int, device: torch.device, init: str = "gaussian", record_every: int = 10, **options
) -> TrainResult:
    """The sample-based trainer on a real training split (docs/theory.md eq. (21), eq. (44)):
    :func:`signae.train.train_on_samples` on a :class:`SplitSource` started at ``init`` ("gaussian" or
    "designed"); ``options``: its keyword arguments (steps, batch, lr, sharpness, seed, ridge, estimator,
    momentum, select). Final loss on the test split, ``extra["train_loss"]`` on the training split."""
    return train_on_samples(SplitSource(prep, device, init=init), n, record_every=record_every, **options)


def run(
    spec: RunSpec, npz_path, json_path, settings: dict, device: str = "auto", section: str = "realdata.trainer"
) -> tuple[TrainResult, dict]:
    """Train on a preprocessed real data set (:class:`SplitSource`; docs/theory.md eq. (44)): from the start
    ``settings["init"]``, with momentum and early stopping as ``settings`` say, and, with
    ``gaussian_init_steps``, the same trainer from a Gaussian initialisation recorded beside; loss on the test
    split. ``section``: the config section of ``settings``, named if the run diverges."""
    dev = resolve_device(device)
    prep = load_prepared(npz_path, json_path)
    d = prep.x_train.shape[1]
    n = theory.hidden_units(spec.r, d)
    options = {**train.options(train_on_samples, settings), "seed": spec.seed}
    trivial = trivial_loss(prep)
    what, keys = f"run {spec.stem}", step_keys(section, settings)
    try:
        res = train_on_split(prep, n, dev, init=settings.get("init", "gaussian"), **options)
        check_trained(res, what, keys, trivial)
        beside = None
        if settings.get("gaussian_init_steps"):  # the same trainer from a Gaussian initialisation, for the record
            steps = settings["gaussian_init_steps"]
            gauss = train_on_split(prep, n, dev, init="gaussian", **{**options, "steps": steps})
            check_trained(gauss, what, keys, trivial)
            beside = {
                "steps": steps,
                "final_loss": gauss.final_loss,
                "train_loss": gauss.extra["train_loss"],
                "validation_loss": gauss.extra.get("validation_loss"),
                "selected_step": gauss.extra.get("selected_step"),
            }
    except torch.linalg.LinAlgError as err:
        raise diverged(what, keys, err) from err
    predicted = theory.variant_prediction(spec.variant, prep.eigenvalues, n)
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
