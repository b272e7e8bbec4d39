"""Rule dataset: MNIST or CIFAR-10 as verified uint8 arrays (signae.datasets)."""

import numpy as np

from signae import datasets, job, provenance


def main(sm) -> None:
    name = sm.wildcards.dataset
    arrays, source = datasets.obtain(name, sm.params.spec, sm.params.download_root)
    np.savez(sm.output.npz, **arrays)
    record = {
        "dataset": name,
        **source,
        "shapes": {k: list(v.shape) for k, v in arrays.items()},
        "arrays_sha256": provenance.sha256_file(sm.output.npz),
        "versions": provenance.package_versions(),
        "finished_utc": provenance.now_utc(),
    }
    provenance.write_json(sm.output.json, record)
    print(
        f"{name}: {source['source']} -> {sm.output.npz}, train {arrays['x_train'].shape}, test {arrays['x_test'].shape}"
    )


if __name__ == "__main__":
    job.run(main, "dataset", globals())
