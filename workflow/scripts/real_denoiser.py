"""Rule real_denoiser: the pixel-domain coordinate-wise denoiser after the trained linear decoder of every
unwhitened run of one data set (signae.real_denoiser) -> JSON, one record per run, with the fitted curve phi.
Runs on its own too: python workflow/scripts/real_denoiser.py mnist [config.yaml ...]."""

import sys

from signae import figures, provenance, real_denoiser, realdata, runs
from signae.device import set_threads


def main(dataset: str, run_jsons, knots: int, seed: int, threads: int) -> None:
    set_threads(threads)
    npz, json_path = (figures.variant_file(dataset, "unwhitened", ext) for ext in ("npz", "json"))
    prep = realdata.load_prepared(npz, json_path)  # checks the arrays' SHA-256
    records = []
    for path in run_jsons:
        meta, arrays = runs.load(path)  # checks the weights' SHA-256
        res = real_denoiser.fit(prep, arrays["A"], arrays["B"], knots, seed)
        real_denoiser.check(res, path, meta["final_loss"])
        records.append(
            {"run": path, "run_weights_sha256": meta["weights_sha256"], "r": meta["r"], "d": meta["d"],
             "seed": meta["seed"], **res}
        )  # fmt: skip
        print(
            f"{dataset} r={meta['r']:g} seed={meta['seed']}: linear {res['loss_linear']:.5f}, "
            f"denoised {res['loss_denoised']:.5f} (test); {res['train_loss_linear']:.5f}, "
            f"{res['train_loss_denoised']:.5f} (train)"
        )
    provenance.write_json(
        runs.real_denoiser_file(dataset),
        {
            "rule": "real_denoiser",
            "dataset": dataset,
            "variant": "unwhitened",
            "variant_arrays_sha256": prep.info.get("arrays_sha256"),
            "knots": knots,
            "tail": real_denoiser.TAIL,
            "seed": seed,
            "runs": records,
            "versions": provenance.package_versions(),
            "device": provenance.device_info("cpu"),
            "finished_utc": provenance.now_utc(),
        },
    )


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            p = sm.params
            main(sm.wildcards.dataset, list(sm.input.runs), p.knots, p.seed, sm.threads)
    else:
        from signae.config import check_choice, load_config
        from signae.runs import REAL_SOURCES

        check_choice(sys.argv[1], REAL_SOURCES, "data set")
        c = load_config(sys.argv[2:])
        specs = figures.real_runs(c, [(sys.argv[1], "unwhitened")])
        with provenance.standalone([runs.real_denoiser_file(sys.argv[1])]):
            main(sys.argv[1], [s.json for s in specs], c["realdata"]["denoiser"]["knots"], c["seed"], c["threads"])
