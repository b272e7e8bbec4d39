"""Rule train: one Gaussian training run -> weights (.npz) and metadata (.json) (signae.experiment,
signae.runs). Runs on its own too: python workflow/scripts/train.py results/runs/isotropic/pgd/d64_r2_seed0
[config.yaml ...] (the run's stem, then config overlays)."""

import logging
import sys

from signae import experiment, provenance, runs
from signae.device import set_threads


def main(
    spec: runs.RunSpec,
    settings: dict,
    spectrum: dict,
    covariance_seed: int,
    device: str,
    threads: int,
    deterministic: bool,
    rule: str = "train",
) -> None:
    set_threads(threads, deterministic)
    result, meta = experiment.run(spec, settings, spectrum, covariance_seed, device)
    meta["rule"] = rule
    runs.save(result, meta, spec.npz, spec.json)
    print(
        f"{spec.trainer} on {spec.source}, d={spec.d}, r={spec.r:g}, seed={spec.seed}: loss {meta['final_loss']:.6f}"
        f" (predicted {meta['predicted_loss']:.6f}) in {meta['wall_time_s']:.2f} s on {meta['device']['device']}"
    )


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output) as log:
            logging.basicConfig(level=logging.INFO, stream=log)
            spec = runs.RunSpec.from_stem(sm.output.json)
            p = sm.params
            main(spec, p.settings, p.spectrum, p.covariance_seed, p.device, sm.threads, p.deterministic, sm.rule)
    else:
        from signae.config import load_config

        spec = runs.RunSpec.from_stem(sys.argv[1])
        config = load_config(sys.argv[2:])
        with provenance.standalone([spec.json, spec.npz]):
            main(
                spec,
                runs.trainer_settings(config, spec.source, spec.trainer),
                config["covariance"]["spectra"].get(spec.source, {}),
                config["seed"],
                config["device"],
                config["threads"],
                config["deterministic"],
            )
