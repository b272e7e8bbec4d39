"""Rule figure_plot: draw one figure from its tidy CSV with the plotter the figure registry names
(signae.figures, signae.plotting). Never trains, never evaluates a formula. Runs on its own too:
python workflow/scripts/plot_figure.py fig1_limit (reads figures/fig1_limit.csv)."""

import sys

import pandas as pd

from signae import figures, provenance


def main(stem: str, table: str, pdf: str, png: str) -> None:
    plot = figures.resolve(figures.FIGURES[stem].plot)
    plot(pd.read_csv(table), pdf, png)
    print(f"{stem}: {table} -> {pdf}, {png}")


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake
        with provenance.job_log(sm.log[0], sm.output):
            main(sm.wildcards.figure, sm.input.table, sm.output.pdf, sm.output.png)
    else:
        from signae.config import check_choice

        stem = sys.argv[1]
        check_choice(stem, figures.FIGURES, "figure")
        outs = [f"figures/{stem}.pdf", f"figures/{stem}.png"]
        with provenance.standalone(outs):
            main(stem, f"figures/{stem}.csv", *outs)
