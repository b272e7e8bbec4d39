"""Rule preprocess: one variant (unwhitened / whitened) of a data set, fitted on its training split."""

import json
import sys

import numpy as np

from signae import provenance, realdata

sm = snakemake  # noqa: F821
sys.stderr = sys.stdout = open(sm.log[0], "w")

p = sm.params
with np.load(sm.input.npz) as z:
    x_train, x_test = z["x_train"], z["x_test"]
if p.train_samples:
    x_train = x_train[: p.train_samples]  # the first N of the official order, no shuffling
if p.test_samples:
    x_test = x_test[: p.test_samples]
prep = realdata.preprocess(x_train, x_test, sm.wildcards.variant, p.floor, grayscale=p.grayscale)
realdata.save_prepared(prep, sm.output.npz)
source = json.loads(open(sm.input.json).read())
provenance.write_json(sm.output.json, {**prep.info, "dataset": sm.wildcards.dataset, "variant": sm.wildcards.variant,
                                       "source_sha256": source["arrays_sha256"], "source": source.get("source"),
                                       "eigenvalues": prep.eigenvalues.tolist()})
print(prep.info)
