# Stage 4: figure tables (tidy CSV, one row per plotted point) and the figures drawn from them, for
# every figure of the registry (signae.figures). Table rules read run files; plot rules read only
# their table, so a style change redraws the figures and nothing else.


localrules:
    figure_table,
    figure_plot,


rule figure_table:
    input:
        unpack(lambda w: registry.flat_inputs(figure(w), config)),
        code=lambda w: figure_code(w, "table", "figure_table.py"),
    output:
        "figures/{figure}.csv",
    log:
        "logs/figures/{figure}_table.log",
    benchmark:
        "results/benchmarks/figures/{figure}_table.tsv"
    conda:
        "../../environment.yml"
    params:
        builder=lambda w: figure(w).table,
        settings=lambda w: figure(w).params(config),
    script:
        "../scripts/figure_table.py"


rule figure_plot:
    input:
        table="figures/{figure}.csv",
        code=lambda w: figure_code(w, "plot", "plot_figure.py"),
    output:
        pdf=report("figures/{figure}.pdf", caption="../report/figure.rst", category="Figures"),
        png=report("figures/{figure}.png", caption="../report/figure.rst", category="Figures"),
    log:
        "logs/figures/{figure}_plot.log",
    benchmark:
        "results/benchmarks/figures/{figure}_plot.tsv"
    conda:
        "../../environment.yml"
    params:
        plotter=lambda w: figure(w).plot,
        caption=lambda w: registry.render_caption(figure(w), config, workflow.basedir),
    script:
        "../scripts/plot_figure.py"
