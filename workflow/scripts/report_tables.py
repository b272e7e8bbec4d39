"""Rule report_tables: claims (HTML, failures first), run times per stage, software and devices
(signae.reporting). Runs on its own too: python workflow/scripts/report_tables.py [config.yaml ...]."""

import sys

import pandas as pd

from signae import provenance, reporting


def main(
    claims_csv: str, run_jsons, benchmarks: str, claims_html: str, runtimes_csv: str, environment_html: str
) -> None:
    claims = pd.read_csv(claims_csv)
    with open(claims_html, "w") as fh:
        fh.write(reporting.claims_html(claims))
    reporting.runtime_table(reporting.benchmark_rows(benchmarks)).to_csv(runtimes_csv, index=False)
    with open(environment_html, "w") as fh:
        fh.write(reporting.environment_html(run_jsons, claims_csv))


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            o = sm.output
            main(sm.input.claims, list(sm.input.runs), sm.params.benchmarks, o.claims, o.runtimes, o.environment)
    else:
        from signae import figures
        from signae.config import load_config

        runs = [s.json for s in figures.all_runs(load_config(sys.argv[1:]))]
        outs = ["results/report/claims.html", "results/report/runtimes.csv", "results/report/environment.html"]
        with provenance.standalone(outs):
            main("results/claims.csv", runs, "results/benchmarks", *outs)
