"""The decoder with learned precisions (signae.learned_message_passing; docs/theory.md eq. (57)), each against an
independent computation: its forward pass at the unrolled decoder's own precisions against the unrolled decoder,
its gradient against finite differences, and its test loss on Gaussian data against the Bayes risk 1 - (2/pi) n/d,
exact at every d for orthonormal rows."""

import math

import numpy as np
import pytest
import torch

from signae import learned_message_passing, linalg, message_passing, sparse


def _bits(n: int, d: int, p: float, samples: int, seed: int):
    B = torch.as_tensor(linalg.ideal_encoder(n, d, seed), dtype=torch.float64)  # (n, d)
    X = sparse.draw(samples, d, p, torch.Generator().manual_seed(seed + 1), dtype=torch.float64)  # (samples, d)
    return B, X, sparse.sign_bit(X @ B.T)


def test_at_its_own_precisions_the_learned_decoder_is_the_unrolled_one():
    """eq. (57): handed the precisions the unrolled decoder computed on the same bits (damped, p = 0.1), the decoder
    computes the same estimates at every depth (1e-10; the posterior variances are derived from the precisions
    instead of averaged), and the tensor-valued sign channel and denoiser agree with the float-valued ones.
    Precisions three times too large give other estimates (the override is used)."""
    B, X, Y = _bits(32, 64, 0.1, 500, 0)
    start, last = learned_message_passing.initial_precisions(B, Y, 0.1, 5, 0.8)  # (5, 6), (500, 64)
    assert start.shape == (5, 6) and bool((start > 0).all())
    plain = message_passing.unrolled(B, Y, 0.1, 5, 0.8)
    forced = message_passing.unrolled(B, Y, 0.1, 5, 0.8, precisions=start)
    for a, b in zip(plain, forced, strict=True):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)
    assert torch.equal(last, plain[-1])
    wrong = message_passing.unrolled(B, Y, 0.1, 5, 0.8, precisions=3 * start)
    assert not torch.allclose(wrong[-1], plain[-1], atol=1e-3)
    v = torch.tensor(0.3, dtype=torch.float64)
    for a, b in zip(sparse.posterior_moments(X, 0.1, v), sparse.posterior_moments(X, 0.1, 0.3), strict=True):
        assert torch.allclose(a, b, rtol=1e-14)
    p1z = X[:, :32] * 0.5
    assert torch.allclose(message_passing.sign_channel(p1z, v, Y)[0], message_passing.sign_channel(p1z, 0.3, Y)[0])


def test_the_gradient_of_the_sample_risk_against_finite_differences():
    """The gradient the learned decoder trains with (autograd through 3 unrolled steps, p = 0.1, d = 16) against
    central finite differences of the sample risk in each log-precision (torch.autograd.gradcheck, float64)."""
    B, X, Y = _bits(8, 16, 0.1, 6, 3)
    log_start = learned_message_passing.initial_precisions(B, Y, 0.1, 3, 0.8)[0].log()

    def risk(log_prec):
        est = message_passing.unrolled(B, Y, 0.1, 3, 0.8, precisions=log_prec.exp())[-1]
        return (X - est).square().mean()

    assert torch.autograd.gradcheck(risk, (log_start.clone().requires_grad_(True),), eps=1e-6, atol=1e-7)


def test_learning_cannot_beat_the_bayes_risk_on_gaussian_data():
    """Gaussian data (p = 1), r = 1/2, d = 64: E[x | y] is linear in the bits (eq. (56)), so the Bayes risk is
    1 - (2/pi) n/d at every d. The learned decoder, trained on 20 n samples and tested on 200 n fresh ones, is not
    below it by more than 3 standard errors, and is within 1% above it (it starts at the unrolled decoder, which is
    at it). At p = 0.1 its sample risk after training is no higher than at its start, and its test loss is within
    2% of the unrolled decoder's on the same test samples (learning on 640 samples does not damage it)."""
    n, d = 32, 64
    B = linalg.ideal_encoder(n, d, 5)
    bayes = 1 - (2 / math.pi) * n / d
    fit = learned_message_passing.fit(B, 1.0, 3, 0.8, 20 * n, 20, 256, 0.05, seed=6)
    res = message_passing.evaluate(B, 1.0, 3, 200 * n, seed=7, damping=0.8, precisions=fit["precisions"])
    assert res["loss"][-1] >= bayes - 3 * res["loss_se"][-1]
    assert res["loss"][-1] <= bayes * 1.01
    assert np.isclose(res["state_evolution"][-1], bayes, rtol=1e-9)
    sparse_fit = learned_message_passing.fit(B, 0.1, 3, 0.8, 20 * n, 20, 256, 0.05, seed=6)
    assert sparse_fit["train_loss"] <= sparse_fit["train_loss_initial"]
    sparse_res = message_passing.evaluate(B, 0.1, 3, 200 * n, seed=7, damping=0.8, precisions=sparse_fit["precisions"])
    unrolled = message_passing.evaluate(B, 0.1, 3, 200 * n, seed=7, damping=0.8)
    assert abs(sparse_res["loss"][-1] / unrolled["loss"][-1] - 1) < 0.02


def test_the_learned_decoders_loss_is_checked_at_its_last_depth_only():
    """Only the last depth is the learned decoder's output (its precisions are trained for it): its loss, given as
    {depth: loss}, passes when below the trivial risk 1 and stops the run, naming the learned decoder's setting,
    when not; the unrolled decoder's losses are checked at every depth."""
    message_passing.check({8: 0.3}, "the learned decoder")
    with pytest.raises(message_passing.MessagePassingFailed, match=r"after 8 steps is 1\.2.*learned\.lr"):
        message_passing.check({8: 1.2}, "the learned decoder", "Lower sparse.message_passing.learned.lr")
    with pytest.raises(message_passing.MessagePassingFailed, match=r"after 1 steps is 1\.03.*damping"):
        message_passing.check(dict(enumerate([0.9, 1.03, 0.5])), "the unrolled decoder")
