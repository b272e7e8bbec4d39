"""Rule figure_plot: draw one figure from its tidy CSV with the plotter the figure registry names
(signae.registry, signae.plotting). Never trains, never evaluates a formula."""

import pandas as pd

from signae import job, registry


def main(sm) -> None:
    registry.resolve(sm.params.plotter)(pd.read_csv(sm.input.table), sm.output.pdf, sm.output.png)
    print(f"{sm.wildcards.figure}: {sm.input.table} -> {sm.output.pdf}, {sm.output.png}")


if __name__ == "__main__":
    job.run(main, "figure_plot", globals())
