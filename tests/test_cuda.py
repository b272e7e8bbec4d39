"""The CUDA path of the trainers. Runs only where torch sees a GPU; elsewhere each test is reported as
skipped with that reason (never as passed)."""

import numpy as np
import pytest
import torch

from signae import deep_decoder, gaussian_source, images, real_source, theory, train
from signae.runs import RunSpec

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU (torch.cuda.is_available() is False)"
)


def test_projected_gd_on_cuda_matches_cpu():
    d, n = 128, 256
    cpu = train.projected_gd(d, n, steps=20, device="cpu")
    gpu = train.projected_gd(d, n, steps=20, device="cuda")
    # same init (drawn on the CPU), float64 on both: the curves agree to rounding
    assert np.allclose(cpu.losses, gpu.losses, rtol=1e-9, atol=1e-12)
    assert gpu.final_loss == pytest.approx(theory.optimal_risk(2.0), rel=0.01)


def test_tied_and_sample_trainers_reach_the_limit_on_cuda():
    d = 128
    tied = train.tied_gd(d, 2 * d, steps=200, device="cuda")
    assert tied.final_loss == pytest.approx(theory.optimal_risk(2.0), rel=0.01)
    sample = gaussian_source.sample_gd(d, 2 * d, steps=60, device="cuda")
    assert sample.final_loss == pytest.approx(theory.optimal_risk(2.0), rel=0.03)


def test_auto_device_picks_cuda_and_is_recorded():
    result, meta = gaussian_source.run(
        RunSpec("isotropic", "pgd", 2.0, 0, d=64),
        device="auto",
        settings={"steps": 5, "lr": 1.0, "decoder": "optimal", "lr_decoder": 0.2},
    )
    assert meta["device"]["device"].startswith("cuda") and "gpu" in meta["device"]
    assert isinstance(result.B, np.ndarray)


def test_real_data_trainer_on_cuda():
    rng = np.random.default_rng(0)
    lam = np.linspace(4, 0.2, 60)
    lam *= 60 / lam.sum()
    x = (rng.standard_normal((6000, 60)) * np.sqrt(lam)).astype(np.float32)
    W = np.diag(1 / np.sqrt(lam))
    prep = images.Prepared(
        x[:5000],
        x[5000:],
        x[:5000] @ W.astype(np.float32),
        x[5000:] @ W.astype(np.float32),
        lam,
        W,
        np.eye(60),
        np.zeros(60),
        {"d": 60},
    )
    res = real_source.train_on_split(
        prep, 30, steps=30, batch=1024, lr=8.0, sharpness=(1.0, 6.0), seed=0, device=torch.device("cuda")
    )
    assert res.final_loss == pytest.approx(theory.water_filling(lam, 30).risk, rel=0.1)


def test_sparse_run_and_deep_decoder_on_cuda():
    """Figure 7's run and its deep decoder (eq. (42)) with every tensor on the GPU."""
    from signae import sparse_source

    settings = {
        "steps": 20,
        "batch": 2048,
        "lr": 1.0,
        "sharpness": [1.0, 3.0],
        "estimator": "tanh",
        "record_every": 10,
        "eval_samples": 2048,
        "fit_samples_per_unit": 100,
        "test_samples_per_unit": 50,
    }
    result, meta = sparse_source.run(RunSpec("sparse", "sample", 0.5, 0, d=64, sparsity=0.1), settings, "cuda")
    assert meta["device"]["device"].startswith("cuda")
    B = torch.as_tensor(result.B, dtype=torch.float32, device="cuda")
    depth = {
        "fit_samples_per_unit": 100,
        "test_samples_per_unit": 50,
        "steps": 30,
        "batch": 512,
        "lr": 1e-3,
        "knots": 65,
    }
    losses, _ = deep_decoder.train(B, 0.1, depth, seed=0)
    deep_decoder.check(losses, "a run")
    assert losses["loss_deep"] < losses["paired_loss_learned_denoiser"]
