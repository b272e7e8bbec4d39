"""Feature diagnostics of figure 3 on encoders whose answer is known in closed form."""

import numpy as np
import pytest

from signae import evaluate, linalg, spectra


def test_axis_aligned_rows_have_alignment_d_and_random_rows_about_three():
    d = 200
    assert np.allclose(evaluate.axis_alignment(np.eye(d)[:50]), d)
    rows = linalg.haar_rotation(d, seed=0)[:100]
    assert np.mean(evaluate.axis_alignment(rows)) == pytest.approx(evaluate.random_rotation_alignment(d), rel=0.05)


def test_tight_frame_spectrum_and_decoder_scale():
    # The trace identity (mean eigenvalue = n / d, or 1) holds for ANY unit-row matrix, so it is checked
    # together with the whole spectrum: flat at the optimum, spread (Marchenko-Pastur) for Gaussian rows.
    d, n = 50, 100
    rng = np.random.default_rng(1)
    scales = rng.uniform(0.5, 2.0, (n, 1))  # frame_spectrum must normalise the rows itself
    tight = np.vstack([np.eye(d), linalg.haar_rotation(d, seed=1).T]) * scales  # two bases: Bbar^T Bbar = 2 I
    gaussian = rng.standard_normal((n, d))
    spec, spec_g = evaluate.frame_spectrum(tight), evaluate.frame_spectrum(gaussian)
    assert spec.shape == spec_g.shape == (d,)  # r > 1: the d eigenvalues of Bbar^T Bbar
    assert np.allclose(spec, n / d, rtol=0, atol=1e-12)
    assert spec_g.mean() == pytest.approx(n / d, rel=1e-12)  # same trace ...
    assert spec_g.max() > 1.5 * n / d and spec_g.min() < 0.5 * n / d  # ... but not flat
    assert np.all(np.diff(spec_g) <= 0)  # descending

    m = 20  # r <= 1: the n eigenvalues of Bbar Bbar^T, all 1 for orthogonal rows
    orth = linalg.haar_rotation(d, seed=2)[:m] * scales[:m]
    assert np.allclose(evaluate.frame_spectrum(orth), 1.0, rtol=0, atol=1e-12)
    assert evaluate.frame_spectrum(orth).shape == (m,)
    spec_g = evaluate.frame_spectrum(gaussian[:m])
    assert spec_g.shape == (m,) and np.abs(spec_g - 1).max() > 0.3

    beta, resid = evaluate.decoder_scale(0.37 * linalg.unit_rows(tight).T, tight)
    assert beta == pytest.approx(0.37) and resid < 1e-12
    # a decoder that is not weight-tied: beta is the least-squares fit, the residual what it leaves
    A = 0.37 * linalg.unit_rows(tight).T + 0.1 * rng.standard_normal((d, n))
    BbarT = linalg.unit_rows(tight).T
    expected = np.linalg.lstsq(BbarT.reshape(-1, 1), A.reshape(-1), rcond=None)[0][0]
    beta, resid = evaluate.decoder_scale(A, tight)
    assert beta == pytest.approx(expected, rel=1e-12)
    assert resid == pytest.approx(np.linalg.norm(A - expected * BbarT) / np.linalg.norm(A), rel=1e-10)
    assert resid > 0.1


def test_learned_allocation_recovers_a_designed_allocation():
    # Unit rows with a known allocation m in Sigma's eigenbasis: rows on eigenvectors (m_i = count), three
    # rows at 120 degrees in the plane of two eigenvectors (1.5 each), one row split 1/4 : 3/4 between two.
    d = 30
    lam = spectra.spectrum("power_law", d, exponent=1.0)  # distinct eigenvalues, descending
    Q = linalg.haar_rotation(d, seed=2)
    Sigma = (Q * lam) @ Q.T
    rng = np.random.default_rng(3)
    rows, m = [], np.zeros(d)

    def row(coefs):  # coefficients in the eigenbasis -> a unit row, random sign
        c = np.zeros(d)
        for i, v in coefs.items():
            c[i] = v
        rows.append(rng.choice([-1.0, 1.0]) * c)

    for _ in range(3):
        row({0: 1.0})
    for _ in range(2):
        row({1: 1.0})
    for angle in (0, 2 * np.pi / 3, 4 * np.pi / 3):
        row({2: np.cos(angle), 3: np.sin(angle)})
    row({4: 0.5, 5: np.sqrt(0.75)})
    for i in range(6, 20):
        row({i: 1.0})
    m[:6] = [3.0, 2.0, 1.5, 1.5, 0.25, 0.75]
    m[6:20] = 1.0  # directions 20..29 get nothing
    C = np.array(rows)[rng.permutation(len(rows))]  # (n, d), unit rows
    n = len(C)
    assert m.sum() == pytest.approx(n)
    U = C @ Q.T  # the whitened rows in the original basis
    root_inv = (Q / np.sqrt(lam)) @ Q.T
    B = rng.uniform(0.5, 2.0, (n, 1)) * (U @ root_inv)  # an encoder whose whitened rows are U, up to scale
    evals, alloc = evaluate.learned_allocation(B, Sigma)
    assert np.allclose(evals, lam)
    assert alloc.sum() == pytest.approx(n)
    assert np.allclose(alloc, m, rtol=0, atol=1e-9)
