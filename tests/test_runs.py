"""The run record (signae.runs), the settings of each run (signae.registry.settings), the checks before a result
is saved (signae.runs.check_trained) and the one trainer contract: every trainer returns a TrainResult whose
arrays mean the same thing."""

import json

import numpy as np
import pytest
import torch

from signae import gaussian_source, images, provenance, real_source, registry, runs, train
from signae.runs import RunSpec

PGD = {"steps": 5, "lr": 1.0, "decoder": "optimal", "lr_decoder": 0.2}


def test_figure_4_overrides_apply_to_its_own_trainer_on_general_spectra_only():
    # covariance.pgd and covariance.sample override trainers.* on Sigma != I; figures 1-3 (isotropic) and
    # other trainers keep the defaults
    config = {
        "trainers": {"pgd": {"steps": 30, "lr": 1.0}, "sample": {"steps": 60, "lr": 1.0}, "tied": {"steps": 200}},
        "covariance": {"pgd": {"steps": 200}, "sample": {"momentum": 0.9}},
    }

    def settings(source, trainer):
        return registry.settings(config, RunSpec(source, trainer, 1.0, 0, d=8))

    assert settings("isotropic", "sample") == {"steps": 60, "lr": 1.0}
    assert settings("isotropic", "pgd") == {"steps": 30, "lr": 1.0}
    assert settings("levels", "sample") == {"steps": 60, "lr": 1.0, "momentum": 0.9}
    assert settings("power_law", "pgd") == {"steps": 200, "lr": 1.0}
    assert settings("levels", "tied") == {"steps": 200}
    assert config["trainers"]["sample"] == {"steps": 60, "lr": 1.0}  # the config itself is not changed
    # where each step size comes from, named when a run diverges
    config["trainers"]["pgd"]["lr_decoder"] = 0.2
    keys = registry.step_keys(config, RunSpec("levels", "pgd", 1.0, 0, d=8))
    assert keys == "trainers.pgd.lr, trainers.pgd.lr_decoder"  # covariance.pgd sets only steps here
    config["covariance"]["pgd"]["lr"] = 2.0
    keys = registry.step_keys(config, RunSpec("levels", "pgd", 1.0, 0, d=8))
    assert keys == "covariance.pgd.lr, trainers.pgd.lr_decoder"


@pytest.mark.parametrize(
    "spec,stem",
    [
        (RunSpec("isotropic", "pgd", 0.125, 3, d=256), "results/runs/isotropic/pgd/d256_r0.125_seed3"),
        (RunSpec("levels", "sample", 2.0, 0, d=64), "results/runs/levels/sample/d64_r2_seed0"),
        (RunSpec("mnist", "sample", 0.5, 1, variant="whitened"), "results/real/mnist/whitened/r0.5_seed1"),
    ],
)
def test_run_paths_round_trip(spec, stem):
    assert spec.stem == stem and spec.json == stem + ".json" and spec.npz == stem + ".npz"
    assert RunSpec.from_path(spec.json) == spec and RunSpec.from_path("/abs/prefix/" + spec.npz) == spec


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"source": "isotropic", "trainer": "pgd", "r": 1.0, "seed": 0}, "needs d"),
        ({"source": "mnist", "trainer": "pgd", "r": 1.0, "seed": 0, "variant": "whitened"}, "trainer 'sample'"),
        ({"source": "mnist", "trainer": "sample", "r": 1.0, "seed": 0, "variant": "raw"}, "variant"),
        ({"source": "sparse", "trainer": "sample", "r": 1.0, "seed": 0, "d": 8}, "sparsity p"),
        ({"source": "sparse", "trainer": "sample", "r": 1.0, "seed": 0, "d": 8, "sparsity": 1.5}, "0 < p <= 1"),
    ],
)
def test_invalid_run_records_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RunSpec(**kwargs)


