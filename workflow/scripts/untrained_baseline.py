"""Rule untrained_baseline: exact risk of Gaussian encoders with the optimal decoder A*(B), the simulated
points beside the Marchenko-Pastur curve of figure 1 (signae.population). Runs on its own too:
python workflow/scripts/untrained_baseline.py [config.yaml ...]."""

import sys

import pandas as pd
import torch

from signae import figures, population, provenance, train
from signae.device import set_threads
from signae.runs import hidden_units


def main(d: int, r_values, seeds, threads: int, output: str) -> None:
    set_threads(threads)
    rows = []
    for r in r_values:
        n = hidden_units(r, d)
        for seed in seeds:
            B = train.gaussian_init(n, d, seed, torch.device("cpu"))
            loss = float(population.encoder_risk(B))
            rows.append({"r": n / d, "d": d, "seed": seed, "loss": loss})
            print(f"r={r:g} seed={seed}: {loss:.6f}")
    pd.DataFrame(rows).to_csv(output, index=False)


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            main(int(sm.params.d), sm.params.r, sm.params.seeds, sm.threads, sm.output[0])
    else:
        from signae.config import load_config

        c = load_config(sys.argv[1:])
        with provenance.standalone([figures.UNTRAINED]):
            main(
                c["limit"]["untrained"]["d"],
                c["limit"]["r"],
                figures.seeds(c, c["limit"]["untrained"]["seeds"]),
                c["threads"],
                figures.UNTRAINED,
            )
