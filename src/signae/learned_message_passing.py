"""The learned decoder of figure 11: the decoder that unrolls message passing (:func:`signae.message_passing.unrolled`)
with its six precisions per layer learned on the sample risk instead of set by empirical averages (docs/theory.md
eq. (57)). Same shape, same denoisers, same damping; initialised from the unrolled decoder's own precisions on the
training bits, so learning starts where message passing is and shows whether the sample risk asks for anything
else. Learned VAMP (Borgerding, Schniter, Rangan, 2017) learns the same kind of per-layer parameters."""

from __future__ import annotations

import math

import torch

from . import message_passing, sparse


def initial_precisions(
    B, Y: torch.Tensor, p: float, iterations: int, damping: float, basis=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The precisions (iterations, 6) the unrolled decoder computes on the bits Y (N, n) of the encoder B (n, d), in
    the order of :func:`signae.message_passing.unrolled`: the learned decoder's starting point (eq. (57)); and that
    decoder's estimate after the last step (N, d), which they give. ``basis``: as for ``unrolled``."""
    trace = []
    with torch.no_grad():
        last = message_passing.unrolled(B, Y, p, iterations, damping, trace=trace, basis=basis)[-1]
    return torch.tensor(trace, dtype=torch.float64), last


def fit(
    B, p: float, iterations: int, damping: float, samples: int, steps: int, batch: int, lr: float, seed: int
) -> dict:
    """Learn the precisions of the unrolled decoder on the encoder B (n, d) (eq. (57)): ``samples`` training samples
    of the Bernoulli-Gaussian source (seed ``seed``), fixed, and ``steps`` steps of Adam (learning rate ``lr``, on
    the logarithms, so the precisions stay positive) on the sample risk of the last depth, ||x - x_hat_K||^2 / d,
    over minibatches of ``batch`` of them. -> {"precisions": (iterations, 6) tensor, "initial": the starting
    precisions, "train_loss_initial": and "train_loss": the sample risk on all training samples before and after}."""
    Bt = torch.as_tensor(B, dtype=torch.float64)  # (n, d)
    d = Bt.shape[1]
    g = torch.Generator().manual_seed(seed)
    X = sparse.draw(samples, d, p, g, dtype=torch.float64)  # (samples, d)
    Y = sparse.sign_bit(X @ Bt.T)  # (samples, n)
    basis = message_passing.linear_step_basis(Bt)
    start, last = initial_precisions(Bt, Y, p, iterations, damping, basis)  # (iterations, 6), (samples, d)
    before = float((X - last).square().mean())  # the sample risk where learning starts: the unrolled decoder's
    log_prec = start.log().clone().requires_grad_(True)  # (iterations, 6)
    opt = torch.optim.Adam([log_prec], lr=lr)

    def risk(idx, prec) -> torch.Tensor:
        est = message_passing.unrolled(Bt, Y[idx], p, iterations, damping, prec, basis=basis)[-1]  # (batch, d)
        return (X[idx] - est).square().mean()

    for _ in range(steps):
        idx = torch.randint(samples, (batch,), generator=g)
        loss = risk(idx, log_prec.exp())
        if not math.isfinite(loss.item()):
            raise message_passing.MessagePassingFailed(
                f"the learned decoder's sample risk became {loss.item()} during training; nothing was saved. Lower "
                "sparse.message_passing.learned.lr"
            )
        opt.zero_grad()
        loss.backward()
        opt.step()
    learned = log_prec.detach().exp()
    with torch.no_grad():
        after = float(risk(torch.arange(samples), learned))
    return {"precisions": learned, "initial": start, "train_loss_initial": before, "train_loss": after}
