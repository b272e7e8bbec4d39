"""Rule structure: what the trained encoders exploit in one data set's unwhitened images, and the
component-shuffle experiment (signae.structure; docs/theory.md eq. (45) to eq. (47); figure 9)."""

import pandas as pd

from signae import images, job, structure
from signae.device import resolve_device


def main(sm) -> None:
    prep = images.load_prepared(sm.input.npz, sm.input.json)
    p = sm.params
    rows = structure.experiment(prep, list(sm.input.runs), p.r, p.settings, p.seed, resolve_device(p.device))
    pd.DataFrame(rows).to_csv(sm.output[0], index=False)


if __name__ == "__main__":
    job.run(main, "structure", globals())
