"""Rule claims: results/claims.csv from every figure table, with the claims functions and tolerances the
figure registry names (signae.figures, signae.claims). Runs on its own too:
python workflow/scripts/claims.py [config.yaml ...]."""

import sys

import pandas as pd

from signae import claims, figures, provenance


def main(config: dict, output: str) -> None:
    tables = {}
    for fig in figures.configured(config):
        path = f"figures/{fig.stem}.csv"
        table = pd.read_csv(path)
        figures.check_finite(table, path)
        tables[fig.number] = table
    table = claims.claims_table(tables, figures.claim_checks(config))
    claims.check_claims(table, {fig.number: fig.stem for fig in figures.configured(config)})
    table.to_csv(output, index=False)
    held = int(table.holds.sum())
    print(f"{held} of {len(table)} claims hold")
    for row in table[~table.holds].itertuples():
        print(
            f"FAILED: {row.claim}: predicted {row.predicted:.6g}, reproduced {row.reproduced:.6g},"
            f" gap {row.gap:+.3%} > tolerance {row.tolerance:.3%}"
        )


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            main(sm.config, sm.output[0])
    else:
        from signae.config import load_config

        out = "results/claims.csv"
        with provenance.standalone([out]):
            main(load_config(sys.argv[1:]), out)
