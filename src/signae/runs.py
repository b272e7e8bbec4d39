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
    def from_wildcards(cls, w) -> RunSpec:
        """The run a training job's wildcards name (those of paths.RUN, SPARSE_RUN or REAL_RUN)."""
        keys = set(w.keys())
        if "dataset" in keys:
            return cls(w["dataset"], "sample", float(w["r"]), int(w["seed"]), variant=w["variant"])
        if "p" in keys:
            return cls(SPARSE, "sample", float(w["r"]), int(w["seed"]), d=int(w["d"]), sparsity=float(w["p"]))
        return cls(w["source"], w["trainer"], float(w["r"]), int(w["seed"]), d=int(w["d"]))

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


def identity(meta: dict) -> dict:
    """What a run's metadata says it is: source, trainer, seed, the rate asked for and, as the kind of run has
    them, d, the sparsity p, the variant."""
    keys = ("source", "trainer", "seed", "d", "sparsity", "variant")
    out = {k: meta[k] for k in keys if k in meta and meta[k] is not None}
    out["r"] = meta.get("r_asked", meta.get("r"))
    if "variant" in out:
        out.pop("d", None)  # a real run's d is its data's, not part of its name
    return out


def check_identity(meta: dict, json_path: str | Path) -> None:
    """Refuse a run whose metadata names another run than its path does (a run's files copied over another's)."""
    spec = RunSpec.from_path(json_path)
    named = {"source": spec.source, "trainer": spec.trainer, "seed": spec.seed, "r": spec.r}
    named |= {"d": spec.d} if spec.d is not None else {}
    named |= {"sparsity": spec.sparsity} if spec.sparsity is not None else {}
    named |= {"variant": spec.variant} if spec.variant is not None else {}
    recorded = identity(meta)
    wrong = [k for k in named if k not in recorded or not _same(recorded[k], named[k], k)]
    if wrong:
        k = wrong[0]
        raise RunFileError(
            f"{json_path} is the run of {k} = {recorded.get(k)!r}, but its path names {k} = {named[k]!r}: another "
            f"run's files were copied here; rerun it: snakemake --cores all --forcerun {json_path}"
        )


def _same(recorded, named, key: str) -> bool:
    if key == "r" and isinstance(recorded, float | int):
        return paths.number(recorded) == paths.number(named) or abs(recorded - named) <= 1e-9 * max(1.0, named)
    return recorded == named


def load(json_path: str | Path, verify: bool = True) -> tuple[dict, dict]:
    """(metadata, arrays) of one run. Checked: the .npz beside the .json against the SHA-256 the .json records, the
    run the metadata names against the run its path names, and the final loss stored in both files."""
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
        check_identity(meta, json_path)
    with np.load(npz_path) as z:
        arrays = {k: z[k] for k in z.files}
    if verify and float(arrays["final_loss"]) != meta.get("final_loss"):
        raise RunFileError(
            f"{json_path} records the final loss {meta.get('final_loss')!r} but {npz_path} holds "
            f"{float(arrays['final_loss'])!r}: one of them was changed after the run; {fix}"
        )
    return meta, arrays
