"""Rule gaussian_twin: the Gaussian twin N(0, Sigma_hat) of one real data variant (see signae.universality).

Writes one CSV row per projected-GD run on the twin (unwhitened variants: the formula's own check) and
per trained encoder (its exact risk on the twin), and a JSON with the norm concentrations.
"""

import sys

import pandas as pd

from signae import experiment, provenance, realdata, tables, train, universality

sm = snakemake  # noqa: F821
sys.stderr = sys.stdout = open(sm.log[0], "w")

experiment.set_threads(sm.threads)
device = train.resolve_device(sm.params.device)
prep = realdata.load_prepared(sm.input.npz, sm.input.json)
d = prep.x_train.shape[1]
variant = sm.wildcards.variant
Sigma = universality.covariance(prep.x_train)  # (d, d) training covariance, tr = d
rows = []
if variant == "unwhitened":  # whitened: the twin is N(0, I) and projected GD on it is figure 1
    for r in sm.params.r:
        n = realdata.hidden_units(r, d)
        res = universality.twin_pgd(prep.eigenvalues, n, sm.params.twin["steps"], sm.params.twin["lr"],
                                    sm.params.seed, device)
        predicted = realdata.prediction(variant, prep.eigenvalues, n)
        rows.append({"series": "Gaussian twin, projected GD", "r": n / d, "seed": sm.params.seed,
                     "loss": res.final_loss, "predicted": predicted})
        print(f"twin pgd r={n / d:.4f}: {res.final_loss:.5f} (water-filling {predicted:.5f}), {res.wall_time_s:.1f} s")
for path in sm.input.runs:
    meta, weights = tables.load_run(path)
    loss = universality.gaussian_equivalent_loss(weights["B"], Sigma)  # B (n, d): the variant's coordinates
    rows.append({"series": "trained encoder, on the Gaussian twin", "r": meta["r"], "seed": meta["seed"],
                 "loss": loss, "predicted": meta["predicted_loss"]})
    print(f"trained r={meta['r']:.4f} seed={meta['seed']}: images {meta['final_loss']:.5f}, twin {loss:.5f},"
          f" predicted {meta['predicted_loss']:.5f}")
pd.DataFrame(rows).to_csv(sm.output.csv, index=False)

kappa_x = universality.norm_concentration(prep.x_train)
kappa_g = universality.gaussian_norm_concentration(prep.eigenvalues)  # the spectrum the prediction uses
summary = {"dataset": sm.wildcards.dataset, "variant": variant, "d": d, "kappa_x": kappa_x, "kappa_g": kappa_g,
           "kappa": kappa_x / kappa_g, "twin": dict(sm.params.twin), "seed": sm.params.seed,
           "twin_floor": universality.TWIN_FLOOR, "versions": provenance.package_versions(),
           "device": provenance.device_info(device), "finished_utc": provenance.now_utc()}
provenance.write_json(sm.output.json, summary)
print(f"norm concentration: images {kappa_x:.4f}, Gaussian twin {kappa_g:.4f}, scale factor {kappa_x / kappa_g:.4f}")
