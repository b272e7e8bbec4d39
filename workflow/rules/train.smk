# Stage 1: training runs. One job per (data, trainer, d, r, seed); each writes its weights and curve
# (.npz) and its metadata (.json: settings, seed, versions, device, wall time).


rule train:
    output:
        npz="results/runs/{data}/{trainer}/d{d}_r{r}_seed{seed}.npz",
        json="results/runs/{data}/{trainer}/d{d}_r{r}_seed{seed}.json",
    params:
        settings=trainer_settings,
        spectrum=spectrum_args,
        covariance_seed=config["seed"],
        device=config["device"],
        deterministic=config["deterministic"],
    conda:
        "../../environment.yml"
    log:
        "logs/train/{data}/{trainer}/d{d}_r{r}_seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{data}/{trainer}/d{d}_r{r}_seed{seed}.tsv"
    threads: config["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime,
        gpu=1 if USES_GPU else 0,
    script:
        "../scripts/train.py"


rule untrained_baseline:
    output:
        "results/theory/untrained.csv",
    params:
        d=config["limit"]["untrained"]["d"],
        seeds=seeds(config["limit"]["untrained"]["seeds"]),
        r=config["limit"]["r"],
    conda:
        "../../environment.yml"
    log:
        "logs/untrained_baseline.log",
    benchmark:
        "results/benchmarks/untrained_baseline.tsv"
    threads: config["threads"]
    script:
        "../scripts/untrained_baseline.py"
