# Stage 4: figure tables (tidy CSV, one row per plotted point) and the figures drawn from them, for
# every figure of the registry (signae.registry). Table rules read run files; plot rules read only
# their table, so a style change redraws the figures and nothing else.


localrules:
    figure_table,
    figure_plot,


rule figure_table:
    input:
        unpack(lambda w: registry.flat_inputs(figure(w), config)),
        code=lambda w: figure_code(w, "table", "figure_table.py"),
        params=params_file("figure_table", paths.FIGURE),
    output:
        **recorded(csv=f"{paths.FIGURE}.csv"),
    log:
        paths.log("figure_table", paths.FIGURE),
    benchmark:
        paths.benchmark("figure_table", paths.FIGURE)
    conda:
        "../../environment.yml"
    params:
        **recorded_params(
            "figure_table", builder=lambda w: figure(w).table, settings=lambda w: figure(w).params(config)
        ),
        inputs=lambda w, input: figure(w).inputs(config),  # the paths of input, named as the builder takes them
    script:
        "../scripts/figure_table.py"


rule figure_plot:
    input:
        table=f"{paths.FIGURE}.csv",
        code=lambda w: figure_code(w, "plot", "plot_figure.py"),
        params=params_file("figure_plot", paths.FIGURE),
    output:
        **recorded(
            pdf=report(f"{paths.FIGURE}.pdf", caption="../report/figure.rst", category="Figures"),
            png=report(f"{paths.FIGURE}.png", caption="../report/figure.rst", category="Figures"),
        ),
    log:
        paths.log("figure_plot", paths.FIGURE),
    benchmark:
        paths.benchmark("figure_plot", paths.FIGURE)
    conda:
        "../../environment.yml"
    params:
        **recorded_params(
            "figure_plot",
            plotter=lambda w: figure(w).plot,
            caption=lambda w: registry.render_caption(figure(w), config, workflow.basedir),
        ),
    script:
        "../scripts/plot_figure.py"
