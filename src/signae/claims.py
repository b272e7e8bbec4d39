"""The claims table: for each claim, predicted, reproduced, gap, tolerance, held.

Built only from the figure tables of :mod:`signae.tables`, which carry the theory's value of every
point in their ``predicted`` column: nothing here evaluates a formula. Gaps are relative,
reproduced / predicted - 1, except where a claim says otherwise. Finite-size excess over the
d -> infinity limits is O(1/d), so below ``d_ref`` a tolerance is scaled by d_ref / d
(docs/theory.md eq. (35)). Every claims function has the signature ``(table, tol) -> rows``;
the figure registry (signae.registry) says which ones check which figure.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

COLUMNS = ["claim", "figure", "predicted", "reproduced", "gap", "tolerance", "holds"]


def scaled(tol: float, d: int, d_ref: int) -> float:
    """The tolerance at dimension d: tol, times d_ref / d below d_ref (docs/theory.md eq. (35))."""
    return tol * max(1.0, d_ref / d)


def _ints(df: pd.DataFrame) -> pd.DataFrame:
    """d and seed as integers (CSV round trips turn columns with gaps into floats)."""
    df = df.copy()
    for col in ("d", "seed"):
        if col in df:
            df[col] = df[col].astype("Int64")
    return df


def _row(claim, figure, predicted, reproduced, tolerance, gap=None, holds=None):
    if gap is None:
        gap = reproduced / predicted - 1
    if holds is None:
        holds = abs(gap) <= tolerance
    return {
        "claim": claim,
        "figure": figure,
        "predicted": predicted,
        "reproduced": reproduced,
        "gap": gap,
        "tolerance": tolerance,
        "holds": bool(holds),
    }


def limit_claims(fig1: pd.DataFrame, tol: dict) -> list[dict]:
    """Every figure-1 marker (mean over seeds) against R*(r); r <= 1 values never below it."""
    rows = []
    trained = fig1[fig1.kind == "trained"]
    for (trainer, d, r), grp in trained.groupby(["series", "d", "r"]):
        pred = float(grp.predicted.iloc[0])
        base = tol["limit_pgd"] if trainer == "pgd" else tol["limit_sample"]
        t = scaled(base, int(d), tol["d_ref"])
        mean = float(grp.loss.mean())
        gap = mean / pred - 1
        not_below = r > 1 or float(grp.loss.min()) >= pred - tol["below_limit"]
        rows.append(
            _row(
                f"{trainer} reaches R*(r) at d={d}, r={r:g} ({len(grp)} seeds)",
                1,
                pred,
                mean,
                t,
                gap,
                abs(gap) <= t and not_below,
            )
        )
    sim = fig1[fig1.kind == "simulated"]
    for (d, r), grp in sim.groupby(["d", "r"]):
        pred = float(grp.predicted.iloc[0])
        rows.append(
            _row(
                f"untrained Gaussian encoder matches the Marchenko-Pastur risk at d={d}, r={r:g}",
                1,
                pred,
                float(grp.loss.mean()),
                scaled(tol["untrained"], int(d), tol["d_ref"]),
            )
        )
    return rows


def dynamics_claims(fig2: pd.DataFrame, tol: dict) -> list[dict]:
    """The last point of every figure-2 curve against R*(r)."""
    rows = []
    for (trainer, d, r, seed), grp in fig2.groupby(["series", "d", "r", "seed"]):
        last = grp.sort_values("step").iloc[-1]
        rows.append(
            _row(
                f"{trainer} converges to R*(r) at d={d}, r={r:g}, seed {seed} ({int(last.step)} steps)",
                2,
                float(last.limit),
                float(last.loss),
                scaled(tol["dynamics"], int(d), tol["d_ref"]),
            )
        )
    return rows


def features_claims(fig3: pd.DataFrame, tol: dict) -> list[dict]:
    """Flat learned spectrum, decoder scale beta(r), rows not aligned with the coordinate axes."""
    rows = []
    spec = fig3[(fig3.panel == "spectrum") & (fig3.series == "trained")]
    for (trainer, d, r, seed), grp in spec.groupby(["trainer", "d", "r", "seed"]):
        target = float(grp.predicted.iloc[0])
        worst = float(grp.value.iloc[np.argmax(np.abs(grp.value.to_numpy() / target - 1))])
        which = "Bbar^T Bbar within 5% of r" if r > 1 else "Bbar Bbar^T at 1"
        t = tol["spectrum_above_1"] if r > 1 else tol["spectrum_below_1"]
        rows.append(
            _row(
                f"{trainer}: eigenvalues of {which} at d={d}, r={r:g}, seed {seed} (farthest shown)",
                3,
                target,
                worst,
                t,
            )
        )
    for (trainer, d, r, seed), grp in fig3[fig3.panel == "decoder_scale"].groupby(["trainer", "d", "r", "seed"]):
        rows.append(
            _row(
                f"{trainer}: learned decoder scale equals beta(r) at d={d}, r={r:g}, seed {seed}",
                3,
                float(grp.predicted.iloc[0]),
                float(grp.value.iloc[0]),
                tol["decoder_scale"],
            )
        )
    for (trainer, d, r, seed), grp in fig3[fig3.panel == "alignment"].groupby(["trainer", "d", "r", "seed"]):
        rows.append(
            _row(
                f"{trainer}: learned rows look like a random rotation (mean d*IPR ~ 3, axis-aligned = d)"
                f" at d={d}, r={r:g}, seed {seed}",
                3,
                float(grp.predicted.iloc[0]),
                float(grp.value.mean()),
                tol["alignment"],
            )
        )
    return rows


def covariance_claims(fig4: pd.DataFrame, tol: dict) -> list[dict]:
    """Every trained figure-4 loss against the water-filling prediction (projected GD, and the sample-based
    trainer with its own tolerance)."""
    rows = []
    trained = fig4[(fig4.panel == "loss") & fig4.predicted.notna()]
    for (spectrum, trainer, d, r), grp in trained.groupby(["spectrum", "series", "d", "r"]):
        rows.append(
            _row(
                f"{trainer} on the {spectrum} spectrum matches water-filling at d={d}, r={r:g} ({len(grp)} seeds)",
                4,
                float(grp.predicted.iloc[0]),
                float(grp.loss.mean()),
                scaled(tol["covariance_sample" if trainer == "sample" else "covariance"], int(d), tol["d_ref"]),
            )
        )
    return rows


def allocation_claims(fig4: pd.DataFrame, tol: dict) -> list[dict]:
    """The learned allocation m_i against water-filling (docs/theory.md eq. (36)): the fraction of the
    budget n placed differently, sum_i |m_learned - m_predicted| / sum_i m_predicted (0 is a perfect match)."""
    rows = []
    alloc = fig4[fig4.panel == "allocation"]
    for (spectrum, d, r, seed), grp in alloc.groupby(["spectrum", "d", "r", "seed"]):
        pred = grp[grp.series == "predicted"].sort_values("index").value.to_numpy()
        learned = grp[grp.series == "learned"].sort_values("index").value.to_numpy()
        dist = float(np.abs(learned - pred).sum() / pred.sum())
        rows.append(
            _row(
                f"learned allocation on the {spectrum} spectrum is the water-filling one at d={d}, r={r:g},"
                f" seed {seed} (misallocated fraction of n)",
                4,
                0.0,
                dist,
                scaled(tol["allocation"], int(d), tol["d_ref"]),
                gap=dist,
            )
        )
    return rows


def claims_table(tables: dict, checks: dict) -> pd.DataFrame:
    """All claims, in the order of ``checks``: {figure: [(claims function, tolerances), ...]};
    tables: {figure: its table}. Figures without a table are skipped. The figure column is the number
    the checks are filed under (the figure registry's), whatever the function wrote."""
    rows = []
    for figure, fns in checks.items():
        if figure in tables:
            for fn, tol in fns:
                rows += [{**row, "figure": figure} for row in fn(_ints(tables[figure]), tol)]
    return pd.DataFrame(rows, columns=COLUMNS)


class NonFiniteClaim(ValueError):
    """A claim whose predicted, reproduced or gap number is missing or not finite: an input is broken."""


def check_claims(table: pd.DataFrame, stems: dict) -> None:
    """Refuse a claims table with a claim whose predicted, reproduced or gap number is NaN or infinite (a column
    of a figure table other than the plotted one that :func:`signae.registry.check_finite` checks), naming the
    claim and the figure table it came from (``stems``: {figure number: table stem}); such a claim would
    otherwise read as failed rather than broken."""
    numbers = table[["predicted", "reproduced", "gap"]].to_numpy(dtype=float)
    bad = ~np.isfinite(numbers).all(axis=1)
    if bad.any():
        row = table[bad].iloc[0]
        raise NonFiniteClaim(
            f"{int(bad.sum())} claim(s) with a non-finite number, e.g. {row.claim!r}: predicted {row.predicted}, "
            f"reproduced {row.reproduced}, gap {row.gap}; a number of "
            f"figures/{stems.get(row.figure, row.figure)}.csv is broken: rerun the rules that made that table's "
            "inputs (snakemake --forcerun) before checking claims"
        )


def universality_claims(fig5: pd.DataFrame, tol: dict) -> list[dict]:
    """Figure 5: trained test losses against the prediction of their variant, and against the designed encoder;
    projected GD on the Gaussian twin against the same prediction (is the formula right for this spectrum?), and
    the sample-based trainer on Gaussian samples of the twin (does the trainer find the optimum where it is
    known?)."""
    rows = []
    trained = fig5[fig5.kind == "trained"]
    designed = fig5[fig5.kind == "designed"]
    for (dataset, variant, d, r), grp in trained.groupby(["dataset", "variant", "d", "r"]):
        pred = float(grp.predicted.iloc[0])
        mean = float(grp.loss.mean())
        if variant == "unwhitened":
            t = tol["unwhitened_low_r"] if r <= 0.5 + 1e-9 else tol["unwhitened_high_r"]
            what = "the water-filling prediction of its own spectrum"
        else:
            t = tol["whitened"]
            what = "R*(r)"
        rows.append(
            _row(
                f"{dataset} {variant}: trained test loss matches {what} at d={d}, r={r:.4g} ({len(grp)} seeds)",
                5,
                pred,
                mean,
                t,
            )
        )
        des = designed[(designed.dataset == dataset) & (designed.variant == variant) & ((designed.r - r).abs() < 1e-9)]
        if len(des):
            ref = float(des.loss.mean())
            gap = mean / ref - 1
            how = (
                "training refined from the designed encoder (early-stopped on validation)"
                if (grp.series == "sample, refined from the designed encoder").all()
                else "training"
            )
            rows.append(
                _row(
                    f"{dataset} {variant}: {how} does at least as well as the designed encoder at"
                    f" d={d}, r={r:.4g} (one-sided)",
                    5,
                    ref,
                    mean,
                    tol["vs_designed"],
                    gap,
                    gap <= tol["vs_designed"],
                )
            )
    twin_checks = (  # (series, what reaches the prediction, tolerance key)
        ("Gaussian twin, projected GD", "on Gaussian data of the same covariance, projected GD reaches", "twin"),
        (
            "Gaussian twin samples, sample-based training",
            "on Gaussian samples of the same covariance, the sample-based trainer reaches",
            "twin_samples",
        ),
    )
    for series, what, key in twin_checks:
        for (dataset, variant, d, r), grp in fig5[fig5.series == series].groupby(["dataset", "variant", "d", "r"]):
            rows.append(
                _row(
                    f"{dataset} {variant}: {what} the water-filling prediction at d={d}, r={r:.4g}",
                    5,
                    float(grp.predicted.iloc[0]),
                    float(grp.loss.mean()),
                    tol[key],
                )
            )
    return rows


def reconstruction_claims(fig6: pd.DataFrame, tol: dict | None = None) -> list[dict]:
    """Figure 6: on the images shown, more bits per coordinate give a smaller pixel error (one-sided)."""
    rows = []
    for dataset, grp in fig6.groupby("dataset"):
        orig = grp[grp.r.isna()].sort_values(["image", "pixel"]).value.to_numpy()
        errors = []
        for r, sub in grp[grp.r.notna()].groupby("r"):
            errors.append((r, float(np.mean((sub.sort_values(["image", "pixel"]).value.to_numpy() - orig) ** 2))))
        for (r0, e0), (r1, e1) in itertools.pairwise(errors):
            gap = e1 / e0 - 1
            rows.append(
                _row(
                    f"{dataset}: pixel MSE of the shown reconstructions falls from r={r0:.3g} to r={r1:.3g}",
                    6,
                    e0,
                    e1,
                    0.0,
                    gap,
                    gap < 0,
                )
            )
    return rows


def sparse_claims(fig7: pd.DataFrame, tol: dict) -> list[dict]:
    """Figure 7 (docs/theory.md eq. (39)), at the largest d of the table: the linear decoder reaches R*(r)
    (p >= linear_min_p, r <= linear_max_r); its gap to R*(r), averaged over r, falls as d grows, at every p;
    the posterior-mean denoiser reaches mmse_BG(p, v(r)) where the Gaussian-noise picture holds
    (denoised_min_p <= p < 1, r <= denoised_max_r) and is strictly below R*(r) at every p < 1 and r; the
    learned coordinate-wise denoiser is below the linear decoder at every p < 1 and r; where the table has
    deep decoders (eq. (42)), each lowers the learned denoiser's loss on its own test samples (one-sided)."""
    rows = []
    trained = _ints(fig7[fig7.kind == "trained"])
    if trained.empty:
        return rows
    top = int(trained.d.max())
    mean = trained.groupby(["series", "p", "r", "d"]).agg(loss=("loss", "mean"), predicted=("predicted", "first"))
    mean = mean.reset_index()
    lin, eta, learned = (mean[mean.series == s].set_index(["p", "r", "d"]) for s in ("linear", "eta", "learned"))
    for (p, r, d), row in lin.iterrows():
        if d == top and p >= tol["linear_min_p"] and r <= tol["linear_max_r"] + 1e-12:
            rows.append(
                _row(
                    f"sparse p={p:g}: linear decoder reaches R*(r) at d={d}, r={r:g}",
                    7,
                    float(row.predicted),
                    float(row.loss),
                    tol["linear"],
                )
            )
    for p, grp in lin.reset_index().groupby("p"):
        gaps = (grp.loss / grp.predicted - 1).groupby(grp.d).mean().sort_index()
        if len(gaps) < 2:
            continue
        falling = bool(np.all(np.diff(gaps.values) < 0))
        rows.append(
            _row(
                f"sparse p={p:g}: the linear decoder's gap to R*(r) falls as d grows "
                f"({', '.join(f'd={d}: {100 * g:+.2f}%' for d, g in gaps.items())}; mean over r)",
                7,
                float(gaps.iloc[0]),
                float(gaps.iloc[-1]),
                0.0,
                gap=float(gaps.iloc[-1] - gaps.iloc[0]),
                holds=falling,
            )
        )
    for (p, r, d), row in eta.iterrows():
        if d != top or p >= 1:
            continue
        if p >= tol["denoised_min_p"] and r <= tol["denoised_max_r"] + 1e-12:
            rows.append(
                _row(
                    f"sparse p={p:g}: the posterior-mean denoiser reaches mmse_BG(p, v(r)) at d={d}, r={r:g}",
                    7,
                    float(row.predicted),
                    float(row.loss),
                    tol["denoised"],
                )
            )
        limit = float(lin.loc[(p, r, d)].predicted)
        rows.append(
            _row(
                f"sparse p={p:g}: the posterior-mean denoiser is below R*(r) at d={d}, r={r:g}",
                7,
                limit,
                float(row.loss),
                0.0,
                holds=float(row.loss) < limit,
            )
        )
        linear = float(lin.loc[(p, r, d)].loss)
        learned_loss = float(learned.loc[(p, r, d)].loss)
        rows.append(
            _row(
                f"sparse p={p:g}: the learned coordinate-wise denoiser is below the linear decoder at d={d}, r={r:g}",
                7,
                linear,
                learned_loss,
                0.0,
                holds=learned_loss < linear,
            )
        )
    deep = trained[trained.series == "deep"]
    if not deep.empty:
        paired = deep.groupby(["p", "r", "d"])[["loss", "paired_learned"]].mean()
        for (p, r, d), row in paired.iterrows():
            gap = row.loss / row.paired_learned - 1
            rows.append(
                _row(
                    f"sparse p={p:g}: one hidden layer lowers the learned denoiser's loss (same samples) at d={d}, "
                    f"r={r:g}",
                    7,
                    float(row.paired_learned),
                    float(row.loss),
                    0.0,
                    gap,
                    gap < 0,
                )
            )
    return rows


def real_denoiser_claims(fig8: pd.DataFrame, tol: dict | None = None) -> list[dict]:
    """Figure 8 (docs/theory.md eq. (43)): on every data set and r, the pixel-domain denoiser fitted on the
    training split lowers the linear decoder's test loss (one-sided, mean over seeds)."""
    rows = []
    losses = fig8[fig8.series.isin(["linear", "denoised"])]
    mean = losses.groupby(["dataset", "r", "series"]).loss.mean().unstack("series")
    for (dataset, r), row in mean.iterrows():
        gap = row.denoised / row.linear - 1
        rows.append(
            _row(
                f"{dataset}: the pixel-domain denoiser lowers the linear decoder's test loss at r={r:.3g}",
                8,
                float(row.linear),
                float(row.denoised),
                0.0,
                gap,
                gap < 0,
            )
        )
    return rows


def structure_claims(fig9: pd.DataFrame, tol: dict | None = None) -> list[dict]:
    """Figure 9 (docs/theory.md eq. (47)), per data set and r, trained encoders (mean over seeds):
    on the images the trained loss is below the water-filling prediction (one-sided), and the component
    shuffle, which keeps each principal component's distribution and removes their dependence, takes
    away part of that gain: the trained loss relative to water-filling is higher on the shuffled images
    (one-sided)."""
    rows = []
    enc = fig9[(fig9.kind == "encoder") & (fig9.encoder == "trained")]
    for (dataset, r), grp in enc.groupby(["dataset", "r"]):
        images, shuffled = grp[grp.data == "images"], grp[grp.data == "shuffled"]
        if not len(images) or not len(shuffled):
            continue
        pred = float(images.predicted.iloc[0])
        gap_images = float((images.loss / images.predicted).mean() - 1)
        gap_shuffled = float((shuffled.loss / shuffled.predicted).mean() - 1)
        rows.append(
            _row(
                f"{dataset}: trained encoders beat the water-filling prediction on the images at r={r:.4g} (one-sided)",
                9,
                pred,
                float(images.loss.mean()),
                0.0,
                gap_images,
                gap_images < 0,
            )
        )
        rows.append(
            _row(
                f"{dataset}: shuffling the principal components independently removes part of the trained"
                f" encoders' gain at r={r:.4g} (loss / water-filling higher on the shuffled images; one-sided)",
                9,
                1 + gap_images,
                1 + gap_shuffled,
                0.0,
                gap_shuffled - gap_images,
                gap_shuffled > gap_images,
            )
        )
    return rows
