"""What produced a result: versions, device, host, time (DEVELOPERS.md, "Reproducible")."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import sys
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


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def now_utc() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def write_json(path: str | Path, obj: dict) -> None:
    Path(path).write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
