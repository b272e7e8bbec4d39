"""Rule designed_real: the training-free designed encoder (docs/theory.md, real data) at every r and seed,
on one data variant (signae.realdata). Runs on its own too:
python workflow/scripts/designed_real.py mnist unwhitened [config.yaml ...]."""

import sys

import pandas as pd

from signae import figures, provenance, realdata
from signae.device import resolve_device, set_threads
from signae.runs import hidden_units


def main(dataset: str, variant: str, r_values, seeds, device: str, threads: int) -> None:
    set_threads(threads)
    dev = resolve_device(device)
    prep = realdata.load_prepared(*(figures.variant_file(dataset, variant, ext) for ext in ("npz", "json")))
    d = prep.x_train.shape[1]
    rows = []
    for r in r_values:
        n = hidden_units(r, d)
        for seed in seeds:
            test, train_loss = realdata.evaluate_designed(prep, n, seed, dev)
            rows.append({"r": n / d, "d": d, "seed": seed, "loss": test, "train_loss": train_loss})
            print(f"r={n / d:.4f} seed={seed}: test {test:.5f} train {train_loss:.5f}")
    pd.DataFrame(rows).to_csv(figures.real_file(dataset, variant, "designed.csv"), index=False)


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            p = sm.params
            main(sm.wildcards.dataset, sm.wildcards.variant, p.r, p.seeds, p.device, sm.threads)
    else:
        from signae.config import check_choice, load_config
        from signae.runs import REAL_SOURCES, VARIANTS

        c = load_config(sys.argv[3:])
        check_choice(sys.argv[1], REAL_SOURCES, "data set")
        check_choice(sys.argv[2], VARIANTS, "variant")
        with provenance.standalone([figures.real_file(sys.argv[1], sys.argv[2], "designed.csv")]):
            main(
                sys.argv[1],
                sys.argv[2],
                c["realdata"]["r"],
                figures.seeds(c, c["realdata"]["seeds"]),
                c["device"],
                c["threads"],
            )
