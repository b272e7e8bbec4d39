# Shared helpers: which runs each figure needs, and where their files live.

import json
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


def run_files(data, trainer, d, r, seed):
    stem = RUN.format(data=data, trainer=trainer, d=d, r=fmt_r(r), seed=seed)
    return {"npz": f"{stem}.npz", "json": f"{stem}.json"}


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
        run_files("isotropic", trainer, d, r, s)["json"]
        for trainer, spec in config["limit"]["runs"].items()
        for d in spec["d"]
        for r in config["limit"]["r"]
        for s in seeds(spec["seeds"])
    ]


def dynamics_runs():
    """Figures 2 and 3: the exact-risk trainers at config['dynamics']['d'] for each r."""
    dyn = config["dynamics"]
    return [
        run_files("isotropic", t, dyn["d"], r, s)["json"]
        for t in dyn["trainers"]
        for r in dyn["r"]
        for s in seeds(dyn["seeds"])
    ]


def features_runs():
    dyn = config["dynamics"]
    t = config["features"]["trainer"]
    return [run_files("isotropic", t, dyn["d"], r, s)["json"] for r in dyn["r"] for s in seeds(dyn["seeds"])]


def covariance_runs():
    cov = config["covariance"]
    return [
        run_files(kind, "pgd", cov["d"], r, s)["json"]
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


def real_runs():
    return [real_run(ds, v, r, s) for ds, v in real_pairs() for r in config["realdata"]["r"]
            for s in seeds(config["realdata"]["seeds"])]


def reconstruction_runs():
    rec = config["realdata"]["reconstructions"]
    return [real_run(ds, rec["variant"], r, config["seed"]) for ds in config["realdata"]["datasets"] for r in rec["r"]]
