"""Rule train_real: sample-based training on a real data set; test-split loss (see signae.realdata)."""

import sys

from signae import experiment

sm = snakemake  # noqa: F821
sys.stderr = sys.stdout = open(sm.log[0], "w")

experiment.set_threads(sm.threads, sm.params.deterministic)
w = sm.wildcards
result, meta = experiment.run_real(sm.input.npz, sm.input.json, w.dataset, w.variant, float(w.r), int(w.seed),
                                   sm.params.settings, device=sm.params.device)
meta["rule"] = sm.rule
experiment.save(result, meta, sm.output.npz, sm.output.json)
print(f"{w.dataset}/{w.variant} r={meta['r']:.4f} (n={meta['n']}, d={meta['d']}): test {meta['final_loss']:.5f},"
      f" train {meta['train_loss']:.5f}, predicted {meta['predicted_loss']:.5f}, {meta['wall_time_s']:.1f} s")
