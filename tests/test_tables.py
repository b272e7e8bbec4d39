"""The figure tables (signae.tables) from tiny real runs, against independent computations.

The runs are made with signae.experiment.run at d = 16 (a few projected-GD steps) and saved with
signae.runs.save, as the pipeline does; every number a table reports is recomputed here from the saved
arrays with numpy or from the closed forms of docs/theory.md, written out.
"""

from __future__ import annotations

import inspect
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from signae import gaussian_source, linalg, registry, runs, spectra, tables, theory
from signae.runs import RunFileError, RunSpec

ROOT = Path(__file__).resolve().parents[1]
C = math.pi / 2 - 1
SETTINGS = {"steps": 5, "lr": 1.0, "decoder": "optimal", "lr_decoder": 0.2}
LEVELS = {"levels": [4.0, 1.0, 0.25]}
D = 16

ISO = [
    RunSpec("isotropic", "pgd", 0.5, 0, d=D),
    RunSpec("isotropic", "pgd", 2.0, 0, d=D),
    RunSpec("isotropic", "pgd", 2.0, 1, d=D),
]
LEV = RunSpec("levels", "pgd", 0.5, 0, d=D)


def r_star(r: float) -> float:
    """R*(r) of docs/theory.md eq. (9), written out."""
    return 1 - 2 * r / math.pi if r <= 1 else C / (r + C)


def beta(r: float) -> float:
    """beta(r) of docs/theory.md eq. (10), written out."""
    return math.sqrt(2 / math.pi) if r <= 1 else math.sqrt(math.pi / 2) / (r + C)


def unit(B):
    return B / np.linalg.norm(B, axis=1, keepdims=True)


