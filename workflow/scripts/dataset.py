"""Rule dataset: MNIST or CIFAR-10 as verified uint8 arrays (signae.datasets). Runs on its own too:
python workflow/scripts/dataset.py mnist [config.yaml ...]."""

import sys

import numpy as np

from signae import datasets, provenance


def main(name: str, spec: dict, download_root: str, npz: str, json: str) -> None:
    arrays, source = datasets.obtain(name, spec, download_root)
    np.savez(npz, **arrays)
    provenance.write_json(
        json,
        {
            "dataset": name,
            **source,
            "shapes": {k: list(v.shape) for k, v in arrays.items()},
            "arrays_sha256": provenance.sha256_file(npz),
            "versions": provenance.package_versions(),
            "finished_utc": provenance.now_utc(),
        },
    )
    print(f"{name}: {source['source']} -> {npz}, train {arrays['x_train'].shape}, test {arrays['x_test'].shape}")


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            main(sm.wildcards.dataset, sm.params.spec, sm.params.download_root, sm.output.npz, sm.output.json)
    else:
        from signae.config import check_choice, load_config
        from signae.runs import REAL_SOURCES

        c = load_config(sys.argv[2:])
        name = sys.argv[1]
        check_choice(name, REAL_SOURCES, "data set")
        outs = [f"results/data/{name}/images.npz", f"results/data/{name}/images.json"]
        with provenance.standalone(outs):
            main(name, c["datasets"][name], c["datasets"]["download_root"], *outs)
