# Shared helpers: which runs each figure needs, and where their files live.

import math
import shutil
from pathlib import Path

RUN = "results/runs/{data}/{trainer}/d{d}_r{r}_seed{seed}"

FIGURE_NAMES = {1: "limit", 2: "dynamics", 3: "features", 4: "covariance"}
REAL_DATA = bool(config["realdata"]["datasets"])  # figures 5 and 6 need MNIST / CIFAR-10
if REAL_DATA:
    FIGURE_NAMES.update({5: "universality", 6: "reconstructions"})
FIGURES = [f"figures/fig{k}_{name}.{ext}" for k, name in FIGURE_NAMES.items() for ext in ("pdf", "png", "csv")]


wildcard_constraints:
    data="isotropic|power_law|levels",
    trainer="pgd|tied|sample",
    d=r"\d+",
    dataset="mnist|cifar10",
    variant="unwhitened|whitened",
    r=r"[0-9]+(\.[0-9]+)?",
    seed=r"\d+",


def fmt_r(r):
    """Canonical text of a rate in file names: 0.125, 1, 1.5 (no trailing zeros)."""
    return f"{float(r):g}"


def seeds(count):
    return [config["seed"] + k for k in range(count)]


def run_json(data, trainer, d, r, seed):
    """The metadata file of one training run; its weights are the .npz beside it (with_weights)."""
    return RUN.format(data=data, trainer=trainer, d=d, r=fmt_r(r), seed=seed) + ".json"


def check_integer_units():
    """Fail at parse time, naming the key, when some r * d is not an integer number of hidden units."""
    pairs = [("limit.r", r, d, "limit.runs.*.d") for spec in config["limit"]["runs"].values()
             for d in spec["d"] for r in config["limit"]["r"]]
    pairs += [("limit.r", r, config["limit"]["untrained"]["d"], "limit.untrained.d") for r in config["limit"]["r"]]
    pairs += [("dynamics.r", r, config["dynamics"]["d"], "dynamics.d") for r in config["dynamics"]["r"]]
    pairs += [("covariance.r", r, config["covariance"]["d"], "covariance.d") for r in config["covariance"]["r"]]
    for rkey, r, d, dkey in pairs:
        if abs(r * d - round(r * d)) > 1e-9:
            raise ValueError(
                f"config error: {rkey} contains r = {r}, and r * d = {r * d:g} hidden units is not an integer "
                f"for d = {d} ({dkey}); choose d divisible by 1/r or another r"
            )


check_integer_units()


def limit_runs():
    """Figure 1: every (trainer, d, r, seed) of config['limit']['runs'] on isotropic data."""
    return [
        run_json("isotropic", trainer, d, r, s)
        for trainer, spec in config["limit"]["runs"].items()
        for d in spec["d"]
        for r in config["limit"]["r"]
        for s in seeds(spec["seeds"])
    ]


def dynamics_runs():
    """Figures 2 and 3: the exact-risk trainers at config['dynamics']['d'] for each r."""
    dyn = config["dynamics"]
    return [
        run_json("isotropic", t, dyn["d"], r, s)
        for t in dyn["trainers"]
        for r in dyn["r"]
        for s in seeds(dyn["seeds"])
    ]


def features_runs():
    dyn = config["dynamics"]
    t = config["features"]["trainer"]
    return [run_json("isotropic", t, dyn["d"], r, s) for r in dyn["r"] for s in seeds(dyn["seeds"])]


def covariance_runs():
    cov = config["covariance"]
    return [
        run_json(kind, "pgd", cov["d"], r, s)
        for kind in cov["spectra"]
        for r in cov["r"]
        for s in seeds(cov["seeds"])
    ]


def with_weights(json_files):
    """The .npz beside each metadata file (figures read both)."""
    return [str(Path(f).with_suffix(".npz")) for f in json_files]


def trainer_settings(wildcards):
    """Hyper-parameters of one run: config['trainers'], with figure 4's overrides for pgd on Sigma != I."""
    settings = dict(config["trainers"][wildcards.trainer])
    if wildcards.data != "isotropic" and wildcards.trainer == "pgd":
        settings.update(config["covariance"]["pgd"])
    return settings


def spectrum_args(wildcards):
    return dict(config["covariance"]["spectra"].get(wildcards.data, {}))


def real_pairs():
    """(dataset, variant) of figure 5."""
    return [(ds, v) for ds in config["realdata"]["datasets"] for v in config["realdata"]["variants"]]


def real_run(dataset, variant, r, seed):
    return f"results/real/{dataset}/{variant}/r{fmt_r(r)}_seed{seed}.json"


