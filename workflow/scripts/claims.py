"""Rule claims: results/claims.csv from the four figure tables (see signae.claims)."""

import sys

import pandas as pd

from signae import claims

sm = snakemake  # noqa: F821
sys.stderr = sys.stdout = open(sm.log[0], "w")

tables = [pd.read_csv(path) for path in (sm.input.fig1, sm.input.fig2, sm.input.fig3, sm.input.fig4)]
real = [pd.read_csv(path) for path in sm.input.real] or [None, None]
table = claims.claims_table(*tables, tol=sm.params.tolerances, fig5=real[0], fig6=real[1],
                            real_tol=sm.params.real_tolerances)
table.to_csv(sm.output[0], index=False)
held = int(table.holds.sum())
print(f"{held} of {len(table)} claims hold")
for row in table[~table.holds].itertuples():
    print(f"FAILED: {row.claim}: predicted {row.predicted:.6g}, reproduced {row.reproduced:.6g},"
          f" gap {row.gap:+.3%} > tolerance {row.tolerance:.3%}")
