# Shared by every rule: the file patterns (signae.paths), the figure registry and the settings of every run
# (signae.registry), the resource model (signae.resources) and the code each rule depends on
# (signae.codedeps), all from the package (src/signae/); this file only adapts them to wildcards.

import os
import shutil
import sys

from signae import paths
from signae import provenance
from signae import registry
from signae import resources as res
from signae.codedeps import code_inputs, module_inputs
from signae.config import check_consistency
from signae.datasets import DATASETS, source_files
from signae.runs import RunSpec
from signae.spectra import SPECTRA
from signae.theory import hidden_units

check_consistency(config)  # keys that must agree with each other (signae.config), before any job

FIGURES = registry.configured(config)
FIGURE_FILES = [
    f"{paths.fill(paths.FIGURE, figure=fig.stem)}.{ext}" for fig in FIGURES for ext in ("pdf", "png", "csv")
]
FIGURE_TABLES = [f"{paths.fill(paths.FIGURE, figure=fig.stem)}.csv" for fig in FIGURES]
RUNS = registry.all_runs(config)
# signae.paths' wildcards, narrowed to the names this config and the registries know
WILDCARDS = {
    **paths.WILDCARDS,
    "source": "|".join(SPECTRA),
    "trainer": "|".join(config["trainers"]),
    "dataset": "|".join(DATASETS),
    "figure": "|".join(registry.FIGURES),
}


wildcard_constraints:
    **WILDCARDS,


# --- the chain of custody (signae.custody) -------------------------------------------------------------
# Every output of a job comes with its record (results/records/...), written by the job; every job's parameters
# that decide its results are a file (results/params/...), written here whenever the config changes them and
# read by the job as an input: a job whose parameters changed reruns, whatever is left of Snakemake's own
# records in .snakemake/, and its records name the parameters it ran with.
RESULT_PARAMS = {}  # {rule: {name: value or function of the wildcards}}


def recorded(**outputs):
    """A rule's named outputs and, for each, its record (signae.paths.record), which signae.job writes."""
    return {**outputs, **{f"record_{name}": paths.record(path) for name, path in outputs.items()}}


def recorded_params(rule, **values):
    """The parameters of ``rule`` that decide its results (for its params:), which params_file also writes."""
    RESULT_PARAMS[rule] = values
    return values


def params_file(rule, pattern=""):
    """An input function: the job's parameters file (signae.paths.params), written in the main snakemake process
    when its content changes (signae.provenance.write_json_if_changed)."""

    def file(wildcards):
        path = paths.params(rule, pattern).format(**dict(wildcards.items()))
        if workflow.is_main_process:
            values = {k: v(wildcards) if callable(v) else v for k, v in RESULT_PARAMS[rule].items()}
            provenance.write_json_if_changed(path, values)
        return path

    return file


def here(files):
    """Paths relative to the repository root (workflow.basedir) as paths from where snakemake runs."""
    return [os.path.relpath(os.path.join(workflow.basedir, f)) for f in files]


def code(script):
    """The package modules a script imports, transitively: editing one reruns exactly its jobs."""
    return here(code_inputs(f"workflow/scripts/{script}", workflow.basedir))


def figure(wildcards):
    """The registry entry of a {figure} wildcard."""
    return registry.FIGURES[wildcards.figure]


def figure_code(wildcards, stage, script):
    """A figure rule's code: its script's imports and the modules of the function the stage runs."""
    modules = here(module_inputs(registry.code_modules(figure(wildcards), stage), workflow.basedir))
    return sorted(set(code(script)) | set(modules))


def claims_checks():
    """[(figure number, its table, [(claims function, its tolerances), ...]), ...] of the configured figures."""
    return [
        (fig.number, table, [(fn, registry.config_section(config, key)) for fn, key in fig.claims])
        for fig, table in zip(FIGURES, FIGURE_TABLES)
    ]


def claims_code():
    functions = [fn for fig in FIGURES for fn in registry.code_modules(fig, "claims")]
    return sorted(set(code("claims.py")) | set(here(module_inputs(functions, workflow.basedir))))


def check_device():
    """device: cuda on a machine whose torch sees no GPU fails before any job (onstart), once, rather than
    in every job. Only where jobs run on this machine: a cluster's login node may have no GPU while its
    jobs do, and a dry run runs nothing."""
    if config["device"] != "cuda" or workflow.non_local_exec_or_dryrun:
        return
    import torch

    if not torch.cuda.is_available():
        raise ValueError(
            "config error: device is 'cuda' but torch sees no GPU on this machine; set device: auto or cpu"
        )


