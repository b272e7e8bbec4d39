"""Rule designed_real: the training-free designed encoder (docs/theory.md eq. (31)) at every r and seed, on one
data variant (signae.real_source)."""

import pandas as pd

from signae import images, job, real_source
from signae.device import resolve_device
from signae.theory import hidden_units


def main(sm) -> None:
    dev = resolve_device(sm.params.device)
    prep = images.load_prepared(sm.input.npz, sm.input.json)
    d = prep.x_train.shape[1]
    rows = []
    for r in sm.params.r:
        n = hidden_units(r, d)
        for seed in sm.params.seeds:
            test, train_loss = real_source.evaluate_designed(prep, n, seed, dev)
            rows.append({"r": n / d, "d": d, "seed": seed, "loss": test, "train_loss": train_loss})
            print(f"r={n / d:.4f} seed={seed}: test {test:.5f} train {train_loss:.5f}")
    pd.DataFrame(rows).to_csv(sm.output[0], index=False)


if __name__ == "__main__":
    job.run(main, "designed_real", globals())
