"""Rule claims: results/claims.csv from every figure table, with the claims functions and tolerances the figure
registry names (signae.registry, signae.claims)."""

import pandas as pd

from signae import claims, job, registry


def main(sm) -> None:
    tables, checks = {}, {}
    for path, (number, _, functions) in zip(sm.input.tables, sm.params.checks, strict=True):
        tables[number] = pd.read_csv(path)
        registry.check_finite(tables[number], path)
        checks[number] = [(registry.resolve(fn), tol) for fn, tol in functions]
    table = claims.claims_table(tables, checks)
    claims.check_claims(table, dict(zip(tables, sm.input.tables, strict=True)))
    table.to_csv(sm.output[0], index=False)
    print(f"{int(table.holds.sum())} of {len(table)} claims hold")
    for row in table[~table.holds].itertuples():
        print(
            f"FAILED: {row.claim}: predicted {row.predicted:.6g}, reproduced {row.reproduced:.6g},"
            f" gap {row.gap:+.3%} > tolerance {row.tolerance:.3%}"
        )


if __name__ == "__main__":
    job.run(main, "claims", globals())