def check_writable():
    """A folder the run writes to that exists but cannot be written (a read-only mount, a file where a folder
    goes) fails when the workflow is read, named, rather than inside Snakemake's scan of it."""
    for folder in ("results", "figures", "logs", ".previous"):
        if not os.path.exists(folder):
            continue
        probe = os.path.join(folder, f".signae-write-test-{os.getpid()}")
        try:
            with open(probe, "w"):
                pass
            os.remove(probe)
        except OSError as err:
            raise ValueError(
                f"{folder}/ cannot be written ({err.strerror}); make it writable (or move it away) and rerun"
            ) from None


# Shadow directories: on a cluster, the jobs that run on a compute node run in one (`shadow: SHADOW` is
# "minimal"), so their outputs move into place only when they succeed. The local rules (`localrules:` in data.smk,
# figures.smk, claims.smk, report.smk) run in place: under a cluster executor Snakemake runs them in threads of its
# own process, and entering a shadow directory is an os.chdir that moves every thread (with 6 SLURM jobs at once a
# figure table's benchmark file landed in another job's shadow directory and the run failed). In a local run no
# job has one: Snakemake's local executor starts every shadow job in a Snakemake process of its own, which parses
# the whole workflow again (about 4 s of a core per job, a fifth of a default run's work: benchmarks/README.md), and
# forcing it into threads would bring the os.chdir back. Locally, every job still writes under temporary names and
# moves its files into place only when it has succeeded and its run is alive (signae.job). Snakemake still removes
# a failed job's outputs and redoes an interrupted one (rerun-incomplete); docs/faults.md.
SHADOW = "minimal" if workflow.non_local_exec or workflow.remote_exec else None

# The real-data chain first: its jobs are the run's longest (a training run on images takes minutes, its denoiser
# and structure jobs wait for all of a data set's runs), so they start before the many short Gaussian jobs, which
# then fill the cores at the end instead of one long job finishing alone (measured: one core idle for 53 s of a
# 54-minute default run, 63 s without it; benchmarks/README.md). Scheduling only: no result depends on it.
REAL_DATA_FIRST = 1

if workflow.is_main_process:
    from signae import job

    check_writable()
    # every job this run starts can tell whether this run is still there when it ends (an orphaned job
    # discards its outputs; signae.job.check_workflow_alive, docs/faults.md)
    os.environ[job.WORKFLOW_VARIABLE] = job.workflow_token()
    os.environ[job.WORKDIR_VARIABLE] = os.getcwd()  # where .previous/ is (jobs run in shadow directories)
    # the resolved sizes, once, where the user looks
    print(
        f"signae: {len(FIGURES)} figures ({', '.join(f.stem for f in FIGURES)}); {len(RUNS)} training runs, Gaussian d in "
        f"{sorted({s.d for s in RUNS if s.d})}, real data {config['realdata']['datasets'] or 'none'}; device "
        f"{config['device']}, {config['threads']} thread(s) per job",
        file=sys.stderr,
    )


def jsons(specs):
    return [spec.json for spec in specs]


def npzs(specs):
    return [spec.npz for spec in specs]


def run_spec(wildcards):
    """The run a training job's wildcards name (signae.runs.RunSpec)."""
    return RunSpec.from_wildcards(wildcards)


def settings(wildcards):
    """A run's hyper-parameters: its config sections merged (signae.registry.settings)."""
    return registry.settings(config, run_spec(wildcards))


def step_keys(wildcards):
    return registry.step_keys(config, run_spec(wildcards))


def spectrum_args(wildcards):
    return dict(config["covariance"]["spectra"].get(wildcards.source, {}))


def pair_runs(wildcards):
    """The trained runs of one (dataset, variant)."""
    return registry.real_runs(config, [(wildcards.dataset, wildcards.variant)])


def source_sha256(dataset):
    """The SHA-256 of the user's files a data set is read from (signae.provenance.content_sha256, cached by
    size, times and inode), in the order of the data set's files: their content, not where they are."""
    files = source_files(dataset, config["datasets"][dataset])
    return list(provenance.content_sha256(files, ".snakemake/signae_sha256_cache.json").values())


def download_root(dataset):
    """datasets.download_root where the data set is downloaded (neither root nor npz given); None otherwise, so
    that moving the project folder changes no parameter of a job that downloads nothing."""
    spec = config["datasets"][dataset]
    return None if spec.get("root") or spec.get("npz") else config["datasets"]["download_root"]


def variant_input(wildcards, variant=None):
    """A preprocessed variant (.npz arrays, .json record) a job reads: the wildcards' own, or ``variant``."""
    npz, json = registry.variant_files(wildcards.dataset, variant or wildcards.variant)
    return {"npz": npz, "json": json}


# --- resources (signae.resources) -------------------------------------------------------------------
# Training jobs ask for a GPU when the config asks for CUDA (or for "auto" on a machine with nvidia-smi);
# the workstation profile caps the gpu resource at 1 so two such jobs never share a card by accident.
USES_GPU = res.uses_gpu(config["device"], shutil.which("nvidia-smi") is not None)
RATE_FLOPS = res.rate_flops(USES_GPU, config["threads"])


