"""Rule train_sparse: one run on the Bernoulli-Gaussian source -> weights (.npz) and metadata (.json) with
the linear and denoised losses (signae.sparse_source.run_sparse, signae.sparse). Runs on its own too:
python workflow/scripts/train_sparse.py results/runs/sparse/sample/p0.1_d256_r0.5_seed0 [config.yaml ...]."""

import sys

from signae import provenance, runs, sparse_source
from signae.device import set_threads


def main(spec: runs.RunSpec, settings: dict, device: str, threads: int, deterministic: bool) -> None:
    set_threads(threads, deterministic)
    result, meta = sparse_source.run_sparse(spec, settings, device)
    meta["rule"] = "train_sparse"
    runs.save(result, meta, spec.npz, spec.json)
    print(
        f"sparse p={spec.sparsity:g}, d={spec.d}, r={spec.r:g}, seed={spec.seed}: linear {meta['final_loss']:.6f} "
        f"(R* {meta['predicted_loss']:.6f}), eta {meta['loss_eta']:.6f} (predicted {meta['predicted_denoised']:.6f}), "
        f"learned {meta['loss_learned_denoiser']:.6f} in {meta['wall_time_s']:.2f} s"
    )


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            p = sm.params
            main(runs.RunSpec.from_stem(sm.output.json), p.settings, p.device, sm.threads, p.deterministic)
    else:
        from signae.config import load_config

        config = load_config(sys.argv[2:])
        spec = runs.RunSpec.from_stem(sys.argv[1])
        with provenance.standalone([spec.json, spec.npz]):
            main(spec, config["sparse"]["trainer"], config["device"], config["threads"], config["deterministic"])
