# Stage 3: the claims table, checked from the figure tables (never from the figures themselves).


localrules:
    claims,


rule claims:
    input:
        fig1="figures/fig1_limit.csv",
        fig2="figures/fig2_dynamics.csv",
        fig3="figures/fig3_features.csv",
        fig4="figures/fig4_covariance.csv",
        real=["figures/fig5_universality.csv", "figures/fig6_reconstructions.csv"] if REAL_DATA else [],
        code="src/signae/claims.py",
    output:
        report("results/claims.csv", caption="../report/claims.rst", category="Claims"),
    params:
        tolerances=config["claims"],
        real_tolerances=config["realdata"]["claims"],
    conda:
        "../../environment.yml"
    log:
        "logs/claims.log",
    benchmark:
        "results/benchmarks/claims.tsv"
    script:
        "../scripts/claims.py"
