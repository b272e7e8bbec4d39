# Stage 1: data. MNIST and CIFAR-10 fetched or read from a copy on disk and verified, then one
# preprocessed variant (unwhitened / whitened) per data set, fitted on the training split only
# (signae.datasets, signae.realdata; docs/theory.md, real data). Gaussian data is drawn by the
# training jobs themselves from their seed.


localrules:
    dataset,


rule dataset:
    input:
        code=code("dataset.py"),
        source=lambda w: source_files(w.dataset, config["datasets"][w.dataset]),
    output:
        npz="results/data/{dataset}/images.npz",
        json="results/data/{dataset}/images.json",
    log:
        "logs/data/{dataset}.log",
    benchmark:
        "results/benchmarks/data/{dataset}.tsv"
    conda:
        "../../environment.yml"
    params:
        spec=lambda w: config["datasets"][w.dataset],
        # the bytes of the user's files: one replaced with its old timestamp kept is read again (not a
        # function of `input`: Snakemake leaves such params out of its rerun check)
        sha256=lambda w: provenance.content_sha256(
            source_files(w.dataset, config["datasets"][w.dataset]), ".snakemake/signae_sha256_cache.json"
        ),
        download_root=os.path.abspath(config["datasets"]["download_root"]),
    script:
        "../scripts/dataset.py"


rule preprocess:
    input:
        code=code("preprocess.py"),
        npz="results/data/{dataset}/images.npz",
        json="results/data/{dataset}/images.json",
    output:
        npz="results/data/{dataset}/{variant}.npz",
        json="results/data/{dataset}/{variant}.json",
    log:
        "logs/data/{dataset}_{variant}.log",
    benchmark:
        "results/benchmarks/data/{dataset}_{variant}.tsv"
    shadow:
        "minimal"  # outputs move into place only when the job succeeds (docs/faults.md)
    conda:
        "../../environment.yml"
    resources:
        mem_mb=real_mem_mb,
    params:
        train_samples=config["realdata"]["train_samples"],
        test_samples=config["realdata"]["test_samples"],
        validation_samples=config["realdata"]["validation_samples"],
        floor=config["realdata"]["whitening_floor"],
        grayscale=lambda w: w.dataset == "cifar10" and config["realdata"]["cifar10_grayscale"],
    script:
        "../scripts/preprocess.py"
