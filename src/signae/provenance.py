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


# The snakemake process that starts the jobs, as "host:pid:start" (set by the Snakefile in the main process,
# inherited by every job it starts). A job whose starter has ended is an orphan (docs/faults.md).
WORKFLOW_VARIABLE = "SIGNAE_WORKFLOW"


class OrphanedJob(RuntimeError):
    """The snakemake run that started this job has ended while the job ran."""


def _process_start(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot, /proc/PID/stat field 22), None when no
    such process exists or /proc is not there. With the pid it names a process uniquely (pids are reused)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def workflow_token() -> str:
    """This process as "host:pid:start", the value of $SIGNAE_WORKFLOW for the jobs it starts."""
    return f"{platform.node()}:{os.getpid()}:{_process_start(os.getpid())}"


def check_workflow_alive() -> None:
    """Raise OrphanedJob when the snakemake process named by $SIGNAE_WORKFLOW has ended (killed alone, its
    job went on). Nothing to check without the variable (a script run on its own), on another host (a
    cluster job: its starter is on the login node) or without /proc."""
    token = os.environ.get(WORKFLOW_VARIABLE)
    if not token:
        return
    host, pid, start = token.rsplit(":", 2)
    if host != platform.node() or start == "None":
        return
    if _process_start(int(pid)) != start:
        raise OrphanedJob(
            f"the snakemake run that started this job (pid {pid}) has ended while the job ran; its outputs are "
            "discarded, never moved into results/ (a later run may have made them with other settings). "
            "Run snakemake again to remake what is missing."
        )


def _stop_own_job_process() -> None:
    """Kill the nearest ancestor that is a snakemake process: in an orphaned local job it is the job's own
    snakemake, which would otherwise move the job's shadow outputs into results/ or, seeing the job fail,
    delete the results a later run put there. Its shadow directory stays (--cleanup-shadow removes it)."""
    import signal

    pid = os.getppid()
    while pid > 1:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return
        if b"snakemake" in cmdline:
            os.kill(pid, signal.SIGKILL)
            return
        pid = parent


# Where the last good version of every output is kept, under its own relative path (hard links, so free on
# disk until an output is replaced): a rerun that fails or is killed loses nothing (docs/faults.md).
PREVIOUS = Path(".previous")
WORKDIR_VARIABLE = "SIGNAE_WORKDIR"


def workdir() -> Path:
    """The workflow's directory (set by the Snakefile for its jobs; a job may run in a shadow directory)."""
    return Path(os.environ.get(WORKDIR_VARIABLE) or os.getcwd())


def keep_previous(outputs, root: str | Path | None = None) -> list[Path]:
    """Link each finished output (a path relative to the job's directory) to the same path under
    ``root/.previous/``, replacing the version kept before. Snakemake deletes a job's outputs when the job
    starts; this link is how the last good version survives a rerun that then fails. A copy where a link is
    impossible (another file system)."""
    import shutil

    root = workdir() if root is None else Path(root)
    kept = []
    for out in map(Path, outputs):
        if out.is_absolute() or not out.is_file():
            continue
        dest = root / PREVIOUS / out
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(out, tmp)
        except OSError:
            shutil.copy2(out, tmp)
        os.replace(tmp, dest)
        kept.append(dest)
    return kept


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


@contextlib.contextmanager
def job_log(path: str | Path, outputs=()):
    """Send a workflow job's prints and its traceback, if it fails, to its log file (then re-raise). When
    the job has finished: check that the snakemake run that started it is still there (an orphaned job
    stops its own job process, so that nothing it made reaches results/; check_workflow_alive), then keep
    a link to each of its ``outputs`` in .previous/ (keep_previous)."""
    with open(path, "w") as log:
        out, err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = log
        try:
            yield log
            try:
                check_workflow_alive()
            except OrphanedJob:
                _stop_own_job_process()
                raise
            for kept in keep_previous(outputs):
                print(f"kept a link to the result in {kept}")
        except BaseException:
            traceback.print_exc(file=log)
            raise
        finally:
            sys.stdout, sys.stderr = out, err


@contextlib.contextmanager
def standalone(outputs):
    """A workflow script run on its own (not by Snakemake) writes its rule's usual ``outputs`` (paths relative
    to the working directory, the workflow's). As Snakemake does, their folders are made and each existing
    output is moved aside first, its version kept in .previous/ (:func:`keep_previous`), so that the new one is
    a new file; if the script then fails, the kept version is put back, so nothing already computed is lost.
    Snakemake's records still describe the kept version until the rule is rerun through snakemake
    (docs/layout.md)."""
    import shutil

    outputs = [Path(o) for o in outputs]
    absolute = [str(o) for o in outputs if o.is_absolute()]
    if absolute:
        raise ValueError(f"standalone outputs must be relative to the workflow directory, got {absolute}")
    existed = {out for out in outputs if out.is_file()}
    pairs = []  # (output, its kept version), each output unlinked only once its version is kept
    try:
        for out in outputs:
            out.parent.mkdir(parents=True, exist_ok=True)  # as Snakemake makes them
            if out.is_file():
                (prev,) = keep_previous([out], root=Path.cwd())
                out.unlink()
                pairs.append((out, prev))
                print(f"replacing {out}; the version before is kept in {prev}", file=sys.stderr)
        yield
    except BaseException:
        moved = {out for out, _ in pairs}
        for out in outputs:
            if out in moved or out not in existed:
                out.unlink(missing_ok=True)  # no half-written new result is left behind
        for out, prev in pairs:
            try:
                os.link(prev, out)  # nothing already computed is lost
            except OSError:
                shutil.copy2(prev, out)
        raise


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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
