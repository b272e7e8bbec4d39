"""Getting the real image data sets (MNIST, CIFAR-10) as uint8 arrays, verified (docs/theory.md, real data).

:data:`DATASETS` holds what the pipeline knows of each: image shape, split sizes, the files of a torchvision
folder with their MD5 sums, how to decode them, and where to download them. A new data set is one entry there
and its section in config/config.yaml (docs/layout.md, "Adding a data set").

Three sources, in this order of precedence (config ``datasets.<name>``):

- ``npz``:  an array file with x_train, y_train, x_test, y_test (uint8 images, integer labels);
            its SHA-256 is recorded with the results.
- ``root``: a folder in torchvision's own layout (MNIST/raw/*.gz, cifar-10-batches-py/), whose files are
            checked against torchvision's MD5 sums and then decoded in this process from the very bytes
            that were checked (the IDX files inside the .gz, the CIFAR-10 pickles). The folder is only
            read: nothing is extracted or written into it, and files beside the archives (an extracted
            copy, torchvision's legacy processed/*.pt) are never read.
- neither:  the original archives are downloaded into ``download_root`` (MD5-checked; one already
            there with the right MD5 is reused) and decoded in this process, never extracted.

Every failure raises :class:`DatasetError` with a message that names the file and the fix.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .provenance import sha256_file


class DatasetError(RuntimeError):
    """A data set could not be obtained or failed verification."""


def _options(name: str) -> str:
    """How the config can give this data set: the sources its registry entry allows."""
    spec = DATASETS[name]
    npz = f"datasets.{name}.npz (an .npz with x_train, y_train, x_test, y_test)"
    root = (
        f"datasets.{name}.root (a folder in torchvision's layout, holding {spec.root_files[0][0].rsplit('/', 1)[0]}/)"
        if spec.root_files
        else ""
    )
    copies = f"{root} or {npz}" if root else npz
    start = "Either let the pipeline download it (network needed), or point" if spec.archives else "Point"
    return f"{start} the config at a copy on disk: {copies}; a small YAML overlay passed with --configfile is enough."


def _check_arrays(name: str, arrays: dict, source: str) -> dict:
    """Validate keys, dtypes and shapes; returns the arrays (images uint8, labels int64)."""
    missing = {"x_train", "y_train", "x_test", "y_test"} - set(arrays)
    if missing:
        raise DatasetError(
            f"{source}: missing arrays {sorted(missing)}; an {name} .npz needs x_train, y_train, x_test, y_test"
        )
    out = {}
    for split in ("train", "test"):
        x, y = np.asarray(arrays[f"x_{split}"]), np.asarray(arrays[f"y_{split}"])
        if x.dtype != np.uint8:
            raise DatasetError(f"{source}: x_{split} has dtype {x.dtype}, expected uint8 pixels")
        shape = DATASETS[name].shape
        if x.ndim < 2 or tuple(x.shape[1:]) != shape:
            raise DatasetError(f"{source}: x_{split} has shape {x.shape}, expected (N, {', '.join(map(str, shape))})")
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
        raise DatasetError(
            f"datasets.{name}.npz = {path} cannot be read ({err}): the file is corrupt or truncated; re-create it"
        ) from err
    return _check_arrays(name, arrays, f"datasets.{name}.npz = {path}"), {
        "source": "npz",
        "path": str(path),
        "sha256": sha256_file(path),
    }


def root_files(name: str) -> list[tuple[Path, str]]:
    """(path relative to a torchvision root, MD5) of every file a data set is read from."""
    return [(Path(rel), md5) for rel, md5 in DATASETS[name].root_files]


def source_files(name: str, spec: dict) -> list[str]:
    """The user's files the config names as the data set's source (the npz, or the archives under root) that
    exist: the workflow tracks them, so a file changed in place is read again."""
    if spec.get("npz"):
        files = [Path(os.path.expanduser(spec["npz"]))]
    elif spec.get("root"):
        files = [Path(os.path.expanduser(spec["root"])) / rel for rel, _ in root_files(name)]
    else:
        files = []
    return [str(f) for f in files if f.is_file()]


def _verify_root(name: str, root: Path) -> dict[str, bytes]:
    """Every file the data set is read from under root, read once and checked against its MD5;
    returns {relative path: the verified bytes}."""
    import hashlib

    files = root_files(name)
    checked = {}
    for rel, md5 in files:
        path = root / rel
        if not path.is_file():
            raise DatasetError(f"datasets.{name}.root = {root}: {rel} is missing. " + _options(name))
        blob = path.read_bytes()
        if hashlib.md5(blob).hexdigest() != md5:
            raise DatasetError(
                f"datasets.{name}.root = {root}: {rel} fails its MD5 check (expected {md5}): the file is "
                f"corrupt or truncated; replace it with the original"
            )
        checked[str(rel)] = blob
    return checked


def parse_idx(blob: bytes, source: str) -> np.ndarray:
    """An IDX file (MNIST's format: magic 0x0000080D with D dimensions, big-endian sizes, uint8 data),
    gzip-compressed or not. -> uint8 array of the stored shape."""
    import gzip
    import struct

    if blob[:2] == b"\x1f\x8b":
        blob = gzip.decompress(blob)
    if len(blob) < 4 or blob[:2] != b"\x00\x00" or blob[2] != 0x08:
        raise DatasetError(f"{source}: not an IDX file of unsigned bytes")
    dims = blob[3]
    shape = struct.unpack(f">{dims}i", blob[4 : 4 + 4 * dims])
    data = np.frombuffer(blob, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise DatasetError(f"{source}: the IDX header promises {shape} but {data.size} bytes follow")
    return data.reshape(shape)


def decode_mnist(blobs: dict[str, bytes], source: str) -> dict:
    """MNIST's arrays from the verified bytes of its four IDX files (gzip-compressed)."""
    part = {Path(rel).name.rsplit("-idx", 1)[0]: b for rel, b in blobs.items()}  # "train-images", ...
    return {
        "x_train": parse_idx(part["train-images"], source),
        "y_train": parse_idx(part["train-labels"], source),
        "x_test": parse_idx(part["t10k-images"], source),
        "y_test": parse_idx(part["t10k-labels"], source),
    }


def decode_cifar10(blobs: dict[str, bytes], source: str) -> dict:
    """CIFAR-10's arrays (channels last) from the verified bytes of its pickled batches."""
    import pickle

    out = {}
    for split, key in (("train", "data_batch"), ("test", "test_batch")):
        xs, ys = [], []
        for rel in sorted(r for r in blobs if key in r):
            batch = pickle.loads(blobs[rel], encoding="latin1")
            xs.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            ys.append(np.asarray(batch.get("labels", batch.get("fine_labels"))))
        out[f"x_{split}"], out[f"y_{split}"] = np.concatenate(xs), np.concatenate(ys)
    return out


def decode_root(name: str, blobs: dict[str, bytes], source: str) -> dict:
    """The arrays of a data set from the verified bytes of its files (:attr:`DataSet.decode`)."""
    ordered = {str(rel): blobs[str(rel)] for rel, _ in root_files(name) if str(rel) in blobs}
    return DATASETS[name].decode(ordered, source)


def from_root(name: str, root: str | Path) -> tuple[dict, dict]:
    root = Path(root)
    if not DATASETS[name].root_files:
        raise DatasetError(f"datasets.{name}.root = {root}: {name} is not read from a folder. " + _options(name))
    if not root.is_dir():
        raise DatasetError(f"datasets.{name}.root = {root}: no such folder. " + _options(name))
    import hashlib

    blobs = _verify_root(name, root)
    source = f"datasets.{name}.root = {root}"
    try:
        arrays = decode_root(name, blobs, source)
    except DatasetError:
        raise
    except Exception as err:  # a verified file that does not parse
        raise DatasetError(f"{source}: the verified files could not be decoded ({type(err).__name__}: {err})") from err
    md5s = {rel: hashlib.md5(b).hexdigest() for rel, b in blobs.items()}
    return _check_arrays(name, arrays, source), {"source": "root", "path": str(root), "md5": md5s}


def archives(name: str) -> list[tuple[list[str], Path, str]]:
    """(URLs, path relative to download_root, MD5) of the archives a download fetches: MNIST's four .gz
    files, CIFAR-10's one tar.gz (torchvision's addresses and sums)."""
    return [(list(urls), Path(rel), md5) for urls, rel, md5 in DATASETS[name].archives]


def _offline(err: BaseException) -> bool:
    """True for errors that say there is no network at all (retrying cannot help)."""
    import socket

    reason = getattr(err, "reason", err)
    text = str(err).lower()
    return isinstance(reason, socket.gaierror) or any(
        s in text for s in ("name resolution", "name or service not known", "network is unreachable", "no route")
    )


def _fetch(urls: list[str], path: Path, md5: str) -> bytes:
    """The archive at ``path``, downloaded first unless a copy with the right MD5 is already there; the
    bytes returned are the ones whose MD5 was checked. Written under a temporary name, renamed when whole."""
    import hashlib
    import http.client
    import urllib.request

    if path.is_file():
        blob = path.read_bytes()
        if hashlib.md5(blob).hexdigest() == md5:
            return blob
    errors = []
    for url in urls:
        tmp = path.with_name(path.name + ".part")
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
                while block := response.read(1 << 20):
                    out.write(block)
        except (OSError, http.client.HTTPException) as err:
            tmp.unlink(missing_ok=True)
            if _offline(err):
                raise
            errors.append(f"{url}: {err}")
            continue
        blob = tmp.read_bytes()
        if hashlib.md5(blob).hexdigest() != md5:
            tmp.unlink()
            errors.append(f"{url}: the download fails its MD5 check (expected {md5})")
            continue
        os.replace(tmp, path)
        return blob
    raise ConnectionError("; ".join(errors))


def _untar(name: str, blob: bytes, source: str) -> dict[str, bytes]:
    """CIFAR-10's batches read from the verified tar.gz in memory (nothing extracted), each checked against
    its own MD5 too; {path relative to a root: bytes}."""
    import hashlib
    import io
    import tarfile

    out = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        for rel, md5 in root_files(name):
            member = tar.extractfile(str(rel))
            data = member.read() if member is not None else b""
            if hashlib.md5(data).hexdigest() != md5:
                raise DatasetError(f"{source}: {rel} inside the archive fails its MD5 check (expected {md5})")
            out[str(rel)] = data
    return out


def download(name: str, download_root: str | Path, attempts: int = 3) -> tuple[dict, dict]:
    """Fetch the data set's original archives into download_root (an archive already there with the right
    MD5 is not fetched again) and decode them in this process from the verified bytes: nothing is extracted,
    so no file beside the archives (an extracted copy, torchvision's processed/*.pt) is ever read. A network
    error is retried ``attempts`` times, with 5 s and 10 s pauses; no network at all fails at once."""
    import time

    root = Path(download_root)
    source = f"datasets.download_root = {root}"
    if not DATASETS[name].archives:
        raise DatasetError(f"{name} cannot be downloaded (datasets.{name} names no copy). " + _options(name))
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".signae-write-test"
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise DatasetError(
            f"{source}: cannot write there ({type(err).__name__}: {err}); set datasets.download_root to a "
            f"writable folder. " + _options(name)
        ) from err
    blobs = {}
    try:
        for urls, rel, md5 in archives(name):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            for attempt in range(1, attempts + 1):
                try:
                    blobs[str(rel)] = _fetch(urls, root / rel, md5)
                    break
                except OSError as err:
                    if attempt == attempts or _offline(err):
                        raise
                    time.sleep(5 * attempt)
    except OSError as err:
        raise DatasetError(
            f"downloading {name} into {root} failed ({type(err).__name__}: {err}). " + _options(name)
        ) from err
    if DATASETS[name].packed:  # one archive holding the files (CIFAR-10's tar.gz)
        blobs = _untar(name, blobs[str(archives(name)[0][1])], source)
    arrays = decode_root(name, blobs, source)
    import hashlib

    md5s = {rel: hashlib.md5(b).hexdigest() for rel, b in blobs.items()}
    return _check_arrays(name, arrays, f"download in {root}"), {"source": "download", "path": str(root), "md5": md5s}


def obtain(name: str, spec: dict, download_root: str | Path) -> tuple[dict, dict]:
    """The data set from the source the config names: npz, root, or a download."""
    if name not in DATASETS:
        raise DatasetError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    if spec.get("npz"):
        return from_npz(name, os.path.expanduser(spec["npz"]))
    if spec.get("root"):
        return from_root(name, os.path.expanduser(spec["root"]))
    return download(name, download_root)


# --- the data sets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSet:
    """What the pipeline knows of one image data set.

    shape:        one image: (H, W) grey levels or (H, W, 3) colour
    train_images: images in the official training split (the config may take fewer: realdata.train_samples)
    test_images:  images in the official test split
    root_files:   (path under a torchvision root, MD5) of every file the arrays are decoded from; none for a
                  data set given only as an .npz (config datasets.<name>.npz)
    decode:       (verified bytes of root_files, source name) -> the arrays x_train, y_train, x_test, y_test
    archives:     what a download fetches: (URLs, path under download_root, MD5); none: no download
    packed:       the download is one archive holding root_files (read in memory, never extracted)
    """

    shape: tuple[int, ...]
    train_images: int
    test_images: int
    root_files: tuple[tuple[str, str], ...] = ()
    decode: Callable[[dict[str, bytes], str], dict] | None = None
    archives: tuple[tuple[tuple[str, ...], str, str], ...] = ()
    packed: bool = False

    @property
    def pixels(self) -> int:
        return int(np.prod(self.shape))


_MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
_MNIST_FILES = (
    ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
    ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
)

#: The data sets, by the name the config uses. File names, addresses and MD5 sums are torchvision's
#: (MNIST.mirrors and .resources; CIFAR10.url, .tgz_md5, .base_folder, .train_list and .test_list), written out
#: because the workflow reads this registry while it builds its graph, and importing torchvision there cost
#: about 4 s per snakemake process; tests/test_datasets.py checks that the two agree.
DATASETS: dict[str, DataSet] = {
    "mnist": DataSet(
        shape=(28, 28),
        train_images=60000,
        test_images=10000,
        root_files=tuple((f"MNIST/raw/{name}", md5) for name, md5 in _MNIST_FILES),
        decode=decode_mnist,
        archives=tuple(
            (tuple(m + name for m in _MNIST_MIRRORS), f"MNIST/raw/{name}", md5) for name, md5 in _MNIST_FILES
        ),
    ),
    "cifar10": DataSet(
        shape=(32, 32, 3),
        train_images=50000,
        test_images=10000,
        root_files=(
            ("cifar-10-batches-py/data_batch_1", "c99cafc152244af753f735de768cd75f"),
            ("cifar-10-batches-py/data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"),
            ("cifar-10-batches-py/data_batch_3", "54ebc095f3ab1f0389bbae665268c751"),
            ("cifar-10-batches-py/data_batch_4", "634d18415352ddfa80567beed471001a"),
            ("cifar-10-batches-py/data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"),
            ("cifar-10-batches-py/test_batch", "40351d587109b95175f43aff81a1287e"),
        ),
        decode=decode_cifar10,
        archives=(
            (
                ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                "cifar-10-python.tar.gz",
                "c58f30108f718f92721af3b95e74349a",
            ),
        ),
        packed=True,
    ),
}
