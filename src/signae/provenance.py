"""What produced a result: versions, device, host, time, checksums (docs/reproducibility.md)."""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import platform
import sys
import traceback
from importlib import metadata
from pathlib import Path

PACKAGES = ("signae", "numpy", "scipy", "torch", "matplotlib", "pandas", "snakemake")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on ('absent' when not installed)."""
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def device_info(device) -> dict[str, str]:
    """The device a run used, with the GPU's name when it is CUDA."""
    import torch

    info = {"device": str(device), "platform": platform.platform(), "processor": platform.machine()}
    if getattr(device, "type", str(device)) == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    info["torch_threads"] = str(torch.get_num_threads())
    return info


class ChecksumMismatch(RuntimeError):
    """A file no longer matches the SHA-256 recorded when it was written."""


def verify_sha256(path: str | Path, recorded: str | None, record: str | Path, fix: str) -> None:
    """Stop, naming the file, its record and the fix, when ``path`` does not match the SHA-256 ``recorded``
    in ``record`` (a file changed or replaced after it was written is never read as the original)."""
    if not recorded:
        raise ChecksumMismatch(f"{record} records no SHA-256 for {path}; it was written by an older version: {fix}")
    if sha256_file(path) != recorded:
        raise ChecksumMismatch(
            f"{path} does not match the SHA-256 recorded in {record} (it was changed or replaced after it was "
            f"written); {fix}"
        )


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def job_log(path: str | Path):
    """Send a workflow job's prints and its traceback, if it fails, to its log file (then re-raise)."""
    with open(path, "w") as log:
        out, err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = log
        try:
            yield log
        except BaseException:
            traceback.print_exc(file=log)
            raise
        finally:
            sys.stdout, sys.stderr = out, err


def now_utc() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def write_json(path: str | Path, obj: dict) -> None:
    """Write obj as JSON, atomically (temporary name, then rename). A non-finite number (NaN, inf) is an
    error naming the file: it is not valid JSON and no result may hold one."""
    path = Path(path)
    try:
        text = json.dumps(obj, indent=2, sort_keys=True, default=str, allow_nan=False) + "\n"
    except ValueError as err:
        raise ValueError(f"refusing to write {path}: it would hold a non-finite number ({err})") from err
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
