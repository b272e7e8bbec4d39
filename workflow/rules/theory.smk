# Stage 3: theory checks that need simulation or data rather than a closed form: untrained Gaussian
# encoders (figure 1), the training-free designed encoder and the Gaussian twin of each real variant
# (figure 5; docs/theory.md, real data), the images' trainer on Gaussian draws of that twin, and what the
# trained encoders exploit in the images (figure 9).


rule untrained_baseline:
    input:
        code=code("untrained_baseline.py"),
        params=params_file("untrained_baseline"),
    output:
        **recorded(csv=paths.UNTRAINED),
    log:
        paths.log("untrained_baseline"),
    benchmark:
        paths.benchmark("untrained_baseline")
    shadow:
        SHADOW  # on a cluster: outputs move into place only when the job succeeds (common.smk)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    params:
        **recorded_params(
            "untrained_baseline",
            d=config["limit"]["untrained"]["d"],
            seeds=registry.seeds(config, config["limit"]["untrained"]["seeds"]),
            r=config["limit"]["r"],
        ),
    script:
        "../scripts/untrained_baseline.py"


rule designed_real:
    input:
        unpack(variant_input),
        code=code("designed_real.py"),
        params=params_file("designed_real", paths.DESIGNED),
    output:
        **recorded(csv=paths.DESIGNED),
    log:
        paths.log("designed_real", paths.DESIGNED),
    benchmark:
        paths.benchmark("designed_real", paths.DESIGNED)
    priority: REAL_DATA_FIRST  # the longest chain starts first (common.smk)
    shadow:
        SHADOW  # on a cluster: outputs move into place only when the job succeeds (common.smk)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=real_mem_mb,
        runtime=real_runtime,
    params:
        **recorded_params(
            "designed_real", r=config["realdata"]["r"], seeds=registry.seeds(config, config["realdata"]["seeds"])
        ),
        device=lambda w, input: config["device"],
    script:
        "../scripts/designed_real.py"


rule gaussian_twin:
    input:
        unpack(variant_input),
        code=code("gaussian_twin.py"),
        params=params_file("gaussian_twin", paths.TWIN),
        runs=lambda w: jsons(pair_runs(w)),
        weights=lambda w: npzs(pair_runs(w)),
    output:
        **recorded(csv=paths.TWIN, json=paths.NORMS),
    log:
        paths.log("gaussian_twin", paths.TWIN),
    benchmark:
        paths.benchmark("gaussian_twin", paths.TWIN)
    priority: REAL_DATA_FIRST  # the longest chain starts first (common.smk)
    shadow:
        SHADOW  # on a cluster: outputs move into place only when the job succeeds (common.smk)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=real_mem_mb,
        runtime=real_runtime,
        gpu=1 if USES_GPU else 0,
    params:
        **recorded_params(
            "gaussian_twin", r=config["realdata"]["r"], twin=config["realdata"]["twin"], seed=config["seed"]
        ),
        device=lambda w, input: config["device"],
    script:
        "../scripts/gaussian_twin.py"


rule twin_trainer:
    input:
        unpack(lambda w: variant_input(w, "unwhitened")),
        code=code("twin_trainer.py"),
        params=params_file("twin_trainer", paths.TWIN_TRAINER),
    output:
        **recorded(csv=paths.TWIN_TRAINER),
    log:
        paths.log("twin_trainer", paths.TWIN_TRAINER),
    benchmark:
        paths.benchmark("twin_trainer", paths.TWIN_TRAINER)
    priority: REAL_DATA_FIRST  # the longest chain starts first (common.smk)
    shadow:
        SHADOW  # on a cluster: outputs move into place only when the job succeeds (common.smk)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=real_mem_mb,
        runtime=real_runtime,
        gpu=1 if USES_GPU else 0,
    params:
        **recorded_params(
            "twin_trainer", r=config["realdata"]["r"], settings=config["realdata"]["trainer"], seed=config["seed"]
        ),
        device=lambda w, input: config["device"],
    script:
        "../scripts/twin_trainer.py"


rule structure:
    input:
        unpack(lambda w: variant_input(w, "unwhitened")),
        code=code("structure.py"),
        params=params_file("structure", paths.STRUCTURE),
        runs=lambda w: jsons(registry.structure_runs(config, w.dataset)),
        weights=lambda w: npzs(registry.structure_runs(config, w.dataset)),
    output:
        **recorded(csv=paths.STRUCTURE),
    log:
        paths.log("structure", paths.STRUCTURE),
    benchmark:
        paths.benchmark("structure", paths.STRUCTURE)
    priority: REAL_DATA_FIRST  # the longest chain starts first (common.smk)
    shadow:
        SHADOW  # on a cluster: outputs move into place only when the job succeeds (common.smk)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=real_mem_mb,
        runtime=real_runtime,
        gpu=1 if USES_GPU else 0,
    params:
        **recorded_params(
            "structure",
            r=config["realdata"]["structure"]["r"],
            settings=config["realdata"]["trainer"],
            seed=config["seed"],
        ),
        device=lambda w, input: config["device"],
    script:
        "../scripts/structure.py"
