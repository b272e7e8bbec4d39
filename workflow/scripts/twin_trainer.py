"""Rule twin_trainer: the sample-based trainer of the real images on fresh Gaussian draws of an unwhitened
variant's twin N(0, Sigma_hat), at every r of figure 5 (signae.twin; docs/theory.md eq. (32), eq. (44))."""

import pandas as pd

from signae import images, job, twin
from signae.device import resolve_device


def main(sm) -> None:
    prep = images.load_prepared(sm.input.npz, sm.input.json)
    p = sm.params
    rows = twin.twin_trainer_rows(prep, p.r, p.settings, p.seed, resolve_device(p.device))
    pd.DataFrame(rows).to_csv(sm.output[0], index=False)


if __name__ == "__main__":
    job.run(main, "twin_trainer", globals())
