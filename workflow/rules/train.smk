# Stage 2: training runs. One job per run (signae.runs.RunSpec); each writes its weights and curve
# (.npz) and its metadata (.json: settings, seed, versions, device, wall time, the .npz's SHA-256).


rule train:
    input:
        code=code("train.py"),
    output:
        npz="results/runs/{source}/{trainer}/d{d}_r{r}_seed{seed}.npz",
        json="results/runs/{source}/{trainer}/d{d}_r{r}_seed{seed}.json",
    log:
        "logs/train/{source}/{trainer}/d{d}_r{r}_seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{source}/{trainer}/d{d}_r{r}_seed{seed}.tsv"
    shadow:
        "minimal"  # outputs move into place only when the job succeeds (docs/faults.md)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime,
        gpu=1 if USES_GPU else 0,
    params:
        settings=trainer_settings,
        spectrum=spectrum_args,
        covariance_seed=config["seed"],
        device=config["device"],
        deterministic=config["deterministic"],
    script:
        "../scripts/train.py"


rule train_real:
    input:
        code=code("train_real.py"),
        npz="results/data/{dataset}/{variant}.npz",
        json="results/data/{dataset}/{variant}.json",
    output:
        npz="results/real/{dataset}/{variant}/r{r}_seed{seed}.npz",
        json="results/real/{dataset}/{variant}/r{r}_seed{seed}.json",
    log:
        "logs/real/{dataset}/{variant}/r{r}_seed{seed}.log",
    benchmark:
        "results/benchmarks/real/{dataset}/{variant}/r{r}_seed{seed}.tsv"
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
        settings=config["realdata"]["trainer"],
        device=config["device"],
        deterministic=config["deterministic"],
    script:
        "../scripts/train_real.py"


rule train_sparse:
    input:
        code=code("train_sparse.py"),
    output:
        npz="results/runs/sparse/sample/p{p}_d{d}_r{r}_seed{seed}.npz",
        json="results/runs/sparse/sample/p{p}_d{d}_r{r}_seed{seed}.json",
    log:
        "logs/train/sparse/p{p}_d{d}_r{r}_seed{seed}.log",
    benchmark:
        "results/benchmarks/train/sparse/p{p}_d{d}_r{r}_seed{seed}.tsv"
    shadow:
        "minimal"  # outputs move into place only when the job succeeds (docs/faults.md)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=sparse_mem_mb,
        runtime=sparse_runtime,
        gpu=1 if USES_GPU else 0,
    params:
        settings=config["sparse"]["trainer"],
        device=config["device"],
        deterministic=config["deterministic"],
    script:
        "../scripts/train_sparse.py"
