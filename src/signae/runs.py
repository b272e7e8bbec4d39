"""The run record: one training run's identity, files, hidden units, save and load.

Every rule, table and script names a run through :class:`RunSpec`; nothing else spells a run's path or
computes its number of hidden units. A run is stored as two files with one stem:

- ``<stem>.npz``: the arrays of :class:`signae.train.TrainResult` (steps, losses, B_init, B, A, final_loss);
- ``<stem>.json``: the metadata (settings, seed, versions, device, wall time, losses) and the SHA-256 of
  the ``.npz``, which :func:`load` checks, so a weights file replaced after training is never read.

Gaussian runs live under ``results/runs/<source>/<trainer>/d<d>_r<r>_seed<seed>``, sparse (Bernoulli-Gaussian)
runs under ``results/runs/sparse/sample/p<p>_d<d>_r<r>_seed<seed>``, real-data runs under
``results/real/<source>/<variant>/r<r>_seed<seed>`` (their d is the data's own).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import provenance

#: Gaussian sources (the covariance spectrum of x ~ N(0, Sigma)) and real data sets.
GAUSSIAN_SOURCES = ("isotropic", "power_law", "levels")
REAL_SOURCES = ("mnist", "cifar10")
#: The Bernoulli-Gaussian source (signae.sparse): its runs also carry the sparsity p.
SPARSE = "sparse"
TRAINERS = ("pgd", "tied", "sample")
VARIANTS = ("unwhitened", "whitened")
ARRAYS = ("steps", "losses", "B_init", "B", "A", "final_loss")


class RunFileError(RuntimeError):
    """A run's files are missing, unreadable, or do not match their recorded checksum."""


def fmt_r(r: float) -> str:
    """Canonical text of a rate in file names: 0.125, 1, 1.5 (no trailing zeros)."""
    return f"{float(r):g}"


def trainer_settings(config: dict, source: str, trainer: str) -> dict:
    """Hyper-parameters of one Gaussian run: config["trainers"][trainer], with figure 4's overrides
    (config["covariance"]["pgd"] or ["sample"], the latter with the heavy-ball momentum of docs/theory.md
    eq. (44)) when the source is not isotropic."""
    settings = dict(config["trainers"][trainer])
    if source != "isotropic" and trainer in ("pgd", "sample"):
        settings.update(config["covariance"].get(trainer, {}))
    return settings


def hidden_units(r: float, d: int) -> int:
    """n = round(r d), at least 1: the one rule for the number of hidden units everywhere. (docs/theory.md eq. (30))

    On Gaussian data the config is checked at parse time so that r d is an integer
    (:func:`integer_units`); on real data d is the data's own and the realised rate n / d is what every
    table reports.
    """
    return max(1, round(r * d))


def integer_units(r: float, d: int) -> bool:
    """Whether r d is (to rounding) a positive integer, i.e. r is exactly the realised rate n / d
    (docs/theory.md eq. (30))."""
    return r * d >= 1 - 1e-9 and abs(r * d - round(r * d)) <= 1e-9 * max(1.0, r * d)


