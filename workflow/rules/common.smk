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


def code(script):
    """The package modules a script imports, transitively: editing one reruns exactly its jobs."""
    return code_inputs(f"workflow/scripts/{script}", workflow.basedir)


def figure(wildcards):
    """The registry entry of a {figure} wildcard."""
    return registry.FIGURES[wildcards.figure]


def figure_code(wildcards, stage, script):
    """A figure rule's code: its script's imports and the modules of the function the stage runs."""
    modules = module_inputs(registry.code_modules(figure(wildcards), stage), workflow.basedir)
    return sorted(set(code(script)) | set(modules))


def claims_code():
    functions = [fn for fig in FIGURES for fn in registry.code_modules(fig, "claims")]
    return sorted(set(code("claims.py")) | set(module_inputs(functions, workflow.basedir)))


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


# Shadow directories: the jobs that may run on a compute node run in one (`shadow: "minimal"`), so their
# outputs move into place only when they succeed. The local rules (`localrules:` in data.smk, figures.smk,
# claims.smk, report.smk) run in place: under a cluster executor Snakemake runs them in threads of its own
# process, and entering a shadow directory is an os.chdir that moves every thread (with 6 SLURM jobs at once a
# figure table's benchmark file landed in another job's shadow directory and the run failed). Snakemake still
# removes a failed local job's outputs and redoes an interrupted one (rerun-incomplete); docs/faults.md.

if workflow.is_main_process:
    from signae import job

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
    if "dataset" in wildcards.keys():
        return RunSpec(wildcards.dataset, "sample", float(wildcards.r), int(wildcards.seed), variant=wildcards.variant)
    if "p" in wildcards.keys():
        return RunSpec(
            "sparse", "sample", float(wildcards.r), int(wildcards.seed), d=int(wildcards.d), sparsity=float(wildcards.p)
        )
    return RunSpec(wildcards.source, wildcards.trainer, float(wildcards.r), int(wildcards.seed), d=int(wildcards.d))


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
