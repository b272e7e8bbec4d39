"""Feature diagnostics of figure 3 on encoders whose answer is known in closed form."""

import numpy as np
import pytest

from signae import data, evaluate, linalg


def test_axis_aligned_rows_have_alignment_d_and_random_rows_about_three():
    d = 200
    assert np.allclose(evaluate.axis_alignment(np.eye(d)[:50]), d)
    rows = linalg.haar_rotation(d, seed=0)[:100]
    assert np.mean(evaluate.axis_alignment(rows)) == pytest.approx(evaluate.random_rotation_alignment(d), rel=0.05)


def test_tight_frame_spectrum_and_decoder_scale():
    d, n = 50, 100
    U = linalg.haar_rotation(n, seed=1)[:, :d]  # (n, d), U^T U = I_d
    spec = evaluate.frame_spectrum(U)  # rows renormalised; close to a tight frame with value n/d
    assert spec.mean() == pytest.approx(n / d, rel=1e-12)  # trace of Bbar^T Bbar is n
    beta, resid = evaluate.decoder_scale(0.37 * linalg.unit_rows(U).T, U)
    assert beta == pytest.approx(0.37) and resid < 1e-12


def test_learned_allocation_recovers_a_designed_allocation():
    # Build U = W diag(sqrt(m)) in Sigma's eigenbasis with W orthonormal columns: M = U^T U has diag m there.
    d = 30
    lam = data.spectrum("power_law", d, exponent=1.0)
    Q = linalg.haar_rotation(d, seed=2)
    Sigma = (Q * lam) @ Q.T
    m = np.linspace(2.0, 0.5, d)
    m *= 60 / m.sum()  # n = 60
    W = linalg.haar_rotation(60, seed=3)[:, :d]  # (n, d)
    U = (W * np.sqrt(m)) @ Q.T  # (n, d) in the original basis; rows not unit: learned_allocation normalises
    U_unit = U / np.linalg.norm(U, axis=1, keepdims=True)
    root_inv = (Q / np.sqrt(lam)) @ Q.T
    B = U_unit @ root_inv  # an encoder whose whitened rows are U_unit
    evals, alloc = evaluate.learned_allocation(B, Sigma)
    assert np.allclose(evals, lam)
    assert alloc.sum() == pytest.approx(60)
    expected = ((U_unit @ Q) ** 2).sum(axis=0)
    assert np.allclose(alloc, expected)
