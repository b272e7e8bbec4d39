"""Preprocessing of real images (docs/theory.md eq. (29)): fitted on the training split only (signae.images)."""

import numpy as np
import pytest

from signae import images, real_source


@pytest.fixture(scope="module")
def raw():
    """Synthetic 'images' with structure (a low-rank signal plus noise) and a constant border pixel."""
    rng = np.random.default_rng(0)
    basis = rng.standard_normal((6, 100))

    def make(n):
        x = 128 + 20 * rng.standard_normal((n, 6)) @ basis + 5 * rng.standard_normal((n, 100))
        x = np.clip(x, 0, 255).astype(np.uint8).reshape(n, 10, 10)
        x[:, 0, 0] = 0  # a pixel that never changes
        return x

    return make(3000), make(500)


def test_unwhitened_scaling_and_dropped_pixels(raw):
    prep = images.preprocess(*raw, "unwhitened", floor=1e-3)
    assert prep.info["pixels_kept"] == 99 and prep.info["d"] == 99
    cov = prep.x_train.astype(np.float64).T @ prep.x_train / prep.x_train.shape[0]
    assert np.trace(cov) == pytest.approx(99, rel=1e-5)
    assert np.allclose(prep.x_train.mean(axis=0), 0, atol=1e-4)
    assert np.allclose(np.sort(np.linalg.eigvalsh(cov))[::-1], prep.eigenvalues, atol=1e-3)


def test_trivial_loss_is_the_test_loss_of_predicting_zero(raw):
    """images.trivial_loss (what a trained encoder's test loss must stay below) against test_loss of the zero
    decoder, a different path; and close to tr Sigma_hat / d = 1 of the training split (tests differ by
    sampling only)."""
    import torch

    prep = images.preprocess(*raw, "unwhitened", floor=1e-3)
    n, k, d = 4, prep.z_test.shape[1], prep.x_test.shape[1]
    V = torch.ones(n, k)
    zero = real_source.split_loss(torch.zeros(d, n, dtype=torch.float64), V, prep.z_test, prep.x_test, "cpu")
    assert images.trivial_loss(prep) == pytest.approx(zero, rel=1e-9)
    assert images.trivial_loss(prep) == pytest.approx(1.0, rel=0.1)


def test_whitened_training_covariance_is_identity(raw):
    prep = images.preprocess(*raw, "whitened", floor=1e-3)
    z = prep.x_train.astype(np.float64)
    cov = z.T @ z / z.shape[0]
    assert np.abs(cov - np.eye(z.shape[1])).max() < 1e-4  # float32 storage
    assert prep.info["d"] == prep.info["whitened_dims"] <= 99


def test_floor_sets_the_number_of_whitened_directions(raw):
    dims = [images.preprocess(*raw, "whitened", floor=f).info["d"] for f in (1e-4, 1e-1, 1.0)]
    assert dims[0] >= dims[1] >= dims[2] >= 1
    assert dims[2] <= 6 + 1  # above the mean eigenvalue only the signal directions are left


def test_test_split_is_never_used_for_fitting(raw):
    train, test = raw
    other_test = np.random.default_rng(5).integers(0, 256, test.shape).astype(np.uint8)
    a = images.preprocess(train, test, "unwhitened", floor=1e-3)
    b = images.preprocess(train, other_test, "unwhitened", floor=1e-3)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.eigenvalues, b.eigenvalues)
    assert np.array_equal(a.encoder_basis, b.encoder_basis) and np.array_equal(a.pixel_mean, b.pixel_mean)
    assert not np.array_equal(a.x_test, b.x_test)


def test_validation_split_is_held_out_before_fitting(raw):
    train, test = raw
    a = images.preprocess(train, test, "unwhitened", floor=1e-3, validation=500)
    other = train.copy()
    other[-500:] = np.random.default_rng(6).integers(0, 256, other[-500:].shape)
    b = images.preprocess(other, test, "unwhitened", floor=1e-3, validation=500)
    assert a.info["train"] == 2500 and a.info["validation"] == 500 and a.x_val.shape == (500, 99)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.eigenvalues, b.eigenvalues)
    assert not np.array_equal(a.x_val, b.x_val)
    full = images.preprocess(train[:2500], test, "unwhitened", floor=1e-3)  # the same fit without the held-out rows
    assert np.array_equal(full.x_train, a.x_train)
    back = a.x_val.astype(np.float64) @ a.pixel_map + a.pixel_mean  # the training fit applied to the held-out rows
    assert np.abs(back - train[-500:].reshape(500, -1) / 255).max() < 1e-5
    assert np.allclose(a.z_val, a.x_val.astype(np.float64) @ a.encoder_basis, atol=1e-4)
    with pytest.raises(ValueError, match="validation_samples"):
        images.preprocess(train, test, "unwhitened", floor=1e-3, validation=2950)


def test_pixel_map_inverts_the_preprocessing_on_kept_pixels(raw):
    train, test = raw
    prep = images.preprocess(train, test, "unwhitened", floor=1e-3)
    back = prep.x_train.astype(np.float64) @ prep.pixel_map + prep.pixel_mean
    assert np.abs(back - train.reshape(len(train), -1) / 255).max() < 1e-5
