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

TOL = {"standard_errors": 3}  # config/config.yaml, sparse.claims


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
    # Bernoulli-Rademacher (eq. (51)): the non-zero values are exactly +-1/sqrt(p); E x^4 = 1/p (E x^8 = 1/p^3)
    for p in (1.0, 0.3, 0.05):
        x = sparse.draw(4000, 100, p, g, law="rademacher").double().numpy().ravel()
        N, m = x.size, _moments(x)
        assert np.allclose(np.abs(x[x != 0]), 1 / math.sqrt(p))
        assert abs(m["nonzero"] - p) <= 5 * (math.sqrt(p * (1 - p) / N) + 1e-12)
        assert abs(m["var"] - 1) <= 5 * math.sqrt((1 / p - 1) / N) + 1e-12
        assert abs(m["kurt"] - 1 / p) <= 5 * math.sqrt((1 / p**3 - 1 / p**2) / N) + 1e-12
    with pytest.raises(ValueError, match="law must be one of"):
        sparse.draw(2, 2, 0.5, g, law="laplace")


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
    """The exact risk of eq. (40) and eq. (52) against a least-squares decoder (no bias) fitted on 200000 samples
    and tested on 100000 more (relative 1%: the fit's O(n / N) excess and the test's sampling error), on both
    sources; on Bernoulli-Gaussian data it is above R*(n/d) at every p < 1, on Bernoulli-Rademacher data below it
    for p above the critical sparsity."""
    d, n = 48, 24
    for law in sparse.LAWS:
        for p in (1.0, 0.3, 0.05):
            g = torch.Generator().manual_seed(4)
            X = sparse.draw(200000, d, p, g, dtype=torch.float64, law=law)
            A = train.fit_decoder([(sparse.sign_bit(X[:, :n]), X)], ridge=0.0)
            Xt = sparse.draw(100000, d, p, g, dtype=torch.float64, law=law)
            risk = float((Xt - sparse.sign_bit(Xt[:, :n]) @ A.T).square().mean())
            assert risk == pytest.approx(sparse.axis_aligned_risk(p, n, d, law), rel=0.01), (law, p)
            if p < 1 and law == "gaussian":
                assert sparse.axis_aligned_risk(p, n, d) > theory.optimal_risk(n / d)
    assert sparse.axis_aligned_risk(0.8, n, d, "rademacher") < theory.optimal_risk(n / d)
    assert sparse.axis_aligned_risk(0.3, n, d, "rademacher") > theory.optimal_risk(n / d)
    with pytest.raises(ValueError, match="n <= d"):
        sparse.axis_aligned_risk(0.3, 10, 5)


def test_three_valued_axis_risk_against_a_simulation():
    """eq. (53): with torch.sign (sgn(0) = 0) the axis-aligned encoder's least-squares risk is 1 - (n/d) eta:
    R*(n/d) on Bernoulli-Gaussian data, 1 - n/d on Bernoulli-Rademacher data (simulation as above, 1%)."""
    d, n = 48, 24
    for law in sparse.LAWS:
        for p in (0.3, 0.05):
            g = torch.Generator().manual_seed(6)
            X = sparse.draw(200000, d, p, g, dtype=torch.float64, law=law)
            A = train.fit_decoder([(torch.sign(X[:, :n]), X)], ridge=0.0)
            Xt = sparse.draw(100000, d, p, g, dtype=torch.float64, law=law)
            risk = float((Xt - torch.sign(Xt[:, :n]) @ A.T).square().mean())
            assert risk == pytest.approx(sparse.axis_aligned_risk_three_valued(p, n, d, law), rel=0.01), (law, p)
    assert sparse.axis_aligned_risk_three_valued(0.3, n, d) == pytest.approx(theory.optimal_risk(n / d))
    assert sparse.axis_aligned_risk_three_valued(0.3, n, d, "rademacher") == pytest.approx(1 - n / d)


def test_critical_sparsity_is_where_the_two_candidates_cross():
    """eq. (54): p*(n) is where the axis-aligned risk (eq. (52)) meets R*(r), written out here for n -> infinity
    (2 - pi/2) and checked at finite n by the sign of the difference on both sides; it falls towards the limit as
    n grows, does not depend on r beyond n, and does not exist for Bernoulli-Gaussian data."""
    assert sparse.critical_sparsity(0.5, "rademacher") == pytest.approx(2 - math.pi / 2)
    assert sparse.critical_sparsity(0.5, "gaussian") is None
    previous = 1.0
    for n in (32, 64, 128, 4096):
        p_star = sparse.critical_sparsity(0.5, "rademacher", n)
        d = 2 * n
        below = sparse.axis_aligned_risk(p_star - 1e-3, n, d, "rademacher") - theory.optimal_risk(0.5)
        above = sparse.axis_aligned_risk(p_star + 1e-3, n, d, "rademacher") - theory.optimal_risk(0.5)
        assert below > 0 > above, n
        assert 2 - math.pi / 2 < p_star < previous
        previous = p_star
        assert sparse.critical_sparsity(0.25, "rademacher", n) == pytest.approx(p_star)  # n, not r, decides
    assert previous == pytest.approx(2 - math.pi / 2, abs=2e-3)


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


