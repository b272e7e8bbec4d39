"""Rule twin_samples: the sample-based trainer of the real images on fresh Gaussian samples of an unwhitened
variant's twin N(0, Sigma_hat), at every r of figure 5 (signae.universality; docs/theory.md eq. (32), eq. (44)).
Runs on its own too: python workflow/scripts/twin_samples.py mnist [config.yaml ...]."""

import sys

import pandas as pd

from signae import figures, provenance, realdata, universality
from signae.device import resolve_device, set_threads


def main(dataset: str, r_values, settings: dict, seed: int, device: str, threads: int) -> None:
    set_threads(threads)
    prep = realdata.load_prepared(*(figures.variant_file(dataset, "unwhitened", ext) for ext in ("npz", "json")))
    rows = universality.twin_sample_rows(prep, r_values, settings, seed, resolve_device(device))
    pd.DataFrame(rows).to_csv(figures.twin_samples_file(dataset), index=False)


if __name__ == "__main__":
    if "snakemake" in globals():
        from signae import provenance

        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            p = sm.params
            main(sm.wildcards.dataset, p.r, p.settings, p.seed, p.device, sm.threads)
    else:
        from signae.config import check_choice, load_config
        from signae.runs import REAL_SOURCES

        c = load_config(sys.argv[2:])
        check_choice(sys.argv[1], REAL_SOURCES, "data set")
        with provenance.standalone([figures.twin_samples_file(sys.argv[1])]):
            main(sys.argv[1], c["realdata"]["r"], c["realdata"]["trainer"], c["seed"], c["device"], c["threads"])
