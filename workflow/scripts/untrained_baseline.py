"""Rule untrained_baseline: exact risk of Gaussian encoders with the optimal decoder A*(B)."""

import sys

import pandas as pd
import torch

from signae import experiment, population, train

sm = snakemake  # noqa: F821
sys.stderr = sys.stdout = open(sm.log[0], "w")
experiment.set_threads(sm.threads)

d = int(sm.params.d)
rows = []
for r in sm.params.r:
    n = experiment.hidden_units(d, r)
    for seed in sm.params.seeds:
        B = train.gaussian_init(n, d, seed, torch.device("cpu"))
        loss = float(population.encoder_risk(B))
        rows.append({"r": n / d, "d": d, "seed": seed, "loss": loss})
        print(f"r={r:g} seed={seed}: {loss:.6f}")
pd.DataFrame(rows).to_csv(sm.output[0], index=False)
