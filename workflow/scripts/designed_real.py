"""Rule designed_real: the training-free designed encoder of BRIEF section 6 at every r, every seed."""

import sys

import pandas as pd

from signae import experiment, realdata, train

sm = snakemake  # noqa: F821
sys.stderr = sys.stdout = open(sm.log[0], "w")

experiment.set_threads(sm.threads)
device = train.resolve_device(sm.params.device)
prep = realdata.load_prepared(sm.input.npz, sm.input.json)
d = prep.x_train.shape[1]
rows = []
for r in sm.params.r:
    n = realdata.hidden_units(r, d)
    for seed in sm.params.seeds:
        test, train_loss = realdata.evaluate_designed(prep, n, seed, device)
        rows.append({"r": n / d, "d": d, "seed": seed, "loss": test, "train_loss": train_loss})
        print(f"r={n / d:.4f} seed={seed}: test {test:.5f} train {train_loss:.5f}")
pd.DataFrame(rows).to_csv(sm.output[0], index=False)
