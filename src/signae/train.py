"""Gradient methods that train x_hat = A sign(Bx) (BRIEF section 4).

Three trainers, one per method the brief names:

- ``projected_gd``: gradient descent on the exact population risk (closed form of BRIEF section 2),
  from a Gaussian initialisation; after every step the rows of B go back on the unit sphere. The
  decoder is either set to A*(B) at every step (``decoder="optimal"``) or trained jointly.
- ``tied_gd``: gradient descent on the weight-tied model A = beta Bbar^T, parameters (B, beta).
- ``sample_gd``: training on fresh Gaussian samples, where no closed form is used. sign has zero
  gradient almost everywhere, so the encoder is trained through the smooth surrogate tanh(s z) of
  sign(z) on the unit-row pre-activation z = Bbar x, with s sharpening geometrically from s0 to s1.
  At every step the decoder is the least-squares fit on the batch (variable projection, the sample
  analogue of A*(B)); the final decoder is the least-squares fit of *true sign* features on
  ``fit_samples`` fresh samples. The loss is always *evaluated* with the true sign and the exact risk.

Learning rates are given per coordinate: the gradient of R with respect to a unit row is O(1/d), so
every trainer steps by ``lr * d``. Each trainer returns a :class:`TrainResult` with the exact-risk
curve, the initial and final weights and its wall time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import population as pop


@dataclass
class TrainResult:
    """What a training run produces. Arrays are numpy, float64, on the host.

    steps:      (k,) iteration numbers at which the loss was recorded
    losses:     (k,) exact population risk at those iterations
    B_init:     (n, d) encoder at initialisation (unit rows)
    B:          (n, d) trained encoder (unit rows)
    A:          (d, n) trained decoder
    final_loss: exact population risk R(A, B) of the returned weights, true sign
    extra:      trainer-specific scalars (beta, surrogate sharpness, ...)
    """

    steps: np.ndarray
    losses: np.ndarray
    B_init: np.ndarray
    B: np.ndarray
    A: np.ndarray
    final_loss: float
    wall_time_s: float
    extra: dict = field(default_factory=dict)


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU; 'cpu' / 'cuda' as asked (error if CUDA is missing)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("config asks for device 'cuda' but torch sees no GPU; set device: auto or cpu")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {name!r}")
    return torch.device(name)


def gaussian_init(n: int, d: int, seed: int, device: torch.device, dtype=torch.float64) -> torch.Tensor:
    """Unit-row Gaussian encoder. Drawn on the CPU from ``seed`` so every device starts alike. (n, d)"""
    g = torch.Generator().manual_seed(seed)
    B = torch.randn(n, d, generator=g, dtype=torch.float64)
    return pop.normalize_rows(B).to(device=device, dtype=dtype)


def _as_tensor(Sigma, device, dtype):
    return None if Sigma is None else torch.as_tensor(Sigma, dtype=dtype, device=device)


def _matrix_power(evals: np.ndarray, evecs: np.ndarray, power: float, device, dtype) -> torch.Tensor:
    """Sigma^power from its eigendecomposition, as a (d, d) tensor on the device."""
    return torch.as_tensor((evecs * evals**power) @ evecs.T, dtype=dtype, device=device)


def _host(t: torch.Tensor) -> np.ndarray:
    """A float64 host copy (never a view: training updates its tensors in place)."""
    return t.detach().to("cpu", torch.float64).numpy().copy()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


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
    """Projected GD on the exact population risk from a Gaussian initialisation (BRIEF section 4).

    decoder="optimal": minimise R(A*(B), B) over the encoder (variable projection).
    decoder="joint":   minimise R(A, B) over (A, B) from A = 0, with step lr_decoder * d on A.
    Sigma: (d, d) data covariance, or None for the identity.
    backtrack (decoder="optimal" only): a step that raises the risk is undone and the step halved, so
    the recorded curve never rises; lets one large lr serve spectra of very different steepness (costs
    one device-to-host sync per step).

    The encoder is held as V = B Sigma^{1/2} with unit rows (U of BRIEF section 5; V = B for
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
        root = _matrix_power(evals, evecs, 0.5, device, dtype)  # (d, d)
        inv_root = _matrix_power(evals, evecs, -0.5, device, dtype)
        step = lr * d / evals.max()

    def encoder_of(V):  # (n, d) unit-row B with sign(Bx) = sign(V Sigma^{-1/2} x)
        return V if inv_root is None else pop.normalize_rows(V @ inv_root)

    V = gaussian_init(n, d, seed, device, dtype).requires_grad_()
    B_init = _host(encoder_of(V.detach()))
    A = torch.zeros(d, n, dtype=dtype, device=device, requires_grad=True) if decoder == "joint" else None

    S = _as_tensor(Sigma, device, dtype)  # (d, d) or None: the covariance, for the gradient and the final risk
    rec_steps, rec_losses = [], []
    _sync(device)
    t0 = time.perf_counter()
    for it in range(steps + 1):
        if decoder == "optimal":  # closed-form gradient (checked against autograd in the tests)
            with torch.no_grad():
                loss, grad_V = pop.encoder_risk_and_grad(V, S)
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
            V.copy_(pop.normalize_rows(V))  # projection back on the unit sphere
            if A is not None:
                A -= lr_decoder * d * grads[1]
    with torch.no_grad():
        B = encoder_of(V)
        A_final = pop.optimal_decoder(B, S) if A is None else A
        final = float(pop.risk(A_final, B, S))
    _sync(device)
    wall = time.perf_counter() - t0
    return TrainResult(
        steps=np.asarray(rec_steps),
        losses=_host(torch.stack(rec_losses)),
        B_init=B_init,
        B=_host(B),
        A=_host(A_final),
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
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
    record_every: int = 1,
) -> TrainResult:
    """Plain GD on the weight-tied model A = beta Bbar^T, x ~ N(0, I_d) (BRIEF section 4).

    B is not projected: the risk depends on B only through Bbar, so its gradient is orthogonal to
    each row and the row norms only drift at second order. beta starts at 0 and steps by
    lr_beta / kappa times its gradient, where kappa = 2r + 4r^2/pi is d^2R/dbeta^2 at a Gaussian
    initialisation ((4/pi) tr(S G)/d with tr(S G) ~ n pi/2 + n^2/d): lr_beta = 1 would be a Newton
    step there, so one value is stable at every r.
    """
    r = n / d
    kappa = 2 * r + 4 * r**2 / math.pi
    device = torch.device(device)
    B = gaussian_init(n, d, seed, device, dtype).requires_grad_()
    B_init = _host(B)
    beta = torch.zeros((), dtype=dtype, device=device, requires_grad=True)
    rec_steps, rec_losses = [], []
    _sync(device)
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
        A = beta * pop.normalize_rows(B).T
        final = float(pop.risk(A, B))
    _sync(device)
    wall = time.perf_counter() - t0
    return TrainResult(
        steps=np.asarray(rec_steps),
        losses=_host(torch.stack(rec_losses)),
        B_init=B_init,
        B=_host(pop.normalize_rows(B)),
        A=_host(A),
        final_loss=final,
        wall_time_s=wall,
        extra={"beta": float(beta.detach())},
    )


def fit_decoder(chunks, ridge: float = 1e-6) -> torch.Tensor:
    """Least-squares decoder A = E[x f^T] E[f f^T]^{-1} from chunks of (features F (k, n), targets X (k, d)).

    Moments accumulate in float64, so memory stays O(chunk * n) however many samples are used; ridge,
    relative to the mean diagonal of E[f f^T], only guards the solve. -> (d, n).
    """
    ff = xf = None
    for F, X in chunks:
        F, X = F.double(), X.double()
        ff = F.T @ F if ff is None else ff + F.T @ F  # (n, n)
        xf = X.T @ F if xf is None else xf + X.T @ F  # (d, n)
    n = ff.shape[0]
    ff = ff + ridge * torch.trace(ff) / n * torch.eye(n, dtype=ff.dtype, device=ff.device)
    return torch.linalg.solve(ff, xf.T).T


def least_squares_decoder(B: torch.Tensor, sampler, samples: int, chunk: int = 16384) -> torch.Tensor:
    """Decoder fitted on `samples` fresh samples with true sign features. B: (n, d); sampler(k) -> (k, d)."""

    def chunks():
        for start in range(0, samples, chunk):
            X = sampler(min(chunk, samples - start))  # (k, d)
            yield torch.sign(X @ B.T), X

    return fit_decoder(chunks())


def sharpening(it: int, steps: int, sharpness: tuple[float, float]) -> tuple[float, float]:
    """(surrogate sharpness s, step multiplier) at step `it`: s grows geometrically from s0 to s1,
    the step follows a cosine from 1 down to 0."""
    frac = it / max(steps - 1, 1)
    s0, s1 = sharpness
    return s0 * (s1 / s0) ** frac, 0.5 * (1 + math.cos(math.pi * frac))


ESTIMATORS = ("tanh", "ste")


def surrogate_loss(Z: torch.Tensor, X: torch.Tensor, V: torch.Tensor, s: float, ridge: float,
                   estimator: str = "tanh") -> torch.Tensor:
    """Batch loss through a differentiable stand-in for sign, with the batch least-squares decoder
    (variable projection). The two options of BRIEF section 4:

    estimator="tanh": features F = tanh(s P), the smooth surrogate (loss and gradient both of tanh);
    estimator="ste":  straight-through, F = sign(P) in the forward pass (the loss is the true sign
                      loss of the batch) and the gradient of tanh(s P) in the backward pass.

    Z: (N, k) what the encoder sees, X: (N, d) what is reconstructed, V: (n, k) encoder rows, P = Z Vbar^T.
    W = (F^T F / N + ridge I)^{-1} F^T X / N; loss = ||X - F W||^2 / (N d).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    N, d = X.shape
    P = Z @ pop.normalize_rows(V).T  # (N, n)
    F = torch.tanh(s * P)
    if estimator == "ste":
        F = torch.sign(P) + (F - F.detach())  # value sign(P), gradient of tanh(s P)
    gram = F.T @ F / N + ridge * torch.eye(F.shape[1], dtype=F.dtype, device=F.device)  # (n, n)
    cross = X.T @ F / N  # (d, n)
    L, _ = torch.linalg.cholesky_ex(gram)  # ridge keeps it positive definite; no host sync
    W = torch.cholesky_solve(cross.T, L)  # (n, d)
    return (X.pow(2).sum() / N - (cross * W.T).sum()) / d


def sample_gd(
    d: int,
    n: int,
    steps: int,
    batch: int = 8192,
    lr: float = 1.0,
    sharpness: tuple[float, float] = (1.0, 3.0),
    fit_samples: int | None = None,
    seed: int = 0,
    Sigma: np.ndarray | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    record_every: int = 5,
    ridge: float = 1e-3,
    estimator: str = "tanh",
) -> TrainResult:
    """Sample-based projected GD with a sharpening tanh surrogate (BRIEF section 4, last paragraph);
    estimator="ste" trains through sign itself with tanh's gradient (see surrogate_loss).

    Per step: X (batch, d) fresh samples; Z = X Bbar^T (batch, n); F = tanh(s Z); decoder
    W = (F^T F / N + ridge I)^{-1} F^T X / N (the batch least-squares fit); loss = ||X - F W||^2/(N d);
    step B by -lr_t * d * grad, lr_t cosine-decayed to 0, and renormalise the rows. The recorded
    curve is the exact risk R(A*(B), B) of the current encoder; the returned decoder is fitted on
    fit_samples (default 200 n) fresh samples with the true sign.
    """
    device = torch.device(device)
    g = torch.Generator(device=device).manual_seed(seed + 1)  # data stream, distinct from the init
    root = None
    if Sigma is not None:
        evals, evecs = np.linalg.eigh(np.asarray(Sigma, dtype=float))
        root = _matrix_power(np.clip(evals, 0, None), evecs, 0.5, device, dtype)

    def sampler(k: int) -> torch.Tensor:  # (k, d) rows ~ N(0, Sigma)
        X = torch.randn(k, d, generator=g, dtype=dtype, device=device)
        return X if root is None else X @ root

    S64 = _as_tensor(Sigma, device, torch.float64)
    B = gaussian_init(n, d, seed, device, dtype).requires_grad_()
    B_init = _host(B)
    rec_steps, rec_losses = [], []
    _sync(device)
    t0 = time.perf_counter()
    for it in range(steps + 1):
        if it % record_every == 0 or it == steps:
            with torch.no_grad():
                rec_steps.append(it)
                rec_losses.append(pop.encoder_risk(B.detach().double(), S64))
        if it == steps:
            break
        s, decay = sharpening(it, steps, sharpness)
        X = sampler(batch)  # (N, d)
        loss = surrogate_loss(X, X, B, s, ridge, estimator)
        (gB,) = torch.autograd.grad(loss, B)
        with torch.no_grad():
            B -= lr * decay * d * gB
            B.copy_(pop.normalize_rows(B))
    with torch.no_grad():
        A = least_squares_decoder(B.detach(), sampler, fit_samples or 200 * n)
        B64 = B.detach().double()
        final = float(pop.risk(A, B64, S64))
        encoder_only = float(pop.encoder_risk(B64, S64))
    _sync(device)
    wall = time.perf_counter() - t0
    return TrainResult(
        steps=np.asarray(rec_steps),
        losses=_host(torch.stack(rec_losses)),
        B_init=B_init,
        B=_host(B),
        A=_host(A),
        final_loss=final,
        wall_time_s=wall,
        extra={"encoder_risk": encoder_only, "final_sharpness": sharpness[1], "estimator": estimator},
    )
