"""What the result checks cost a finished run: every SHA-256 verification the pipeline's jobs make, timed
on the run's own files, against the summed job time of its benchmark files. Run on demand, from a
results tree of a finished run:

    python benchmarks/bench_checks.py [config overlays ...]      (from the run's working directory)

Each job that reads a recorded file verifies it once: a training job on real data its variant, the designed
encoder and the Gaussian twin their variant, figure 6 its variant, preprocessing its source arrays, every
table and the twin each run's weights. The finite-value checks are a pass over numbers already in memory and
are not counted. Prints bytes hashed, seconds, and the share of the summed job time.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

from signae import provenance, registry, reporting
from signae.config import load_config


def reads(config: dict) -> Counter:
    """{file: how many jobs verify it} for a finished run of this config."""
    count = Counter()
    rd = config["realdata"]
    for ds, v in registry.real_pairs(config):
        variant = registry.variant_files(ds, v)[0]
        count[variant] += len(registry.real_runs(config, [(ds, v)])) + 2  # training jobs, designed, twin
        count[registry.image_files(ds)[0]] += 1  # preprocessing verifies its source
        for spec in registry.real_runs(config, [(ds, v)]):
            count[spec.npz] += 1  # the twin reads every trained encoder
    for ds in rd["datasets"]:
        count[registry.variant_files(ds, rd["reconstructions"]["variant"])[0]] += 1  # figure 6
    for fig in registry.configured(config):
        for path in registry.flat_inputs(fig, config)["weights"]:
            count[path] += 1  # every table verifies the weights it reads
    return count


def main(overlays) -> None:
    config = load_config(overlays)
    count = reads(config)
    seconds = hashed = 0.0
    for path, times in count.items():
        t0 = time.perf_counter()
        provenance.sha256_file(path)
        seconds += times * (time.perf_counter() - t0)
        hashed += times * Path(path).stat().st_size
    jobs = reporting.benchmark_rows("results/benchmarks")
    total = float(jobs.seconds.sum())
    print(f"{sum(count.values())} verifications of {len(count)} files, {hashed / 1e9:.1f} GB hashed in {seconds:.1f} s")
    print(f"summed job time of the run: {total:.0f} s ({len(jobs)} jobs); checks: {100 * seconds / total:.2f}%")


if __name__ == "__main__":
    main(sys.argv[1:])
