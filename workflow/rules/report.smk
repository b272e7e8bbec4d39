# Stage 6: what a reviewer reads. The claims rendered failures first, run times and memory per stage from
# the benchmark files, software and devices, and the manifest of every file the figures are built from.
# Neither depends on the drawn figures, so a style change redraws the figures and nothing else.
# `snakemake --report report.html` collects these with every figure and its caption.


localrules:
    report_tables,
    manifest,


rule report_tables:
    input:
        code=code("report_tables.py"),
        claims=paths.CLAIMS,
        runs=jsons(RUNS),
    output:
        **recorded(
            claims=report(
                paths.fill(paths.REPORT, name="claims.html"), caption="../report/claims.rst", category="Claims"
            ),
            runtimes=report(
                paths.fill(paths.REPORT, name="runtimes.csv"), caption="../report/runtimes.rst", category="Run times"
            ),
            environment=report(
                paths.fill(paths.REPORT, name="environment.html"),
                caption="../report/environment.rst",
                category="Software",
            ),
        ),
    log:
        paths.log("report_tables"),
    benchmark:
        paths.benchmark("report_tables")
    conda:
        "../../environment.yml"
    params:
        benchmarks=paths.BENCHMARKS,
    script:
        "../scripts/report_tables.py"


rule manifest:
    input:
        tables=FIGURE_TABLES,  # what the figures are drawn from
        runs=jsons(RUNS),
        weights=npzs(RUNS),
        theory=paths.UNTRAINED,
        real=[
            paths.fill(pattern, dataset=ds, variant=v)
            for ds, v in registry.real_pairs(config)
            for pattern in (paths.DESIGNED, paths.TWIN, paths.NORMS)
        ],
        decoders=registry.decoder_files(config),  # figures 7, 8 and 11's decoders on trained encoders
        claims=paths.CLAIMS,
    output:
        **recorded(manifest=paths.MANIFEST),
    log:
        paths.log("manifest"),
    benchmark:
        paths.benchmark("manifest")
    conda:
        "../../environment.yml"
    script:
        "../scripts/manifest.py"
