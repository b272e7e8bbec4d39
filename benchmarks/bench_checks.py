"""What the chain of custody costs a finished run (signae.custody, signae.job), against the summed job time of its
benchmark files. Run on demand, from the folder of a finished run:

    python benchmarks/bench_checks.py

Method: every job's records (results/records/) say what it read and wrote. For every job this replays, on the
run's own files, what signae.job adds around its script: the SHA-256 of every result it read (the verification
before it starts; the modules' own checks of the same files then hit the in-process cache), the SHA-256 of every
file it wrote (its records) and a copy of each into .previous/ (here into a scratch folder), and the writing of
its records. Times are summed over jobs (each file is hashed as often as jobs read it) and compared with the
summed job time of results/benchmarks/. Prints bytes hashed and copied, seconds, and the share of the job time.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from signae import paths, reporting


def _sha256(path: Path) -> None:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)


def jobs(root: Path) -> dict[tuple, dict]:
    """{(rule, wildcards): {"inputs": set, "outputs": set}} from the records of a finished run."""
    out = defaultdict(lambda: {"inputs": set(), "outputs": set()})
    for record_path in (root / paths.RECORDS).rglob("*.json"):
        record = json.loads(record_path.read_text())
        key = (record["rule"], tuple(sorted(record["wildcards"].items())))
        out[key]["inputs"] |= set(record["inputs"])
        out[key]["outputs"].add(record["file"])
    return out


def main() -> None:
    root = Path.cwd()
    hashed = copied = 0
    seconds = 0.0
    found = jobs(root)
    with tempfile.TemporaryDirectory() as scratch:
        for k, job in enumerate(found.values()):
            t0 = time.perf_counter()
            for path in job["inputs"] | job["outputs"]:
                _sha256(root / path)
                hashed += (root / path).stat().st_size
            for path in job["outputs"]:
                shutil.copy2(root / path, Path(scratch) / f"{k}-{Path(path).name}")
                copied += (root / path).stat().st_size
                (Path(scratch) / f"{k}-record.json").write_text(json.dumps({"file": path}))
            seconds += time.perf_counter() - t0
            for leftover in Path(scratch).iterdir():
                leftover.unlink()
    bench = reporting.benchmark_rows(root / paths.BENCHMARKS)
    total = float(bench.seconds.sum())
    print(f"{len(found)} jobs: {hashed / 1e9:.2f} GB hashed, {copied / 1e9:.2f} GB copied in {seconds:.1f} s")
    print(f"summed job time of the run: {total:.0f} s ({len(bench)} jobs); the custody: {100 * seconds / total:.2f}%")


if __name__ == "__main__":
    main()