def save_run(spec: RunSpec, root: Path, spectrum_args=None) -> dict:
    res, meta = gaussian_source.run(spec, SETTINGS, spectrum_args=spectrum_args, covariance_seed=0, device="cpu")
    (root / spec.json).parent.mkdir(parents=True, exist_ok=True)
    runs.save(res, meta, root / spec.npz, root / spec.json)
    return meta


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Four tiny runs saved under a temporary folder: {spec: absolute .json path}, and the folder."""
    root = tmp_path_factory.mktemp("runs")
    for spec in ISO:
        save_run(spec, root)
    save_run(LEV, root, LEVELS)
    return root


def path(root: Path, spec: RunSpec) -> str:
    return str(root / spec.json)


def arrays(root: Path, spec: RunSpec) -> dict:
    with np.load(root / spec.npz) as z:
        return {k: z[k] for k in z.files}


# --- theory_grid, block_average ---------------------------------------------------------------------


@pytest.mark.parametrize("r_values", [[0.3, 2.5, 0.7], [0.125, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4], [2.0, 3.3]])
def test_theory_grid_contains_each_rate_and_one_exactly(r_values):
    grid = tables.theory_grid(r_values, points=50)
    for r in r_values:
        assert np.count_nonzero(grid == r) == 1
    lo, hi = min(r_values), max(r_values)
    assert np.count_nonzero(grid == 1.0) == (1 if lo <= 1 <= hi else 0)
    assert np.all(np.diff(grid) > 0)  # sorted, no duplicates
    assert grid[0] == lo and grid[-1] == hi
    assert 50 <= grid.size <= 50 + len(r_values) + 1


def test_block_average_on_a_hand_example():
    lam = np.array([5.0, 5.0, 3.0, 2.0, 2.0, 2.0, 1.0 + 1e-12, 1.0, 0.5])
    values = np.array([1.0, 3.0, 7.0, 0.0, 3.0, 9.0, 2.0, 4.0, 8.0])
    before = values.copy()
    out = tables.block_average(lam, values)
    assert np.allclose(out, [2.0, 2.0, 7.0, 4.0, 4.0, 4.0, 3.0, 3.0, 8.0], rtol=0, atol=1e-12)
    assert np.array_equal(values, before)  # the input is left alone
    assert out.sum() == pytest.approx(values.sum())
    # eigenvalues that differ by more than the tolerance are separate blocks
    assert np.allclose(tables.block_average([2.0, 2.0 * (1 - 1e-6)], [1.0, 3.0]), [1.0, 3.0])


# --- figure 1 -----------------------------------------------------------------------------------------


def test_limit_table_from_runs(saved, tmp_path):
    untrained = tmp_path / "untrained.csv"
    sim = pd.DataFrame({"r": [0.5, 0.5, 2.0], "d": [64, 64, 64], "seed": [0, 1, 0], "loss": [0.81, 0.82, 0.5]})
    sim.to_csv(untrained, index=False)
    df = tables.limit_table(runs=[path(saved, s) for s in ISO], untrained=untrained, r=[0.5, 2.0])
    assert df.d.dtype == "Int64" and df.seed.dtype == "Int64"

    trained = df[df.kind == "trained"].reset_index(drop=True)
    assert len(trained) == len(ISO)
    for spec, row in zip(ISO, trained.itertuples(), strict=True):
        z = arrays(saved, spec)
        meta, _ = runs.load(path(saved, spec))
        assert (row.series, row.r, row.d, row.seed) == ("pgd", spec.r, D, spec.seed)
        assert row.loss == meta["final_loss"] == float(z["final_loss"])
        assert row.predicted == pytest.approx(r_star(spec.r), rel=1e-12)

    simulated = df[df.kind == "simulated"].reset_index(drop=True)
    assert list(simulated.loss) == list(sim.loss) and list(simulated.seed) == list(sim.seed)
    for row in simulated.itertuples():
        assert row.predicted == theory.marchenko_pastur_risk(row.r)
    assert simulated.predicted[0] != simulated.predicted[2]  # not one value for every r

    th = df[df.kind == "theory"]
    assert th.d.isna().all() and th.predicted.isna().all()
    for r in (0.5, 1.0, 2.0):
        at = th[th.r == r].set_index("series").loss
        assert at["R*(r)"] == pytest.approx(r_star(r), rel=1e-12)
        assert at["Shannon 2^(-2r)"] == pytest.approx(2.0 ** (-2 * r), rel=1e-12)
        assert at["PCA max(0, 1-r)"] == pytest.approx(max(0.0, 1 - r), abs=1e-15)
        assert at["untrained (Marchenko-Pastur)"] == theory.marchenko_pastur_risk(r)
    curve = th[th.series == "R*(r)"]
    assert np.allclose(curve.loss, [r_star(r) for r in curve.r], rtol=1e-12)
    assert np.array_equal(curve.r.to_numpy(), tables.theory_grid([0.5, 2.0]))


# --- figure 2 -----------------------------------------------------------------------------------------


def test_dynamics_table_one_row_per_recorded_step(saved):
    df = tables.dynamics_table([path(saved, s) for s in ISO])
    for spec in ISO:
        z = arrays(saved, spec)
        rows = df[(df.r == spec.r) & (df.seed == spec.seed)]
        assert len(rows) == len(z["steps"]) == SETTINGS["steps"] + 1
        assert np.array_equal(rows.step.to_numpy(), z["steps"])
        assert np.array_equal(rows.loss.to_numpy(), z["losses"].astype(float))
        assert np.allclose(rows.limit, r_star(spec.r), rtol=1e-12)
        assert (rows.series == "pgd").all() and (rows.d == D).all()
    assert len(df) == sum(len(arrays(saved, s)["steps"]) for s in ISO)


# --- figure 3 -----------------------------------------------------------------------------------------


def test_features_table_against_numpy(saved):
    feats = ISO[:2]  # r = 0.5 and r = 2
    df = tables.features_table(features=[path(saved, s) for s in feats], scales=[path(saved, s) for s in ISO])
    for spec in feats:
        z = arrays(saved, spec)
        n = spec.n
        for series, key in (("init", "B_init"), ("trained", "B")):
            Bbar = unit(z[key])  # (n, d)
            gram = Bbar @ Bbar.T if spec.r <= 1 else Bbar.T @ Bbar  # n x n for r <= 1, d x d above
            expected = np.sort(np.linalg.eigvals(gram).real)[::-1]
            rows = df[(df.panel == "spectrum") & (df.series == series) & (df.r == spec.r)].sort_values("index")
            assert len(rows) == (n if spec.r <= 1 else D)
            assert np.allclose(rows.value, expected, rtol=0, atol=1e-10)
            assert (rows.predicted == (spec.r if spec.r > 1 else 1.0)).all()
        ipr = df[(df.panel == "alignment") & (df.r == spec.r)].sort_values("index")
        assert np.allclose(ipr.value, D * (unit(z["B"]) ** 4).sum(axis=1), rtol=1e-12)
        assert np.allclose(ipr.predicted, 3 * D / (D + 2))

    scales = df[df.panel == "decoder_scale"]
    assert len(scales) == len(ISO)
    for spec in ISO:
        z = arrays(saved, spec)
        BbarT = unit(z["B"]).T  # (d, n)
        # least squares for A ~ beta Bbar^T, by lstsq on the flattened matrices
        beta_hat = np.linalg.lstsq(BbarT.reshape(-1, 1), z["A"].reshape(-1), rcond=None)[0][0]
        resid = np.linalg.norm(z["A"] - beta_hat * BbarT) / np.linalg.norm(z["A"])
        (row,) = scales[(scales.r == spec.r) & (scales.seed == spec.seed)].itertuples()
        assert row.value == pytest.approx(beta_hat, rel=1e-10)
        assert row.index == pytest.approx(resid, rel=1e-8, abs=1e-12)
        assert row.predicted == pytest.approx(beta(spec.r), rel=1e-12)

    curve = df[df.panel == "beta_curve"]
    assert curve.r.min() == pytest.approx(0.25) and curve.r.max() == pytest.approx(4.0)
    assert np.allclose(curve.value, [beta(r) for r in curve.r], rtol=1e-12)
    assert np.allclose(curve.value, [theory.optimal_decoder_scale(r) for r in curve.r], rtol=0, atol=0)


# --- figure 4 -----------------------------------------------------------------------------------------


def test_covariance_table_on_the_levels_spectrum(saved):
    df = tables.covariance_table(runs=[path(saved, LEV)], spectra={"levels": LEVELS}, d=D, covariance_seed=0)
    meta, z = runs.load(path(saved, LEV))
    n = LEV.n
    lam = spectra.spectrum("levels", D, **LEVELS)
    wf = theory.water_filling(lam, n)

    th = df[(df.panel == "loss") & df.predicted.isna()].set_index("series")
    assert th.loc["water-filling", "r"] == n / D
    assert th.loc["water-filling", "loss"] == pytest.approx(wf.risk, rel=1e-12)
    assert th.loc["PCA", "loss"] == pytest.approx(np.sort(lam)[::-1][n:].sum() / D, rel=1e-12)

    (trained,) = df[(df.panel == "loss") & (df.series == "pgd")].itertuples()
    assert trained.loss == meta["final_loss"]
    assert trained.predicted == pytest.approx(wf.risk, rel=1e-12)

    alloc = df[df.panel == "allocation"]
    pred = alloc[alloc.series == "predicted"].sort_values("index")
    learned = alloc[alloc.series == "learned"].sort_values("index")
    assert len(pred) == len(learned) == D
    assert pred.value.sum() == pytest.approx(n, rel=1e-10)  # block averaging keeps the budget
    assert learned.value.sum() == pytest.approx(n, rel=1e-10)
    assert np.allclose(pred.eigenvalue, lam)

    # independent values: the block means. Within a block of equal eigenvalues the eigenbasis is arbitrary
    # but its projector is not: the block's learned total is ||U Q_block||_F^2, U the unit rows of B Sigma^(1/2).
    Q = linalg.haar_rotation(D, 0)  # Sigma = Q diag(lam) Q^T (signae.data.covariance, seed 0)
    U = unit(z["B"] @ (Q * np.sqrt(lam)) @ Q.T)
    blocks = [np.flatnonzero(lam == v) for v in np.unique(lam)[::-1]]
    assert [b.size for b in blocks] == [6, 5, 5]
    for b in blocks:
        assert np.allclose(learned.value.to_numpy()[b], ((U @ Q[:, b]) ** 2).sum() / b.size, rtol=1e-10)
        assert np.allclose(pred.value.to_numpy()[b], wf.allocation[b].mean(), rtol=1e-12)


# --- checked run files --------------------------------------------------------------------------------


def builders(untrained):
    return {
        "limit": lambda p: tables.limit_table(runs=[p], untrained=untrained, r=[2.0]),
        "dynamics": lambda p: tables.dynamics_table(runs=[p]),
        "features": lambda p: tables.features_table(features=[p], scales=[]),
        "scales": lambda p: tables.features_table(features=[], scales=[p]),
        "covariance": lambda p: tables.covariance_table(runs=[p], spectra={"levels": LEVELS}, d=D, covariance_seed=0),
    }


#: (run whose .npz is replaced, run whose .npz replaces it): same array shapes, so only the checksum differs
TAMPER = {"covariance": (LEV, ISO[0])}


@pytest.mark.parametrize("builder", ["limit", "dynamics", "features", "scales", "covariance"])
def test_a_tampered_run_is_refused(saved, tmp_path, monkeypatch, builder):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(saved / "results", tmp_path / "results")
    pd.DataFrame({"r": [2.0], "d": [64], "seed": [0], "loss": [0.3]}).to_csv("untrained.csv", index=False)
    build = builders("untrained.csv")[builder]
    victim, other = TAMPER.get(builder, (ISO[1], ISO[2]))
    a, b = arrays(saved, victim), arrays(saved, other)
    assert {k: v.shape for k, v in a.items()} == {k: v.shape for k, v in b.items()}
    assert len(build(victim.json))  # untouched files are read
    shutil.copyfile(other.npz, victim.npz)
    with pytest.raises(RunFileError) as err:
        build(victim.json)
    assert victim.npz in str(err.value) and "--forcerun" in str(err.value)


# --- the figure registry drives the tables ------------------------------------------------------------


def test_registry_names_the_table_builders_arguments_and_functions():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert registry.FIGURES
    for stem, fig in registry.FIGURES.items():
        build = registry.resolve(fig.table)
        params = inspect.signature(build).parameters
        assert all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params.values()), stem
        inputs, values = fig.inputs(config), fig.params(config)
        assert not set(inputs) & set(values), stem
        assert set(params) == set(inputs) | set(values), stem
        assert callable(registry.resolve(fig.plot)), stem
        assert fig.claims, stem
        for name, key in fig.claims:
            fn = registry.resolve(name)
            assert len(inspect.signature(fn).parameters) == 2, stem
            tol = registry.config_section(config, key)
            assert tol is None or isinstance(tol, dict), stem


def test_message_passing_table_has_the_learned_decoder_at_its_last_depth(tmp_path):
    """Figure 11's table from a message_passing JSON written as the rule writes it (one ideal encoder, K = 2): the
    unrolled rows at every depth with the encoder's own state evolution, and one learned row, at depth K, with the
    learned decoder's loss and standard error and the state evolution at K."""
    import json

    rec = {
        "sparsity": 0.1, "r": 0.5, "state_evolution": [0.68, 0.40, 0.32],
        "encoders": [{"encoder": "ideal", "d": 64, "n": 32, "seed": 0, "loss": [0.69, 0.43, 0.36],
                      "loss_se": [0.01, 0.01, 0.01], "state_evolution": [0.681, 0.402, 0.323]}],
        "learned": {"encoder": "ideal", "d": 64, "n": 32, "seed": 0, "depth": 2, "loss": 0.35, "loss_se": 0.012,
                    "state_evolution": 0.323},
    }  # fmt: skip
    path = tmp_path / "p0.1_r0.5.json"
    path.write_text(json.dumps(rec))
    table = tables.message_passing_table([path])
    assert list(table[table.kind == "unrolled"].loss) == [0.69, 0.43, 0.36]
    (learned,) = table[table.kind == "learned"].itertuples()
    assert (learned.depth, learned.loss, learned.loss_se, learned.predicted, learned.d) == (2, 0.35, 0.012, 0.323, 64)
    assert list(table[table.kind == "state evolution"].loss) == [0.68, 0.40, 0.32]


def test_table_builders_and_plotters_start_without_torch():
    """A figure's table and plot jobs import their modules without torch (about a second of every such job's
    start): only the builders that use the sparse source's formulas or the Gaussian twin's (signae.sparse,
    signae.universality) import it, inside themselves. A top-level torch import in signae.tables, signae.linalg,
    signae.evaluate or anything else they import makes this fail. The second assertion shows the probe sees torch
    when a builder that needs it has been called."""
    import subprocess
    import sys

    def imports_torch(code: str) -> bool:
        out = subprocess.run(
            [sys.executable, "-c", f"{code}\nimport sys; print('torch' in sys.modules)"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        return out.stdout.strip() == "True"

    assert not imports_torch("import signae.tables, signae.plotting, signae.claims, signae.registry")
    # the check itself sees torch when it is there: the sparse table's builder imports it when called
    assert imports_torch("import signae.tables as t\ntry:\n    t.sparse_table([])\nexcept Exception:\n    pass")
