"""The run record: one training run's identity, its files, and the checks a result passes before it is saved.

Every rule, table and script names a run through :class:`RunSpec`, whose files are those of
:mod:`signae.paths` (``RUN``, ``SPARSE_RUN``, ``REAL_RUN``). A run is stored as two files with one stem:

- ``<stem>.npz``: the arrays of :class:`signae.train.TrainResult` (steps, losses, B_init, B, A, final_loss);
- ``<stem>.json``: the metadata (settings, seed, versions, device, wall time, losses) and the SHA-256 of
  the ``.npz``, which :func:`load` checks, so a weights file replaced after training is never read.

A trainer's result that cannot be right (a non-finite loss or weight, or a final loss not below the trivial
risk of predicting 0) raises :class:`TrainingDiverged` (:func:`check_trained`), naming the run and the config
keys of its step sizes, before anything is saved.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import paths, provenance
from .theory import hidden_units

#: The Bernoulli-Gaussian source (signae.sparse): its runs also carry the sparsity p.
SPARSE = "sparse"
VARIANTS = ("unwhitened", "whitened")
#: The arrays of a run's .npz (signae.train.TrainResult).
ARRAYS = ("steps", "losses", "B_init", "B", "A", "final_loss")


class RunFileError(RuntimeError):
    """A run's files are missing, unreadable, or do not match their recorded checksum."""


class TrainingDiverged(RuntimeError):
    """A trainer produced a result that cannot be right; nothing was saved."""


