"""Rules fig1 .. fig4: draw one figure from its tidy CSV (see signae.plotting). Never trains."""

import sys

import pandas as pd

from signae import plotting

sm = snakemake  # noqa: F821
sys.stderr = sys.stdout = open(sm.log[0], "w")

plot = getattr(plotting, f"plot_fig{sm.params.figure}")
plot(pd.read_csv(sm.input.table), sm.output.pdf, sm.output.png)
