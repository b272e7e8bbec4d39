# Shared by every rule: the figure registry, the run record, the resource model and the code each
# rule depends on, all from the package (src/signae/); this file only adapts them to wildcards.

import os
import shutil
import sys

from signae import figures as registry
from signae import provenance
from signae import runs
from signae import resources as res
from signae.codedeps import code_inputs, module_inputs
from signae.datasets import source_files
from signae.config import check_consistency, deep_decoder_settings
from signae.runs import GAUSSIAN_SOURCES, REAL_SOURCES, TRAINERS, VARIANTS, hidden_units

FIGURES = registry.configured(config)
FIGURE_FILES = [f"figures/{fig.stem}.{ext}" for fig in FIGURES for ext in ("pdf", "png", "csv")]


wildcard_constraints:
    source="|".join(GAUSSIAN_SOURCES),
    trainer="|".join(TRAINERS),
    d=r"\d+",
    dataset="|".join(REAL_SOURCES),
    variant="|".join(VARIANTS),
    r=r"[0-9]+(\.[0-9]+)?",
    seed=r"\d+",
    p=r"[0-9]+(\.[0-9]+)?",
    figure="|".join(registry.FIGURES),


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
    return sorted(
        set(code("claims.py"))
        | set(module_inputs([fn for fig in FIGURES for fn in registry.code_modules(fig, "claims")], workflow.basedir))
    )


check_consistency(config)  # keys that must agree with each other (signae.config), before any job


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
    # every job this run starts can tell whether this run is still there when it ends (an orphaned job
    # discards its outputs; signae.provenance.check_workflow_alive, docs/faults.md)
    os.environ[provenance.WORKFLOW_VARIABLE] = provenance.workflow_token()
    os.environ[provenance.WORKDIR_VARIABLE] = os.getcwd()  # where .previous/ is (jobs run in shadow directories)
    # the resolved sizes, once, where the user looks
    _runs = registry.all_runs(config)
    print(
        f"signae: {len(FIGURES)} figures ({', '.join(f.stem for f in FIGURES)}); {len(_runs)} training runs, Gaussian d in "
        f"{sorted({s.d for s in _runs if s.d})}, real data {config['realdata']['datasets'] or 'none'}; device "
        f"{config['device']}, {config['threads']} thread(s) per job",
        file=sys.stderr,
    )


def jsons(specs):
    return [spec.json for spec in specs]


def npzs(specs):
    return [spec.npz for spec in specs]


def trainer_settings(wildcards):
    """Hyper-parameters of one run: config['trainers'], with figure 4's overrides on Sigma != I."""
    return runs.trainer_settings(config, wildcards.source, wildcards.trainer)


def spectrum_args(wildcards):
    return dict(config["covariance"]["spectra"].get(wildcards.source, {}))


def pair_runs(wildcards):
    """The trained runs of one (dataset, variant)."""
    return registry.real_runs(config, [(wildcards.dataset, wildcards.variant)])


# --- resources (signae.resources) -------------------------------------------------------------------
# Training jobs ask for a GPU when the config asks for CUDA (or for "auto" on a machine with nvidia-smi);
# the workstation profile caps the gpu resource at 1 so two such jobs never share a card by accident.
USES_GPU = res.uses_gpu(config["device"], shutil.which("nvidia-smi") is not None)
RATE_FLOPS = res.rate_flops(USES_GPU, config["threads"])


def _train_size(wildcards):
    """(d, n, batch, steps) of a training job, from its wildcards and the config."""
    settings = trainer_settings(wildcards)
    d = int(wildcards.d)
    return d, hidden_units(float(wildcards.r), d), settings.get("batch", 0), settings["steps"]


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
    rd = config["realdata"]
    pixels = res.real_pixels(wildcards.dataset, rd["cifar10_grayscale"])
    return rd, pixels, max(rd["r"]) * pixels


def real_mem_mb(wildcards, attempt):
    rd, pixels, n = _real_size(wildcards)
    rows = res.real_rows(wildcards.dataset, rd["train_samples"], rd["test_samples"])
    return res.real_mem_mb(pixels, rows, n, rd["trainer"]["batch"], attempt)


def real_runtime(wildcards, attempt):
    rd, pixels, n = _real_size(wildcards)
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

    path = Path("results/claims.csv")
    if not path.exists():
        return
    if path.stat().st_mtime < started:
        when = datetime.datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds")
        print(f"signae: this run did not rebuild results/claims.csv (built {when}); its claims are not summarised")
        return
    claims = pd.read_csv(path)
    print(
        summary(
            claims,
            [f for f in FIGURE_FILES if Path(f).exists()],
            "report: snakemake --report report.html  (figures, captions, claims, run times, software)",
        )
    )
