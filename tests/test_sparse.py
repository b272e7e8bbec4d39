"""The sparse source and the denoisers (signae.sparse; docs/theory.md section 7), each against an
independent computation: moments of the sampler against the source's closed forms, the posterior mean
against a brute-force posterior on a grid, mmse_BG against Monte Carlo, the axis-aligned risk against a
simulation, the denoised prediction against an orthogonal encoder on samples; and figure 7's claims on
tables that must pass and tables that must fail."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from signae import claims, deep_decoder, denoisers, linalg, sparse, theory, train

TOL = {
    "linear": 0.03,
    "linear_min_p": 0.1,
    "linear_max_r": 1,
    "denoised": 0.03,
    "denoised_min_p": 0.1,
    "denoised_max_r": 0.5,
}


def _moments(x: np.ndarray) -> dict:
    return {"mean": x.mean(), "var": (x**2).mean(), "nonzero": (x != 0).mean(), "kurt": (x**4).mean()}


def test_the_sampler_has_the_moments_of_the_source():
    """E x = 0, E x^2 = 1, P(x != 0) = p, E x^4 = 3/p, each within 5 standard errors of the sample mean
    (standard errors from the source's own higher moments: E x^4 = 3/p, E x^8 = 105/p^3)."""
    g = torch.Generator().manual_seed(0)
    for p in (1.0, 0.3, 0.05):
        x = sparse.draw(4000, 100, p, g).double().numpy().ravel()
        N = x.size
        m = _moments(x)
        se = {
            "mean": math.sqrt(1 / N),
            "var": math.sqrt((3 / p - 1) / N),
            "nonzero": math.sqrt(p * (1 - p) / N) + 1e-12,
            "kurt": math.sqrt((105 / p**3 - 9 / p**2) / N),
        }
        want = {"mean": 0.0, "var": 1.0, "nonzero": p, "kurt": 3 / p}
        for key in want:
            assert abs(m[key] - want[key]) <= 5 * se[key], (p, key, m[key], want[key])
    # the check can fail: samples of sparsity 0.3 do not pass as 0.05
    x = sparse.draw(4000, 100, 0.3, g).double().numpy().ravel()
    assert abs(_moments(x)["nonzero"] - 0.05) > 5 * math.sqrt(0.05 * 0.95 / x.size)


def test_sign_bit_is_one_bit_with_sign_of_zero_plus_one():
    z = torch.tensor([-2.0, -0.0, 0.0, 1e-30, 3.0])
    assert sparse.sign_bit(z).tolist() == [-1.0, 1.0, 1.0, 1.0, 1.0]
    assert torch.sign(z).tolist() == [-1.0, 0.0, 0.0, 1.0, 1.0]  # the three-valued symbol it avoids


def _brute_force_posterior_mean(y: float, p: float, v: float) -> float:
    """E[x | y] by quadrature on a fine grid of x for the nonzero component, plus the atom at 0."""
    s = 1 / p
    xs = np.linspace(-14 * math.sqrt(s), 14 * math.sqrt(s), 400001)
    prior = np.exp(-0.5 * xs**2 / s) / math.sqrt(2 * math.pi * s)
    like = np.exp(-0.5 * (y - xs) ** 2 / v) / math.sqrt(2 * math.pi * v)
    num = p * np.trapezoid(xs * prior * like, xs)
    den = p * np.trapezoid(prior * like, xs) + (1 - p) * math.exp(-0.5 * y**2 / v) / math.sqrt(2 * math.pi * v)
    return num / den


def test_posterior_mean_against_a_brute_force_posterior():
    for p, v in ((0.3, 0.6), (0.05, 1.5), (0.1, 0.2), (1.0, 0.8)):
        for y in (-6.0, -1.3, -0.2, 0.0, 0.4, 2.5, 9.0):
            want = _brute_force_posterior_mean(y, p, v)
            got_np = float(sparse.posterior_mean(np.array([y]), p, v)[0])
            got_torch = float(sparse.posterior_mean(torch.tensor([y], dtype=torch.float64), p, v)[0])
            assert got_np == pytest.approx(want, rel=1e-7, abs=1e-10), (p, v, y)
            assert got_torch == pytest.approx(want, rel=1e-7, abs=1e-10), (p, v, y)
    # the comparison can fail: the posterior under another sparsity is another function
    assert (
        abs(float(sparse.posterior_mean(np.array([1.0]), 0.1, 0.6)[0]) - _brute_force_posterior_mean(1.0, 0.3, 0.6))
        > 1e-2
    )


def test_mmse_against_monte_carlo():
    """mmse_BG(p, v) by quadrature against the Monte Carlo mean of (x - eta(y))^2 over 2 million draws,
    within 5 standard errors."""
    rng = np.random.default_rng(1)
    N = 2_000_000
    for p, v in ((1.0, 0.5), (0.3, 0.6), (0.1, 1.2), (0.05, 0.3)):
        x = rng.standard_normal(N) / math.sqrt(p) * (rng.random(N) < p)
        y = x + math.sqrt(v) * rng.standard_normal(N)
        err = (x - sparse.posterior_mean(y, p, v)) ** 2
        se = err.std() / math.sqrt(N)
        assert abs(err.mean() - sparse.mmse(p, v)) <= 5 * se, (p, v, err.mean(), sparse.mmse(p, v), se)
    assert sparse.mmse(1.0, 0.5) == pytest.approx(0.5 / 1.5, rel=1e-12)


def test_denoised_prediction_at_p_one_is_the_limit_and_below_it_otherwise():
    for r in (0.25, 0.5, 1.0, 2.0):
        assert sparse.noise_variance(r) == pytest.approx(
            math.pi / (2 * r) - 1 if r <= 1 else theory.optimal_risk(r) / (1 - theory.optimal_risk(r))
        )
        assert sparse.denoised_prediction(1.0, r) == pytest.approx(theory.optimal_risk(r), rel=1e-10)
        below = [sparse.denoised_prediction(p, r) for p in (0.5, 0.3, 0.1, 0.03)]
        assert all(b < theory.optimal_risk(r) for b in below) and below == sorted(below, reverse=True)


def test_denoised_loss_of_an_orthogonal_encoder_against_the_prediction():
    """Orthonormal rows (the optimal encoder for r <= 1), least-squares decoder on samples: the linear loss
    is R*(r) and eta applied to x_lin / alpha reaches mmse_BG(p, v(r)) where p d is large (p = 0.3,
    d = 512, r = 1/2). Tolerance 3%: the decoder's finite-sample fit and the O(1/(p d)) non-Gaussianity."""
    d, r, p = 512, 0.5, 0.3
    n = int(r * d)
    g = torch.Generator().manual_seed(3)
    B = linalg.haar_rotation(d, seed=3)[:n]  # (n, d) orthonormal rows
    B = torch.as_tensor(np.asarray(B), dtype=torch.float32)
    X = sparse.draw(60000, d, p, g)
    F = sparse.sign_bit(X @ B.T)
    A = train.fit_decoder([(F, X)]).float()  # (d, n)
    Xt = sparse.draw(20000, d, p, g)
    lin = sparse.sign_bit(Xt @ B.T) @ A.T
    linear = float((Xt - lin).square().mean())
    alpha = float((Xt * lin).sum() / Xt.square().sum())
    v = float((lin / alpha - Xt).square().mean())
    denoised = float((Xt - sparse.posterior_mean(lin / alpha, p, v)).square().mean())
    assert linear == pytest.approx(theory.optimal_risk(r), rel=0.03)
    assert alpha == pytest.approx(1 - linear, rel=0.03)
    assert denoised == pytest.approx(sparse.denoised_prediction(p, r), rel=0.03)
    assert denoised < linear - 0.05  # the denoiser pays


def test_axis_aligned_risk_against_a_simulation():
    """The exact risk of eq. (40) against a least-squares decoder (no bias) fitted on 200000 samples and
    tested on 100000 more (relative 1%: the fit's O(n / N) excess and the test's sampling error)."""
    d, n = 48, 24
    for p in (1.0, 0.3, 0.05):
        g = torch.Generator().manual_seed(4)
        X = sparse.draw(200000, d, p, g, dtype=torch.float64)
        A = train.fit_decoder([(sparse.sign_bit(X[:, :n]), X)], ridge=0.0)
        Xt = sparse.draw(100000, d, p, g, dtype=torch.float64)
        risk = float((Xt - sparse.sign_bit(Xt[:, :n]) @ A.T).square().mean())
        assert risk == pytest.approx(sparse.axis_aligned_risk(p, n, d), rel=0.01), p
        if p < 1:
            assert sparse.axis_aligned_risk(p, n, d) > theory.optimal_risk(n / d)
    with pytest.raises(ValueError, match="n <= d"):
        sparse.axis_aligned_risk(0.3, 10, 5)


def test_learned_denoiser_approaches_the_posterior_mean():
    """Fitted on 4096 x 64 pairs, the learned coordinate-wise denoiser is within 5% of mmse_BG on fresh
    pairs (it does not know the prior; 300 Adam steps)."""
    for p, v in ((0.1, 0.6), (0.3, 0.6)):
        g = torch.Generator().manual_seed(5)
        X = sparse.draw(4096, 64, p, g)
        Y = X + math.sqrt(v) * torch.randn(4096, 64, generator=g)
        model = denoisers.train_denoiser(Y, X)
        Xt = sparse.draw(4096, 64, p, g)
        Yt = Xt + math.sqrt(v) * torch.randn(4096, 64, generator=g)
        with torch.no_grad():
            learned = float((model(Yt) - Xt).square().mean())
            identity = float((Yt - Xt).square().mean())
        assert learned == pytest.approx(sparse.mmse(p, v), rel=0.05)
        assert learned < 0.5 * identity


def _fig7(linear: dict, eta: dict, learned: dict, deep: dict | None = None) -> pd.DataFrame:
    """A figure-7 table: {(p, r, d): loss} per series, predictions from the theory; deep: {(p, r, d): (deep
    loss, the learned denoiser's loss on the same samples)}."""
    rows = [
        {"series": "deep", "kind": "trained", "p": p, "r": r, "d": d, "seed": 0, "loss": loss, "paired_learned": ref}
        for (p, r, d), (loss, ref) in (deep or {}).items()
    ]
    for series, values in (("linear", linear), ("eta", eta), ("learned", learned)):
        for (p, r, d), loss in values.items():
            pred = theory.optimal_risk(r) if series == "linear" else sparse.denoised_prediction(p, r)
            rows.append(
                {
                    "series": series,
                    "kind": "trained",
                    "p": p,
                    "r": r,
                    "d": d,
                    "seed": 0,
                    "loss": loss,
                    "predicted": pred,
                }
            )
    return pd.DataFrame(rows)


def _good():
    keys = [(p, r, d) for p in (1.0, 0.1) for r in (0.5, 1.0) for d in (128, 512)]
    linear = {k: theory.optimal_risk(k[1]) * (1 + (0.04 if k[2] == 128 else 0.01)) for k in keys}
    eta = {k: sparse.denoised_prediction(k[0], k[1]) * 1.01 for k in keys}
    learned = {k: eta[k] * 1.01 for k in keys}
    return linear, eta, learned


def _deep(learned):
    return {k: (v * 0.97, v) for k, v in learned.items() if k[2] == 128}


def test_sparse_claims_hold_on_a_good_table_and_fail_on_each_fault():
    linear, eta, learned = _good()
    rows = claims.sparse_claims(_fig7(linear, eta, learned, _deep(learned)), TOL)
    assert rows and all(r["holds"] for r in rows), [r for r in rows if not r["holds"]]
    names = " | ".join(r["claim"] for r in rows)
    assert "p=0.1: linear decoder reaches R*(r) at d=512, r=0.5" in names
    assert "p=0.1: the posterior-mean denoiser reaches mmse_BG(p, v(r)) at d=512, r=0.5" in names
    assert "r=1: the posterior-mean denoiser reaches" not in names  # r > denoised_max_r: reported, not claimed
    assert "p=1: one hidden layer lowers the learned denoiser's loss (same samples) at d=128, r=0.5" in names

    def failing(linear, eta, learned):
        return [r["claim"] for r in claims.sparse_claims(_fig7(linear, eta, learned), TOL) if not r["holds"]]

    bad = dict(linear)
    bad[(0.1, 0.5, 512)] *= 1.05  # 5% above R*(r) at the largest d
    assert any("linear decoder reaches R*(r) at d=512, r=0.5" in c for c in failing(bad, eta, learned))
    bad = {k: theory.optimal_risk(k[1]) * (1.01 if k[2] == 128 else 1.04) for k in linear}  # gap grows with d
    assert any("falls as d grows" in c for c in failing(bad, eta, learned))
    bad = dict(eta)
    bad[(0.1, 0.5, 512)] *= 1.10
    assert any("reaches mmse_BG" in c for c in failing(linear, bad, learned))
    bad = dict(eta)
    bad[(0.1, 1.0, 512)] = theory.optimal_risk(1.0) * 1.001  # not below R*(r)
    assert any("posterior-mean denoiser is below R*(r) at d=512, r=1" in c for c in failing(linear, bad, learned))
    bad = dict(learned)
    bad[(0.1, 1.0, 512)] = linear[(0.1, 1.0, 512)] * 1.01
    assert any("learned coordinate-wise denoiser is below the linear decoder" in c for c in failing(linear, eta, bad))
    deep = _deep(learned)
    deep[(0.1, 1.0, 128)] = (learned[(0.1, 1.0, 128)] * 1.001, learned[(0.1, 1.0, 128)])  # depth made it worse
    bad = [r["claim"] for r in claims.sparse_claims(_fig7(linear, eta, learned, deep), TOL) if not r["holds"]]
    assert bad == ["sparse p=0.1: one hidden layer lowers the learned denoiser's loss (same samples) at d=128, r=1"]


def test_piecewise_linear_least_squares_against_a_direct_solve():
    """The tridiagonal normal equations (eq. (43)) against a dense least-squares solve on the hat-function
    design matrix built with numpy's interpolation; pairs in two chunks, some knots never reached."""
    from signae.denoisers import PiecewiseLinear, fit_piecewise_linear

    rng = np.random.default_rng(0)
    u = np.concatenate([rng.uniform(-1.0, 0.2, 3000), rng.uniform(0.6, 2.5, 3000)])  # a gap over knots
    x = np.sin(2 * u) + 0.1 * rng.standard_normal(u.size)
    lo, hi, K = -1.0, 2.0, 31
    knots = np.linspace(lo, hi, K)
    H = np.stack([np.interp(np.clip(u, lo, hi), knots, np.eye(K)[k]) for k in range(K)], axis=1)  # (N, K)
    reached = H.sum(axis=0) > 0
    g_direct = np.zeros(K)
    g_direct[reached] = np.linalg.lstsq(H[:, reached], x - u, rcond=None)[0]
    U, X = torch.as_tensor(u, dtype=torch.float32), torch.as_tensor(x, dtype=torch.float32)
    phi = fit_piecewise_linear([(U[:2500], X[:2500]), (U[2500:], X[2500:])], lo, hi, K)
    assert not reached.all()
    assert np.abs(phi.g.detach().numpy()[reached] - g_direct[reached]).max() < 1e-4
    # evaluation: phi(u) = u + sum_k g_k h_k(clip(u))
    with torch.no_grad():
        assert np.allclose(phi(U).numpy(), u + H @ phi.g.numpy().astype(np.float64), atol=1e-5)
    # a function matched at the knots reproduces it there
    m = PiecewiseLinear.matching(torch.tanh, lo, hi, K)
    with torch.no_grad():
        assert torch.allclose(
            m(torch.as_tensor(knots, dtype=torch.float32)), torch.tanh(torch.as_tensor(knots)).float(), atol=1e-6
        )


def test_deep_decoder_starts_at_the_learned_denoiser_and_improves_on_it():
    """eq. (42): an orthonormal encoder on sparse data (p = 0.1, d = 64, r = 1/2). At the start the deep
    decoder is the piecewise-linear copy of the learned denoiser (same test loss to 0.5%); trained, it is
    below it; both denoisers are below the linear decoder, whose loss is near R*(r) (finite d: +6%)."""

    d, n, p = 64, 32, 0.1
    B = torch.as_tensor(linalg.haar_rotation(d, 0)[:n], dtype=torch.float32)  # (n, d) orthonormal rows
    settings = {
        "fit_samples_per_unit": 200,
        "test_samples_per_unit": 200,
        "steps": 150,
        "batch": 512,
        "lr": 1e-3,
        "knots": 129,
    }
    res, curve = deep_decoder.train(B, p, settings, seed=0)
    assert res["paired_loss_deep_start"] == pytest.approx(res["paired_loss_learned_denoiser"], rel=1e-3)
    assert res["loss_deep"] < res["paired_loss_learned_denoiser"] < res["paired_loss_linear"]
    assert res["paired_loss_linear"] == pytest.approx(theory.optimal_risk(0.5), rel=0.06)
    deep_decoder.check(res, "a run")  # nothing to stop
    for key, fix in (("loss_deep", "sparse.depth.lr"), ("paired_loss_linear", "--forcerun a run")):
        with pytest.raises(deep_decoder.FitFailed, match=fix):
            deep_decoder.check({**res, key: float("nan")}, "a run")
    with pytest.raises(deep_decoder.FitFailed, match="trivial risk"):
        deep_decoder.check({**res, "loss_deep": 1.2}, "a run")
    assert curve[0][0] == 0 and curve[-1][0] == settings["steps"] - 1
