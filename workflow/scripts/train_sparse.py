"""Rule train_sparse: one run on the Bernoulli-Gaussian source -> weights (.npz) and metadata (.json) with the
linear and denoised losses (signae.sparse_source)."""

from signae import job, runs, sparse_source


def main(sm) -> None:
    spec = runs.RunSpec.from_wildcards(sm.wildcards)
    result, meta = sparse_source.run(spec, sm.params.settings, sm.params.device)
    runs.save(result, {**meta, "rule": sm.rule}, sm.output.npz, sm.output.json)
    print(
        f"sparse p={spec.sparsity:g}, d={spec.d}, r={spec.r:g}, seed={spec.seed}: linear {meta['final_loss']:.6f} "
        f"(R* {meta['predicted_loss']:.6f}), eta {meta['loss_eta']:.6f} (predicted {meta['predicted_denoised']:.6f}), "
        f"learned {meta['loss_learned_denoiser']:.6f} in {meta['wall_time_s']:.2f} s"
    )


if __name__ == "__main__":
    job.run(main, "train_sparse", globals())
