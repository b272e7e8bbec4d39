"""Gradient methods that train x_hat = A sign(Bx) (docs/theory.md, "Gradient methods").

Three trainers, all returning a :class:`TrainResult` that means the same thing:

- ``projected_gd``: gradient descent on the exact population risk (docs/theory.md eq. (3)), from a
  Gaussian initialisation; after every step the rows of B go back on the unit sphere. The decoder is
  either set to A*(B) at every step (``decoder="optimal"``) or trained jointly.
- ``tied_gd``: gradient descent on the weight-tied model A = beta Bbar^T, parameters (B, beta).
- ``train_on_samples``: training on samples, where no closed form is used, over a :class:`BatchSource`:
  fresh Gaussian draws (signae.gaussian_source), sparse draws (signae.sparse_source) or the rows of a data
  split (signae.real_source). sign has zero gradient almost everywhere, so the encoder is trained through the
  smooth surrogate tanh(s z) of sign(z), with s sharpening geometrically from s0 to s1, and the batch
  least-squares decoder at every step (variable projection, the sample analogue of A*(B)); the final decoder
  is the least-squares fit of *true sign* features.

Words: a decoder is *fitted* (least squares, in closed form); an encoder or a network is *trained* (gradient
steps). :func:`options` maps a config section of trainer settings to a trainer's keyword arguments.

Learning rates are given per coordinate: the gradient of R with respect to a unit row is O(1/d), so
every trainer steps by ``lr * d / lambda_max(Sigma)``. On steep spectra the sample-based trainer adds
heavy-ball momentum (docs/theory.md eq. (44)).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import population as pop
from .device import synchronize, to_host
from .linalg import matrix_power, unit_rows


@dataclass
class TrainResult:
    """What a training run produces. Arrays are numpy, float64, on the host.

    steps:      (k,) iteration numbers at which the loss was recorded
    losses:     (k,) loss of the encoder at those iterations with its best decoder: the exact
                population risk R(A*(B), B) on Gaussian data (or R(A, B) for a trained decoder), the
                training-split loss (true sign) with the least-squares decoder of the whole training split on
                real data
    B_init:     (n, d) encoder at initialisation, unit rows, acting on the data's own x
    B:          (n, d) trained encoder, unit rows, acting on the data's own x
    A:          (d, n) trained decoder
    final_loss: loss of the returned (A, B), true sign: the exact population risk on Gaussian data,
                the test-split loss on real data
    extra:      trainer-specific scalars (beta, surrogate sharpness, the training-split loss, ...)
    """

    steps: np.ndarray
    losses: np.ndarray
    B_init: np.ndarray
    B: np.ndarray
    A: np.ndarray
    final_loss: float
    wall_time_s: float
    extra: dict = field(default_factory=dict)


def gaussian_init(n: int, d: int, seed: int, device: torch.device, dtype=torch.float64) -> torch.Tensor:
    """Unit-row Gaussian encoder (docs/theory.md eq. (15)). Drawn on the CPU from ``seed`` so every device
    starts alike. (n, d)"""
    g = torch.Generator().manual_seed(seed)
    B = torch.randn(n, d, generator=g, dtype=torch.float64)
    return unit_rows(B).to(device=device, dtype=dtype)


def _as_tensor(Sigma, device, dtype):
    return None if Sigma is None else torch.as_tensor(Sigma, dtype=dtype, device=device)


def projected_gd(
    d: int,
    n: int,
    steps: int,
    lr: float = 1.0,
    decoder: str = "optimal",
    lr_decoder: float = 0.2,
    seed: int = 0,
    Sigma: np.ndarray | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
    record_every: int = 1,
    backtrack: bool = False,
) -> TrainResult:
    """Projected GD on the exact population risk from a Gaussian initialisation (docs/theory.md eq. (17),
    with the step of eq. (19)).

    decoder="optimal": minimise R(A*(B), B) over the encoder (variable projection).
    decoder="joint":   minimise R(A, B) over (A, B) from A = 0, with step lr_decoder * d on A.
    Sigma: (d, d) data covariance, or None for the identity.
    backtrack (decoder="optimal" only): a step that raises the risk is undone and the step halved, so
    the recorded curve never rises; lets one large lr serve spectra of very different steepness (costs
    one device-to-host sync per step).

    The encoder is held as V = B Sigma^{1/2} with unit rows (U of docs/theory.md, general covariance; V = B for
    Sigma = I), the parametrisation in which the risk is a function on a product of spheres; the
    step is lr * d / lambda_max(Sigma), so one lr fits every spectrum normalised to tr Sigma = d.
    The Gaussian initialisation is drawn for V, i.e. in whitened coordinates.
    """
    if decoder not in ("optimal", "joint"):
        raise ValueError(f"decoder must be 'optimal' or 'joint', got {decoder!r}")
    if backtrack and decoder != "optimal":
        raise ValueError("backtrack is implemented for decoder='optimal' only")
    device = torch.device(device)
    if Sigma is None:
        root = inv_root = None
        step = lr * d
    else:
        evals, evecs = np.linalg.eigh(np.asarray(Sigma, dtype=float))
        if evals.min() <= 0:
            raise ValueError("Sigma must be positive definite for projected_gd")
        root = torch.as_tensor(matrix_power(evals, evecs, 0.5), dtype=dtype, device=device)  # (d, d)
        inv_root = torch.as_tensor(matrix_power(evals, evecs, -0.5), dtype=dtype, device=device)
        step = lr * d / evals.max()

    def encoder_of(V):  # (n, d) unit-row B with sign(Bx) = sign(V Sigma^{-1/2} x)
        return V if inv_root is None else unit_rows(V @ inv_root)

    V = gaussian_init(n, d, seed, device, dtype).requires_grad_()
    B_init = to_host(encoder_of(V.detach()))
    A = torch.zeros(d, n, dtype=dtype, device=device, requires_grad=True) if decoder == "joint" else None

    S = _as_tensor(Sigma, device, dtype)  # (d, d) or None: the covariance, for the gradient and the final risk
    # a diagonal Sigma (the Gaussian twins, in their eigenbasis) enters the gradient as its diagonal: same numbers
    S_grad = S if S is None or torch.count_nonzero(S - torch.diag(torch.diagonal(S))) else torch.diagonal(S)
    rec_steps, rec_losses = [], []
    last = None  # backtracking: (loss, gradient, V) before the last step
    synchronize(device)
    t0 = time.perf_counter()
    for it in range(steps + 1):
        if decoder == "optimal":  # closed-form gradient (checked against autograd in the tests)
            with torch.no_grad():
                loss, grad_V = pop.encoder_risk_and_grad(V, S_grad)
                if backtrack and it > 0 and loss > last[0]:  # undo the step, halve it
                    V.copy_(last[2])
                    loss, grad_V = last[0], last[1]
                    step *= 0.5
                if backtrack:
                    last = (loss, grad_V, V.detach().clone())
            grads = (grad_V,)
        else:
            loss = pop.risk_from_moments(A, pop.SecondMoments.whitened(V, root), d)
            grads = torch.autograd.grad(loss, (V, A))
        if it % record_every == 0 or it == steps:
            rec_steps.append(it)
            rec_losses.append(loss.detach())  # stays on the device: no per-step host sync
        if it == steps:
            break
        with torch.no_grad():
            V -= step * grads[0]
            V.copy_(unit_rows(V))  # projection back on the unit sphere
            if A is not None:
                A -= lr_decoder * d * grads[1]
    with torch.no_grad():
        B = encoder_of(V)
        A_final = pop.optimal_decoder(B, S) if A is None else A
        final = float(pop.risk(A_final, B, S))
    synchronize(device)
    wall = time.perf_counter() - t0
    return TrainResult(
        steps=np.asarray(rec_steps),
        losses=to_host(torch.stack(rec_losses)),
        B_init=B_init,
        B=to_host(B),
        A=to_host(A_final),
        final_loss=final,
        wall_time_s=wall,
    )


def tied_gd(
    d: int,
    n: int,
    steps: int,
    lr: float = 1.0,
    lr_beta: float = 0.5,
    seed: int = 0,
    Sigma: np.ndarray | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
    record_every: int = 1,
) -> TrainResult:
    """Plain GD on the weight-tied model A = beta Bbar^T, x ~ N(0, I_d) (docs/theory.md eq. (20)); defined for
    isotropic data only (``Sigma`` must be None).

    B is not projected: the risk depends on B only through Bbar, so its gradient is orthogonal to
    each row and the row norms only drift at second order. beta starts at 0 and steps by
    lr_beta / kappa times its gradient, where kappa = 2r + 4r^2/pi is d^2R/dbeta^2 at a Gaussian
    initialisation ((4/pi) tr(S G)/d with tr(S G) ~ n pi/2 + n^2/d): lr_beta = 1 would be a Newton
    step there, so one value is stable at every r.
    """
    if Sigma is not None:
        raise ValueError("the weight-tied trainer is defined for isotropic data only (docs/theory.md eq. (20))")
    r = n / d
    kappa = 2 * r + 4 * r**2 / math.pi
    device = torch.device(device)
    B = gaussian_init(n, d, seed, device, dtype).requires_grad_()
    B_init = to_host(B)
    beta = torch.zeros((), dtype=dtype, device=device, requires_grad=True)
    rec_steps, rec_losses = [], []
    synchronize(device)
    t0 = time.perf_counter()
    for it in range(steps + 1):
        loss = pop.tied_risk(beta, B)
        gB, gbeta = torch.autograd.grad(loss, (B, beta))
        if it % record_every == 0 or it == steps:
            rec_steps.append(it)
            rec_losses.append(loss.detach())
        if it == steps:
            break
        with torch.no_grad():
            B -= lr * d * gB
            beta -= (lr_beta / kappa) * gbeta
    with torch.no_grad():
        A = beta * unit_rows(B).T
        final = float(pop.risk(A, B))
    synchronize(device)
    wall = time.perf_counter() - t0
    return TrainResult(
        steps=np.asarray(rec_steps),
        losses=to_host(torch.stack(rec_losses)),
        B_init=B_init,
        B=to_host(unit_rows(B)),
        A=to_host(A),
        final_loss=final,
        wall_time_s=wall,
        extra={"beta": float(beta.detach())},
    )


def fit_decoder(chunks, ridge: float = 1e-6) -> torch.Tensor:
    """Least-squares decoder A = E[x f^T] E[f f^T]^{-1} from chunks of (features F (k, n), targets X (k, d))
    (docs/theory.md eq. (23)).

    Moments accumulate in float64, so memory stays O(chunk * n) however many samples are used; ridge,
    relative to the mean diagonal of E[f f^T], only guards the solve. -> (d, n).
    """
    ff = xf = None
    for F, X in chunks:
        F, X = F.double(), X.double()
        ff = F.T @ F if ff is None else ff + F.T @ F  # (n, n)
        xf = X.T @ F if xf is None else xf + X.T @ F  # (d, n)
    return decoder_from_moments(ff, xf, ridge)


def decoder_from_moments(ff: torch.Tensor, xf: torch.Tensor, ridge: float = 1e-6) -> torch.Tensor:
    """The least-squares decoder xf ff^{-1} from the summed moments ff = sum f f^T (n, n) and xf = sum x f^T
    (d, n) (docs/theory.md eq. (23)); ridge, relative to the mean diagonal of ff, only guards the solve.
    -> (d, n)."""
    n = ff.shape[0]
    ff = ff + ridge * torch.trace(ff) / n * torch.eye(n, dtype=ff.dtype, device=ff.device)
    return torch.linalg.solve(ff, xf.T).T


def fresh_decoder(source, V: torch.Tensor, g: torch.Generator, chunk: int = 16384) -> torch.Tensor:
    """Least-squares decoder of true-sign features sign(Z V^T) on ``source.fit_samples`` (None: 200 n) fresh
    samples of a Gaussian batch source (``source.batch(k, g) -> (Z (k, kept), X (k, d))``), drawn in chunks
    (docs/theory.md eq. (23)). V (n, kept) -> A (d, n)."""
    samples = source.fit_samples or 200 * V.shape[0]

    def chunks():
        for start in range(0, samples, chunk):
            Z, X = source.batch(min(chunk, samples - start), g)
            yield torch.sign(Z @ V.T), X

    return fit_decoder(chunks())


def sharpening(it: int, steps: int, sharpness: tuple[float, float]) -> tuple[float, float]:
    """(surrogate sharpness s, step multiplier) at step `it` (docs/theory.md eq. (22)): s grows geometrically from
    s0 to s1,
    the step follows a cosine from 1 down to 0."""
    frac = it / max(steps - 1, 1)
    s0, s1 = sharpness
    return s0 * (s1 / s0) ** frac, 0.5 * (1 + math.cos(math.pi * frac))


ESTIMATORS = ("tanh", "ste")


def surrogate_loss(
    Z: torch.Tensor, X: torch.Tensor, V: torch.Tensor, s: float, ridge: float, estimator: str = "tanh"
) -> torch.Tensor:
    """Batch loss through a differentiable stand-in for sign, with the batch least-squares decoder
    (docs/theory.md eq. (21))
    (variable projection). Two ways through sign:

    estimator="tanh": features F = tanh(s P), the smooth surrogate (loss and gradient both of tanh);
    estimator="ste":  straight-through, F = sign(P) in the forward pass (the loss is the true sign
                      loss of the batch) and the gradient of tanh(s P) in the backward pass.

    Z: (N, k) what the encoder sees, X: (N, d) what is reconstructed, V: (n, k) encoder rows, P = Z Vbar^T.
    W = (F^T F / N + ridge I)^{-1} F^T X / N; loss = ||X - F W||^2 / (N d).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    N, d = X.shape
    P = Z @ unit_rows(V).T  # (N, n)
    F = torch.tanh(s * P)
    if estimator == "ste":
        F = torch.sign(P) + (F - F.detach())  # value sign(P), gradient of tanh(s P)
    gram = F.T @ F / N + ridge * torch.eye(F.shape[1], dtype=F.dtype, device=F.device)  # (n, n)
    cross = X.T @ F / N  # (d, n)
    L, _ = torch.linalg.cholesky_ex(gram)  # ridge keeps it positive definite; no host sync
    W = torch.cholesky_solve(cross.T, L)  # (n, d)
    return (X.pow(2).sum() / N - (cross * W.T).sum()) / d


