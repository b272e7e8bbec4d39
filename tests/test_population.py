"""The closed-form population risk (docs/theory.md eq. (3)) against Monte Carlo and least squares."""

import math

import numpy as np
import pytest
import torch

from signae import linalg, population, spectra

N_MC = 200_000


def _monte_carlo(A, B, X):
    """Per-sample losses ||x - A sign(Bx)||^2 / d. X: (N, d)."""
    S = torch.sign(X @ B.T)
    return ((X - S @ A.T) ** 2).sum(dim=1) / X.shape[1]


def _random_problem(d, n, seed):
    g = torch.Generator().manual_seed(seed)
    B = torch.randn(n, d, generator=g, dtype=torch.float64)
    A = torch.randn(d, n, generator=g, dtype=torch.float64) / math.sqrt(n)
    return A, B


@pytest.mark.parametrize("d,n", [(20, 10), (16, 40)])
def test_isotropic_closed_form_matches_monte_carlo(d, n):
    A, B = _random_problem(d, n, seed=d + n)
    X = torch.as_tensor(spectra.draw(None, d, N_MC, seed=1))
    losses = _monte_carlo(A, B, X)
    se = float(losses.std()) / math.sqrt(N_MC)
    assert abs(float(population.risk(A, B)) - float(losses.mean())) < 4 * se


@pytest.mark.parametrize("kind", ["power_law", "levels"])
def test_general_covariance_closed_form_matches_monte_carlo(kind):
    d, n = 18, 24
    Sigma = spectra.covariance(spectra.spectrum(kind, d, exponent=0.8), seed=2)
    A, B = _random_problem(d, n, seed=7)
    X = torch.as_tensor(spectra.draw(Sigma, d, N_MC, seed=3))
    losses = _monte_carlo(A, B, X)
    se = float(losses.std()) / math.sqrt(N_MC)
    assert abs(float(population.risk(A, B, torch.as_tensor(Sigma))) - float(losses.mean())) < 4 * se


@pytest.mark.parametrize("with_sigma", [False, True])
def test_optimal_decoder_matches_least_squares_on_samples(with_sigma):
    d, n, N = 12, 20, N_MC
    Sigma = spectra.covariance(spectra.spectrum("levels", d), seed=4) if with_sigma else None
    _, B = _random_problem(d, n, seed=11)
    X = torch.as_tensor(spectra.draw(Sigma, d, N, seed=5))
    S = torch.sign(X @ B.T)  # (N, n)
    A_ls = torch.linalg.lstsq(S, X).solution.T  # (d, n), least squares of X on the sign features
    A_star = population.optimal_decoder(B, None if Sigma is None else torch.as_tensor(Sigma))
    # Sampling error of a least-squares fit is O(sqrt(n / N)) ~ 1% here; allow 5%.
    assert float(torch.linalg.norm(A_ls - A_star) / torch.linalg.norm(A_star)) < 0.05


def test_encoder_risk_is_risk_at_optimal_decoder_and_a_minimum():
    d, n = 30, 45
    A, B = _random_problem(d, n, seed=2)
    A_star = population.optimal_decoder(B)
    r_star = float(population.encoder_risk(B))
    assert float(population.risk(A_star, B)) == pytest.approx(r_star, abs=1e-12)
    for scale in (1e-3, 1e-2):
        assert float(population.risk(A_star + scale * A, B)) > r_star


def test_whitened_parametrisation_gives_the_same_risk():
    d, n = 25, 30
    Sigma = spectra.covariance(spectra.spectrum("power_law", d, exponent=0.5), seed=1)
    evals, evecs = np.linalg.eigh(Sigma)
    root = torch.as_tensor((evecs * np.sqrt(evals)) @ evecs.T)
    _, B = _random_problem(d, n, seed=9)
    V = B @ root  # the whitened encoder
    direct = float(population.encoder_risk(B, torch.as_tensor(Sigma)))
    assert float(population.whitened_encoder_risk(V, root)) == pytest.approx(direct, abs=1e-12)


