"""Rule report_tables: claims (HTML, failures first), run times per stage, software and devices."""

import sys

import pandas as pd

from signae import reporting

sm = snakemake  # noqa: F821
sys.stderr = sys.stdout = open(sm.log[0], "w")

claims = pd.read_csv(sm.input.claims)
open(sm.output.claims, "w").write(reporting.claims_html(claims))
jobs = reporting.benchmark_rows(sm.params.benchmarks)
reporting.runtime_table(jobs).to_csv(sm.output.runtimes, index=False)
open(sm.output.environment, "w").write(reporting.environment_html(sm.input.runs, sm.input.claims))
