# Stage 1: data. MNIST and CIFAR-10 fetched or read from a copy on disk and verified, then one
# preprocessed variant (unwhitened / whitened) per data set, fitted on the training split only
# (signae.datasets, signae.images; docs/theory.md eq. (29)). Gaussian and sparse data are drawn by the
# training jobs themselves from their seed.


localrules:
    dataset,


rule dataset:
    input:
        code=code("dataset.py"),
        params=params_file("dataset", paths.IMAGES),
    output:
        **recorded(npz=f"{paths.IMAGES}.npz", json=f"{paths.IMAGES}.json"),
    log:
        paths.log("dataset", paths.IMAGES),
    benchmark:
        paths.benchmark("dataset", paths.IMAGES)
    priority: REAL_DATA_FIRST  # the longest chain starts first (common.smk)
    conda:
        "../../environment.yml"
    params:
        # the bytes of the user's files, not their paths: a file changed in place (even with its old timestamp
        # kept) is read again, a copy moved elsewhere is not (docs/faults.md)
        **recorded_params("dataset", sha256=lambda w: source_sha256(w.dataset)),
        # where they are: functions of `input`, which Snakemake leaves out of its rerun check
        spec=lambda w, input: config["datasets"][w.dataset],
        download_root=lambda w, input: download_root(w.dataset),
    script:
        "../scripts/dataset.py"


rule preprocess:
    input:
        code=code("preprocess.py"),
        params=params_file("preprocess", paths.VARIANT),
        npz=f"{paths.IMAGES}.npz",
        json=f"{paths.IMAGES}.json",
    output:
        **recorded(npz=f"{paths.VARIANT}.npz", json=f"{paths.VARIANT}.json"),
    log:
        paths.log("preprocess", paths.VARIANT),
    benchmark:
        paths.benchmark("preprocess", paths.VARIANT)
    priority: REAL_DATA_FIRST  # the longest chain starts first (common.smk)
    shadow:
        SHADOW  # on a cluster: outputs move into place only when the job succeeds (common.smk)
    conda:
        "../../environment.yml"
    resources:
        mem_mb=real_mem_mb,
    params:
        **recorded_params(
            "preprocess",
            train_samples=config["realdata"]["train_samples"],
            test_samples=config["realdata"]["test_samples"],
            validation_samples=config["realdata"]["validation_samples"],
            floor=config["realdata"]["whitening_floor"],
            grayscale=lambda w: w.dataset == "cifar10" and config["realdata"]["cifar10_grayscale"],
        ),
    script:
        "../scripts/preprocess.py"