def _train_size(wildcards):
    """(d, n, batch, steps) of a training job, from its wildcards and the config."""
    s = settings(wildcards)
    d = int(wildcards.d)
    return d, hidden_units(float(wildcards.r), d), s.get("batch", 0), s["steps"]


def train_mem_mb(wildcards, attempt):
    d, n, batch, _ = _train_size(wildcards)
    return res.train_mem_mb(d, n, batch, attempt)


def train_runtime(wildcards, attempt):
    return res.train_runtime_min(*_train_size(wildcards), RATE_FLOPS, attempt)


def sparse_mem_mb(wildcards, attempt):
    """A sparse run: a Gaussian run's memory with the denoisers' calibration set (65536 samples) as batch."""
    d = int(wildcards.d)
    return res.train_mem_mb(d, hidden_units(float(wildcards.r), d), 65536, attempt)


def sparse_runtime(wildcards, attempt):
    d, t = int(wildcards.d), config["sparse"]["trainer"]
    return res.train_runtime_min(d, hidden_units(float(wildcards.r), d), t["batch"], t["steps"], RATE_FLOPS, attempt)


def phase_mem_mb(wildcards, attempt):
    """A point of figure 10: one run's memory at a time (the runs of a point run one after another)."""
    d, t = int(wildcards.d), config["phase"]["trainer"]
    return res.train_mem_mb(d, hidden_units(float(wildcards.r), d), max(t["batch"], t["eval_samples"]), attempt)


def phase_runtime(wildcards, attempt):
    """A point of figure 10: every seed and initialisation, one after another."""
    d, ph = int(wildcards.d), config["phase"]
    runs = ph["seeds"] * len(ph["inits"])
    t = ph["trainer"]
    return runs * res.train_runtime_min(
        d, hidden_units(float(wildcards.r), d), t["batch"], t["steps"], RATE_FLOPS, attempt
    )


def message_passing_mem_mb(wildcards, attempt):
    """A point of figure 11: the unrolled decoder's iterates on a chunk of 4096 samples at the largest d, float64."""
    d = max(config["sparse"]["message_passing"]["d"] + config["sparse"]["d"])
    return int(attempt * (1000 + 40 * 4096 * d * 8 / 2**20))


def message_passing_runtime(wildcards, attempt):
    """A point of figure 11: K linear steps (four matrix products of the samples with d x d matrices) per encoder."""
    sp = config["sparse"]
    mp = sp["message_passing"]
    flops = sum(
        8 * mp["iterations"] * sp["trainer"]["test_samples_per_unit"] * hidden_units(float(wildcards.r), d) * d * d
        for d in mp["d"] + [max(sp["d"])] * sp["seeds"]
    )
    return max(1, int(attempt * (2 + 4 * flops / RATE_FLOPS / 60)))


def deep_runtime(wildcards, attempt):
    d, dp = int(wildcards.d), config["sparse"]["depth"]
    return res.train_runtime_min(d, d, dp["batch"], dp["steps"], RATE_FLOPS, attempt)


def _real_size(wildcards):
    rd, data = config["realdata"], DATASETS[wildcards.dataset]
    pixels = res.real_pixels(data.shape, rd["cifar10_grayscale"])
    return rd, data, pixels, max(rd["r"]) * pixels


def real_mem_mb(wildcards, attempt):
    rd, data, pixels, n = _real_size(wildcards)
    rows = res.real_rows(data.train_images, data.test_images, rd["train_samples"], rd["test_samples"])
    return res.real_mem_mb(pixels, rows, n, rd["trainer"]["batch"], attempt)


def real_runtime(wildcards, attempt):
    rd, _, pixels, n = _real_size(wildcards)
    t = rd["trainer"]
    steps = t["steps"] + t["gaussian_init_steps"]  # refinement, then the Gaussian-initialised run beside it
    return res.real_runtime_min(pixels, n, steps, t["batch"], RATE_FLOPS, attempt)


def print_summary(started):
    """The one-screen summary at the end of a successful run (claims held, failures, where things are);
    a claims table this run did not rebuild is named with its age, not summarised as if it were new."""
    import datetime
    from pathlib import Path

    import pandas as pd
    from signae.reporting import summary

    path = Path(paths.CLAIMS)
    if not path.exists():
        return
    if path.stat().st_mtime < started:
        when = datetime.datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds")
        print(f"signae: this run did not rebuild {paths.CLAIMS} (built {when}); its claims are not summarised")
        return
    claims = pd.read_csv(path)
    print(
        summary(
            claims,
            [f for f in FIGURE_FILES if Path(f).exists()],
            "report: snakemake --report report.html  (figures, captions, claims, run times, software)",
        )
    )
