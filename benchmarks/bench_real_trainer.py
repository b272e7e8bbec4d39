"""The trainer on real images (docs/theory.md eq. (44)), run on demand, not in the tests:

    python benchmarks/bench_real_trainer.py [--data results/data] [--r 0.5] [--threads 1]

Needs the preprocessed unwhitened variants of a finished run (results/data/<dataset>/unwhitened.npz, .json,
with a validation split). For MNIST and CIFAR-10 at --r, prints from one run on one machine:

1. the designed encoder's validation loss (the target), and a plain torch matmul's GFLOP/s timed in the same
   run (machines differ from day to day: compare the times through it);
2. for each trainer (the former default: Gaussian initialisation, no momentum, ridge 1e-3, 150 steps; the
   Gaussian-initialised trainer with momentum, 60 steps, ridge 1e-3 and 0.3 (the batch decoder's,
   docs/theory.md eq. (21)); the default: momentum, ridge 0.3, refinement from the designed encoder with early
   stopping, 60 steps): wall time, validation and test loss against the designed encoder's, and
   the wall time at which the validation loss (recorded every 5 steps, with the decoder fitted on the whole
   training split) first reaches the designed encoder's ("never" when it does not). Times exclude the
   recording itself unless the trainer uses it (early stopping).
"""

from __future__ import annotations

import argparse
import time

import torch

from signae import images, real_source, train
from signae.device import set_threads
from signae.theory import hidden_units

TRAINERS = {
    "former (Gaussian init, no momentum, ridge 1e-3, 150 steps)": dict(
        steps=150, init="gaussian", momentum=0.0, ridge=1e-3, select="last"
    ),
    "Gaussian init, momentum 0.9, ridge 1e-3, 60 steps": dict(
        steps=60, init="gaussian", momentum=0.9, ridge=1e-3, select="last"
    ),
    "Gaussian init, momentum 0.9, ridge 0.3, 60 steps": dict(
        steps=60, init="gaussian", momentum=0.9, ridge=0.3, select="last"
    ),
    "default: refined from designed, momentum 0.9, ridge 0.3, early-stopped, 60 steps": dict(
        steps=60, init="designed", momentum=0.9, ridge=0.3, select="validation"
    ),
}


class TimedSource(real_source.SplitSource):
    """A SplitSource that records (trainer seconds since the first call, validation loss) at every recorded
    step. The validation loss is computed once per recorded step (fit_on_samples asks for risk, then, when
    it selects on validation, for validation_risk of the same encoder); its time counts as the trainer's
    only when the trainer uses it (``select="validation"``), otherwise it is monitoring and is excluded."""

    def __init__(self, *args, counts: bool, **kw):
        super().__init__(*args, **kw)
        self.counts, self.t0, self.excluded, self.curve, self.last = counts, None, 0.0, [], None

    def risk(self, V):
        start = time.perf_counter()
        if self.t0 is None:
            self.t0 = start
        self.last = super().validation_risk(V)
        self.curve.append((start - self.t0 - self.excluded, self.last))
        if not self.counts:
            self.excluded += time.perf_counter() - start
        return super().risk(V)

    def validation_risk(self, V):
        return self.last  # of the same encoder: risk() ran just before at this step


def matmul_rate(size: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - t0) / 1e9


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="results/data")
    p.add_argument("--r", type=float, default=0.5)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    set_threads(a.threads)
    dev = torch.device("cpu")
    print(f"matmul 2048^3 float32: {matmul_rate():.1f} GFLOP/s ({a.threads} thread(s))")
    for dataset in ("mnist", "cifar10"):
        prep = images.load_prepared(f"{a.data}/{dataset}/unwhitened.npz", f"{a.data}/{dataset}/unwhitened.json")
        n = hidden_units(a.r, prep.x_train.shape[1])
        source = real_source.SplitSource(prep, dev, init="designed")
        target = source.validation_risk(source.init_encoder(n, 0))
        test_designed, _ = real_source.evaluate_designed(prep, n, 0, dev)
        print(f"\n{dataset}, r = {n / prep.x_train.shape[1]:.4f}: designed encoder validation {target:.5f}")
        print("| trainer | wall (s) | validation vs designed | test vs designed | time to the designed loss (s) |")
        print("|---|---|---|---|---|")
        for name, t in TRAINERS.items():
            src = TimedSource(prep, dev, init=t["init"], counts=t["select"] == "validation")
            res = train.train_on_samples(
                src,
                n,
                t["steps"],
                batch=4096,
                lr=8.0,
                sharpness=(1.0, 6.0),
                seed=0,
                record_every=5,
                momentum=t["momentum"],
                ridge=t["ridge"],
                select=t["select"],
            )
            reached = next((f"{s:.1f}" for s, v in src.curve if v <= target), "never")
            print(
                f"| {name} | {res.wall_time_s - src.excluded:.1f} | {res.extra['validation_loss'] / target - 1:+.2%} |"
                f" {res.final_loss / test_designed - 1:+.2%} | {reached} |"
            )


if __name__ == "__main__":
    main()