def test_save_then_load_gives_the_arrays_and_a_swapped_weights_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    saved = {}
    for seed in (0, 1):
        spec = RunSpec("isotropic", "pgd", 2.0, seed, d=16)
        res, meta = gaussian_source.run(spec, PGD, device="cpu")
        (tmp_path / spec.stem).parent.mkdir(parents=True, exist_ok=True)
        runs.save(res, meta, spec.npz, spec.json)
        saved[seed] = (spec, res)
    spec, res = saved[0]
    meta, arrays = runs.load(spec.json)
    assert np.array_equal(arrays["B"], res.B) and np.array_equal(arrays["losses"], res.losses)
    assert meta["weights_sha256"] == provenance.sha256_file(spec.npz)
    assert not list(tmp_path.rglob("*.tmp*"))  # written under temporary names, renamed into place
    # another run's weights copied over this run's: its recorded SHA-256 no longer matches
    (tmp_path / spec.npz).write_bytes((tmp_path / saved[1][0].npz).read_bytes())
    with pytest.raises(runs.RunFileError, match=rf"does not match the SHA-256.*--forcerun {spec.json}"):
        runs.load(spec.json)
    (tmp_path / spec.npz).unlink()
    with pytest.raises(runs.RunFileError, match="is missing"):
        runs.load(spec.json)
    (tmp_path / spec.json).write_text('{"truncated": ')
    with pytest.raises(runs.RunFileError, match="cannot be read"):
        runs.load(spec.json)


def test_json_with_a_non_finite_number_is_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "meta.json"
    with pytest.raises(ValueError, match="non-finite"):
        provenance.write_json(path, {"final_loss": float("nan")})
    assert not path.exists() and not list(tmp_path.iterdir())
    provenance.write_json(path, {"final_loss": 0.5})
    assert json.loads(path.read_text()) == {"final_loss": 0.5}


def test_a_diverging_trainer_is_refused_naming_the_run_and_its_step_keys(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = RunSpec("isotropic", "tied", 2.0, 0, d=16)
    with pytest.raises(runs.TrainingDiverged, match=r"d16_r2_seed0.*trainers\.tied\.lr_beta"):
        gaussian_source.run(spec, {"steps": 20, "lr": 1.0, "lr_beta": 1e6}, device="cpu")
    assert not (tmp_path / "results").exists()  # nothing saved
    ok, _ = gaussian_source.run(spec, {"steps": 20, "lr": 1.0, "lr_beta": 0.5}, device="cpu")
    what, keys = f"run {spec.stem}", "trainers.tied.lr"
    runs.check_trained(ok, what, keys, trivial=1.0)  # a sound run passes the same check
    with pytest.raises(runs.TrainingDiverged, match="not below the trivial risk"):
        runs.check_trained(ok, what, keys, trivial=ok.final_loss)
    ok.A[0, 0] = np.inf
    with pytest.raises(runs.TrainingDiverged, match="non-finite A"):
        runs.check_trained(ok, what, keys, trivial=1.0)


def _contract(res: train.TrainResult, n: int, d: int) -> None:
    assert res.B_init.shape == res.B.shape == (n, d) and res.A.shape == (d, n)
    np.testing.assert_allclose(np.linalg.norm(res.B, axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(res.B_init, axis=1), 1, rtol=1e-6)
    assert res.steps.shape == res.losses.shape and res.steps[0] == 0 and np.all(np.diff(res.steps) > 0)
    assert np.all(np.isfinite(res.losses)) and 0 < res.final_loss < 1


def test_every_trainer_keeps_the_same_contract():
    """B_init and B act on the data's own x with unit rows, the curve starts at the initialisation, on
    Gaussian data and on a real-data variant whose encoder trains in k < d whitened coordinates."""
    d, n = 16, 8
    for res in (train.projected_gd(d, n, 5), train.tied_gd(d, n, 5), gaussian_source.sample_gd(d, n, 5, batch=512)):
        _contract(res, n, d)
    rng = np.random.default_rng(0)
    pixels = np.clip(128 + 40 * rng.standard_normal((1200, 5)) @ rng.standard_normal((5, 20)), 0, 255)
    pixels = pixels.astype(np.uint8).reshape(1200, 4, 5)
    prep = images.preprocess(pixels[:1000], pixels[1000:], "unwhitened", floor=0.5)
    k = prep.z_train.shape[1]
    assert k < prep.x_train.shape[1]  # the encoder's coordinates are fewer than the data's
    res = real_source.train_on_split(
        prep, 6, steps=5, batch=256, lr=8.0, sharpness=(1.0, 6.0), seed=0, device=torch.device("cpu")
    )
    _contract(res, 6, prep.x_train.shape[1])
    # the init is the Gaussian init of the trained run's own stream: a rerun starts from the same B_init
    again = real_source.train_on_split(
        prep, 6, steps=5, batch=256, lr=8.0, sharpness=(1.0, 6.0), seed=0, device=torch.device("cpu")
    )
    assert np.array_equal(res.B_init, again.B_init) and np.array_equal(res.B, again.B)
