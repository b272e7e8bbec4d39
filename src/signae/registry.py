"""The figure registry: for each figure, its runs and other inputs (from the config), its table builder,
its plotter, its claims and its caption; and what every run of the config is and with which settings.

The workflow reads only this registry: one generic rule builds any figure's table
(``figures/<stem>.csv``), one draws it, and the claims rule runs every figure's claims functions. Adding a
figure is one :class:`Figure` entry in :data:`FIGURES` plus its functions (a table builder in
signae.tables, a plotter in signae.plotting, claims in signae.claims, a caption in workflow/report/).

Functions are named by their dotted path and imported only when called, so that the rule drawing a
figure depends on the plotting code and not on the table code, and the workflow, which reads this module
while it builds its graph, imports none of them (see :func:`code_modules`; a test resolves every name).

An input is a path, a list of paths or a dict of them; its name is the keyword argument of the table
builder that receives it. The .npz weights beside every run's .json are added to a rule's inputs
automatically (:func:`flat_inputs`). Every path is one of signae.paths.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from . import paths
from .runs import SPARSE, RunSpec

# --- runs and files of each figure, from the config --------------------------------------------------


def seeds(config: dict, count: int) -> list[int]:
    """Replicate k of a run uses seed + k."""
    return [config["seed"] + k for k in range(count)]


def limit_runs(config: dict) -> list[RunSpec]:
    """Figure 1: every (trainer, d, r, seed) of limit.runs on isotropic data."""
    return [
        RunSpec("isotropic", trainer, r, s, d=d)
        for trainer, spec in config["limit"]["runs"].items()
        for d in spec["d"]
        for r in config["limit"]["r"]
        for s in seeds(config, spec["seeds"])
    ]


def dynamics_runs(config: dict) -> list[RunSpec]:
    """Figures 2 and 3: the exact-risk trainers at dynamics.d for each r."""
    dyn = config["dynamics"]
    return [
        RunSpec("isotropic", t, r, s, d=dyn["d"])
        for t in dyn["trainers"]
        for r in dyn["r"]
        for s in seeds(config, dyn["seeds"])
    ]


def features_runs(config: dict) -> list[RunSpec]:
    """Figure 3's spectra: the dynamics runs of features.trainer."""
    return [spec for spec in dynamics_runs(config) if spec.trainer == config["features"]["trainer"]]


def covariance_runs(config: dict) -> list[RunSpec]:
    """Figure 4: projected GD on each spectrum of covariance.spectra, then the sample-based trainer on
    Gaussian samples of each (covariance.sample_seeds replicates)."""
    cov = config["covariance"]
    return [
        RunSpec(name, trainer, r, s, d=cov["d"])
        for trainer, count in (("pgd", cov["seeds"]), ("sample", cov["sample_seeds"]))
        for name in cov["spectra"]
        for r in cov["r"]
        for s in seeds(config, count)
    ]


def real_pairs(config: dict) -> list[tuple[str, str]]:
    """(dataset, variant) of figure 5."""
    rd = config["realdata"]
    return [(ds, v) for ds in rd["datasets"] for v in rd["variants"]]


def real_runs(config: dict, pairs=None) -> list[RunSpec]:
    """Every trained run of figure 5, or of the given (dataset, variant) pairs only."""
    rd = config["realdata"]
    return [
        RunSpec(ds, "sample", r, s, variant=v)
        for ds, v in (real_pairs(config) if pairs is None else pairs)
        for r in rd["r"]
        for s in seeds(config, rd["seeds"])
    ]


def reconstruction_runs(config: dict, dataset: str) -> list[RunSpec]:
    """Figure 6: one run per r of realdata.reconstructions on one data set."""
    rec = config["realdata"]["reconstructions"]
    return [RunSpec(dataset, "sample", r, config["seed"], variant=rec["variant"]) for r in rec["r"]]


def variant_files(dataset: str, variant: str) -> tuple[str, str]:
    """A preprocessed variant's (.npz arrays, .json record)."""
    stem = paths.fill(paths.VARIANT, dataset=dataset, variant=variant)
    return stem + ".npz", stem + ".json"


def image_files(dataset: str) -> tuple[str, str]:
    """A data set's verified images: (.npz arrays, .json record)."""
    stem = paths.fill(paths.IMAGES, dataset=dataset)
    return stem + ".npz", stem + ".json"


