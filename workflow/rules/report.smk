# Stage 4: what a reviewer reads. The claims rendered failures first, run times and memory per stage from
# the benchmark files, software and devices, and the manifest of every file the figures are built from.
# Neither depends on the drawn figures, so a style change redraws the figures and nothing else.
# `snakemake --report report.html` collects these with every figure and its caption.


localrules:
    report_tables,
    manifest,


rule report_tables:
    input:
        claims="results/claims.csv",
        runs=all_runs(),
        code="src/signae/reporting.py",
    output:
        claims=report("results/report/claims.html", caption="../report/claims.rst", category="Claims"),
        runtimes=report("results/report/runtimes.csv", caption="../report/runtimes.rst", category="Run times"),
        environment=report("results/report/environment.html", caption="../report/environment.rst", category="Software"),
    params:
        benchmarks="results/benchmarks",
    conda:
        "../../environment.yml"
    log:
        "logs/report_tables.log",
    benchmark:
        "results/benchmarks/report_tables.tsv"
    script:
        "../scripts/report_tables.py"


rule manifest:
    input:
        tables=[f for f in FIGURES if f.endswith(".csv")],  # what the figures are drawn from
        runs=all_runs(),
        weights=with_weights(all_runs()),
        theory="results/theory/untrained.csv",
        real=[
            f"results/real/{ds}/{v}/{name}"
            for ds, v in real_pairs()
            for name in ("designed.csv", "gaussian_twin.csv", "norms.json")
        ],
        claims="results/claims.csv",
    output:
        "results/MANIFEST.sha256",
    conda:
        "../../environment.yml"
    log:
        "logs/manifest.log",
    benchmark:
        "results/benchmarks/report_manifest.tsv"
    script:
        "../scripts/manifest.py"
