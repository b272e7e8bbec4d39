"""The Gaussian-twin diagnostics of figure 5 (signae.universality), each against an independent computation."""

import math

import numpy as np
import pytest
import torch

from signae import gaussian_source, real_source, theory, train, twin, universality
from signae import population as pop


def power_law(d: int, exponent: float) -> np.ndarray:
    lam = np.arange(1, d + 1, dtype=float) ** -exponent
    return lam * d / lam.sum()  # tr = d


def test_gaussian_norm_concentration_closed_forms():
    # d = 1: (E|g|)^2 / E g^2 = 2 / pi; isotropic d = 5: E chi_5 = sqrt(2) Gamma(3) / Gamma(5/2)
    assert universality.gaussian_norm_concentration(np.ones(1)) == pytest.approx(2 / math.pi, rel=1e-10)
    chi5 = math.sqrt(2) * math.gamma(3) / math.gamma(2.5)
    assert universality.gaussian_norm_concentration(3.0 * np.ones(5)) == pytest.approx(chi5**2 / 5, rel=1e-10)


def test_gaussian_norm_concentration_against_monte_carlo():
    lam = power_law(50, 1.5)
    g = np.random.default_rng(0).standard_normal((400_000, 50)) * np.sqrt(lam)
    norms = np.linalg.norm(g, axis=1)
    mc = norms.mean() ** 2 / np.mean(norms**2)
    # relative error of the Monte Carlo ratio ~ 2 std(||g||) / (sqrt(N) E||g||); 5 of those
    tol = 5 * 2 * norms.std() / (math.sqrt(len(norms)) * norms.mean())
    assert universality.gaussian_norm_concentration(lam) == pytest.approx(mc, rel=tol)


def test_norm_corrected_prediction_against_a_simulated_scale_mixture():
    """x = s g, s in {0.5, 1.5} / sqrt(1.25) (kappa = 0.8): the least-squares loss of a fixed encoder is
    kappa R_g + 1 - kappa, with R_g its exact Gaussian risk; kappa_x / kappa_g recovers 0.8."""
    rng = np.random.default_rng(1)
    d, n, N = 24, 12, 400_000
    lam = power_law(d, 1.0)
    g = rng.standard_normal((N, d)) * np.sqrt(lam)
    s = rng.choice([0.5, 1.5], size=(N, 1)) / math.sqrt(1.25)
    x = s * g
    B = rng.standard_normal((n, d))
    h = np.sign(x @ B.T)
    A = np.linalg.lstsq(h, x, rcond=None)[0].T  # (d, n)
    per_sample = ((x - h @ A.T) ** 2).sum(axis=1) / d
    simulated = per_sample.mean()
    R_g = float(pop.encoder_risk(torch.as_tensor(B), torch.as_tensor(np.diag(lam))))
    predicted = universality.norm_corrected(R_g, 0.8)
    assert predicted > R_g + 0.05  # the correction is not negligible here
    assert simulated == pytest.approx(predicted, abs=5 * per_sample.std() / math.sqrt(N) + n * d / N)
    kappa = universality.norm_concentration(x) / universality.gaussian_norm_concentration(lam)
    assert kappa == pytest.approx(0.8, abs=0.005)  # sampling error of the two norm moments, about 1e-3


def test_gaussian_equivalent_loss_against_monte_carlo():
    rng = np.random.default_rng(2)
    d, n, N = 20, 10, 300_000
    lam = power_law(d, 1.0)
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    Sigma = (Q * lam) @ Q.T
    B = rng.standard_normal((n, d))
    x = rng.standard_normal((N, d)) @ (Q * np.sqrt(lam)).T
    h = np.sign(x @ B.T)
    A = np.linalg.lstsq(h, x, rcond=None)[0].T
    per_sample = ((x - h @ A.T) ** 2).sum(axis=1) / d
    exact = universality.gaussian_equivalent_loss(B, Sigma)
    assert per_sample.mean() == pytest.approx(exact, abs=5 * per_sample.std() / math.sqrt(N) + n * d / N)