def twin_trainer_files(config: dict) -> dict[str, str]:
    """{dataset: its twin_trainer.csv}, for the data sets whose unwhitened variant is configured (figure 5: the
    images' trainer on Gaussian draws of the twin)."""
    rd = config["realdata"]
    if "unwhitened" not in rd["variants"]:
        return {}
    return {ds: paths.fill(paths.TWIN_TRAINER, dataset=ds) for ds in rd["datasets"]}


def structure_runs(config: dict, dataset: str) -> list[RunSpec]:
    """The trained unwhitened runs of one data set that figure 9 examines: those at realdata.structure.r."""
    r_values = config["realdata"]["structure"]["r"]
    return [s for s in real_runs(config, [(dataset, "unwhitened")]) if s.r in r_values]


def structure_files(config: dict) -> dict[str, str]:
    """{dataset: its structure.csv} for realdata.structure.datasets that are configured with the unwhitened variant."""
    rd = config["realdata"]
    if "unwhitened" not in rd["variants"]:
        return {}
    return {ds: paths.fill(paths.STRUCTURE, dataset=ds) for ds in rd["structure"]["datasets"] if ds in rd["datasets"]}


def sparse_runs(config: dict) -> list[RunSpec]:
    """Figure 7: every (p, d, r, seed) of the sparse section."""
    sp = config["sparse"]
    return [
        RunSpec(SPARSE, "sample", r, s, d=d, sparsity=p)
        for p in sp["p"]
        for d in sp["d"]
        for r in sp["r"]
        for s in seeds(config, sp["seeds"])
    ]


def phase_points(config: dict) -> list[dict]:
    """Figure 10: every (p, d, r) of the phase section, one job each (all seeds and initialisations)."""
    ph = config["phase"]
    return [{"p": p, "d": d, "r": r} for p in ph["p"] for d in ph["d"] for r in ph["r"]]


def phase_files(config: dict) -> list[str]:
    """Figure 10's inputs: the .json of every point of :func:`phase_points`."""
    return [paths.fill(paths.PHASE, **point) + ".json" for point in phase_points(config)]


def phase_settings(config: dict) -> dict:
    """What one point of figure 10 runs with: the phase section's trainer, seeds (from the base seed) and
    initialisations (signae.sparse_source.phase_point)."""
    ph = config["phase"]
    return {"trainer": dict(ph["trainer"]), "seeds": seeds(config, ph["seeds"]), "inits": list(ph["inits"])}


def deep_decoder_file(spec: RunSpec) -> str:
    """The deep decoder fitted on a sparse run's encoder (figure 7)."""
    return paths.fill(paths.DEEP_DECODER, p=spec.sparsity, d=spec.d, r=spec.r, seed=spec.seed)


def deep_decoder_files(config: dict) -> list[str]:
    """Figure 7's deep decoders: every sparse run at the d of sparse.depth.d."""
    return [deep_decoder_file(s) for s in sparse_runs(config) if s.d in config["sparse"]["depth"]["d"]]


def message_passing_files(config: dict) -> list[str]:
    """Figure 11: one file per (p, r) of the sparse section (the unrolled decoder at every d of
    sparse.message_passing.d, and on the trained encoders of the largest sparse.d)."""
    sp = config["sparse"]
    if not sp["message_passing"]["d"]:
        return []
    return [paths.fill(paths.MESSAGE_PASSING, p=p, r=r) for p in sp["p"] for r in sp["r"] if r <= 1]


def message_passing_runs(config: dict, p: float, r: float) -> list[RunSpec]:
    """The trained encoders figure 11 runs the unrolled decoder on: figure 7's runs at (p, r) and its largest d."""
    top = max(config["sparse"]["d"])
    return [s for s in sparse_runs(config) if s.sparsity == p and s.r == r and s.d == top]


def message_passing_settings(config: dict) -> dict:
    """What one point of figure 11 runs with: sparse.message_passing, the test sample size of figure 7's runs, and
    the base seed of the fresh samples (signae.message_passing.evaluate)."""
    mp = config["sparse"]["message_passing"]
    return {**mp, "test_samples_per_unit": config["sparse"]["trainer"]["test_samples_per_unit"], "seed": config["seed"]}


def real_denoiser_files(config: dict) -> dict[str, str]:
    """Figure 8's inputs: {dataset: its denoiser JSON}; none unless the unwhitened variant is configured."""
    rd = config["realdata"]
    if "unwhitened" not in rd["variants"]:
        return {}
    return {ds: paths.fill(paths.REAL_DENOISER, dataset=ds) for ds in rd["datasets"]}


