"""Rule structure: what the trained encoders exploit in one data set's unwhitened images, and the
component-shuffle experiment (signae.structure; docs/theory.md eq. (45) to eq. (47); figure 9). Runs on its
own too: python workflow/scripts/structure.py mnist [config.yaml ...]."""

import sys

import pandas as pd

from signae import figures, provenance, realdata, structure
from signae.device import resolve_device, set_threads


def main(dataset: str, run_jsons, r_values, settings: dict, seed: int, device: str, threads: int) -> None:
    set_threads(threads)
    prep = realdata.load_prepared(*(figures.variant_file(dataset, "unwhitened", ext) for ext in ("npz", "json")))
    rows = structure.experiment(prep, run_jsons, r_values, settings, seed, resolve_device(device))
    pd.DataFrame(rows).to_csv(figures.structure_file(dataset), index=False)


if __name__ == "__main__":
    if "snakemake" in globals():
        from signae import provenance

        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            p = sm.params
            main(sm.wildcards.dataset, list(sm.input.runs), p.r, p.settings, p.seed, p.device, sm.threads)
    else:
        from signae.config import check_choice, load_config
        from signae.runs import REAL_SOURCES

        c = load_config(sys.argv[2:])
        ds = sys.argv[1]
        check_choice(sys.argv[1], REAL_SOURCES, "data set")
        with provenance.standalone([figures.structure_file(ds)]):
            main(
                ds,
                [s.json for s in figures.structure_runs(c, ds)],
                c["realdata"]["structure"]["r"],
                c["realdata"]["trainer"],
                c["seed"],
                c["device"],
                c["threads"],
            )
