# Stage 3b: decoders fitted after training, on the trained encoders: the deep decoder on sparse data
# (figure 7, signae.deep_decoder), the pixel-domain denoiser after the linear decoder on real images
# (figure 8, signae.real_denoiser), and the unrolled message-passing decoder on sparse data (figure 11,
# signae.message_passing: nothing fitted, run on ideal and trained encoders).


rule deep_decoder:
    input:
        code=code("deep_decoder.py"),
        params=params_file("deep_decoder", paths.DEEP_DECODER),
        npz=f"{paths.SPARSE_RUN}.npz",
        json=f"{paths.SPARSE_RUN}.json",
    output:
        **recorded(json=paths.DEEP_DECODER),
    log:
        paths.log("deep_decoder", paths.DEEP_DECODER),
    benchmark:
        paths.benchmark("deep_decoder", paths.DEEP_DECODER)
    shadow:
        SHADOW  # on a cluster: outputs move into place only when the job succeeds (common.smk)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=sparse_mem_mb,
        runtime=deep_runtime,
        gpu=1 if USES_GPU else 0,
    params:
        **recorded_params("deep_decoder", settings=registry.deep_decoder_settings(config)),
        device=lambda w, input: config["device"],
        deterministic=lambda w, input: config["deterministic"],
    script:
        "../scripts/deep_decoder.py"


rule real_denoiser:
    input:
        unpack(lambda w: variant_input(w, "unwhitened")),
        code=code("real_denoiser.py"),
        params=params_file("real_denoiser", paths.REAL_DENOISER),
        runs=lambda w: jsons(registry.real_runs(config, [(w.dataset, "unwhitened")])),
        weights=lambda w: npzs(registry.real_runs(config, [(w.dataset, "unwhitened")])),
    output:
        **recorded(json=paths.REAL_DENOISER),
    log:
        paths.log("real_denoiser", paths.REAL_DENOISER),
    benchmark:
        paths.benchmark("real_denoiser", paths.REAL_DENOISER)
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
        **recorded_params("real_denoiser", knots=config["realdata"]["denoiser"]["knots"], seed=config["seed"]),
    script:
        "../scripts/real_denoiser.py"


rule message_passing:
    input:
        code=code("message_passing.py"),
        params=params_file("message_passing", paths.MESSAGE_PASSING),
        runs=lambda w: jsons(registry.message_passing_runs(config, float(w.p), float(w.r))),
        weights=lambda w: npzs(registry.message_passing_runs(config, float(w.p), float(w.r))),
    output:
        **recorded(json=paths.MESSAGE_PASSING),
    log:
        paths.log("message_passing", paths.MESSAGE_PASSING),
    benchmark:
        paths.benchmark("message_passing", paths.MESSAGE_PASSING)
    shadow:
        SHADOW  # on a cluster: outputs move into place only when the job succeeds (common.smk)
    conda:
        "../../environment.yml"
    threads: config["threads"]
    resources:
        mem_mb=message_passing_mem_mb,
        runtime=message_passing_runtime,
    params:
        **recorded_params("message_passing", settings=registry.message_passing_settings(config)),
    script:
        "../scripts/message_passing.py"