def decoder_files(config: dict) -> list[str]:
    """Every decoder fitted on trained encoders that the configured figures read (figures 7, 8 and 11)."""
    return deep_decoder_files(config) + list(real_denoiser_files(config).values()) + message_passing_files(config)


def all_runs(config: dict) -> list[RunSpec]:
    """Every training run of the configured figures (Gaussian, sparse and, when configured, real data)."""
    out = limit_runs(config) + dynamics_runs(config) + covariance_runs(config) + sparse_runs(config) + real_runs(config)
    return list(dict.fromkeys(out))


# --- the settings of each run, from the config -------------------------------------------------------


def settings_sections(config: dict, spec: RunSpec) -> list[str]:
    """The config sections a run's settings come from, later ones overriding earlier ones: trainers.<trainer>
    (and, on figure 4's spectra, covariance.pgd or covariance.sample: heavy-ball momentum, :func:`settings`),
    sparse.trainer, or realdata.trainer."""
    if spec.kind == "real":
        return ["realdata.trainer"]
    if spec.kind == "sparse":
        return ["sparse.trainer"]
    sections = [f"trainers.{spec.trainer}"]
    if spec.source != "isotropic" and spec.trainer in config["covariance"]:
        sections.append(f"covariance.{spec.trainer}")
    return sections


def settings(config: dict, spec: RunSpec) -> dict:
    """The hyper-parameters of one run: its config sections (:func:`settings_sections`) merged; on figure 4's
    spectra the overrides of docs/theory.md eq. (44)."""
    out: dict = {}
    for section in settings_sections(config, spec):
        out.update(config_section(config, section))
    return out


def step_keys(config: dict, spec: RunSpec) -> str:
    """The config keys of a run's step sizes (signae.runs.step_keys), each named where its value comes from:
    "trainers.pgd.lr_decoder, covariance.pgd.lr" on figure 4's spectra."""
    from .runs import step_keys as keys_of

    merged = settings(config, spec)
    where = {k: section for section in settings_sections(config, spec) for k in config_section(config, section)}
    return ", ".join(keys_of(where[k], {k: v}) for k, v in merged.items() if keys_of(where[k], {k: v}))


def deep_decoder_settings(config: dict) -> dict:
    """The settings of figure 7's deep decoder (signae.deep_decoder): sparse.depth (less its d) with the
    sample sizes of figure 7's runs (sparse.trainer)."""
    t, depth = config["sparse"]["trainer"], config["sparse"]["depth"]
    return {
        "fit_samples_per_unit": t["fit_samples_per_unit"],
        "test_samples_per_unit": t["test_samples_per_unit"],
        **{k: v for k, v in depth.items() if k != "d"},
    }