def test_spectral_encoder_risk_is_the_encoder_risk_on_the_kept_directions():
    # eq. (6) with eq. (17) on diag(lambda): V acts on the first k whitened coordinates only
    d, k, n = 30, 22, 15
    lam = np.sort(np.random.default_rng(4).exponential(size=d))[::-1].copy()
    V = torch.randn(n, k, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    B = torch.zeros(n, d, dtype=torch.float64)
    B[:, :k] = V / torch.as_tensor(np.sqrt(lam[:k]))
    direct = float(population.encoder_risk(B, torch.as_tensor(np.diag(lam))))
    assert float(population.spectral_encoder_risk(V, torch.as_tensor(lam))) == pytest.approx(direct, abs=1e-12)
    # and against Monte Carlo: the least-squares decoder on samples of N(0, diag(lambda))
    X = torch.randn(400_000, d, generator=torch.Generator().manual_seed(3), dtype=torch.float64) * torch.as_tensor(
        np.sqrt(lam)
    )
    S = torch.sign(X @ B.T)
    A = torch.linalg.lstsq(S, X).solution.T
    mc = float(((X - S @ A.T) ** 2).sum(1).mean()) / d
    assert float(population.spectral_encoder_risk(V, torch.as_tensor(lam))) == pytest.approx(mc, rel=5e-3)


def test_autograd_gradient_matches_finite_differences():
    d, n = 10, 14
    _, B = _random_problem(d, n, seed=5)
    B.requires_grad_()
    (g,) = torch.autograd.grad(population.encoder_risk(B), B)
    E = torch.zeros_like(B)
    E[3, 4] = 1.0
    h = 1e-6
    with torch.no_grad():
        fd = (population.encoder_risk(B + h * E) - population.encoder_risk(B - h * E)) / (2 * h)
    assert float(g[3, 4]) == pytest.approx(float(fd), rel=1e-5, abs=1e-10)


@pytest.mark.parametrize("with_sigma", [False, True])
def test_closed_form_gradient_matches_autograd(with_sigma):
    d, n = 24, 40
    lam = spectra.spectrum("power_law", d, exponent=0.5)
    Sigma = torch.as_tensor(spectra.covariance(lam, seed=1)) if with_sigma else None
    root = None
    if with_sigma:
        evals, Q = torch.linalg.eigh(Sigma)
        root = (Q * evals.sqrt()) @ Q.T
    V = linalg.unit_rows(torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    Vg = V.clone().requires_grad_()
    loss = population.encoder_risk_from_moments(population.SecondMoments.whitened(Vg, root), d)
    (g,) = torch.autograd.grad(loss, Vg)
    g = g - (g * V).sum(dim=1, keepdim=True) * V  # tangent part, what projected GD uses
    risk, g2 = population.encoder_risk_and_grad(V, Sigma)
    assert float(risk) == pytest.approx(loss.item(), abs=1e-13)
    assert float(torch.linalg.norm(g - g2) / torch.linalg.norm(g)) < 1e-10


def test_closed_form_gradient_takes_a_diagonal_covariance_as_its_diagonal():
    # eq. (18): a diagonal Sigma passed as (d,) gives the numbers of the dense (d, d) product, and differs
    # from the identity's (so the diagonal is not ignored)
    d, n = 24, 40
    lam = torch.as_tensor(spectra.spectrum("power_law", d, exponent=0.5))
    V = linalg.unit_rows(torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(2)))
    risk, grad = population.encoder_risk_and_grad(V, torch.diag(lam))
    risk1, grad1 = population.encoder_risk_and_grad(V, lam)
    assert float(risk1) == pytest.approx(float(risk), abs=1e-14)
    assert float(torch.linalg.norm(grad1 - grad)) <= 1e-14 * float(torch.linalg.norm(grad))
    _, grad_identity = population.encoder_risk_and_grad(V, None)
    assert float(torch.linalg.norm(grad_identity - grad)) > 1e-3 * float(torch.linalg.norm(grad))