def test_twin_pgd_reaches_water_filling_on_a_steep_spectrum():
    """A step that plain projected GD overshoots on a steep spectrum (lr 16) is halved by backtracking."""
    d, n = 64, 8
    lam = power_law(d, 1.5)
    wf = theory.water_filling(lam, n).risk
    res = twin.twin_pgd(lam, n, steps=200, lr=16.0, seed=0)
    assert np.all(np.diff(res.losses) <= 0)  # backtracking: the curve never rises
    assert res.final_loss == pytest.approx(wf, rel=0.02)  # finite-size excess at d = 64, n = 8: 1.2%
    plain = train.projected_gd(d, n, 200, lr=16.0, Sigma=np.diag(lam), seed=0)
    assert plain.final_loss > res.final_loss + 0.1  # the same lr without backtracking oscillates


def test_backtracking_needs_the_optimal_decoder():
    with pytest.raises(ValueError, match="backtrack"):
        train.projected_gd(16, 8, 2, decoder="joint", backtrack=True)


def test_a_decoder_fitted_on_n_samples_adds_n_over_n_minus_n_to_the_exact_risk():
    """Why figure 5's twin check judges the encoder by its exact risk with A*(B): the least-squares decoder
    from N fresh samples adds n / (N - n) of the risk, whatever the encoder (the excess risk of least squares
    with n regressors). Measured here on a fixed (designed) encoder: 4 draws, whose excess varies by about 3%
    of itself; 10% tolerance. With N / 2 samples the excess would double."""

    d, kept, n, N = 64, 48, 32, 1000
    lam = d * np.arange(1, d + 1) ** -1.0 / (np.arange(1, d + 1) ** -1.0).sum()
    src = gaussian_source.SpectralGaussianSource(lam, torch.device("cpu"), torch.float64, kept=kept, fit_samples=N)
    V = torch.as_tensor(real_source.designed_encoder(lam, kept, n, 0))  # (n, kept)
    excess = []
    for seed in range(4):
        _, fitted, extra = src.finish(V, torch.Generator().manual_seed(seed))
        assert extra["encoder_risk"] == pytest.approx(float(pop.spectral_encoder_risk(V, torch.as_tensor(lam))))
        excess.append(fitted / extra["encoder_risk"] - 1)
    assert np.mean(excess) == pytest.approx(n / (N - n), rel=0.10)


def test_twin_sample_rows_report_the_exact_risk_with_the_fitted_decoder_beside_it():
    """Figure 5's twin-sample rows: loss is the trained encoder's exact risk with A*(B) (what water-filling
    predicts, as for projected GD on the twin), loss_fitted_decoder the same encoder with the decoder from
    as many samples as the training split has rows."""
    from types import SimpleNamespace

    d, kept, N = 32, 24, 1500
    lam = d * np.arange(1, d + 1) ** -1.0 / (np.arange(1, d + 1) ** -1.0).sum()
    prep = SimpleNamespace(eigenvalues=lam, x_train=np.zeros((N, d)), z_train=np.zeros((N, kept)))
    settings = dict(steps=8, batch=512, lr=8.0, sharpness=[1.0, 6.0], ridge=0.3, estimator="tanh", momentum=0.9)
    (row,) = twin.twin_trainer_rows(prep, [0.5], settings, 0, "cpu")
    res = twin.twin_trainer(lam, kept, 16, settings, N, 0, "cpu")  # the same run, the same seed
    assert row["loss"] == res.extra["encoder_risk"] and row["loss_fitted_decoder"] == res.final_loss
    assert row["fit_samples"] == N and row["loss"] < row["loss_fitted_decoder"]
    assert row["predicted"] == theory.variant_prediction("unwhitened", lam, 16)


def test_extrapolated_limit_is_exact_for_a_one_over_t_curve():
    """eq. (49): a curve R(t) = R_inf + c / t, recorded every 30 steps as projected GD records it, gives back
    R_inf and the relative correction (R(T) - R_inf) / R(T); a flat curve (converged) needs none; a curve still
    falling fast needs a large one."""
    from signae.twin import extrapolated_limit

    steps = np.arange(30, 601, 30)
    limit, correction = extrapolated_limit(steps, 0.2 + 3.0 / steps)
    assert limit == pytest.approx(0.2, rel=1e-12)
    assert correction == pytest.approx((3.0 / 600) / (0.2 + 3.0 / 600), rel=1e-12)
    assert extrapolated_limit(steps, np.full(steps.shape, 0.3)) == (pytest.approx(0.3), pytest.approx(0.0))
    _, fast = extrapolated_limit(steps, 0.2 + 30.0 / steps)
    assert fast > 5 * correction
