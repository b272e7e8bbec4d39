"""Rule gaussian_twin: the Gaussian twin N(0, Sigma_hat) of one real data variant (see signae.universality).

Writes one CSV row per projected-GD run on the twin (unwhitened variants: the formula's own check) and
per trained encoder (its exact risk on the twin), and a JSON with the norm concentrations.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from signae import experiment, provenance, realdata, theory, train, universality

sm = snakemake  # noqa: F821
sys.stderr = sys.stdout = open(sm.log[0], "w")

experiment.set_threads(sm.threads)
device = train.resolve_device(sm.params.device)
info = json.loads(open(sm.input.json).read())
prep = realdata.load_prepared(sm.input.npz, info)
d = prep.x_train.shape[1]
variant = sm.wildcards.variant
Sigma = universality.covariance(prep.x_train)  # (d, d) training covariance, tr = d
rows = []
if variant == "unwhitened":  # whitened: the twin is N(0, I) and projected GD on it is figure 1
    for r in sm.params.r:
        n = max(1, int(round(r * d)))
        res = universality.twin_pgd(prep.eigenvalues, n, sm.params.twin["steps"], sm.params.twin["lr"],
                                    sm.params.seed, device)
        predicted = theory.water_filling(prep.eigenvalues, n).risk
        rows.append({"series": "Gaussian twin, projected GD", "r": n / d, "seed": sm.params.seed,
                     "loss": res.final_loss, "predicted": predicted})
        print(f"twin pgd r={n / d:.4f}: {res.final_loss:.5f} (water-filling {predicted:.5f}), {res.wall_time_s:.1f} s")
for path in sm.input.runs:
    meta = json.loads(Path(path).read_text())
    with np.load(Path(path).with_suffix(".npz")) as weights:
        B = weights["B"]  # (n, d) trained encoder in the variant's coordinates
    loss = universality.gaussian_equivalent_loss(B, Sigma)
    rows.append({"series": "trained encoder, on the Gaussian twin", "r": meta["r"], "seed": meta["seed"],
                 "loss": loss, "predicted": meta["predicted_loss"]})
    print(f"trained r={meta['r']:.4f} seed={meta['seed']}: images {meta['final_loss']:.5f}, twin {loss:.5f},"
          f" predicted {meta['predicted_loss']:.5f}")
pd.DataFrame(rows).to_csv(sm.output.csv, index=False)

kappa_x = universality.norm_concentration(prep.x_train)
kappa_g = universality.gaussian_norm_concentration(np.linalg.eigvalsh(Sigma))
summary = {"dataset": sm.wildcards.dataset, "variant": variant, "d": d, "kappa_x": kappa_x, "kappa_g": kappa_g,
           "kappa": kappa_x / kappa_g, "twin": dict(sm.params.twin), "seed": sm.params.seed,
           "twin_floor": universality.TWIN_FLOOR, "versions": provenance.package_versions(),
           "device": provenance.device_info(device), "finished_utc": provenance.now_utc()}
Path(sm.output.json).write_text(json.dumps(summary, indent=1) + "\n")
print(f"norm concentration: images {kappa_x:.4f}, Gaussian twin {kappa_g:.4f}, scale factor {kappa_x / kappa_g:.4f}")
