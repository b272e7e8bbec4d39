# Stage 2: figure tables (tidy CSV, one row per plotted point) and the figures drawn from them.
# Table rules read run files; plot rules read only their table, so a style change redraws only.


localrules:
    fig1_table,
    fig2_table,
    fig3_table,
    fig4_table,
    fig1,
    fig2,
    fig3,
    fig4,


rule fig1_table:
    input:
        code=["src/signae/tables.py", "src/signae/evaluate.py"],
        runs=limit_runs(),
        weights=with_weights(limit_runs()),
        untrained="results/theory/untrained.csv",
    output:
        "figures/fig1_limit.csv",
    params:
        figure=1,
        r=config["limit"]["r"],
    conda:
        "../../environment.yml"
    log:
        "logs/fig1_table.log",
    benchmark:
        "results/benchmarks/fig1_table.tsv"
    script:
        "../scripts/figure_table.py"


rule fig2_table:
    input:
        code=["src/signae/tables.py", "src/signae/evaluate.py"],
        runs=dynamics_runs(),
        weights=with_weights(dynamics_runs()),
    output:
        "figures/fig2_dynamics.csv",
    params:
        figure=2,
    conda:
        "../../environment.yml"
    log:
        "logs/fig2_table.log",
    benchmark:
        "results/benchmarks/fig2_table.tsv"
    script:
        "../scripts/figure_table.py"


rule fig3_table:
    input:
        code=["src/signae/tables.py", "src/signae/evaluate.py"],
        features=features_runs(),
        scales=dynamics_runs(),
        weights=with_weights(dynamics_runs()),
    output:
        "figures/fig3_features.csv",
    params:
        figure=3,
    conda:
        "../../environment.yml"
    log:
        "logs/fig3_table.log",
    benchmark:
        "results/benchmarks/fig3_table.tsv"
    script:
        "../scripts/figure_table.py"


rule fig4_table:
    input:
        code=["src/signae/tables.py", "src/signae/evaluate.py"],
        runs=covariance_runs(),
        weights=with_weights(covariance_runs()),
    output:
        "figures/fig4_covariance.csv",
    params:
        figure=4,
        spectra=config["covariance"]["spectra"],
        d=config["covariance"]["d"],
        covariance_seed=config["seed"],
    conda:
        "../../environment.yml"
    log:
        "logs/fig4_table.log",
    benchmark:
        "results/benchmarks/fig4_table.tsv"
    script:
        "../scripts/figure_table.py"


rule fig1:
    input:
        table="figures/fig1_limit.csv",
        code="src/signae/plotting.py",
    output:
        pdf=report("figures/fig1_limit.pdf", caption="../report/fig1.rst", category="Figures"),
        png=report("figures/fig1_limit.png", caption="../report/fig1.rst", category="Figures"),
    params:
        figure=1,
    conda:
        "../../environment.yml"
    log:
        "logs/fig1.log",
    benchmark:
        "results/benchmarks/fig1.tsv"
    script:
        "../scripts/plot_figure.py"


rule fig2:
    input:
        table="figures/fig2_dynamics.csv",
        code="src/signae/plotting.py",
    output:
        pdf=report("figures/fig2_dynamics.pdf", caption="../report/fig2.rst", category="Figures"),
        png=report("figures/fig2_dynamics.png", caption="../report/fig2.rst", category="Figures"),
    params:
        figure=2,
    conda:
        "../../environment.yml"
    log:
        "logs/fig2.log",
    benchmark:
        "results/benchmarks/fig2.tsv"
    script:
        "../scripts/plot_figure.py"


rule fig3:
    input:
        table="figures/fig3_features.csv",
        code="src/signae/plotting.py",
    output:
        pdf=report("figures/fig3_features.pdf", caption="../report/fig3.rst", category="Figures"),
        png=report("figures/fig3_features.png", caption="../report/fig3.rst", category="Figures"),
    params:
        figure=3,
    conda:
        "../../environment.yml"
    log:
        "logs/fig3.log",
    benchmark:
        "results/benchmarks/fig3.tsv"
    script:
        "../scripts/plot_figure.py"


rule fig4:
    input:
        table="figures/fig4_covariance.csv",
        code="src/signae/plotting.py",
    output:
        pdf=report("figures/fig4_covariance.pdf", caption="../report/fig4.rst", category="Figures"),
        png=report("figures/fig4_covariance.png", caption="../report/fig4.rst", category="Figures"),
    params:
        figure=4,
    conda:
        "../../environment.yml"
    log:
        "logs/fig4.log",
    benchmark:
        "results/benchmarks/fig4.tsv"
    script:
        "../scripts/plot_figure.py"
