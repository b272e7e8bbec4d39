# Stage 3b: decoders fitted after training, on the trained encoders: the deep decoder on sparse data
# (figure 7, signae.deep_decoder) and the pixel-domain denoiser after the linear decoder on real images
# (figure 8, signae.real_denoiser).


rule deep_decoder:
    input:
        code=code("deep_decoder.py"),
        npz="results/runs/sparse/sample/p{p}_d{d}_r{r}_seed{seed}.npz",
        json="results/runs/sparse/sample/p{p}_d{d}_r{r}_seed{seed}.json",
    output:
        "results/decoders/deep/p{p}_d{d}_r{r}_seed{seed}.json",
    log:
        "logs/decoders/deep/p{p}_d{d}_r{r}_seed{seed}.log",
    benchmark:
        "results/benchmarks/decoders/deep/p{p}_d{d}_r{r}_seed{seed}.tsv"
    shadow:
        "minimal"  # outputs move into place only when the job succeeds (docs/faults.md)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=sparse_mem_mb,
        runtime=deep_runtime,
        gpu=1 if USES_GPU else 0,
    params:
        settings=deep_decoder_settings(config),
        device=config["device"],
        deterministic=config["deterministic"],
    script:
        "../scripts/deep_decoder.py"


rule real_denoiser:
    input:
        code=code("real_denoiser.py"),
        npz="results/data/{dataset}/unwhitened.npz",
        json="results/data/{dataset}/unwhitened.json",
        runs=lambda w: jsons(registry.real_runs(config, [(w.dataset, "unwhitened")])),
        weights=lambda w: npzs(registry.real_runs(config, [(w.dataset, "unwhitened")])),
    output:
        "results/decoders/real/{dataset}.json",
    log:
        "logs/decoders/real/{dataset}.log",
    benchmark:
        "results/benchmarks/decoders/real/{dataset}.tsv"
    shadow:
        "minimal"  # outputs move into place only when the job succeeds (docs/faults.md)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=real_mem_mb,
        runtime=real_runtime,
    params:
        knots=config["realdata"]["denoiser"]["knots"],
        seed=config["seed"],
    script:
        "../scripts/real_denoiser.py"
