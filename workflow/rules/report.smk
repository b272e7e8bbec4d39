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
        claims="results/claims.csv",
        runs=jsons(registry.all_runs(config)),
    output:
        claims=report("results/report/claims.html", caption="../report/claims.rst", category="Claims"),
        runtimes=report("results/report/runtimes.csv", caption="../report/runtimes.rst", category="Run times"),
        environment=report("results/report/environment.html", caption="../report/environment.rst", category="Software"),
    log:
        "logs/report_tables.log",
    benchmark:
        "results/benchmarks/report_tables.tsv"
    conda:
        "../../environment.yml"
    params:
        benchmarks="results/benchmarks",
    script:
        "../scripts/report_tables.py"


rule manifest:
    input:
        tables=[f"figures/{fig.stem}.csv" for fig in FIGURES],  # what the figures are drawn from
        runs=jsons(registry.all_runs(config)),
        weights=npzs(registry.all_runs(config)),
        theory=registry.UNTRAINED,
        real=[
            registry.real_file(ds, v, name)
            for ds, v in registry.real_pairs(config)
            for name in ("designed.csv", "gaussian_twin.csv", "norms.json")
        ],
        decoders=registry.decoder_files(config),  # figures 7 and 8's decoders fitted on trained encoders
        claims="results/claims.csv",
    output:
        "results/MANIFEST.sha256",
    log:
        "logs/manifest.log",
    benchmark:
        "results/benchmarks/report_manifest.tsv"
    conda:
        "../../environment.yml"
    script:
        "../scripts/manifest.py"
