"""Rule train: one training run -> weights (.npz) and metadata (.json). See signae.experiment."""

import logging
import sys

from signae import experiment

sm = snakemake  # noqa: F821  (injected by Snakemake)
sys.stderr = sys.stdout = open(sm.log[0], "w")
logging.basicConfig(level=logging.INFO, stream=sys.stdout)

experiment.set_threads(sm.threads, sm.params.deterministic)
w = sm.wildcards
result, meta = experiment.run(
    kind=w.data,
    trainer=w.trainer,
    d=int(w.d),
    r=float(w.r),
    seed=int(w.seed),
    settings=sm.params.settings,
    spectrum_args=sm.params.spectrum,
    covariance_seed=sm.params.covariance_seed,
    device=sm.params.device,
)
meta["rule"] = sm.rule
experiment.save(result, meta, sm.output.npz, sm.output.json)
print(f"{w.trainer} on {w.data}, d={w.d}, r={w.r}, seed={w.seed}: loss {meta['final_loss']:.6f}"
      f" (predicted {meta['predicted_loss']:.6f}) in {meta['wall_time_s']:.2f} s on {meta['device']['device']}")
