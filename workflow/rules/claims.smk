# Stage 5: the claims table, checked from the figure tables (never from the figures themselves), with
# the claims functions and tolerances the figure registry names for each figure.


localrules:
    claims,


rule claims:
    input:
        tables=[f"figures/{fig.stem}.csv" for fig in FIGURES],
        code=claims_code(),
    output:
        report("results/claims.csv", caption="../report/claims.rst", category="Claims"),
    log:
        "logs/claims.log",
    benchmark:
        "results/benchmarks/claims.tsv"
    conda:
        "../../environment.yml"
    params:
        tolerances={fig.number: [registry.tolerances(config, key) for _, key in fig.claims] for fig in FIGURES},
    script:
        "../scripts/claims.py"
