"""Message passing on y = sgn(B x) (signae.message_passing; docs/theory.md section 11), each against an independent
computation: the sign channel's posterior against samples, the Bernoulli-Gaussian posterior moments against a
brute-force posterior, the state evolution against its closed forms on Gaussian data and the single denoiser,
and the unrolled decoder against the state evolution on samples as d grows."""

import math

import numpy as np
import pytest
import torch

from signae import linalg, message_passing, sparse, theory


def test_sign_channel_against_a_simulation():
    """eq. (55): E[z | y] and Var[z | y] for z ~ N(p1z, V) given y = sgn(z), against 10^6 draws of z at three
    pseudo-prior means (3 standard errors); and mmse_z(V) against draws of (p1z, z) (1%), 1 - 2/pi at V = 1."""
    g = torch.Generator().manual_seed(0)
    V = 0.3
    for p1z in (-0.5, 0.2, 0.8):  # each sign at least 7% of the draws
        z = p1z + math.sqrt(V) * torch.randn(1_000_000, generator=g, dtype=torch.float64)
        for y in (-1.0, 1.0):
            picked = z[torch.sign(z) == y]
            mean, var = message_passing.sign_channel(torch.tensor([p1z], dtype=torch.float64), 1 / V, torch.tensor([y]))
            se = float(picked.std()) / math.sqrt(len(picked))
            assert float(mean) == pytest.approx(float(picked.mean()), abs=3 * se), (p1z, y)
            # the sample variance of >= 70000 draws (the rarest sign) has a relative standard error < 1%: 3%
            assert var == pytest.approx(float(picked.var()), rel=0.03), (p1z, y)
    assert message_passing.sign_channel_mmse(1.0) == pytest.approx(1 - 2 / math.pi, rel=1e-10)
    for V in (0.8, 0.3, 0.05):
        p1z = math.sqrt(1 - V) * torch.randn(400_000, generator=g, dtype=torch.float64)
        z = p1z + math.sqrt(V) * torch.randn(400_000, generator=g, dtype=torch.float64)
        mean, _ = message_passing.sign_channel(p1z, 1 / V, torch.sign(z))
        assert message_passing.sign_channel_mmse(V) == pytest.approx(float((z - mean).square().mean()), rel=0.01)


def test_posterior_moments_against_a_brute_force_posterior():
    """E[x | y] and Var[x | y] of the Bernoulli-Gaussian coordinate against the posterior on a grid of x (the
    spike at 0 weighted separately); at p = 1 the Gaussian closed forms."""
    p, v = 0.1, 0.5
    s = 1 / p
    grid = np.linspace(-40, 40, 200_001)
    dx = grid[1] - grid[0]
    slab = p * np.exp(-0.5 * grid**2 / s) / math.sqrt(2 * math.pi * s)
    for y in (-3.0, -0.2, 0.0, 1.0, 6.0):
        like = np.exp(-0.5 * (y - grid) ** 2 / v)
        spike = (1 - p) * math.exp(-0.5 * y**2 / v)
        Z = (slab * like).sum() * dx + spike
        m1 = (grid * slab * like).sum() * dx / Z
        m2 = (grid**2 * slab * like).sum() * dx / Z
        mean, var = sparse.posterior_moments(torch.tensor([y], dtype=torch.float64), p, v)
        assert float(mean) == pytest.approx(m1, abs=1e-7) and float(var) == pytest.approx(m2 - m1**2, abs=1e-7), y
    mean, var = sparse.posterior_moments(torch.tensor([2.0], dtype=torch.float64), 1.0, 0.25)
    assert float(mean) == pytest.approx(2 / 1.25) and float(var) == pytest.approx(0.25 / 1.25)


