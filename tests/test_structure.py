"""What trained encoders exploit in real images (docs/theory.md eq. (45) to eq. (47)); figure 9."""

import math

import numpy as np
import pytest

from signae import structure


def test_sign_efficiency_and_kurtosis_against_closed_forms():
    rng = np.random.default_rng(0)
    N = 400_000
    gauss = 3.0 * rng.standard_normal(N)  # any scale: 2/pi and excess kurtosis 0
    two_point = rng.choice([-2.0, 2.0], N)  # the sign is the whole variable: efficiency 1, kurtosis -2
    laplace = rng.laplace(size=N)  # (E|p|)^2 / E p^2 = 1 / 2, excess kurtosis 3
    P = np.stack([gauss, two_point, laplace], axis=1)
    eff, kurt = structure.sign_efficiency(P), structure.excess_kurtosis(P)
    # Monte Carlo standard errors at N = 4e5 are below 2e-3 (efficiency) and 3e-2 (Laplace kurtosis)
    assert eff == pytest.approx([2 / math.pi, 1.0, 0.5], abs=5e-3)
    assert kurt == pytest.approx([0.0, -2.0, 3.0], abs=0.15)


def test_sign_efficiency_is_the_variance_one_sign_explains():
    # eq. (45): with its least-squares coefficient, sign(p) explains (E|p|)^2 / E p^2 of p's variance
    rng = np.random.default_rng(1)
    p = rng.gamma(0.5, size=200_000) * rng.choice([-1, 1], 200_000)
    s = np.sign(p)
    coef = (p * s).mean() / (s * s).mean()
    explained = 1 - ((p - coef * s) ** 2).mean() / (p**2).mean()
    assert structure.sign_efficiency(p[:, None])[0] == pytest.approx(explained, rel=1e-12)


def test_shuffle_keeps_each_component_and_removes_their_dependence():
    rng = np.random.default_rng(2)
    N, d = 20_000, 6
    scale = rng.standard_normal(N)[:, None]  # one shared scale makes the components dependent
    C = scale * rng.standard_normal((N, d)) * np.linspace(2, 0.5, d)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    x = C @ Q.T
    xs = structure.shuffle_components(x, Q, seed=0)
    Cs = xs.astype(np.float64) @ Q
    for j in range(d):  # every component keeps its values (float32 storage)
        assert np.allclose(np.sort(Cs[:, j]), np.sort(C[:, j]), atol=1e-5)
    dep = lambda A: np.corrcoef(A[:, 0] ** 2, A[:, 1] ** 2)[0, 1]  # dependence of the magnitudes
    assert dep(C) > 0.2 and abs(dep(Cs)) < 0.05  # shared Gaussian scale: corr = (3 - 1) / (9 - 1) = 0.25
    assert not np.allclose(structure.shuffle_components(x, Q, seed=1), xs)


def test_misallocated_fraction():
    assert structure.misallocated_fraction([1, 1, 0], [1, 1, 0]) == 0
    assert structure.misallocated_fraction([2, 0, 0], [1, 1, 0]) == pytest.approx(1.0)


def test_encoder_statistics_of_an_eigen_aligned_encoder():
    rng = np.random.default_rng(3)
    lam = np.array([4.0, 2.0, 1.0, 0.5])
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    x = (rng.standard_normal((50_000, 4)) * np.sqrt(lam)) @ Q.T
    B = Q[:, :2].T  # rows along the two leading eigen-directions
    st = structure.encoder_statistics(B, x, lam, Q)
    assert st["localisation_eigen"] == pytest.approx(4.0)  # one eigen-direction per row: d
    assert st["allocation"] == pytest.approx([1, 1, 0, 0], abs=1e-9)
    assert st["sign_efficiency"] == pytest.approx([2 / math.pi] * 2, abs=0.01)  # Gaussian projections
