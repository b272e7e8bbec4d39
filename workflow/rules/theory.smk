# Stage 3: theory checks that need simulation or data rather than a closed form: untrained Gaussian
# encoders (figure 1), the training-free designed encoder and the Gaussian twin of each real variant
# (figure 5; docs/theory.md, real data), and the sample-based trainer on Gaussian samples of that twin.


rule untrained_baseline:
    input:
        code=code("untrained_baseline.py"),
    output:
        registry.UNTRAINED,
    log:
        "logs/untrained_baseline.log",
    benchmark:
        "results/benchmarks/untrained_baseline.tsv"
    shadow:
        "minimal"  # outputs move into place only when the job succeeds (docs/faults.md)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    params:
        d=config["limit"]["untrained"]["d"],
        seeds=registry.seeds(config, config["limit"]["untrained"]["seeds"]),
        r=config["limit"]["r"],
    script:
        "../scripts/untrained_baseline.py"


rule designed_real:
    input:
        code=code("designed_real.py"),
        npz="results/data/{dataset}/{variant}.npz",
        json="results/data/{dataset}/{variant}.json",
    output:
        "results/real/{dataset}/{variant}/designed.csv",
    log:
        "logs/real/{dataset}/{variant}/designed.log",
    benchmark:
        "results/benchmarks/real/{dataset}/{variant}/designed.tsv"
    shadow:
        "minimal"  # outputs move into place only when the job succeeds (docs/faults.md)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=real_mem_mb,
        runtime=real_runtime,
    params:
        r=config["realdata"]["r"],
        seeds=registry.seeds(config, config["realdata"]["seeds"]),
        device=config["device"],
    script:
        "../scripts/designed_real.py"


rule gaussian_twin:
    input:
        code=code("gaussian_twin.py"),
        npz="results/data/{dataset}/{variant}.npz",
        json="results/data/{dataset}/{variant}.json",
        runs=lambda w: jsons(pair_runs(w)),
        weights=lambda w: npzs(pair_runs(w)),
    output:
        csv="results/real/{dataset}/{variant}/gaussian_twin.csv",
        json="results/real/{dataset}/{variant}/norms.json",
    log:
        "logs/real/{dataset}/{variant}/gaussian_twin.log",
    benchmark:
        "results/benchmarks/real/{dataset}/{variant}/gaussian_twin.tsv"
    shadow:
        "minimal"  # outputs move into place only when the job succeeds (docs/faults.md)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=real_mem_mb,
        runtime=real_runtime,
        gpu=1 if USES_GPU else 0,
    params:
        r=config["realdata"]["r"],
        twin=config["realdata"]["twin"],
        seed=config["seed"],
        device=config["device"],
    script:
        "../scripts/gaussian_twin.py"


rule twin_samples:
    input:
        code=code("twin_samples.py"),
        npz="results/data/{dataset}/unwhitened.npz",
        json="results/data/{dataset}/unwhitened.json",
    output:
        registry.twin_samples_file("{dataset}"),
    log:
        "logs/real/{dataset}/unwhitened/twin_samples.log",
    benchmark:
        "results/benchmarks/real/{dataset}/unwhitened/twin_samples.tsv"
    shadow:
        "minimal"  # outputs move into place only when the job succeeds (docs/faults.md)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=real_mem_mb,
        runtime=real_runtime,
        gpu=1 if USES_GPU else 0,
    params:
        r=config["realdata"]["r"],
        settings=config["realdata"]["trainer"],
        seed=config["seed"],
        device=config["device"],
    script:
        "../scripts/twin_samples.py"


rule structure:
    input:
        code=code("structure.py"),
        npz="results/data/{dataset}/unwhitened.npz",
        json="results/data/{dataset}/unwhitened.json",
        runs=lambda w: jsons(registry.structure_runs(config, w.dataset)),
        weights=lambda w: npzs(registry.structure_runs(config, w.dataset)),
    output:
        registry.structure_file("{dataset}"),
    log:
        "logs/real/{dataset}/unwhitened/structure.log",
    benchmark:
        "results/benchmarks/real/{dataset}/unwhitened/structure.tsv"
    shadow:
        "minimal"  # outputs move into place only when the job succeeds (docs/faults.md)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=real_mem_mb,
        runtime=real_runtime,
        gpu=1 if USES_GPU else 0,
    params:
        r=config["realdata"]["structure"]["r"],
        settings=config["realdata"]["trainer"],
        seed=config["seed"],
        device=config["device"],
    script:
        "../scripts/structure.py"
