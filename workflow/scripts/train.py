"""Rule train: one Gaussian training run -> weights (.npz) and metadata (.json) (signae.gaussian_source)."""

from signae import gaussian_source, job, runs


def main(sm) -> None:
    spec = runs.RunSpec.from_wildcards(sm.wildcards)
    p = sm.params
    result, meta = gaussian_source.run(spec, p.settings, p.spectrum, p.covariance_seed, p.device, p.step_keys)
    runs.save(result, {**meta, "rule": sm.rule}, sm.output.npz, sm.output.json)
    print(
        f"{spec.trainer} on {spec.source}, d={spec.d}, r={spec.r:g}, seed={spec.seed}: loss {meta['final_loss']:.6f}"
        f" (predicted {meta['predicted_loss']:.6f}) in {meta['wall_time_s']:.2f} s on {meta['device']['device']}"
    )


if __name__ == "__main__":
    job.run(main, "train", globals())
