# Stage 2: training runs. One job per run (signae.runs.RunSpec); each writes its weights and curve
# (.npz) and its metadata (.json: settings, seed, versions, device, wall time, the .npz's SHA-256). The
# settings of a run are its config sections merged (signae.registry.settings).


rule train:
    input:
        code=code("train.py"),
        params=params_file("train", paths.RUN),
    output:
        **recorded(npz=f"{paths.RUN}.npz", json=f"{paths.RUN}.json"),
    log:
        paths.log("train", paths.RUN),
    benchmark:
        paths.benchmark("train", paths.RUN)
    shadow:
        SHADOW  # on a cluster: outputs move into place only when the job succeeds (common.smk)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime,
        gpu=1 if USES_GPU else 0,
    params:
        **recorded_params("train", settings=settings, spectrum=spectrum_args, covariance_seed=config["seed"]),
        step_keys=lambda w, input: step_keys(w),  # named if the run diverges
        device=lambda w, input: config["device"],
        deterministic=lambda w, input: config["deterministic"],
    script:
        "../scripts/train.py"


rule train_real:
    input:
        unpack(variant_input),
        code=code("train_real.py"),
        params=params_file("train_real", paths.REAL_RUN),
    output:
        **recorded(npz=f"{paths.REAL_RUN}.npz", json=f"{paths.REAL_RUN}.json"),
    log:
        paths.log("train_real", paths.REAL_RUN),
    benchmark:
        paths.benchmark("train_real", paths.REAL_RUN)
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
        **recorded_params("train_real", settings=settings),
        device=lambda w, input: config["device"],
        deterministic=lambda w, input: config["deterministic"],
    script:
        "../scripts/train_real.py"


rule train_sparse:
    input:
        code=code("train_sparse.py"),
        params=params_file("train_sparse", paths.SPARSE_RUN),
    output:
        **recorded(npz=f"{paths.SPARSE_RUN}.npz", json=f"{paths.SPARSE_RUN}.json"),
    log:
        paths.log("train_sparse", paths.SPARSE_RUN),
    benchmark:
        paths.benchmark("train_sparse", paths.SPARSE_RUN)
    shadow:
        SHADOW  # on a cluster: outputs move into place only when the job succeeds (common.smk)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=sparse_mem_mb,
        runtime=sparse_runtime,
        gpu=1 if USES_GPU else 0,
    params:
        **recorded_params("train_sparse", settings=settings),
        device=lambda w, input: config["device"],
        deterministic=lambda w, input: config["deterministic"],
    script:
        "../scripts/train_sparse.py"


rule train_phase:
    input:
        code=code("train_phase.py"),
        params=params_file("train_phase", paths.PHASE),
    output:
        **recorded(npz=f"{paths.PHASE}.npz", json=f"{paths.PHASE}.json"),
    log:
        paths.log("train_phase", paths.PHASE),
    benchmark:
        paths.benchmark("train_phase", paths.PHASE)
    shadow:
        SHADOW  # on a cluster: outputs move into place only when the job succeeds (common.smk)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=phase_mem_mb,
        runtime=phase_runtime,
        gpu=1 if USES_GPU else 0,
    params:
        **recorded_params("train_phase", settings=registry.phase_settings(config)),
        device=lambda w, input: config["device"],
        deterministic=lambda w, input: config["deterministic"],
    script:
        "../scripts/train_phase.py"
