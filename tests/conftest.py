"""Shared fixtures. The real MNIST and CIFAR-10 copies come from environment variables, never from a
path outside the repository:

- SIGNAE_MNIST_DIR: a folder holding the four original MNIST .gz files (train-images-idx3-ubyte.gz, ...);
- SIGNAE_CIFAR10_NPZ: an .npz with x_train, y_train, x_test, y_test (uint8 images, integer labels).

Without them the tests that need real data are reported as skipped with the variable's name; everything
else, including an end-to-end run on synthetic files, runs on a clone alone.
"""

import os
import pathlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(autouse=True)
def _two_threads():
    torch.set_num_threads(2)
    yield


@pytest.fixture(scope="session")
def repo_root() -> pathlib.Path:
    return ROOT


@pytest.fixture(scope="session")
def mnist_dir() -> pathlib.Path:
    """The folder of the real MNIST .gz files (SIGNAE_MNIST_DIR), or a skip naming the variable."""
    value = os.environ.get("SIGNAE_MNIST_DIR")
    if not value:
        pytest.skip("needs the real MNIST files: set SIGNAE_MNIST_DIR to a folder holding the four original .gz files")
    folder = pathlib.Path(value)
    missing = [n for n in MNIST_NAMES if not (folder / n).is_file()]
    assert not missing, f"SIGNAE_MNIST_DIR={folder} lacks {missing}"  # set but wrong: a failure, not a skip
    return folder


@pytest.fixture(scope="session")
def cifar10_npz() -> pathlib.Path:
    """The real CIFAR-10 arrays (SIGNAE_CIFAR10_NPZ), or a skip naming the variable."""
    value = os.environ.get("SIGNAE_CIFAR10_NPZ")
    if not value:
        pytest.skip(
            "needs the real CIFAR-10 arrays: set SIGNAE_CIFAR10_NPZ to an .npz with x_train, y_train, x_test, y_test"
        )
    path = pathlib.Path(value)
    assert path.is_file(), f"SIGNAE_CIFAR10_NPZ={path} is not a file"
    return path


def synthetic_images(path: pathlib.Path, shape: tuple, n_train: int, n_test: int, seed: int = 0) -> pathlib.Path:
    """An .npz in the data sets' format with structured synthetic images: a few smooth patterns with random
    weights plus noise, so that the covariance has a decaying spectrum like real images."""
    rng = np.random.default_rng(seed)
    pixels = int(np.prod(shape))
    grid = np.linspace(0, 1, pixels)
    patterns = np.stack([np.cos(np.pi * k * grid) for k in range(1, 9)])  # (8, pixels)

    def make(n):
        w = rng.standard_normal((n, 8)) / np.arange(1, 9)
        x = 128 + 60 * w @ patterns + 10 * rng.standard_normal((n, pixels))
        return np.clip(x, 0, 255).astype(np.uint8).reshape(n, *shape)

    np.savez(
        path,
        x_train=make(n_train),
        y_train=rng.integers(0, 10, n_train),
        x_test=make(n_test),
        y_test=rng.integers(0, 10, n_test),
    )
    return path


# --- a copy of the workflow, and one finished quick run shared by the end-to-end tests --------------------

WORKFLOW_FILES = ("Snakefile", "workflow", "config", "profiles", "src", "environment.yml")


def _copy_workflow(repo_root: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = repo_root / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    return dest


def _snakemake(cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd / "src")}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def ran_nothing(wf: Path) -> bool:
    """No job ran in the workflow folder wf: no logs, no figures, and in results/ at most the parameter files that
    planning the jobs writes (results/params, the inputs of the jobs a dry run lists; signae.paths.params)."""
    results = wf / "results"
    planned = {p.name for p in results.iterdir()} <= {"params"} if results.exists() else True
    return planned and not (wf / "logs").exists() and not (wf / "figures").exists()


def _gaussian_only(wf: Path) -> Path:
    overlay = wf / "gauss.yaml"
    overlay.write_text("realdata:\n  datasets: []\n")
    return overlay


@pytest.fixture(scope="session")
def gaussian_quick_run(repo_root, tmp_path_factory) -> Path:
    """The quick preset without real data, run once per session for the end-to-end tests (tests/test_workflow.py,
    tests/test_custody.py): each starts from a copy of it (mtimes and Snakemake's metadata kept, so its finished
    jobs stay finished), which saves reruns of the same Gaussian and sparse jobs."""
    wf = _copy_workflow(repo_root, tmp_path_factory.mktemp("gaussian_quick"))
    out = _snakemake(wf, "--cores", "2", "--configfile", "config/quick.yaml", str(_gaussian_only(wf)))
    assert out.returncode == 0, out.stderr[-5000:]
    return wf


def _copy_finished(done: Path, dest: Path) -> Path:
    """A copy of a finished workflow directory, timestamps and .snakemake/ included."""
    shutil.copytree(done, dest, symlinks=True, dirs_exist_ok=True)
    return dest