SE = 0.001  # every loss's standard error in the hand-built tables below


def _fig7(trained: dict, ideal: dict, deep: dict | None = None) -> pd.DataFrame:
    """A figure-7 table: trained and ideal-encoder ("reference") rows, {series: {(p, r, d): loss}} each, every
    loss with standard error SE, predictions from the theory; deep: {(p, r, d): loss} (kind trained)."""
    rows = [
        {"series": "deep", "kind": "trained", "p": p, "r": r, "d": d, "seed": 0, "loss": loss, "loss_se": SE,
         "predicted": sparse.denoised_prediction(p, r)}
        for (p, r, d), loss in (deep or {}).items()
    ]  # fmt: skip
    for kind, table in (("trained", trained), ("reference", ideal)):
        for series, values in table.items():
            for (p, r, d), loss in values.items():
                pred = theory.optimal_risk(r) if series == "linear" else sparse.denoised_prediction(p, r)
                rows.append(
                    {"series": series, "kind": kind, "p": p, "r": r, "d": d, "seed": 0, "loss": loss, "loss_se": SE,
                     "predicted": pred}
                )  # fmt: skip
    return pd.DataFrame(rows)


KEYS = [(p, r, d) for p in (1.0, 0.1) for r in (0.5, 1.0) for d in (128, 512)]


def _ideal() -> dict:
    """The ideal encoder's losses: 1% above the limits (the decoder fit), 3% more at p = 0.1 and d = 128."""
    extra = {(0.1, 128): 0.04, (0.1, 512): 0.02}
    lin = {k: theory.optimal_risk(k[1]) * (1.01 + extra.get((k[0], k[2]), 0.0)) for k in KEYS}
    eta = {k: sparse.denoised_prediction(k[0], k[1]) * (1.02 + extra.get((k[0], k[2]), 0.0)) for k in KEYS}
    return {"linear": lin, "eta": eta, "learned": {k: v * 1.01 for k, v in eta.items()}}


def _trained() -> dict:
    """A trained encoder 2% better than the ideal one at d = 128 (a finite-size gain) and equal at d = 512."""
    return {s: {k: v * (0.98 if k[2] == 128 else 1.0) for k, v in vals.items()} for s, vals in _ideal().items()}


def _deep() -> dict:
    return {k: theory.optimal_risk(k[1]) * (1.0005 if k[0] == 1 else 0.9) for k in KEYS if k[2] == 128}


def _failing(trained, ideal=None, deep=None) -> list[str]:
    rows = claims.sparse_claims(_fig7(trained, ideal or _ideal(), deep), TOL)
    return [r["claim"] for r in rows if not r["holds"]]


def test_sparse_claims_hold_on_a_good_table_at_every_point_of_the_largest_d():
    rows = claims.sparse_claims(_fig7(_trained(), _ideal(), _deep()), TOL)
    assert rows and all(r["holds"] for r in rows), [r for r in rows if not r["holds"]]
    names = [r["claim"] for r in rows]
    for p in (1, 0.1):
        for r in (0.5, 1):  # every configured point, r = 1 included
            linear = f"p={p:g}: the linear decoder of the trained encoder matches the ideal encoder's at d=512, r={r:g}"
            assert any(linear in c for c in names)
            assert any(f"p={p:g}: the posterior-mean denoiser of the trained encoder matches the ideal encoder's at "
                       f"d=512, r={r:g}" in c for c in names)  # fmt: skip
    assert not any("d=128" in c and "matches" in c for c in names)  # the smallest d sets the allowance only
    assert not any("learned" in c for c in names)  # the learned denoiser is a measurement
    deep = [c for c in names if "deep decoder" in c]
    assert len(deep) == 2 and all("p=1:" in c for c in deep)  # depth at p < 1 is a measurement
    # the tolerance: 3 standard errors of the difference, plus the d = 128 difference (2%) scaled by 128/512
    (row,) = [r for r in rows if "p=0.1: the linear decoder" in r["claim"] and "r=0.5" in r["claim"]]
    ideal = _ideal()["linear"][(0.1, 0.5, 512)]
    assert row["predicted"] == pytest.approx(ideal)
    assert row["tolerance"] == pytest.approx(3 * math.hypot(SE, SE) / ideal + 0.02 * 128 / 512)
    assert "R*(r) = 0.6817" in row["claim"] and "the ideal encoder +3.00% from it" in row["claim"]


