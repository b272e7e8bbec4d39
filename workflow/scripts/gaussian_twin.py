"""Rule gaussian_twin: the Gaussian twin N(0, Sigma_hat) of one real data variant (signae.universality).

Writes one CSV row per projected-GD run on the twin (unwhitened variants: the formula's own check) and
per trained encoder (its exact risk on the twin), and a JSON with the norm concentrations. Runs on its
own too: python workflow/scripts/gaussian_twin.py mnist unwhitened [config.yaml ...].
"""

import sys

import pandas as pd

from signae import figures, provenance, realdata, universality
from signae.device import resolve_device, set_threads


def main(dataset: str, variant: str, run_jsons, r_values, twin: dict, seed: int, device: str, threads: int) -> None:
    set_threads(threads)
    dev = resolve_device(device)
    prep = realdata.load_prepared(*(figures.variant_file(dataset, variant, ext) for ext in ("npz", "json")))
    rows, kappas = universality.twin_diagnostics(
        prep, variant, run_jsons, r_values, twin["steps"], twin["lr"], seed, dev
    )
    pd.DataFrame(rows).to_csv(figures.real_file(dataset, variant, "gaussian_twin.csv"), index=False)
    provenance.write_json(
        figures.real_file(dataset, variant, "norms.json"),
        {
            "dataset": dataset,
            "variant": variant,
            "d": prep.x_train.shape[1],
            **kappas,
            "twin": dict(twin),
            "seed": seed,
            "twin_floor": universality.TWIN_FLOOR,
            "versions": provenance.package_versions(),
            "device": provenance.device_info(dev),
            "finished_utc": provenance.now_utc(),
        },
    )
    print(
        f"norm concentration: images {kappas['kappa_x']:.4f}, Gaussian twin {kappas['kappa_g']:.4f}, "
        f"scale factor {kappas['kappa']:.4f}"
    )


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            p = sm.params
            main(
                sm.wildcards.dataset,
                sm.wildcards.variant,
                list(sm.input.runs),
                p.r,
                p.twin,
                p.seed,
                p.device,
                sm.threads,
            )
    else:
        from signae.config import check_choice, load_config
        from signae.runs import REAL_SOURCES, VARIANTS

        c = load_config(sys.argv[3:])
        ds, v = sys.argv[1], sys.argv[2]
        check_choice(sys.argv[1], REAL_SOURCES, "data set")
        check_choice(sys.argv[2], VARIANTS, "variant")
        with provenance.standalone([figures.real_file(ds, v, name) for name in ("gaussian_twin.csv", "norms.json")]):
            main(
                ds,
                v,
                [s.json for s in figures.real_runs(c, [(ds, v)])],
                c["realdata"]["r"],
                c["realdata"]["twin"],
                c["seed"],
                c["device"],
                c["threads"],
            )