@dataclass(frozen=True)
class RunSpec:
    """Identity of one training run.

    source:   Gaussian spectrum ("isotropic", "power_law", "levels"), "sparse", or a data set ("mnist", ...)
    trainer:  a trainer of config section ``trainers`` on Gaussian data; "sample" on sparse and real data
    r:        the rate asked for; the realised one is hidden_units(r, d) / d
    seed:     initialisation seed (the data stream uses seed + 1)
    d:        dimension of x for Gaussian and sparse runs; None for real data (set by the data)
    variant:  real data only: "unwhitened" or "whitened"
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
        elif self.variant is not None:
            if self.variant not in VARIANTS or self.trainer != "sample" or self.d is not None:
                raise ValueError(f"a real-data run needs a variant in {VARIANTS}, trainer 'sample' and no d: {self}")
        elif self.d is None:
            raise ValueError(f"a Gaussian run needs d (a real-data run, a variant): {self}")

    @property
    def real(self) -> bool:
        return self.variant is not None

    @property
    def kind(self) -> str:
        """ "gaussian", "sparse" or "real": which run function trains it and which config section sets it."""
        return "real" if self.real else "sparse" if self.source == SPARSE else "gaussian"

    @property
    def stem(self) -> str:
        if self.real:
            return paths.fill(paths.REAL_RUN, dataset=self.source, variant=self.variant, r=self.r, seed=self.seed)
        if self.source == SPARSE:
            return paths.fill(paths.SPARSE_RUN, p=self.sparsity, d=self.d, r=self.r, seed=self.seed)
        return paths.fill(paths.RUN, source=self.source, trainer=self.trainer, d=self.d, r=self.r, seed=self.seed)

    @property
    def json(self) -> str:
        return self.stem + ".json"

    @property
    def npz(self) -> str:
        return self.stem + ".npz"

    @property
    def n(self) -> int:
        """Hidden units of a Gaussian or sparse run (real data: hidden_units(r, d) with the data's d)."""
        if self.d is None:
            raise ValueError("a real-data run's n depends on the data's d: use hidden_units(spec.r, d)")
        return hidden_units(self.r, self.d)

    @classmethod
    def from_path(cls, path: str | Path) -> RunSpec:
        """The run whose stem, .json or .npz ``path`` is (the inverse of :attr:`stem`)."""
        w = paths.parse(paths.SPARSE_RUN, path)
        if w:
            return cls(SPARSE, "sample", float(w["r"]), int(w["seed"]), d=int(w["d"]), sparsity=float(w["p"]))
        w = paths.parse(paths.RUN, path)
        if w:
            return cls(w["source"], w["trainer"], float(w["r"]), int(w["seed"]), d=int(w["d"]))
        w = paths.parse(paths.REAL_RUN, path)
        if w:
            return cls(w["dataset"], "sample", float(w["r"]), int(w["seed"]), variant=w["variant"])
        raise ValueError(f"{path} is not the path of a run ({paths.RUN}, {paths.SPARSE_RUN} or {paths.REAL_RUN})")


def step_keys(section: str, settings: dict) -> str:
    """The config keys of a trainer's step sizes (those named lr... and the surrogate's sharpness), named when
    its run diverges: "trainers.pgd.lr, trainers.pgd.lr_decoder"."""
    keys = [k for k in settings if k.startswith("lr") or k == "sharpness"]
    return ", ".join(f"{section}.{k}" for k in keys)


def check_trained(result, what: str, keys: str, trivial: float) -> None:
    """Refuse a trained result (:class:`signae.train.TrainResult`) whose losses or weights are not finite, or
    whose final loss is not below the trivial risk (the loss of predicting x_hat = 0: tr Sigma / d, 1 on
    isotropic Gaussian data). ``what`` names the result in the message ("run <stem>", "projected GD on the
    Gaussian twin at n = 512"), ``keys`` the config keys of its step sizes (:func:`step_keys`)."""
    bad = [name for name in ("losses", "B", "A") if not np.all(np.isfinite(getattr(result, name)))]
    if not np.isfinite(result.final_loss):
        bad.append("final_loss")
    if bad:
        raise TrainingDiverged(
            f"{what}: non-finite {', '.join(bad)}; the training diverged. Lower the step "
            f"size ({keys}) and rerun; nothing was saved"
        )
    if not result.final_loss < trivial:
        raise TrainingDiverged(
            f"{what}: final loss {result.final_loss:.6g} is not below the trivial risk "
            f"{trivial:.6g} of predicting 0; the training failed. Check the step size ({keys}); "
            f"nothing was saved"
        )


def diverged(what: str, keys: str, err: Exception) -> TrainingDiverged:
    """A linear-algebra failure inside a trainer (a singular or non-finite Gram matrix) is a diverged result;
    ``what`` and ``keys`` as in :func:`check_trained`."""
    return TrainingDiverged(
        f"{what}: the training diverged ({type(err).__name__}: {str(err).splitlines()[0]}). Lower the "
        f"step size ({keys}) and rerun; nothing was saved"
    )


def run_provenance(result, device) -> dict:
    """The part of every run's metadata that says what produced it: wall time, versions, device, time."""
    return {
        "wall_time_s": result.wall_time_s,
        "versions": provenance.package_versions(),
        "device": provenance.device_info(device),
        "finished_utc": provenance.now_utc(),
    }


def save(result, meta: dict, npz_path: str | Path, json_path: str | Path) -> None:
    """Weights and curve as .npz, metadata as .json with the .npz's SHA-256.

    Both files are written under temporary names and renamed into place, the .json last, so a killed
    job leaves no half-written run behind.
    """
    npz_path, json_path = Path(npz_path), Path(json_path)
    tmp = npz_path.with_name(npz_path.name + ".tmp.npz")
    arrays = {name: getattr(result, name) for name in ARRAYS}
    np.savez(tmp, **{**arrays, "final_loss": np.float64(result.final_loss)})
    digest = provenance.sha256_file(tmp)
    os.replace(tmp, npz_path)
    provenance.write_json(json_path, {**meta, "weights_sha256": digest})


def load(json_path: str | Path, verify: bool = True) -> tuple[dict, dict]:
    """(metadata, arrays) of one run; the .npz beside the .json is checked against its recorded SHA-256."""
    json_path = Path(json_path)
    npz_path = json_path.with_suffix(".npz")
    fix = f"rerun it: snakemake --cores all --forcerun {json_path} (with the run's --configfile files before it)"
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
