"""Rule untrained_baseline: exact risk of Gaussian encoders with the optimal decoder A*(B), the simulated points
beside the Marchenko-Pastur curve of figure 1 (signae.population)."""

import pandas as pd
import torch

from signae import job, population, train
from signae.theory import hidden_units


def main(sm) -> None:
    rows = []
    d = int(sm.params.d)
    for r in sm.params.r:
        n = hidden_units(r, d)
        for seed in sm.params.seeds:
            B = train.gaussian_init(n, d, seed, torch.device("cpu"))
            loss = float(population.encoder_risk(B))
            rows.append({"r": n / d, "d": d, "seed": seed, "loss": loss})
            print(f"r={r:g} seed={seed}: {loss:.6f}")
    pd.DataFrame(rows).to_csv(sm.output[0], index=False)


if __name__ == "__main__":
    job.run(main, "untrained_baseline", globals())