# --- the registry ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure of the pipeline.

    stem:      file stem under figures/ (figures/<stem>.csv, .pdf, .png)
    number:    the figure's number in the claims table
    inputs:    config -> {builder argument: path | [paths] | {key: path}}
    params:    config -> {builder argument: value}
    table:     dotted name of the builder: (**inputs, **params) -> tidy DataFrame
    plot:      dotted name of the plotter: (table, pdf_path, png_path) -> None
    claims:    ((dotted name of a claims function, config path of its tolerances or None), ...)
    caption:   the caption file, relative to the repository root
    real_data: needs MNIST / CIFAR-10 (skipped when realdata.datasets is empty)
    enabled:   config -> whether the config can draw it at all (figure 8 needs the unwhitened variant)
    """

    stem: str
    number: int
    inputs: Callable[[dict], dict]
    table: str
    plot: str
    caption: str
    params: Callable[[dict], dict] = field(default=lambda config: {})
    claims: tuple = ()
    real_data: bool = False
    enabled: Callable[[dict], bool] = field(default=lambda config: True)


def _paths(specs: list[RunSpec]) -> list[str]:
    return [spec.json for spec in specs]


FIGURES: dict[str, Figure] = {
    fig.stem: fig
    for fig in (
        Figure(
            "fig1_limit",
            1,
            inputs=lambda c: {"runs": _paths(limit_runs(c)), "untrained": paths.UNTRAINED},
            params=lambda c: {"r": c["limit"]["r"]},
            table="signae.tables.limit_table",
            plot="signae.plotting.plot_fig1",
            claims=(("signae.claims.limit_claims", "claims"),),
            caption="workflow/report/fig1.rst",
        ),
        Figure(
            "fig2_dynamics",
            2,
            inputs=lambda c: {"runs": _paths(dynamics_runs(c))},
            table="signae.tables.dynamics_table",
            plot="signae.plotting.plot_fig2",
            claims=(("signae.claims.dynamics_claims", "claims"),),
            caption="workflow/report/fig2.rst",
        ),
        Figure(
            "fig3_features",
            3,
            inputs=lambda c: {"features": _paths(features_runs(c)), "scales": _paths(dynamics_runs(c))},
            table="signae.tables.features_table",
            plot="signae.plotting.plot_fig3",
            claims=(("signae.claims.features_claims", "claims"),),
            caption="workflow/report/fig3.rst",
        ),
        Figure(
            "fig4_covariance",
            4,
            inputs=lambda c: {"runs": _paths(covariance_runs(c))},
            params=lambda c: {
                "spectra": c["covariance"]["spectra"],
                "d": c["covariance"]["d"],
                "covariance_seed": c["seed"],
            },
            table="signae.tables.covariance_table",
            plot="signae.plotting.plot_fig4",
            claims=(("signae.claims.covariance_claims", "claims"), ("signae.claims.allocation_claims", "claims")),
            caption="workflow/report/fig4.rst",
        ),
        Figure(
            "fig5_universality",
            5,
            inputs=lambda c: {
                "runs": _paths(real_runs(c)),
                "designed": {p: paths.fill(paths.DESIGNED, dataset=p[0], variant=p[1]) for p in real_pairs(c)},
                "preps": {p: variant_files(*p)[1] for p in real_pairs(c)},
                "twins": {p: paths.fill(paths.TWIN, dataset=p[0], variant=p[1]) for p in real_pairs(c)},
                "norms": {p: paths.fill(paths.NORMS, dataset=p[0], variant=p[1]) for p in real_pairs(c)},
                "twin_trainers": twin_trainer_files(c),
            },
            params=lambda c: {"r": c["realdata"]["r"]},
            table="signae.tables.universality_table",
            plot="signae.plotting.plot_fig5",
            claims=(("signae.claims.universality_claims", "realdata.claims"),),
            caption="workflow/report/fig5.rst",
            real_data=True,
        ),
        Figure(
            "fig6_reconstructions",
            6,
            inputs=lambda c: {
                "images": {ds: image_files(ds)[0] for ds in c["realdata"]["datasets"]},
                "records": {ds: image_files(ds)[1] for ds in c["realdata"]["datasets"]},
                "runs": {ds: _paths(reconstruction_runs(c, ds)) for ds in c["realdata"]["datasets"]},
                "preps": {
                    ds: list(variant_files(ds, c["realdata"]["reconstructions"]["variant"]))
                    for ds in c["realdata"]["datasets"]
                },
            },
            params=lambda c: {"count": c["realdata"]["reconstructions"]["images"]},
            table="signae.tables.reconstruction_table",
            plot="signae.plotting.plot_fig6",
            claims=(("signae.claims.reconstruction_claims", None),),
            caption="workflow/report/fig6.rst",
            real_data=True,
        ),
        Figure(
            "fig7_sparse",
            7,
            inputs=lambda c: {"runs": _paths(sparse_runs(c)), "deep": deep_decoder_files(c)},
            table="signae.tables.sparse_table",
            plot="signae.plotting.plot_fig7",
            claims=(("signae.claims.sparse_claims", "sparse.claims"),),
            caption="workflow/report/fig7.rst",
        ),
        Figure(
            "fig8_real_denoiser",
            8,
            inputs=lambda c: {"denoised": real_denoiser_files(c)},
            table="signae.tables.real_denoiser_table",
            plot="signae.plotting.plot_fig8",
            claims=(("signae.claims.real_denoiser_claims", "realdata.claims"),),
            caption="workflow/report/fig8.rst",
            real_data=True,
            enabled=lambda c: "unwhitened" in c["realdata"]["variants"],
        ),
        Figure(
            "fig9_structure",
            9,
            inputs=lambda c: {"structure": structure_files(c)},
            table="signae.tables.structure_table",
            plot="signae.plotting.plot_fig9",
            claims=(("signae.claims.structure_claims", None),),
            caption="workflow/report/fig9.rst",
            real_data=True,
            enabled=lambda c: bool(structure_files(c)),
        ),
        Figure(
            "fig10_phase",
            10,
            inputs=lambda c: {"points": phase_files(c)},
            table="signae.tables.phase_table",
            plot="signae.plotting.plot_fig10",
            claims=(("signae.claims.phase_claims", "phase.claims"),),
            caption="workflow/report/fig10.rst",
            enabled=lambda c: bool(c["phase"]["p"]),
        ),
        Figure(
            "fig11_message_passing",
            11,
            inputs=lambda c: {"points": message_passing_files(c)},
            table="signae.tables.message_passing_table",
            plot="signae.plotting.plot_fig11",
            claims=(("signae.claims.message_passing_claims", "sparse.claims"),),
            caption="workflow/report/fig11.rst",
            enabled=lambda c: bool(message_passing_files(c)),
        ),
    )
}


def configured(config: dict) -> list[Figure]:
    """The figures this config draws: all, less the real-data ones when realdata.datasets is empty and those
    whose ``enabled`` says no."""
    return [
        fig for fig in FIGURES.values() if (not fig.real_data or config["realdata"]["datasets"]) and fig.enabled(config)
    ]


def resolve(dotted: str) -> Callable:
    """The function named by a dotted path such as "signae.tables.limit_table"."""
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def flatten(value) -> list[str]:
    """Every path in an input value (a path, or lists, tuples and dicts of them), in order."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [p for v in value for p in flatten(v)]


