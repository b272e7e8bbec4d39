"""Rules fig1_table .. fig4_table: the tidy CSV behind one figure (see signae.tables)."""

import sys

from signae import tables

sm = snakemake  # noqa: F821
sys.stderr = sys.stdout = open(sm.log[0], "w")

figure = sm.params.figure
if figure == 1:
    table = tables.limit_table(sm.input.runs, sm.input.untrained, sm.params.r)
elif figure == 2:
    table = tables.dynamics_table(sm.input.runs)
elif figure == 3:
    table = tables.features_table(sm.input.features, sm.input.scales)
elif figure == 4:
    table = tables.covariance_table(sm.input.runs, sm.params.spectra, sm.params.d, sm.params.covariance_seed)
elif figure == 5:
    pairs = [tuple(p) for p in sm.params.pairs]
    designed = dict(zip(pairs, sm.input.designed))
    preps = dict(zip(pairs, sm.input.preps))
    twins = dict(zip(pairs, zip(sm.input.twins, sm.input.norms)))
    table = tables.universality_table(sm.input.runs, designed, preps, sm.params.r, twins)
elif figure == 6:
    datasets = list(sm.params.datasets)
    per = len(sm.input.runs) // len(datasets)
    runs = {ds: sm.input.runs[k * per:(k + 1) * per] for k, ds in enumerate(datasets)}
    images = dict(zip(datasets, sm.input.images))
    preps = {ds: (sm.input.preps[2 * k], sm.input.preps[2 * k + 1]) for k, ds in enumerate(datasets)}
    table = tables.reconstruction_table(images, runs, preps, sm.params.images)
else:
    raise ValueError(f"no table for figure {figure}")
table.to_csv(sm.output[0], index=False)
print(f"figure {figure}: {len(table)} rows -> {sm.output[0]}")
