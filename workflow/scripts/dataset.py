"""Rule dataset: MNIST or CIFAR-10 as verified uint8 arrays (see signae.datasets)."""

import sys

import numpy as np

from signae import datasets, provenance

sm = snakemake  # noqa: F821
sys.stderr = sys.stdout = open(sm.log[0], "w")

name = sm.wildcards.dataset
arrays, source = datasets.obtain(name, sm.params.spec, sm.params.download_root)
np.savez(sm.output.npz, **arrays)
provenance.write_json(sm.output.json, {
    "dataset": name, **source, "shapes": {k: list(v.shape) for k, v in arrays.items()},
    "arrays_sha256": provenance.sha256_file(sm.output.npz), "versions": provenance.package_versions(),
    "finished_utc": provenance.now_utc()})
print(f"{name}: {source['source']} -> {sm.output.npz}, train {arrays['x_train'].shape}, test {arrays['x_test'].shape}")
