# Real data (BRIEF section 6): fetch and verify, preprocess on the training split, train, and
# compare with the theory of the data's own spectrum (figure 5); draw reconstructions (figure 6).


localrules:
    dataset,
    fig5_table,
    fig6_table,
    fig5,
    fig6,


rule dataset:
    output:
        npz="results/data/{dataset}/images.npz",
        json="results/data/{dataset}/images.json",
    params:
        spec=lambda w: config["datasets"][w.dataset],
        download_root=config["datasets"]["download_root"],
    retries: 2
    conda:
        "../../environment.yml"
    log:
        "logs/data/{dataset}.log",
    benchmark:
        "results/benchmarks/data/{dataset}.tsv"
    script:
        "../scripts/dataset.py"


rule preprocess:
    input:
        npz="results/data/{dataset}/images.npz",
        json="results/data/{dataset}/images.json",
    output:
        npz="results/data/{dataset}/{variant}.npz",
        json="results/data/{dataset}/{variant}.json",
    params:
        train_samples=config["realdata"]["train_samples"],
        test_samples=config["realdata"]["test_samples"],
        floor=config["realdata"]["whitening_floor"],
        grayscale=lambda w: w.dataset == "cifar10" and config["realdata"]["cifar10_grayscale"],
    resources:
        mem_mb=real_mem_mb,
    conda:
        "../../environment.yml"
    log:
        "logs/data/{dataset}_{variant}.log",
    benchmark:
        "results/benchmarks/data/{dataset}_{variant}.tsv"
    script:
        "../scripts/preprocess.py"


rule train_real:
    input:
        npz="results/data/{dataset}/{variant}.npz",
        json="results/data/{dataset}/{variant}.json",
    output:
        npz="results/real/{dataset}/{variant}/r{r}_seed{seed}.npz",
        json="results/real/{dataset}/{variant}/r{r}_seed{seed}.json",
    params:
        settings=config["realdata"]["trainer"],
        device=config["device"],
        deterministic=config["deterministic"],
    threads: config["threads"]
    resources:
        mem_mb=real_mem_mb,
        runtime=real_runtime,
        gpu=1 if USES_GPU else 0,
    conda:
        "../../environment.yml"
    log:
        "logs/real/{dataset}/{variant}/r{r}_seed{seed}.log",
    benchmark:
        "results/benchmarks/real/{dataset}/{variant}/r{r}_seed{seed}.tsv"
    script:
        "../scripts/train_real.py"


rule designed_real:
    input:
        npz="results/data/{dataset}/{variant}.npz",
        json="results/data/{dataset}/{variant}.json",
    output:
        "results/real/{dataset}/{variant}/designed.csv",
    params:
        r=config["realdata"]["r"],
        seeds=seeds(config["realdata"]["seeds"]),
        device=config["device"],
    threads: config["threads"]
    resources:
        mem_mb=real_mem_mb,
        runtime=real_runtime,
    conda:
        "../../environment.yml"
    log:
        "logs/real/{dataset}/{variant}/designed.log",
    benchmark:
        "results/benchmarks/real/{dataset}/{variant}/designed.tsv"
    script:
        "../scripts/designed_real.py"


rule gaussian_twin:
    input:
        code="src/signae/universality.py",
        npz="results/data/{dataset}/{variant}.npz",
        json="results/data/{dataset}/{variant}.json",
        runs=lambda w: real_runs([(w.dataset, w.variant)]),
        weights=lambda w: with_weights(real_runs([(w.dataset, w.variant)])),
    output:
        csv="results/real/{dataset}/{variant}/gaussian_twin.csv",
        json="results/real/{dataset}/{variant}/norms.json",
    params:
        r=config["realdata"]["r"],
        twin=config["realdata"]["twin"],
        seed=config["seed"],
        device=config["device"],
    threads: config["threads"]
    resources:
        mem_mb=real_mem_mb,
        runtime=real_runtime,
        gpu=1 if USES_GPU else 0,
    conda:
        "../../environment.yml"
    log:
        "logs/real/{dataset}/{variant}/gaussian_twin.log",
    benchmark:
        "results/benchmarks/real/{dataset}/{variant}/gaussian_twin.tsv"
    script:
        "../scripts/gaussian_twin.py"


rule fig5_table:
    input:
        code=["src/signae/tables.py", "src/signae/universality.py"],
        runs=real_runs(),
        designed=[f"results/real/{ds}/{v}/designed.csv" for ds, v in real_pairs()],
        preps=[f"results/data/{ds}/{v}.json" for ds, v in real_pairs()],
        twins=[f"results/real/{ds}/{v}/gaussian_twin.csv" for ds, v in real_pairs()],
        norms=[f"results/real/{ds}/{v}/norms.json" for ds, v in real_pairs()],
    output:
        "figures/fig5_universality.csv",
    params:
        figure=5,
        pairs=real_pairs(),
        r=config["realdata"]["r"],
    conda:
        "../../environment.yml"
    log:
        "logs/fig5_table.log",
    benchmark:
        "results/benchmarks/fig5_table.tsv"
    script:
        "../scripts/figure_table.py"


rule fig6_table:
    input:
        code=["src/signae/tables.py"],
        images=[f"results/data/{ds}/images.npz" for ds in config["realdata"]["datasets"]],
        runs=reconstruction_runs(),
        weights=with_weights(reconstruction_runs()),
        preps=[
            f"results/data/{ds}/{config['realdata']['reconstructions']['variant']}.{ext}"
            for ds in config["realdata"]["datasets"]
            for ext in ("npz", "json")
        ],
    output:
        "figures/fig6_reconstructions.csv",
    params:
        figure=6,
        datasets=config["realdata"]["datasets"],
        variant=config["realdata"]["reconstructions"]["variant"],
        images=config["realdata"]["reconstructions"]["images"],
    conda:
        "../../environment.yml"
    log:
        "logs/fig6_table.log",
    benchmark:
        "results/benchmarks/fig6_table.tsv"
    script:
        "../scripts/figure_table.py"


rule fig5:
    input:
        table="figures/fig5_universality.csv",
        code="src/signae/plotting.py",
    output:
        pdf=report("figures/fig5_universality.pdf", caption="../report/fig5.rst", category="Figures"),
        png=report("figures/fig5_universality.png", caption="../report/fig5.rst", category="Figures"),
    params:
        figure=5,
    conda:
        "../../environment.yml"
    log:
        "logs/fig5.log",
    benchmark:
        "results/benchmarks/fig5.tsv"
    script:
        "../scripts/plot_figure.py"


rule fig6:
    input:
        table="figures/fig6_reconstructions.csv",
        code="src/signae/plotting.py",
    output:
        pdf=report("figures/fig6_reconstructions.pdf", caption="../report/fig6.rst", category="Figures"),
        png=report("figures/fig6_reconstructions.png", caption="../report/fig6.rst", category="Figures"),
    params:
        figure=6,
    conda:
        "../../environment.yml"
    log:
        "logs/fig6.log",
    benchmark:
        "results/benchmarks/fig6.tsv"
    script:
        "../scripts/plot_figure.py"
