"""Getting MNIST and CIFAR-10 as uint8 arrays, verified (BRIEF section 6; issue: real data).

Three sources, in this order of precedence (config ``datasets.<name>``):

- ``npz``:  an array file with x_train, y_train, x_test, y_test (uint8 images, integer labels);
            its SHA-256 is recorded with the results.
- ``root``: a folder in torchvision's own layout (MNIST/raw/*.gz, cifar-10-batches-py/), whose files are
            checked against torchvision's MD5 sums before use.
- neither:  torchvision downloads into ``download_root`` (download=True verifies the MD5 sums).

Every failure raises :class:`DatasetError` with a message that names the file and the fix.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from .provenance import sha256_file

SHAPES = {"mnist": (28, 28), "cifar10": (32, 32, 3)}
NAMES = tuple(SHAPES)


class DatasetError(RuntimeError):
    """A data set could not be obtained or failed verification."""


def _options(name: str) -> str:
    return (
        f"Either let the pipeline download it (network needed), or point the config at a copy on disk: "
        f"datasets.{name}.root (a folder in torchvision's layout, e.g. "
        f"{'MNIST/raw/*.gz' if name == 'mnist' else 'cifar-10-batches-py/'}) or datasets.{name}.npz "
        f"(an .npz with x_train, y_train, x_test, y_test); a small YAML overlay passed with --configfile is enough."
    )


def _check_arrays(name: str, arrays: dict, source: str) -> dict:
    """Validate keys, dtypes and shapes; returns the arrays (images uint8, labels int64)."""
    missing = {"x_train", "y_train", "x_test", "y_test"} - set(arrays)
    if missing:
        raise DatasetError(f"{source}: missing arrays {sorted(missing)}; an {name} .npz needs x_train, y_train, "
                           f"x_test, y_test")
    out = {}
    for split in ("train", "test"):
        x, y = np.asarray(arrays[f"x_{split}"]), np.asarray(arrays[f"y_{split}"])
        if x.dtype != np.uint8:
            raise DatasetError(f"{source}: x_{split} has dtype {x.dtype}, expected uint8 pixels")
        if x.ndim < 2 or tuple(x.shape[1:]) != SHAPES[name]:
            raise DatasetError(f"{source}: x_{split} has shape {x.shape}, expected (N, {', '.join(map(str, SHAPES[name]))})")
        if y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.integer):
            raise DatasetError(f"{source}: y_{split} must be {x.shape[0]} integer labels, got {y.dtype} {y.shape}")
        if x.shape[0] == 0:
            raise DatasetError(f"{source}: the {split} split is empty")
        out[f"x_{split}"], out[f"y_{split}"] = x, y.astype(np.int64)
    return out


def from_npz(name: str, path: str | Path) -> tuple[dict, dict]:
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"datasets.{name}.npz = {path}: no such file. " + _options(name))
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise DatasetError(f"datasets.{name}.npz = {path} cannot be read ({err}): the file is corrupt or truncated; "
                           f"re-create it") from err
    return _check_arrays(name, arrays, f"datasets.{name}.npz = {path}"), {
        "source": "npz", "path": str(path), "sha256": sha256_file(path)}


def _torchvision_class(name: str):
    from torchvision import datasets as tvd

    return tvd.MNIST if name == "mnist" else tvd.CIFAR10


def _verify_root(name: str, root: Path) -> dict[str, str]:
    """MD5 of every file torchvision needs under root, checked; returns {relative path: md5}."""
    from torchvision.datasets.utils import check_integrity

    cls = _torchvision_class(name)
    if name == "mnist":
        files = [(Path("MNIST") / "raw" / fname, md5) for fname, md5 in cls.resources]
    else:
        files = [(Path(cls.base_folder) / fname, md5) for fname, md5 in cls.train_list + cls.test_list]
    checked = {}
    for rel, md5 in files:
        path = root / rel
        if not path.is_file():
            raise DatasetError(f"datasets.{name}.root = {root}: {rel} is missing. " + _options(name))
        if not check_integrity(str(path), md5):
            raise DatasetError(f"datasets.{name}.root = {root}: {rel} fails its MD5 check (expected {md5}): the file is "
                               f"corrupt or truncated; replace it with the original")
        checked[str(rel)] = md5
    return checked


def _load_torchvision(name: str, root: Path) -> dict:
    cls = _torchvision_class(name)
    out = {}
    for split, train in (("train", True), ("test", False)):
        ds = cls(str(root), train=train, download=True)
        x = ds.data.numpy() if hasattr(ds.data, "numpy") else np.asarray(ds.data)
        out[f"x_{split}"], out[f"y_{split}"] = x.astype(np.uint8), np.asarray(ds.targets, dtype=np.int64)
    return out


def from_root(name: str, root: str | Path) -> tuple[dict, dict]:
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"datasets.{name}.root = {root}: no such folder. " + _options(name))
    md5s = _verify_root(name, root)
    try:
        arrays = _load_torchvision(name, root)
    except Exception as err:  # torchvision found a verified file it could not parse
        raise DatasetError(f"datasets.{name}.root = {root}: torchvision could not read the verified files ({err})") from err
    return _check_arrays(name, arrays, f"datasets.{name}.root = {root}"), {
        "source": "root", "path": str(root), "md5": md5s}


def download(name: str, download_root: str | Path) -> tuple[dict, dict]:
    """torchvision's own download (MD5-verified) into download_root."""
    root = Path(download_root)
    root.mkdir(parents=True, exist_ok=True)
    try:
        arrays = _load_torchvision(name, root)
    except Exception as err:
        raise DatasetError(f"downloading {name} into {root} failed ({type(err).__name__}: {err}). " + _options(name)) from err
    return _check_arrays(name, arrays, f"torchvision download in {root}"), {"source": "download", "path": str(root)}


def obtain(name: str, spec: dict, download_root: str | Path) -> tuple[dict, dict]:
    """The data set from the source the config names: npz, root, or a download."""
    if name not in NAMES:
        raise DatasetError(f"unknown data set {name!r}; choose one of {NAMES}")
    if spec.get("npz"):
        return from_npz(name, os.path.expanduser(spec["npz"]))
    if spec.get("root"):
        return from_root(name, os.path.expanduser(spec["root"]))
    return download(name, download_root)