def real_runs(pairs=None):
    """Every trained run of figure 5, or of the given (dataset, variant) pairs only."""
    return [real_run(ds, v, r, s) for ds, v in (real_pairs() if pairs is None else pairs)
            for r in config["realdata"]["r"] for s in seeds(config["realdata"]["seeds"])]


def all_runs():
    """Every training run of the configured figures (Gaussian and, when configured, real data)."""
    return limit_runs() + dynamics_runs() + covariance_runs() + real_runs()


def reconstruction_runs():
    rec = config["realdata"]["reconstructions"]
    return [real_run(ds, rec["variant"], r, config["seed"]) for ds in config["realdata"]["datasets"] for r in rec["r"]]


# --- resources -------------------------------------------------------------------------------------
# Training jobs ask for a GPU when the config asks for CUDA (or for "auto" on a machine with nvidia-smi);
# the workstation profile caps the gpu resource at 1 so two such jobs never share a card by accident.
USES_GPU = config["device"] == "cuda" or (config["device"] == "auto" and shutil.which("nvidia-smi") is not None)
# pessimistic sustained rates for run-time requests: 5 GFLOP/s per CPU thread, 1 TFLOP/s on a GPU
RATE_FLOPS = 1e12 if USES_GPU else 5e9 * config["threads"]
TORCH_BASE_MB = 1500  # a Python process with torch, numpy, pandas imported, measured max_rss ~ 600-900 MB


def _train_size(wildcards):
    """(d, n, batch, steps) of a training job, from its wildcards and the config."""
    d, r = int(wildcards.d), float(wildcards.r)
    n = max(1, round(r * d))
    settings = trainer_settings(wildcards)
    batch = settings.get("batch", 0)
    return d, n, batch, settings["steps"]


def train_mem_mb(wildcards, attempt):
    """Peak memory of a Gaussian training job: float64 matrices of n x n (about 10 alive at once, in the
    arcsin Gram, its Cholesky factor and their gradients) and n x d, and float32 batch x n activations
    (about 6), over the base of an imported torch. Doubles on every retry."""
    d, n, batch, _ = _train_size(wildcards)
    payload = 8 * (10 * n * n + 10 * n * d + 2 * d * d) + 4 * 6 * batch * (n + d)
    return int((TORCH_BASE_MB + payload / 1e6) * 2 ** (attempt - 1))


def train_runtime(wildcards, attempt):
    """Minutes: three times the job's matrix-product work at RATE_FLOPS, at least 10 min,
    doubled on every retry."""
    d, n, batch, steps = _train_size(wildcards)
    flops = steps * (8 * n * n * d + n**3 + 6 * batch * n * (n + d))
    seconds = flops / RATE_FLOPS
    return int(max(10, math.ceil(3 * seconds / 60)) * 2 ** (attempt - 1))


def real_mem_mb(wildcards, attempt):
    """Peak memory of a real-data job: the cached variant (train and test, x and z, float32) is loaded
    whole, plus the Gaussian-job payload at the largest r of the config. Doubles on every retry."""
    pixels = {"mnist": 784, "cifar10": 1024 if config["realdata"]["cifar10_grayscale"] else 3072}[wildcards.dataset]
    rows = config["realdata"]["train_samples"] or {"mnist": 60000, "cifar10": 50000}[wildcards.dataset]
    rows += config["realdata"]["test_samples"] or 10000
    n = max(config["realdata"]["r"]) * pixels
    batch = config["realdata"]["trainer"]["batch"]
    payload = 4 * 3 * rows * pixels + 8 * (6 * n * n + 4 * n * pixels + 2 * pixels * pixels) + 4 * 6 * batch * n
    return int((TORCH_BASE_MB + payload / 1e6) * 2 ** (attempt - 1))


def real_runtime(wildcards, attempt):
    """Minutes for a real-data job: three times its work at RATE_FLOPS, at least 15 min, doubled per retry."""
    pixels = {"mnist": 784, "cifar10": 1024 if config["realdata"]["cifar10_grayscale"] else 3072}[wildcards.dataset]
    n = max(config["realdata"]["r"]) * pixels
    t = config["realdata"]["trainer"]
    flops = t["steps"] * 8 * t["batch"] * n * 2 * pixels + 60000 * n * (n + pixels) * 2
    return int(max(15, math.ceil(3 * flops / RATE_FLOPS / 60)) * 2 ** (attempt - 1))


def print_summary(figures):
    """The one-screen summary at the end of a successful run (claims held, failures, where things are)."""
    if not Path("results/claims.csv").exists():
        return
    import pandas as pd
    from signae.reporting import summary

    claims = pd.read_csv("results/claims.csv")
    print(summary(claims, [f for f in figures if Path(f).exists()],
                  "report: snakemake --report report.html  (figures, captions, claims, run times, software)"))
