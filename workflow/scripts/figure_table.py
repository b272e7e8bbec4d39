"""Rule figure_table: the tidy CSV behind one figure, by the builder the figure registry names
(signae.figures, signae.tables). Runs on its own too: python workflow/scripts/figure_table.py fig1_limit
[config.yaml ...] writes figures/<stem>.csv from the results of that config."""

import sys

from signae import figures, provenance


def main(stem: str, config: dict, output: str, given_inputs=None) -> None:
    fig = figures.FIGURES[stem]
    if given_inputs is not None:  # the inputs Snakemake checked are the ones the builder reads
        missing = {p for paths in figures.flat_inputs(fig, config).values() for p in paths} - set(given_inputs)
        if missing:
            raise RuntimeError(f"{stem}: the rule did not declare inputs the table builder reads: {sorted(missing)}")
    table = figures.build_table(fig, config)
    figures.check_finite(table, output)
    table.to_csv(output, index=False)
    print(f"{stem}: {len(table)} rows -> {output}")


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            main(sm.wildcards.figure, sm.config, sm.output[0], list(sm.input))
    else:
        from signae.config import check_choice, load_config

        stem = sys.argv[1]
        check_choice(stem, figures.FIGURES, "figure")
        out = f"figures/{stem}.csv"
        with provenance.standalone([out]):
            main(stem, load_config(sys.argv[2:]), out)