class BatchSource:
    """What the sample-based trainer (:func:`train_on_samples`, docs/theory.md eq. (21)) reads its data from:
    fresh draws of a distribution (:class:`SampledSource`, :class:`signae.gaussian_source.SpectralGaussianSource`)
    or the rows of a data split (:class:`signae.real_source.SplitSource`). The loop calls, and every source
    provides:

    - ``d``, ``lambda_max``, ``device``: the dimension of x, the top eigenvalue of its covariance (the step
      divides by it), the device of its tensors;
    - ``init_encoder(n, seed) -> V (n, k)``: the initial encoder, in the coordinates the encoder sees;
    - ``batch(N, g) -> (Z (N, k), X (N, d))``: what the encoder sees and what is reconstructed;
    - ``to_x(V) -> B (n, d)``: the encoder in x's own coordinates (sign(B x) = sign(V z)), unit rows;
    - ``risk(V)``: the number recorded on the curve;
    - ``finish(V, g) -> (A (d, n), final loss, extra)``: the returned decoder and the final loss;
    - ``validation_risk(V)`` (with ``select="validation"`` only): the loss early stopping compares.
    """

    d: int
    lambda_max: float
    device: torch.device

    def init_encoder(self, n: int, seed: int) -> torch.Tensor:
        raise NotImplementedError

    def batch(self, k: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def to_x(self, V: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def risk(self, V: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def finish(self, V: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, float, dict]:
        raise NotImplementedError

    def validation_risk(self, V: torch.Tensor) -> float:
        raise ValueError(f"{type(self).__name__} has no validation split: early stopping needs one")


class SampledSource(BatchSource):
    """A batch source that draws fresh samples of x (its ``_draw(k, g) -> (k, d)``) and whose encoder acts on x
    itself: a Gaussian initialisation, Z = X, B = V."""

    dtype: torch.dtype

    def _draw(self, k: int, g: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def init_encoder(self, n: int, seed: int) -> torch.Tensor:
        return gaussian_init(n, self.d, seed, self.device, self.dtype)  # (n, d)

    def batch(self, k: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        X = self._draw(k, g)
        return X, X

    def to_x(self, V: torch.Tensor) -> torch.Tensor:
        return V  # the encoder already acts on x


def train_on_samples(
    source,
    n: int,
    steps: int,
    batch: int = 8192,
    lr: float = 1.0,
    sharpness: tuple[float, float] = (1.0, 3.0),
    seed: int = 0,
    record_every: int = 5,
    ridge: float = 1e-3,
    estimator: str = "tanh",
    momentum: float = 0.0,
    select: str = "last",
) -> TrainResult:
    """The sample-based trainer (docs/theory.md eq. (21)), on any batch source (Gaussian samples or the rows
    of a data split).

    The source is a :class:`BatchSource` (Gaussian draws, sparse draws, the rows of a data split).

    Per step (docs/theory.md eq. (21)): features tanh(s Vbar z) (or sign with tanh's gradient,
    estimator="ste"), decoder = the batch least-squares fit (:func:`surrogate_loss`); V steps by
    lr_t * d / lambda_max along the gradient, or along its heavy-ball average
    u <- momentum * u + gradient (docs/theory.md eq. (44)), lr_t cosine-decayed to 0 while s sharpens from
    s0 to s1 (:func:`sharpening`); rows renormalised. The curve is recorded before every
    ``record_every``-th step and after the last one. select="validation" keeps, of the encoders at those
    points, the one of least ``validation_risk`` (early stopping on a held-out split, eq. (44)) and records
    its step in ``extra["selected_step"]``. The data stream is seeded with seed + 1, the initialisation
    with seed.
    """
    if select not in ("last", "validation"):
        raise ValueError(f"select must be 'last' or 'validation', got {select!r}")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    device = source.device
    g = torch.Generator(device=device).manual_seed(seed + 1)  # data stream, distinct from the init
    step = lr * source.d / source.lambda_max
    V = source.init_encoder(n, seed).requires_grad_()
    B_init = to_host(source.to_x(V.detach()))
    velocity = torch.zeros_like(V)  # the heavy-ball average of the gradients
    rec_steps, rec_losses = [], []
    best = (math.inf, 0, V.detach().clone())  # (validation risk, step, encoder) when select="validation"
    synchronize(device)
    t0 = time.perf_counter()
    for it in range(steps + 1):
        if it % record_every == 0 or it == steps:
            with torch.no_grad():
                rec_steps.append(it)
                rec_losses.append(source.risk(V))  # stays on the device: no per-step host sync
                if select == "validation":
                    val = float(source.validation_risk(V))
                    if val < best[0]:
                        best = (val, it, V.detach().clone())
        if it == steps:
            break
        s, decay = sharpening(it, steps, sharpness)
        Z, X = source.batch(batch, g)  # (N, k), (N, d)
        loss = surrogate_loss(Z, X, V, s, ridge, estimator)
        (gV,) = torch.autograd.grad(loss, V)
        with torch.no_grad():
            velocity.mul_(momentum).add_(gV)
            V -= decay * step * velocity
            V.copy_(unit_rows(V))
    with torch.no_grad():
        Vd = V.detach() if select == "last" else best[2]
        A, final, extra = source.finish(Vd, g)
        B = source.to_x(Vd)
    synchronize(device)
    wall = time.perf_counter() - t0
    if select == "validation":
        extra = {**extra, "selected_step": best[1]}
    return TrainResult(
        steps=np.asarray(rec_steps),
        losses=to_host(torch.stack(rec_losses)),
        B_init=B_init,
        B=to_host(B),
        A=to_host(A),
        final_loss=final,
        wall_time_s=wall,
        extra={**extra, "final_sharpness": sharpness[1], "estimator": estimator},
    )


def options(trainer, settings: dict) -> dict:
    """The keyword arguments of ``trainer`` that a config section of trainer settings sets: every key of
    ``settings`` that names one of its parameters (config keys are the trainers' argument names; lists, such as
    the sharpness schedule, become tuples). The trainer's own defaults apply to the rest: the one mapping from
    settings to arguments (docs/theory.md eq. (21), eq. (44))."""
    import inspect

    names = inspect.signature(trainer).parameters
    return {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items() if k in names}