@dataclass(frozen=True)
class RunSpec:
    """Identity of one training run.

    source:  Gaussian spectrum ("isotropic", "power_law", "levels") or data set ("mnist", "cifar10")
    trainer: "pgd", "tied" or "sample" (real data: always "sample")
    r:       the rate asked for; the realised one is hidden_units(r, d) / d
    seed:    initialisation seed (the data stream uses seed + 1)
    d:       dimension of x for Gaussian runs; None for real data (set by the data)
    variant: real data only: "unwhitened" or "whitened"
    sparsity: the sparse source only: p, the probability that a coordinate is nonzero (0 < p <= 1)
    """

    source: str
    trainer: str
    r: float
    seed: int
    d: int | None = None
    variant: str | None = None
    sparsity: float | None = None

    def __post_init__(self):
        if (self.source == SPARSE) != (self.sparsity is not None):
            raise ValueError(f"the sparsity p is given for the sparse source, and only for it: {self}")
        if self.source == SPARSE:
            if self.d is None or self.variant is not None or self.trainer != "sample" or not 0 < self.sparsity <= 1:
                raise ValueError(f"a sparse run needs d, 0 < p <= 1, trainer 'sample' and no variant: {self}")
        elif self.source in GAUSSIAN_SOURCES:
            if self.d is None or self.variant is not None:
                raise ValueError(f"a Gaussian run needs d and no variant: {self}")
        elif self.source in REAL_SOURCES:
            if self.variant not in VARIANTS or self.trainer != "sample":
                raise ValueError(f"a real-data run needs a variant in {VARIANTS} and trainer 'sample': {self}")
        else:
            raise ValueError(
                f"unknown source {self.source!r}; choose one of {(*GAUSSIAN_SOURCES, *REAL_SOURCES, SPARSE)}"
            )
        if self.trainer not in TRAINERS:
            raise ValueError(f"unknown trainer {self.trainer!r}; choose one of {TRAINERS}")

    @property
    def real(self) -> bool:
        return self.variant is not None

    @property
    def stem(self) -> str:
        if self.real:
            return f"results/real/{self.source}/{self.variant}/r{fmt_r(self.r)}_seed{self.seed}"
        if self.source == SPARSE:
            return f"results/runs/{SPARSE}/sample/p{fmt_r(self.sparsity)}_d{self.d}_r{fmt_r(self.r)}_seed{self.seed}"
        return f"results/runs/{self.source}/{self.trainer}/d{self.d}_r{fmt_r(self.r)}_seed{self.seed}"

    @property
    def json(self) -> str:
        return self.stem + ".json"

    @property
    def npz(self) -> str:
        return self.stem + ".npz"

    @property
    def n(self) -> int:
        """Hidden units of a Gaussian run (real data: hidden_units(r, d) with the data's d)."""
        if self.d is None:
            raise ValueError("a real-data run's n depends on the data's d: use hidden_units(spec.r, d)")
        return hidden_units(self.r, self.d)

    @classmethod
    def from_stem(cls, stem: str) -> RunSpec:
        """The inverse of :attr:`stem` (also accepts a .json or .npz path)."""
        stem = re.sub(r"\.(json|npz)$", "", str(stem))
        m = re.search(r"results/runs/sparse/sample/p([0-9.e+-]+)_d(\d+)_r([0-9.e+-]+)_seed(\d+)$", stem)
        if m:
            return cls(SPARSE, "sample", float(m[3]), int(m[4]), d=int(m[2]), sparsity=float(m[1]))
        m = re.search(r"results/runs/(\w+)/(\w+)/d(\d+)_r([0-9.e+-]+)_seed(\d+)$", stem)
        if m:
            return cls(m[1], m[2], float(m[4]), int(m[5]), d=int(m[3]))
        m = re.search(r"results/real/(\w+)/(\w+)/r([0-9.e+-]+)_seed(\d+)$", stem)
        if m:
            return cls(m[1], "sample", float(m[3]), int(m[4]), variant=m[2])
        raise ValueError(f"{stem} is not the path of a run (results/runs/... or results/real/...)")


def deep_decoder_file(spec: RunSpec) -> str:
    """The deep decoder fitted on a sparse run's encoder (figure 7): results/decoders/deep/<run>.json."""
    return f"results/decoders/deep/{spec.stem.rsplit('/', 1)[1]}.json"


def real_denoiser_file(dataset: str) -> str:
    """Figure 8: the pixel-domain denoiser after every unwhitened run of one data set."""
    return f"results/decoders/real/{dataset}.json"


def save(result, meta: dict, npz_path: str | Path, json_path: str | Path) -> None:
    """Weights and curve as .npz, metadata as .json with the .npz's SHA-256.

    Both files are written under temporary names and renamed into place, the .json last, so a killed
    job leaves no half-written run behind.
    """
    npz_path, json_path = Path(npz_path), Path(json_path)
    tmp = npz_path.with_name(npz_path.name + ".tmp.npz")
    np.savez(
        tmp,
        steps=result.steps,
        losses=result.losses,
        B_init=result.B_init,
        B=result.B,
        A=result.A,
        final_loss=np.float64(result.final_loss),
    )
    digest = provenance.sha256_file(tmp)
    os.replace(tmp, npz_path)
    provenance.write_json(json_path, {**meta, "weights_sha256": digest})


def load(json_path: str | Path, verify: bool = True) -> tuple[dict, dict]:
    """(metadata, arrays) of one run; the .npz beside the .json is checked against its recorded SHA-256."""
    json_path = Path(json_path)
    npz_path = json_path.with_suffix(".npz")
    rule = (
        "train_real"
        if "results/real/" in str(json_path)
        else "train_sparse"
        if "/sparse/" in str(json_path)
        else "train"
    )
    fix = f"rerun it: snakemake --cores all --forcerun {rule} {json_path} (with the run's --configfile files)"
    try:
        meta = json.loads(json_path.read_text())
    except (OSError, ValueError) as err:
        raise RunFileError(f"{json_path} cannot be read ({err}); {fix}") from err
    if verify:
        if not npz_path.is_file():
            raise RunFileError(f"{npz_path} is missing; {fix}")
        try:
            provenance.verify_sha256(npz_path, meta.get("weights_sha256"), json_path, fix)
        except provenance.ChecksumMismatch as err:
            raise RunFileError(str(err)) from err
    with np.load(npz_path) as z:
        arrays = {k: z[k] for k in z.files}
    return meta, arrays