def test_state_evolution_is_the_limit_on_gaussian_data_and_the_single_denoiser_first():
    """eq. (56): Gaussian data at r <= 1 give R*(r) at every depth; on sparse data the first denoised entry is
    mmse_BG(p, v(r)) and the entries never rise; at r > 1 the first entry is c / (r + c) and depth goes below it;
    a wrong sign channel (its error at V = 1 off by 10%) breaks the first check."""
    for r in (0.25, 0.5, 1.0):
        assert np.allclose(message_passing.state_evolution(1.0, r, 5), theory.optimal_risk(r), rtol=1e-9)
    for p in (0.3, 0.1, 0.03):
        for r in (0.25, 1.0):
            se = message_passing.state_evolution(p, r, 8)
            assert se[0] == pytest.approx(theory.optimal_risk(r), rel=1e-9)
            assert se[1] == pytest.approx(sparse.denoised_prediction(p, r), rel=1e-7)
            assert np.all(np.diff(se[1:]) <= 1e-12) and se[-1] < se[1]
    for r in (2.0, 4.0):
        se = message_passing.state_evolution(1.0, r, 30)
        assert se[0] == pytest.approx(theory.optimal_risk(r), rel=1e-9) and se[-1] < 0.95 * se[0]
    original = message_passing.sign_channel_mmse
    try:
        message_passing.sign_channel_mmse = lambda V: 1.1 * original(V)
        assert not np.allclose(message_passing.state_evolution(1.0, 0.5, 3), theory.optimal_risk(0.5), rtol=1e-3)
    finally:
        message_passing.sign_channel_mmse = original


def test_unrolled_decoder_approaches_the_state_evolution_as_d_grows():
    """The unrolled decoder on random orthonormal rows (p = 0.1, r = 1/2, 4 steps, 3000 samples): its gap to the
    state evolution is smaller at d = 512 than at d = 128, and within 6% at d = 512; at p = 1 every depth is the
    linear decoder's R*(r), within the sampling error and the O(1/d) non-Gaussianity (2%)."""
    gaps = []
    for d in (128, 512):
        n = d // 2
        res = message_passing.evaluate(linalg.ideal_encoder(n, d, 1), 0.1, 4, 3000, seed=2)
        assert np.allclose(res["state_evolution"], message_passing.state_evolution(0.1, 0.5, 4), rtol=1e-6)
        gaps.append(res["loss"][-1] / res["state_evolution"][-1] - 1)
        assert res["loss"][-1] < res["loss"][1] < res["loss"][0]
    assert 0 < gaps[1] < gaps[0] and gaps[1] < 0.06
    res = message_passing.evaluate(linalg.ideal_encoder(64, 128, 1), 1.0, 3, 3000, seed=3)
    assert np.allclose(res["loss"], theory.optimal_risk(0.5), rtol=0.02)
    with pytest.raises(message_passing.MessagePassingFailed, match="not in \\[0, 1\\)"):
        message_passing.check(dict(enumerate([0.5, float("nan")])), "test encoder")


def test_damping_keeps_the_decoder_stable_where_the_undamped_one_diverges():
    """p = 0.03, r = 1/4, d = 256 (p d = 8 nonzeros per sample; the default run's point where the undamped decoder
    diverged): undamped, the loss leaves [0, 1) within 8 steps; damped by 0.8 (the default), every depth stays
    below the single denoiser's loss and the last is below the undamped decoder's best. At p = 1 damping changes
    nothing the state evolution predicts: every depth stays at R*(r) (the fixed point is the same)."""
    B = linalg.ideal_encoder(64, 256, 0)
    undamped = message_passing.evaluate(B, 0.03, 8, 3200, seed=1)
    assert max(undamped["loss"]) > 1.0
    damped = message_passing.evaluate(B, 0.03, 8, 3200, seed=1, damping=0.8)
    message_passing.check(dict(enumerate(damped["loss"])), "damped test encoder")
    assert max(damped["loss"][2:]) < damped["loss"][1] and damped["loss"][-1] < min(undamped["loss"])
    gauss = message_passing.evaluate(linalg.ideal_encoder(64, 128, 1), 1.0, 4, 3000, seed=3, damping=0.5)
    assert np.allclose(gauss["loss"], theory.optimal_risk(0.5), rtol=0.02)
