"""Rule train_real: sample-based training on a real data variant; loss on its test split
(signae.experiment, signae.realdata). Runs on its own too:
python workflow/scripts/train_real.py results/real/mnist/whitened/r0.5_seed0 [config.yaml ...]."""

import sys

from signae import experiment, figures, provenance, runs
from signae.device import set_threads


def main(
    spec: runs.RunSpec, settings: dict, device: str, threads: int, deterministic: bool, rule: str = "train_real"
) -> None:
    set_threads(threads, deterministic)
    npz, json = (figures.variant_file(spec.source, spec.variant, ext) for ext in ("npz", "json"))
    result, meta = experiment.run_real(spec, npz, json, settings, device=device)
    meta["rule"] = rule
    runs.save(result, meta, spec.npz, spec.json)
    print(
        f"{spec.source}/{spec.variant} r={meta['r']:.4f} (n={meta['n']}, d={meta['d']}): test {meta['final_loss']:.5f},"
        f" train {meta['train_loss']:.5f}, predicted {meta['predicted_loss']:.5f}, {meta['wall_time_s']:.1f} s"
    )


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            p = sm.params
            main(runs.RunSpec.from_stem(sm.output.json), p.settings, p.device, sm.threads, p.deterministic, sm.rule)
    else:
        from signae.config import load_config

        config = load_config(sys.argv[2:])
        spec = runs.RunSpec.from_stem(sys.argv[1])
        with provenance.standalone([spec.json, spec.npz]):
            main(spec, config["realdata"]["trainer"], config["device"], config["threads"], config["deterministic"])