def test_sparse_linear_claim_fails_for_an_untrained_encoder_and_for_the_asymptotic_reference():
    untrained = _trained()
    untrained["linear"] = {k: v * 1.25 for k, v in untrained["linear"].items()}  # an encoder that never trained
    failed = _failing(untrained)
    assert sum("the linear decoder of the trained encoder" in c for c in failed) == 4
    # R*(r) as the reference at finite d: the trained values sit at the ideal encoder's, 1% to 3% above R*(r)
    asymptotic = {s: {k: sparse.denoised_prediction(k[0], k[1]) if s != "linear" else theory.optimal_risk(k[1])
                      for k in KEYS} for s in ("linear", "eta", "learned")}  # fmt: skip
    assert any("p=0.1: the linear decoder" in c for c in _failing(_trained(), asymptotic))


def test_sparse_denoiser_claims_fail_for_the_identity_denoiser():
    """The identity as denoiser leaves the linear decoder's loss: far above the ideal encoder's posterior mean
    at p < 1, and not below R*(r)."""
    identity = _trained()
    identity["eta"] = dict(identity["linear"])
    failed = _failing(identity)
    assert sum("p=0.1: the posterior-mean denoiser of the trained encoder" in c for c in failed) == 2
    assert sum("p=0.1: the posterior-mean denoiser is below R*(r)" in c for c in failed) == 2
    assert not any("p=1:" in c for c in failed)  # at p = 1 the posterior mean is linear: nothing to fail


def test_sparse_depth_claim_fails_for_a_deep_decoder_left_at_its_start():
    """At p = 1 a deep decoder that never trained keeps the learned denoiser's loss, the linear decoder fit's
    excess above R*(r) (3% here): more than three standard errors plus the encoder's own difference (2%)."""
    deep = _deep()
    for k in deep:
        if k[0] == 1:
            deep[k] = theory.optimal_risk(k[1]) * 1.03
    failed = _failing(_trained(), deep=deep)
    assert sorted(failed) == sorted(
        f"sparse p=1: the deep decoder reaches R*(r) on Gaussian data at d=128, r={r:g} (no decoder beats the exact "
        "linear one of an orthogonal encoder)"
        for r in (0.5, 1)
    )


def test_ideal_encoder_at_p_one_is_the_limit_plus_the_decoder_fit():
    """eq. (48): orthonormal rows on Gaussian data (p = 1) with the decoder fitted on N = 100 n samples: the
    test loss is R*(r) (1 + n / (N - n)), the least-squares fit's excess with n independent +-1 features, within
    three standard errors and a tenth of the excess (the excess formula is exact only for Gaussian features)."""
    from signae.sparse_source import SparseSource, reference

    d, n = 64, 32
    source = SparseSource(d, 1.0, torch.device("cpu"), torch.float32, 100 * n, 2000 * n, eval_samples=1, seed=0)
    ideal = reference(source, n, seed=0)
    expected = theory.optimal_risk(n / d) * (1 + n / (100 * n - n))
    assert ideal["loss"] == pytest.approx(expected, abs=3 * ideal["loss_se"] + 0.1 * (expected - 0.682))
    assert ideal["loss_eta"] == pytest.approx(ideal["loss"], rel=2e-3)  # at p = 1 the posterior mean is linear
    V = torch.as_tensor(linalg.ideal_encoder(n, d, 0))
    assert torch.allclose(V @ V.T, torch.eye(n, dtype=V.dtype), atol=1e-10)  # orthonormal rows
    frame = linalg.ideal_encoder(2 * d, d, 0)  # n > d: a tight frame, unit rows
    assert np.allclose(np.linalg.norm(frame, axis=1), 1)
    assert np.allclose(np.linalg.eigvalsh(frame.T @ frame), 2.0, rtol=0.35)


def test_standard_error_of_a_test_mean_against_repeated_draws():
    """SparseSource.test_losses' standard error against the spread of the same mean over 30 independent test
    sets (the spread's own relative error is about 1/sqrt(2 * 29) = 13%: 40% allowed)."""
    from signae.sparse_source import SparseSource

    d, n = 32, 16
    source = SparseSource(d, 0.1, torch.device("cpu"), torch.float32, 20 * n, 50 * n, eval_samples=1, seed=0)
    V = torch.as_tensor(linalg.ideal_encoder(n, d, 1), dtype=torch.float32)
    A, _, _ = source.linear(V, torch.Generator().manual_seed(0))
    At = A.T.float()
    draws = [
        source.test_losses(V, {"lin": lambda F: F @ At}, torch.Generator().manual_seed(s))["lin"] for s in range(30)
    ]
    means, ses = np.array([m for m, _ in draws]), np.array([s for _, s in draws])
    assert ses.mean() == pytest.approx(means.std(ddof=1), rel=0.4)


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