def flat_inputs(fig: Figure, config: dict) -> dict[str, list[str]]:
    """The rule's named inputs: every input as a flat list, plus the weights of every run read."""
    named = {name: flatten(value) for name, value in fig.inputs(config).items()}
    runs = [p for files in named.values() for p in files if p.endswith(".json") and is_run(p)]
    named["weights"] = [p[: -len(".json")] + ".npz" for p in runs]
    return named


def is_run(path: str) -> bool:
    """Whether ``path`` is a run's file (signae.paths.RUN, SPARSE_RUN or REAL_RUN)."""
    return any(paths.parse(pattern, path) for pattern in (paths.RUN, paths.SPARSE_RUN, paths.REAL_RUN))


def build_table(fig: Figure, config: dict):
    """The figure's tidy table, from its inputs and params as the config names them."""
    return resolve(fig.table)(**fig.inputs(config), **fig.params(config))


def config_section(config: dict, key: str | None) -> dict | None:
    """A config section by its dotted key ("realdata.claims"; None: None)."""
    if key is None:
        return None
    section = config
    for part in key.split("."):
        section = section[part]
    return section


def claim_checks(config: dict) -> dict[int, list[tuple[Callable, dict | None]]]:
    """{figure number: [(claims function, its tolerances), ...]} of the configured figures, in order."""
    return {
        fig.number: [(resolve(fn), config_section(config, key)) for fn, key in fig.claims] for fig in configured(config)
    }


def code_modules(fig: Figure, stage: str) -> list[str]:
    """The dotted names whose modules a stage of this figure runs: "table", "plot" or "claims"."""
    if stage == "table":
        return [fig.table]
    if stage == "plot":
        return [fig.plot]
    return [fn for fn, _ in fig.claims]


def render_caption(fig: Figure, config: dict, root: str = ".") -> str:
    """The figure's caption (reStructuredText with Jinja2 expressions over ``snakemake.config``), rendered
    with this config, as Snakemake's report renders caption files."""
    from pathlib import Path
    from types import SimpleNamespace

    from jinja2 import Environment

    text = (Path(root) / fig.caption).read_text()
    env = Environment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(text).render(snakemake=SimpleNamespace(config=config))


class NonFiniteTable(ValueError):
    """A figure table holds a number that cannot be right (NaN or infinite)."""


def check_finite(table, path: str) -> None:
    """Refuse a table that holds an infinite number, or a row whose plotted number (``loss`` or ``value``,
    whichever the row uses) is missing or NaN, naming the file and the first offending row."""
    import numpy as np

    numeric = table.select_dtypes("number").to_numpy(dtype=float)
    bad = np.isinf(numeric).any(axis=1)
    plotted = [c for c in ("loss", "value") if c in table]
    if plotted:
        bad |= table[plotted].isna().all(axis=1).to_numpy()
    if bad.any():
        row = table[bad].iloc[0].to_dict()
        raise NonFiniteTable(
            f"{path}: {int(bad.sum())} row(s) hold a non-finite number, e.g. {row}; a result it "
            f"reads is broken: rerun the rule that made it (snakemake --forcerun) before drawing"
        )
