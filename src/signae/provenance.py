"""What produced a result: versions, device, host, time, checksums (docs/reproducibility.md)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
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


#: {(real path, size, mtime, ctime, inode): SHA-256} of the files this process hashed: a job verifies an input
#: against its record and then reads it through a module that verifies it again; the second costs nothing.
_SHA256: dict[tuple, str] = {}


def sha256_file(path: str | Path) -> str:
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    if key not in _SHA256:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _SHA256[key] = h.hexdigest()
    return _SHA256[key]


def content_sha256(paths, cache: str | Path) -> dict[str, str]:
    """{path: SHA-256} of user files, computed again only when a file's size, mtime, ctime or inode changed
    since it was last hashed (``cache``, a JSON file). Used as a rule parameter, it makes a file replaced
    in place with its old timestamp kept (``cp -p``, ``touch -r``) rerun the rule that reads it, while a
    ``chmod`` or ``touch`` that leaves the bytes alone reruns nothing."""
    cache = Path(cache)
    try:
        known = json.loads(cache.read_text())
    except (OSError, ValueError):
        known = {}
    out, changed = {}, False
    for path in map(str, paths):
        st = os.stat(path)
        stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        entry = known.get(path)
        if not entry or entry.get("stamp") != stamp:
            known[path], changed = {"stamp": stamp, "sha256": sha256_file(path)}, True
        out[path] = known[path]["sha256"]
    if changed:
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_json(cache, known)
    return out


def now_utc() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def json_text(obj) -> str:
    """The JSON text every record of the pipeline is written as: sorted keys, two-space indent, a newline."""
    return json.dumps(obj, indent=2, sort_keys=True, default=str, allow_nan=False) + "\n"


def write_json_if_changed(path: str | Path, obj: dict) -> bool:
    """Write ``obj`` as JSON unless the file already holds exactly that text, so that its age changes only
    with its content (a job that reads it reruns only then); returns whether it was written."""
    path = Path(path)
    text = json_text(obj)
    try:
        if path.read_text() == text:
            return False
    except OSError:
        pass
    write_json(path, obj)
    return True


def write_json(path: str | Path, obj: dict) -> None:
    """Write obj as JSON, atomically (temporary name, then rename). A non-finite number (NaN, inf) is an
    error naming the file: it is not valid JSON and no result may hold one."""
    path = Path(path)
    try:
        text = json_text(obj)
    except ValueError as err:
        raise ValueError(f"refusing to write {path}: it would hold a non-finite number ({err})") from err
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
