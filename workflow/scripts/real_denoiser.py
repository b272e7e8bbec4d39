"""Rule real_denoiser: the pixel-domain coordinate-wise denoiser after the trained linear decoder of every
unwhitened run of one data set (signae.real_denoiser) -> JSON, one record per run, with the fitted curve phi.
Runs on its own too: python workflow/scripts/real_denoiser.py mnist [config.yaml ...]."""

import math
import sys

from signae import figures, provenance, real_denoiser, realdata, runs
from signae.device import set_threads

# the recomputed linear test loss must reproduce the run's own (same weights, same test split): float32
# products summed in float64 agree to about 1e-6; more means the run was trained on other data
SAME_LOSS = 1e-4


def main(dataset: str, run_jsons, knots: int, threads: int) -> None:
    set_threads(threads)
    prep = realdata.load_prepared(*(figures.variant_file(dataset, "unwhitened", ext) for ext in ("npz", "json")))
    rows = []
    for path in run_jsons:
        meta, arrays = runs.load(path)
        res = real_denoiser.fit(prep, arrays["A"], arrays["B"], knots)
        for key in ("loss_linear", "loss_denoised", "train_loss_linear", "train_loss_denoised"):
            if not (math.isfinite(res[key]) and 0 <= res[key] < 1.0):
                raise RuntimeError(
                    f"denoiser after {path}: {key} = {res[key]:.6g} is not in [0, 1) (the trivial risk); nothing "
                    f"was saved. Lower realdata.denoiser.knots in the config"
                )
        if abs(res["loss_linear"] / meta["final_loss"] - 1) > SAME_LOSS:
            raise RuntimeError(
                f"{path} records the test loss {meta['final_loss']:.6f} but its weights give {res['loss_linear']:.6f} "
                f"on {figures.variant_file(dataset, 'unwhitened', 'npz')}: the run belongs to other data. Rerun it: "
                f"snakemake --cores all --forcerun train_real {path} (with the run's --configfile files)"
            )
        rows.append(
            {
                "dataset": dataset,
                "r": meta["r"],
                "d": meta["d"],
                "seed": meta["seed"],
                "run": path,
                "run_weights_sha256": meta["weights_sha256"],
                **res,
            }
        )
        print(
            f"{dataset} r={meta['r']:g} seed={meta['seed']}: linear {res['loss_linear']:.5f}, "
            f"denoised {res['loss_denoised']:.5f} (test); {res['train_loss_linear']:.5f}, "
            f"{res['train_loss_denoised']:.5f} (train)"
        )
    provenance.write_json(
        figures.real_denoiser_file(dataset),
        {
            "dataset": dataset,
            "variant": "unwhitened",
            "knots": knots,
            "runs": rows,
            "versions": provenance.package_versions(),
            "device": provenance.device_info("cpu"),
            "finished_utc": provenance.now_utc(),
        },
    )


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            main(sm.wildcards.dataset, list(sm.input.runs), sm.params.knots, sm.threads)
    else:
        from signae.config import load_config

        c = load_config(sys.argv[2:])
        specs = figures.real_runs(c, [(sys.argv[1], "unwhitened")])
        main(sys.argv[1], [s.json for s in specs], c["realdata"]["denoiser"]["knots"], c["threads"])
