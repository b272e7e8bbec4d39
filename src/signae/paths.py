"""Where every file of the pipeline lives: each file's pattern, how to fill it in and how to read it back.

This is the one place that names files. The workflow's rules use the patterns as they are (their ``{name}``
parts are Snakemake wildcards, constrained by :data:`WILDCARDS`); the figure registry, the run record and the
scripts fill them in with :func:`fill` and read a path back with :func:`parse`. A pattern names a stem where a
job writes several files of that stem (``.npz`` arrays and their ``.json`` record); :func:`log` and
:func:`benchmark` give each rule's log and benchmark files from the pattern of its output.

Nothing here imports the rest of the package: the workflow reads this module while it builds its graph.
"""

from __future__ import annotations

import re

#: What each wildcard may hold (Snakemake's ``wildcard_constraints``; also what :func:`parse` accepts). Rates r
#: and sparsities p are written by :func:`number`.
NUMBER = r"[0-9]+(?:\.[0-9]+)?"
WILDCARDS = {
    "source": r"[a-z][a-z0-9_]*",  # a Gaussian spectrum (signae.spectra)
    "trainer": r"[a-z][a-z0-9_]*",  # a trainer of config section `trainers`
    "dataset": r"[a-z][a-z0-9_]*",  # a real data set (signae.datasets)
    "variant": r"unwhitened|whitened",
    "figure": r"fig[0-9]+_[a-z0-9_]+",  # a figure of the registry (signae.registry)
    "d": r"[0-9]+",
    "r": NUMBER,
    "p": NUMBER,
    "seed": r"[0-9]+",
}

# --- data (figures 5, 6, 8, 9) --------------------------------------------------------------------------
IMAGES = "results/data/{dataset}/images"  # .npz: the verified uint8 arrays; .json: their source and checksums
VARIANT = "results/data/{dataset}/{variant}"  # .npz: a preprocessed variant; .json: its spectrum and checksum

# --- training runs: .npz (weights and curve) and .json (settings, provenance, the .npz's SHA-256) ----------
RUN = "results/runs/{source}/{trainer}/d{d}_r{r}_seed{seed}"  # Gaussian data (figures 1-4)
SPARSE_RUN = "results/runs/sparse/sample/p{p}_d{d}_r{r}_seed{seed}"  # sparse data (figure 7)
REAL_RUN = "results/real/{dataset}/{variant}/r{r}_seed{seed}"  # real images (figures 5, 6, 8, 9)
PHASE = "results/runs/phase/p{p}_d{d}_r{r}"  # figure 10: .json every run and candidate at one point, .npz encoders

# --- decoders fitted on trained encoders, and theory checks -----------------------------------------------
DEEP_DECODER = "results/decoders/deep/p{p}_d{d}_r{r}_seed{seed}.json"  # figure 7, depth
MESSAGE_PASSING = "results/decoders/message_passing/p{p}_r{r}.json"  # figure 11: the unrolled decoder at every d
REAL_DENOISER = "results/decoders/real/{dataset}.json"  # figure 8
UNTRAINED = "results/theory/untrained.csv"  # figure 1: untrained Gaussian encoders
DESIGNED = "results/real/{dataset}/{variant}/designed.csv"  # figure 5: the designed encoder
TWIN = "results/real/{dataset}/{variant}/gaussian_twin.csv"  # figure 5: projected GD on the twin, trained encoders
NORMS = "results/real/{dataset}/{variant}/norms.json"  # figure 5: norm concentrations
TWIN_TRAINER = "results/real/{dataset}/unwhitened/twin_trainer.csv"  # figure 5: the images' trainer on the twin
STRUCTURE = "results/real/{dataset}/unwhitened/structure.csv"  # figure 9

# --- figures, claims, report ---------------------------------------------------------------------------
FIGURE = "figures/{figure}"  # .csv: the tidy table; .pdf, .png: the figure drawn from it
CLAIMS = "results/claims.csv"
REPORT = "results/report/{name}"  # claims.html, runtimes.csv, environment.html
MANIFEST = "results/MANIFEST.sha256"
BENCHMARKS = "results/benchmarks"

# --- the chain of custody (signae.custody) ---------------------------------------------------------------
RECORDS = "results/records"  # one record per file a job writes: its SHA-256, the job, what it read
PARAMS = "results/params"  # one file per job: the parameters that decide its results, written by the workflow


def number(value: float) -> str:
    """The text of a rate or sparsity in a file name: 0.125, 1, 1.5 (no trailing zeros)."""
    return f"{float(value):g}"


def fill(pattern: str, **values) -> str:
    """``pattern`` with every wildcard replaced; r and p are written by :func:`number`."""
    missing = set(re.findall(r"{(\w+)}", pattern)) - set(values)
    if missing:
        raise ValueError(f"{pattern}: no value for {sorted(missing)}")
    text = {k: number(v) if k in ("r", "p") else str(v) for k, v in values.items()}
    return pattern.format(**text)


def _regex(pattern: str) -> re.Pattern:
    parts = re.split(r"({\w+})", pattern)
    body = "".join(
        f"(?P<{part[1:-1]}>{WILDCARDS[part[1:-1]]})" if part.startswith("{") else re.escape(part) for part in parts
    )
    return re.compile(body)


def parse(pattern: str, path: str) -> dict[str, str] | None:
    """The wildcards of ``path`` if it is an instance of ``pattern``, else None: the path may sit below another
    folder (an absolute path, a copy of the workflow) and a stem pattern also matches the stem followed by an
    extension. Values are strings, as Snakemake's wildcards are."""
    m = re.fullmatch(r"(?:.*/)?" + _regex(pattern).pattern + r"(?:\.[a-z0-9]+)?", str(path))
    return m.groupdict() if m else None


def _tail(pattern: str) -> str:
    """A pattern without its ``results/`` folder and extension: the part a log or benchmark file repeats."""
    tail = pattern.removeprefix("results/")
    return re.sub(r"\.[a-z0-9]+$", "", tail)


def record(path: str) -> str:
    """The record of a file a job wrote (or of a pattern of such files): results/records/<path without its
    results/ folder>.json."""
    return f"{RECORDS}/{str(path).removeprefix('results/')}.json"


def params(rule: str, pattern: str = "") -> str:
    """The parameters file of a job of ``rule`` that writes ``pattern`` (signae.custody)."""
    return f"{PARAMS}/{rule}/{_tail(pattern)}.json" if pattern else f"{PARAMS}/{rule}.json"


def log(rule: str, pattern: str = "") -> str:
    """The log file of a job of ``rule`` that writes ``pattern``: logs/<rule>/<pattern's tail>.log."""
    return f"logs/{rule}/{_tail(pattern)}.log" if pattern else f"logs/{rule}.log"


def benchmark(rule: str, pattern: str = "") -> str:
    """The benchmark file (time, memory) of a job of ``rule`` that writes ``pattern``."""
    return f"{BENCHMARKS}/{rule}/{_tail(pattern)}.tsv" if pattern else f"{BENCHMARKS}/{rule}.tsv"
