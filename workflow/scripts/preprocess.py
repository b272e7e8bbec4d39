"""Rule preprocess: one variant (unwhitened / whitened) of a data set, fitted on its training split
(signae.realdata). Runs on its own too: python workflow/scripts/preprocess.py mnist whitened [config.yaml ...]."""

import json
import sys
from pathlib import Path

import numpy as np

from signae import figures, provenance, realdata


def main(
    dataset: str, variant: str, train_samples, test_samples, floor: float, grayscale: bool, validation: int = 0
) -> None:
    images, record = f"results/data/{dataset}/images.npz", f"results/data/{dataset}/images.json"
    source = json.loads(Path(record).read_text())
    fix = f"remake it: snakemake --cores all --forcerun dataset {images}"
    provenance.verify_sha256(images, source.get("arrays_sha256"), record, fix)
    with np.load(images) as z:
        x_train, x_test = z["x_train"], z["x_test"]
    if train_samples:
        x_train = x_train[:train_samples]  # the first N of the official order, no shuffling
    if test_samples:
        x_test = x_test[:test_samples]
    prep = realdata.preprocess(x_train, x_test, variant, floor, grayscale=grayscale, validation=validation)
    npz = figures.variant_file(dataset, variant, "npz")
    realdata.save_prepared(prep, npz)
    provenance.write_json(
        figures.variant_file(dataset, variant, "json"),
        {
            **prep.info,
            "dataset": dataset,
            "variant": variant,
            "source_sha256": source["arrays_sha256"],
            "source": source.get("source"),
            "arrays_sha256": provenance.sha256_file(npz),
            "eigenvalues": prep.eigenvalues.tolist(),
        },
    )
    print(prep.info)


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            p = sm.params
            main(
                sm.wildcards.dataset,
                sm.wildcards.variant,
                p.train_samples,
                p.test_samples,
                p.floor,
                p.grayscale,
                p.validation_samples,
            )
    else:
        from signae.config import check_choice, load_config
        from signae.runs import REAL_SOURCES, VARIANTS

        c = load_config(sys.argv[3:])
        rd = c["realdata"]
        ds = sys.argv[1]
        check_choice(sys.argv[1], REAL_SOURCES, "data set")
        check_choice(sys.argv[2], VARIANTS, "variant")
        with provenance.standalone([figures.variant_file(ds, sys.argv[2], ext) for ext in ("npz", "json")]):
            main(
                ds,
                sys.argv[2],
                rd["train_samples"],
                rd["test_samples"],
                rd["whitening_floor"],
                ds == "cifar10" and rd["cifar10_grayscale"],
                rd["validation_samples"],
            )
