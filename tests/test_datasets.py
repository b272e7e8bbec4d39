"""Getting the data sets: the real MNIST files, synthetic files in the real formats, and every failure mode."""

import gzip
import shutil
import struct
import time
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from signae import datasets


def _torchvision_root(tmp_path: Path, mnist_dir: Path) -> Path:
    raw = tmp_path / "tv" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in sorted(mnist_dir.glob("*.gz")):
        shutil.copy(f, raw / f.name)
    return tmp_path / "tv"


def _tree(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_real_mnist_from_a_torchvision_root(tmp_path, mnist_dir):
    root = _torchvision_root(tmp_path, mnist_dir)
    before = _tree(root)
    arrays, source = datasets.obtain("mnist", {"root": str(root)}, tmp_path / "dl")
    assert _tree(root) == before  # the user's folder is only read: nothing extracted or written there
    assert arrays["x_train"].shape == (60000, 28, 28) and arrays["x_test"].shape == (10000, 28, 28)
    assert arrays["x_train"].dtype == np.uint8 and set(np.unique(arrays["y_test"])) == set(range(10))
    assert source["source"] == "root" and len(source["md5"]) == 4
    # independent check of the first training image against the raw IDX bytes
    with gzip.open(mnist_dir / "train-images-idx3-ubyte.gz") as fh:
        magic, n, h, w = struct.unpack(">iiii", fh.read(16))
        first = np.frombuffer(fh.read(h * w), dtype=np.uint8).reshape(h, w)
    assert (magic, n) == (2051, 60000) and np.array_equal(arrays["x_train"][0], first)


def test_planted_files_beside_the_archives_are_never_read(tmp_path, mnist_dir):
    # an extracted copy and a legacy processed file beside the verified .gz: the .gz bytes are what is parsed
    root = _torchvision_root(tmp_path, mnist_dir)
    raw = root / "MNIST" / "raw"
    (raw / "t10k-images-idx3-ubyte").write_bytes(struct.pack(">iiii", 2051, 3, 28, 28) + bytes(3 * 784))
    (root / "MNIST" / "processed").mkdir()
    (root / "MNIST" / "processed" / "test.pt").write_bytes(b"not a tensor")
    arrays, _ = datasets.obtain("mnist", {"root": str(root)}, tmp_path / "dl")
    assert arrays["x_test"].shape == (10000, 28, 28) and arrays["x_test"].any()


def test_truncated_mnist_file_is_reported_not_used(tmp_path, mnist_dir):
    root = _torchvision_root(tmp_path, mnist_dir)
    target = root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz"
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(datasets.DatasetError, match=r"t10k-labels-idx1-ubyte\.gz fails its MD5 check"):
        datasets.obtain("mnist", {"root": str(root)}, tmp_path / "dl")


def test_synthetic_idx_files_in_the_real_format_fail_verification(tmp_path):
    # Well-formed IDX/gzip files that are not the originals must not pass as MNIST.
    raw = tmp_path / "tv" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name, count in (("train-images-idx3-ubyte.gz", 5), ("t10k-images-idx3-ubyte.gz", 3)):
        with gzip.open(raw / name, "wb") as fh:
            fh.write(struct.pack(">iiii", 2051, count, 28, 28) + bytes(count * 784))
    for name, count in (("train-labels-idx1-ubyte.gz", 5), ("t10k-labels-idx1-ubyte.gz", 3)):
        with gzip.open(raw / name, "wb") as fh:
            fh.write(struct.pack(">ii", 2049, count) + bytes(count))
    with pytest.raises(datasets.DatasetError, match="fails its MD5 check"):
        datasets.obtain("mnist", {"root": str(tmp_path / "tv")}, tmp_path / "dl")


def test_missing_root_file_names_both_options(tmp_path, mnist_dir):
    root = _torchvision_root(tmp_path, mnist_dir)
    (root / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(datasets.DatasetError, match=r"datasets\.mnist\.root") as err:
        datasets.obtain("mnist", {"root": str(root)}, tmp_path / "dl")
    assert "datasets.mnist.npz" in str(err.value)


def _write_npz(path, n_train=20, n_test=5, shape=(28, 28), dtype=np.uint8, drop=None):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, *shape)).astype(dtype),
        "y_train": rng.integers(0, 10, n_train),
        "x_test": rng.integers(0, 256, (n_test, *shape)).astype(dtype),
        "y_test": rng.integers(0, 10, n_test),
    }
    if drop:
        arrays.pop(drop)
    np.savez(path, **arrays)
    return arrays


