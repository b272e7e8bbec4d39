"""Scalar theory (docs/theory.md, the limit and water-filling) against reference values and independent computations."""

import math

import numpy as np
import pytest
import torch

from signae import linalg, population, spectra, theory, train

# Reference values of R*(r) to six decimals, computed by hand from 1 - 2r/pi and c/(r + c).
TABLE = {
    0.125: 0.920423,
    0.25: 0.840845,
    0.5: 0.681690,
    0.75: 0.522535,
    1: 0.363380,
    1.5: 0.275641,
    2: 0.222031,
    3: 0.159851,
    4: 0.124879,
}


@pytest.mark.parametrize("r,value", TABLE.items())
def test_optimal_risk_matches_reference_values(r, value):
    assert theory.optimal_risk(r) == pytest.approx(value, abs=1e-6)


def test_optimal_risk_is_continuous_at_one():
    below, above = theory.optimal_risk(1 - 1e-9), theory.optimal_risk(1 + 1e-9)
    assert abs(below - above) < 1e-8
    assert theory.optimal_risk(1.0) == pytest.approx(1 - 2 / math.pi, abs=1e-15)


def test_optimal_risk_rejects_nonpositive_rate():
    with pytest.raises(ValueError, match="r must be > 0"):
        theory.optimal_risk(0.0)


def test_beta_is_continuous_and_attains_the_limit():
    # beta(r) is the minimiser over beta of the tied risk at the optimal frame (docs/theory.md eq. (10)):
    # with arcsin(G) ~ G + cI and Bbar^T Bbar = m I, R(beta) = 1 - 2 sqrt(2/pi) beta r + (2/pi) beta^2 r (m + c),
    # whose minimiser is sqrt(pi/2) / (m + c) with m = max(r, 1) for r > 1 and G = I for r <= 1.
    assert theory.optimal_decoder_scale(1.0) == pytest.approx(math.sqrt(math.pi / 2) / (1 + theory.C_SIGN), rel=1e-14)
    for r in (1.5, 2.0, 4.0):
        beta = theory.optimal_decoder_scale(r)
        risk = lambda b, r=r: 1 - 2 * math.sqrt(2 / math.pi) * b * r + (2 / math.pi) * b**2 * r * (r + theory.C_SIGN)
        assert risk(beta) == pytest.approx(theory.optimal_risk(r), rel=1e-12)
        assert risk(beta * 1.01) > risk(beta) and risk(beta * 0.99) > risk(beta)


def test_tied_optimum_is_exact_for_orthogonal_rows():
    # r <= 1: orthogonal rows with A = sqrt(2/pi) Bbar^T reach R*(r) exactly at finite d.
    d, n = 40, 20
    Q = torch.as_tensor(linalg.haar_rotation(d, seed=3))[:n]  # (n, d) orthonormal rows
    risk = population.tied_risk(torch.tensor(theory.optimal_decoder_scale(0.5), dtype=torch.float64), Q)
    assert float(risk) == pytest.approx(theory.optimal_risk(n / d), abs=1e-12)


def test_tight_frame_excess_is_order_one_over_d():
    # At r = 2 the tight frame's excess is about 0.0015 at d = 100 and 0.0004 at d = 400.
    excess = {}
    for d in (100, 400):
        n = 2 * d
        U = linalg.haar_rotation(n, seed=d)[:, :d] * math.sqrt(n / d)  # (n, d), rows of norm ~1, Bbar^T Bbar ~ 2 I
        B = torch.as_tensor(U)
        excess[d] = float(population.encoder_risk(B)) - theory.optimal_risk(2.0)
    assert 0.0008 < excess[100] < 0.003
    assert 0.0001 < excess[400] < 0.0008


def test_water_filling_reduces_to_the_limit_for_identity():
    d = 120
    for r in (0.25, 0.5, 1.0, 1.5, 2.0, 4.0):
        wf = theory.water_filling(np.ones(d), int(r * d))
        assert wf.risk == pytest.approx(theory.optimal_risk(r), abs=1e-12)
        assert wf.allocation.sum() == pytest.approx(r * d)


def test_water_filling_allocation_is_the_constrained_minimiser():
    # Independent check: any feasible perturbation of the allocation (same sum, same support) raises the risk.
    lam = spectra.spectrum("power_law", 80, exponent=0.7)
    n = 40
    wf = theory.water_filling(lam, n)
    risk = lambda m: (np.sum(lam * theory.C_SIGN / (m + theory.C_SIGN) * (m > 0)) + lam[m <= 0].sum()) / lam.size
    assert risk(wf.allocation) == pytest.approx(wf.risk, rel=1e-12)
    rng = np.random.default_rng(0)
    k = wf.active
    for _ in range(20):
        delta = np.zeros_like(lam)
        delta[:k] = rng.standard_normal(k) * 0.05
        delta[:k] -= delta[:k].mean()
        assert risk(np.clip(wf.allocation + delta, 0, None)) >= wf.risk - 1e-12


def test_pca_and_shannon_references():
    assert theory.shannon_distortion(1.0) == pytest.approx(0.25)
    assert theory.pca_risk(0.25) == pytest.approx(0.75) and theory.pca_risk(2.0) == 0
    lam = np.array([3.0, 1.0, 0.0, 0.0])
    assert theory.pca_risk_spectrum(lam, 0.25) == pytest.approx(0.25)


@pytest.mark.parametrize("r", [0.5, 2.0, 4.0])
def test_marchenko_pastur_baseline_against_simulation(r):
    # Independent: the exact risk of simulated Gaussian encoders with A*(B), averaged over seeds.
    d = 400
    n = int(r * d)
    sims = [float(population.encoder_risk(train.gaussian_init(n, d, s, torch.device("cpu")))) for s in range(3)]
    # finite-size bias is O(1/d) (a few 1e-3 relative at d = 400); seed-to-seed spread is ~1e-4
    assert np.mean(sims) == pytest.approx(theory.marchenko_pastur_risk(r), rel=5e-3)


def test_marchenko_pastur_reference_values():
    for r, value in ((0.5, 0.7212), (2.0, 0.3046), (4.0, 0.1533)):
        assert theory.marchenko_pastur_risk(r) == pytest.approx(value, abs=5e-4)
