"""The chain of custody: every file a job writes has a record written by that job, and every job verifies what
it reads against the records of its producers (docs/reproducibility.md, "The chain of custody").

A record (signae.paths.record: results/records/<path>.json) holds one file's SHA-256 and size and what made it:
the job (rule, wildcards), the parameters that decide its results (the job's params file, signae.paths.params,
which the workflow writes from the config in force), the SHA-256 of every result the job read (as it verified
them) and of every package file its code is, the versions and the time. So every number behind the claims
table traces back, file by file, to the config, the code and the data it came from; `python -m signae.verify`
walks that chain for a reviewer.

The functions here are pure bookkeeping over files: :func:`verify` before a job reads, :func:`write` after it
wrote; signae.job calls them around every workflow script.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import paths, provenance


class CustodyError(RuntimeError):
    """A file does not match its record, has none, or its record cannot be read; the message names the file and
    the fix."""


def fix(path: str) -> str:
    """The command that remakes ``path`` and everything made from it."""
    return f"remake it: snakemake --cores all --forcerun {path} (with the run's --configfile files before it)"


def is_code(path: str) -> bool:
    """Whether ``path`` is a source file of the package (an input of every job that imports it)."""
    p = Path(path)
    return p.suffix == ".py" and p.parent.name == "signae" and p.parent.parent.name == "src"


def is_result(path: str) -> bool:
    """Whether ``path`` is a file the workflow's jobs write (and so has a record): not a package source file, not
    a params file (the workflow writes those from the config) and not a record itself."""
    path = str(path)
    return not (is_code(path) or path.startswith((paths.PARAMS + "/", paths.RECORDS + "/")) or Path(path).is_absolute())


def read(path: str, root: str | Path = ".") -> dict:
    """The record of ``path`` under ``root`` (the workflow's folder)."""
    where = Path(root) / paths.record(path)
    try:
        return json.loads(where.read_text())
    except FileNotFoundError as err:
        raise CustodyError(
            f"{path} has no record ({paths.record(path)}): no job of this pipeline wrote it, or an older version "
            f"did; {fix(path)}"
        ) from err
    except (OSError, ValueError) as err:
        raise CustodyError(f"the record of {path} ({paths.record(path)}) cannot be read ({err}); {fix(path)}") from err


def verify(path: str, root: str | Path = ".", file_root: str | Path = ".") -> str:
    """Check ``path`` (under ``file_root``) against its record (under ``root``); returns its SHA-256. A file that
    was edited, replaced or truncated after its job wrote it is never read as the original."""
    record = read(path, root)
    target = Path(file_root) / path
    if not target.is_file():
        raise CustodyError(f"{path} is missing (its record says a job wrote it); {fix(path)}")
    digest = provenance.sha256_file(target)
    if digest != record.get("sha256") or record.get("file") != str(path):
        raise CustodyError(
            f"{path} does not match its record {paths.record(path)} (it was changed or replaced after its job "
            f"wrote it); {fix(path)}"
        )
    return digest


def job_record(sm, inputs: dict[str, str]) -> dict:
    """What a job's records say of the job: rule, wildcards, the parameters of its params file (and that file's
    SHA-256), the results it read with their verified SHA-256, the SHA-256 of its package code, versions, time.
    ``sm``: the job's snakemake object; ``inputs``: {path: SHA-256} of the results it verified."""
    files = [str(p) for p in sm.input]
    params_file = next((p for p in files if p.startswith(paths.PARAMS + "/")), None)
    record = {
        "rule": sm.rule,
        "wildcards": {k: str(v) for k, v in sm.wildcards.items()},
        "inputs": dict(sorted(inputs.items())),
        "code": {f"src/signae/{Path(p).name}": provenance.sha256_file(p) for p in sorted(files) if is_code(p)},
        "versions": provenance.package_versions(),
        "finished_utc": provenance.now_utc(),
    }
    if params_file:
        record["params"] = json.loads(Path(params_file).read_text())
        record["params_file"] = {params_file: provenance.sha256_file(params_file)}
    return record


def write(path: str, staged: str | Path, record_path: str | Path, job: dict) -> None:
    """Write the record of the file ``path`` (its bytes now at ``staged``) to ``record_path``."""
    staged = Path(staged)
    digest, size = provenance.sha256_file(staged), staged.stat().st_size
    provenance.write_json(record_path, {"file": str(path), "sha256": digest, "bytes": size, **job})
