"""Rule real_denoiser: the pixel-domain coordinate-wise denoiser after the trained linear decoder of every
unwhitened run of one data set (signae.real_denoiser) -> JSON, one record per run, with the fitted curve phi."""

from signae import images, job, provenance, real_denoiser, runs


def main(sm) -> None:
    prep = images.load_prepared(sm.input.npz, sm.input.json)  # checks the arrays' SHA-256
    records = []
    for path in sm.input.runs:
        meta, arrays = runs.load(path)  # checks the weights' SHA-256
        res = real_denoiser.fit(prep, arrays["A"], arrays["B"], sm.params.knots, sm.params.seed)
        real_denoiser.check(res, path, meta["final_loss"])
        records.append(
            {"run": path, "run_weights_sha256": meta["weights_sha256"], "r": meta["r"], "d": meta["d"],
             "seed": meta["seed"], **res}
        )  # fmt: skip
        print(
            f"{sm.wildcards.dataset} r={meta['r']:g} seed={meta['seed']}: linear {res['loss_linear']:.5f}, "
            f"denoised {res['loss_denoised']:.5f} (test); {res['train_loss_linear']:.5f}, "
            f"{res['train_loss_denoised']:.5f} (train)"
        )
    record = {"rule": sm.rule, "dataset": sm.wildcards.dataset, "variant": "unwhitened"}
    record |= {"variant_arrays_sha256": prep.info.get("arrays_sha256"), "knots": sm.params.knots}
    record |= {"tail": real_denoiser.TAIL, "seed": sm.params.seed, "runs": records}
    record |= {"versions": provenance.package_versions(), "device": provenance.device_info("cpu")}
    provenance.write_json(sm.output[0], {**record, "finished_utc": provenance.now_utc()})


if __name__ == "__main__":
    job.run(main, "real_denoiser", globals())