def test_npz_source_loads_and_records_its_sha256(tmp_path):
    written = _write_npz(tmp_path / "m.npz")
    arrays, source = datasets.obtain("mnist", {"npz": str(tmp_path / "m.npz")}, tmp_path / "dl")
    assert np.array_equal(arrays["x_train"], written["x_train"])
    import hashlib

    assert source["sha256"] == hashlib.sha256((tmp_path / "m.npz").read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "kind,match",
    [
        ("truncated", "corrupt or truncated"),
        ("float", "expected uint8"),
        ("missing", "missing arrays"),
        ("shape", "expected \\(N, 32, 32, 3\\)"),
    ],
)
def test_bad_npz_files_are_reported(tmp_path, kind, match):
    path = tmp_path / "c.npz"
    if kind == "truncated":
        _write_npz(path, shape=(32, 32, 3))
        path.write_bytes(path.read_bytes()[:-200])
    elif kind == "float":
        _write_npz(path, shape=(32, 32, 3), dtype=np.float32)
    elif kind == "missing":
        _write_npz(path, shape=(32, 32, 3), drop="y_test")
    else:
        _write_npz(path, shape=(28, 28))
    with pytest.raises(datasets.DatasetError, match=match):
        datasets.obtain("cifar10", {"npz": str(path)}, tmp_path / "dl")


def test_offline_download_fails_at_once_naming_both_options(tmp_path, monkeypatch):
    # Simulate a machine with no network: every URL open fails the way urllib fails offline.
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    import torchvision.datasets.utils as tvu

    monkeypatch.setattr(tvu, "_urlretrieve", offline, raising=False)
    t0 = time.perf_counter()
    with pytest.raises(datasets.DatasetError) as err:
        datasets.obtain("mnist", {"root": None, "npz": None}, tmp_path / "dl")
    assert time.perf_counter() - t0 < 30
    assert "datasets.mnist.root" in str(err.value) and "datasets.mnist.npz" in str(err.value)


def test_real_cifar10_arrays(tmp_path, cifar10_npz):
    arrays, source = datasets.obtain("cifar10", {"npz": str(cifar10_npz)}, tmp_path / "dl")
    assert arrays["x_train"].shape[1:] == (32, 32, 3) and arrays["x_train"].shape[0] >= 1000
    assert arrays["x_train"].dtype == np.uint8 and set(np.unique(arrays["y_train"])) == set(range(10))
    assert source["source"] == "npz" and len(source["sha256"]) == 64


def test_idx_parser_against_hand_made_files():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    blob = struct.pack(">iiii", 2051, 2, 3, 4) + images.tobytes()
    assert np.array_equal(datasets.parse_idx(gzip.compress(blob), "x"), images)
    assert np.array_equal(datasets.parse_idx(struct.pack(">ii", 2049, 3) + bytes([7, 8, 9]), "y"), [7, 8, 9])
    with pytest.raises(datasets.DatasetError, match="promises"):
        datasets.parse_idx(blob[:-1], "short")
    with pytest.raises(datasets.DatasetError, match="not an IDX"):
        datasets.parse_idx(b"PK\x03\x04", "zip")


def test_cifar10_batches_decode_to_hwc_rgb():
    # The CIFAR-10 python format: each row holds 1024 red, then 1024 green, then 1024 blue bytes, row-major.
    import pickle

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 32, 32, 3)).astype(np.uint8)  # (N, H, W, C)
    rows = np.concatenate([images[..., c].reshape(3, 1024) for c in range(3)], axis=1)  # (N, 3072)
    blobs = {}
    from torchvision.datasets import CIFAR10

    for fname, _ in CIFAR10.train_list + CIFAR10.test_list:
        blobs[f"{CIFAR10.base_folder}/{fname}"] = pickle.dumps({"data": rows, "labels": [1, 2, 3]})
    arrays = datasets.decode_root("cifar10", blobs, "test")
    assert np.array_equal(arrays["x_test"], images) and arrays["x_train"].shape == (15, 32, 32, 3)


def test_root_files_are_torchvisions_files_and_sums():
    """datasets.DATASETS writes out torchvision's file names, addresses and MD5 sums (so that building the
    workflow's DAG does not import torchvision); they must stay torchvision's."""
    from torchvision.datasets import CIFAR10, MNIST

    mnist = [(Path("MNIST") / "raw" / f, md5) for f, md5 in MNIST.resources]
    cifar = [(Path(CIFAR10.base_folder) / f, md5) for f, md5 in CIFAR10.train_list + CIFAR10.test_list]
    assert datasets.root_files("mnist") == mnist
    assert datasets.root_files("cifar10") == cifar
    mnist_archives = [([m + f for m in MNIST.mirrors], Path("MNIST") / "raw" / f, md5) for f, md5 in MNIST.resources]
    assert datasets.archives("mnist") == mnist_archives
    assert datasets.archives("cifar10") == [([CIFAR10.url], Path(CIFAR10.filename), CIFAR10.tgz_md5)]
    for name, spec in datasets.DATASETS.items():  # the shapes and split sizes the resources are computed from
        assert spec.train_images > 0 and spec.test_images > 0 and spec.pixels == int(np.prod(spec.shape)), name
