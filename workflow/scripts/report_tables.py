"""Rule report_tables: claims (HTML, failures first), run times per stage, software and devices
(signae.reporting)."""

import pandas as pd

from signae import job, reporting


def main(sm) -> None:
    claims = pd.read_csv(sm.input.claims)
    with open(sm.output.claims, "w") as fh:
        fh.write(reporting.claims_html(claims))
    reporting.runtime_table(reporting.benchmark_rows(sm.params.benchmarks)).to_csv(sm.output.runtimes, index=False)
    with open(sm.output.environment, "w") as fh:
        fh.write(reporting.environment_html(list(sm.input.runs), sm.input.claims))


if __name__ == "__main__":
    job.run(main, "report_tables", globals())
