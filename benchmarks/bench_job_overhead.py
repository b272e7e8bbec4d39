"""The fixed cost per job of a finished run: what every job pays before and around its own computation. Run on
demand, from the folder of a finished run (its .snakemake/log/ and results/benchmarks/ are read):

    python benchmarks/bench_job_overhead.py

Two parts of the fixed cost, per stage of the run-time table (signae.reporting):

- *around the script* (Snakemake): from the run's own logs, each job's wall time from its start line to its
  "Finished jobid" line (1 s resolution) minus the time its benchmark file gives the script; in local execution
  this is the Snakemake process started for the job (it parses the workflow) and the scheduling. Summed over the
  jobs of a stage and divided by their number (a job run in several invocations counts its last one, whose
  benchmark file is the one kept).
- *inside the script* (imports): the time of a fresh Python that imports torch and the package's modules that
  every script imports (signae.job and its custody checks), measured here (median of --repeats), against a bare
  Python; it is part of every job's benchmark time.

Also measured in the same invocation, for the ratio the README's run times are read against: a float64 matmul of
512 x 512 matrices (GFLOP/s), as in bench_trainers.py. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from signae import reporting

_START = re.compile(r"^\[(?P<ts>[^\]]+)\]\n(?:local)?rule (?P<rule>\w+):\n(?P<body>(?:    .*\n)+)", re.M)
_FINISH = re.compile(r"^\[(?P<ts>[^\]]+)\]\nFinished jobid: (?P<jobid>\d+) ", re.M)


def _when(ts: str) -> float:
    return datetime.strptime(" ".join(ts.split()), "%a %b %d %H:%M:%S %Y").timestamp()


def job_walls(log_dir: Path) -> dict[str, float]:
    """{benchmark file relative to results/benchmarks/: wall seconds from start to finish} over every Snakemake log
    of the run, oldest first (a later execution of a job replaces an earlier one)."""
    walls = {}
    for log in sorted(log_dir.glob("*.snakemake.log")):
        text = log.read_text()
        started = {}  # jobid -> (start time, benchmark file)
        for m in _START.finditer(text):
            jobid = re.search(r"^    jobid: (\d+)$", m["body"], re.M)
            bench = re.search(r"^    benchmark: results/benchmarks/(\S+)$", m["body"], re.M)
            if jobid and bench:
                started[jobid[1]] = (_when(m["ts"]), bench[1])
        for m in _FINISH.finditer(text):
            if m["jobid"] in started:
                t0, bench = started[m["jobid"]]
                walls[bench] = _when(m["ts"]) - t0
    return walls


def _median_seconds(code: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_gflops(n: int = 512, repeats: int = 50, dtype: str = "float64", threads: int | None = None) -> float:
    """GFLOP/s of a plain (n, n) @ (n, n) product in ``dtype`` (with ``threads`` torch threads if given)."""
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    a, b = torch.randn(n, n, dtype=getattr(torch, dtype)), torch.randn(n, n, dtype=getattr(torch, dtype))
    a @ b  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - t0) / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", default=".", help="the folder of a finished run (default: here)")
    ap.add_argument("--repeats", type=int, default=5, help="fresh Pythons per import measurement")
    a = ap.parse_args()
    root = Path(a.run)
    jobs = reporting.benchmark_rows(root / "results" / "benchmarks")  # job, stage, seconds, max_rss_mb
    walls = job_walls(root / ".snakemake" / "log")
    jobs["wall"] = [walls.get(f"{job}.tsv") for job in jobs.job]
    matched = jobs.dropna(subset=["wall"]).copy()
    matched["around"] = (matched.wall - matched.seconds).clip(lower=0.0)
    bare = _median_seconds("pass", a.repeats)
    imports = _median_seconds("import torch, signae.job, signae.custody, signae.provenance", a.repeats)
    rate = matmul_gflops()
    print(f"{len(matched)} of {len(jobs)} jobs found in the logs of {root.resolve()}")
    print(f"imports inside every script: {imports - bare:.2f} s (a fresh Python {bare:.2f} s; median of {a.repeats})")
    print(f"float64 matmul 512 x 512: {rate:.1f} GFLOP/s\n")
    print("| stage | jobs | summed job time (s) | around the scripts (s) | per job around (s) | imports (s) | "
          "fixed cost share |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    totals = [0, 0.0, 0.0, 0.0]
    for stage, grp in matched.groupby("stage"):
        n, job_s, around = len(grp), float(grp.seconds.sum()), float(grp.around.sum())
        fixed = around + n * (imports - bare)
        totals = [totals[0] + n, totals[1] + job_s, totals[2] + around, totals[3] + fixed]
        print(f"| {stage} | {n} | {job_s:.1f} | {around:.1f} | {around / n:.2f} | {n * (imports - bare):.1f} | "
              f"{fixed / (job_s + around):.0%} |")  # fmt: skip
    n, job_s, around, fixed = totals
    print(f"| all | {n} | {job_s:.1f} | {around:.1f} | {around / n:.2f} | {n * (imports - bare):.1f} | "
          f"{fixed / (job_s + around):.0%} |")  # fmt: skip


if __name__ == "__main__":
    main()
