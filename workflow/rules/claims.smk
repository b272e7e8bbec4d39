# Stage 5: the claims table, checked from the figure tables (never from the figures themselves), with
# the claims functions and tolerances the figure registry names for each figure.


localrules:
    claims,


rule claims:
    input:
        tables=FIGURE_TABLES,
        code=claims_code(),
        params=params_file("claims"),
    output:
        **recorded(csv=report(paths.CLAIMS, caption="../report/claims.rst", category="Claims")),
    log:
        paths.log("claims"),
    benchmark:
        paths.benchmark("claims")
    conda:
        "../../environment.yml"
    params:
        # [(figure number, its table, [(claims function, its tolerances), ...]), ...] in the order of the tables
        **recorded_params("claims", checks=claims_checks()),
    script:
        "../scripts/claims.py"
