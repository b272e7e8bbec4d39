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
import re
from dataclasses import dataclass

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
    """Figure 5: trained test losses against the prediction of their variant (mean over seeds); and the
    sample-based trainer on Gaussian samples of each unwhitened variant's twin against the best encoder projected
    GD finds on the twin's exact risk (its risk extrapolated to t -> infinity, eq. (49); water-filling beside):
    does the trainer find the optimum where it is known? The trained-versus-designed gaps are measurements (the
    refinement starts at the designed encoder)."""
    rows = []
    trained = fig5[fig5.kind == "trained"]
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
    pgd = fig5[fig5.series == "Gaussian twin, projected GD"]
    samples = fig5[fig5.series == "Gaussian twin samples, sample-based training"]
    for (dataset, variant, d, r), grp in samples.groupby(["dataset", "variant", "d", "r"]):
        ref = pgd[(pgd.dataset == dataset) & (pgd.variant == variant) & ((pgd.r - r).abs() < 1e-9)]
        if ref.empty:
            continue
        limit = float(ref.loss_extrapolated.mean())
        rows.append(
            _row(
                f"{dataset} {variant}: on Gaussian samples of the same covariance, the sample-based trainer reaches "
                f"the best encoder projected GD finds at d={d}, r={r:.4g} (its risk after {int(ref.steps.iloc[0])} "
                f"steps extrapolated by {100 * float(ref.extrapolation.mean()):.2f}%; water-filling "
                f"{100 * (limit / float(ref.predicted.iloc[0]) - 1):+.2f}% from it)",
                5,
                limit,
                float(grp.loss.mean()),
                tol["twin_samples"],
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


def _mean_se(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean loss over seeds per ``keys``, with the standard error of that mean (from each seed's loss_se) and the
    first predicted value."""
    return df.groupby(keys).agg(
        loss=("loss", "mean"),
        se=("loss_se", lambda s: float(np.sqrt((s**2).sum())) / len(s)),
        predicted=("predicted", "first"),
    )


def sparse_claims(fig7: pd.DataFrame, tol: dict) -> list[dict]:
    """Figure 7 (docs/theory.md eq. (39), eq. (48)), at every p and r of the largest d of the table:

    - the trained encoder's linear decoder, and its posterior-mean denoiser eta, match the ideal encoder's at the
      same d with the same decoder fits (the reference rows; R*(r) and mmse_BG(p, v(r)) are their d -> infinity
      values, shown beside). Tolerance: ``standard_errors`` standard errors of the difference of the two test
      means, plus the finite-size difference: the trained-to-ideal ratio at the smallest d of the table times
      d_min / d (the projections' non-Gaussianity, hence the difference, is O(1 / (p d)); 0 with one d);
    - at p < 1 the posterior-mean denoiser is below R*(r) (one-sided: denoising beats the Gaussian limit);
    - with deep decoders (eq. (42)), at p = 1 the deep decoder reaches R*(r): on Gaussian data the posterior mean
      given the signs of orthogonal projections is linear, so no decoder beats the exact linear decoder of a
      near-orthogonal encoder, and training on fresh samples removes the linear fit's excess. Tolerance: the deep
      loss's standard errors plus the trained-to-ideal difference of the linear decoders at that d.

    The learned denoiser and depth at p < 1 are measurements (no prediction here)."""
    rows = []
    trained = _ints(fig7[fig7.kind == "trained"])
    ideal = _ints(fig7[fig7.kind == "reference"])
    if trained.empty:
        return rows
    z = tol["standard_errors"]
    keys = ["series", "p", "r", "d"]
    t, i = _mean_se(trained[trained.series != "deep"], keys), _mean_se(ideal, keys)
    dims = sorted(int(d) for d in trained.d.unique())
    top, low = dims[-1], dims[0]

    def finite_size(series: str, p: float, r: float, d: int) -> float:
        """|trained / ideal - 1| at the smallest d, scaled to d; 0 where that d is d itself or missing."""
        if low >= d or (series, p, r, low) not in t.index or (series, p, r, low) not in i.index:
            return 0.0
        return abs(t.loc[(series, p, r, low)].loss / i.loc[(series, p, r, low)].loss - 1) * low / d

    what = {
        "linear": ("the linear decoder", "R*(r)"),
        "eta": ("the posterior-mean denoiser", "mmse_BG(p, v(r))"),
    }
    for (series, p, r, d), tr in t.iterrows():
        if d != top or series not in what or (series, p, r, d) not in i.index:
            continue
        rf = i.loc[(series, p, r, d)]
        noise = z * float(np.hypot(tr.se, rf.se)) / rf.loss
        name, limit = what[series]
        rows.append(
            _row(
                f"sparse p={p:g}: {name} of the trained encoder matches the ideal encoder's at d={d}, r={r:g} (same "
                f"decoder fits; {limit} = {rf.predicted:.4f}, the ideal encoder "
                f"{100 * (rf.loss / rf.predicted - 1):+.2f}% from it)",
                7,
                float(rf.loss),
                float(tr.loss),
                noise + finite_size(series, p, r, d),
            )
        )
    for (series, p, r, d), tr in t.iterrows():
        if series == "eta" and d == top and p < 1 and ("linear", p, r, d) in t.index:
            limit = float(t.loc[("linear", p, r, d)].predicted)
            rows.append(
                _row(
                    f"sparse p={p:g}: the posterior-mean denoiser is below R*(r) at d={d}, r={r:g} (one-sided)",
                    7,
                    limit,
                    float(tr.loss),
                    0.0,
                    holds=float(tr.loss) < limit,
                )
            )
    deep = trained[(trained.series == "deep") & (trained.p >= 1)]
    for (p, r, d), dp in _mean_se(deep, ["p", "r", "d"]).iterrows():
        if ("linear", p, r, d) not in t.index or ("linear", p, r, d) not in i.index:
            continue
        limit = float(t.loc[("linear", p, r, d)].predicted)  # R*(r)
        encoder = abs(t.loc[("linear", p, r, d)].loss / i.loc[("linear", p, r, d)].loss - 1)
        rows.append(
            _row(
                f"sparse p={p:g}: the deep decoder reaches R*(r) on Gaussian data at d={d}, r={r:g} (no decoder beats "
                "the exact linear one of an orthogonal encoder)",
                7,
                limit,
                float(dp.loss),
                z * float(dp.se) / limit + encoder,
            )
        )
    return rows


def real_denoiser_claims(fig8: pd.DataFrame, tol: dict) -> list[dict]:
    """Figure 8 (docs/theory.md eq. (50)): on every data set and r, the pixel-domain denoiser's test loss (mean over
    seeds) matches the scalar-channel MMSE of the training split's pixel values in Gaussian noise at the level the
    linear decoder leaves. Tolerance: ``standard_errors`` standard errors of the test mean (the prediction and the
    257-knot fit come from tens of millions of training pixels: their own error is far smaller). That the
    denoiser lowers the linear decoder's loss is a measurement (its function class contains the identity)."""
    rows = []
    den = fig8[fig8.series == "denoised"]
    for (dataset, r), grp in _mean_se(den, ["dataset", "r"]).iterrows():
        rows.append(
            _row(
                f"{dataset}: the pixel-domain denoiser reaches the scalar-channel MMSE of the training pixels at the "
                f"linear decoder's noise level, r={r:.3g}",
                8,
                float(grp.predicted),
                float(grp.loss),
                tol["standard_errors"] * float(grp.se) / float(grp.predicted),
            )
        )
    return rows


def structure_claims(fig9: pd.DataFrame, tol: dict | None = None) -> list[dict]:
    """Figure 9 (docs/theory.md eq. (47)), per data set and r, encoders trained from the same Gaussian start on
    each data (mean over seeds): on the images the trained loss is below the water-filling prediction
    (one-sided), and the component shuffle, which keeps each principal component's distribution and removes
    their dependence, takes away part of that gain: the trained loss relative to water-filling is higher on the
    shuffled images (one-sided). An untrained or designed encoder sits at water-filling and fails both."""
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
                f"{dataset}: encoders trained from a Gaussian start beat the water-filling prediction on the images at"
                f" r={r:.4g} (one-sided)",
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


def phase_claims(fig10: pd.DataFrame, tol: dict) -> list[dict]:
    """Figure 10 (docs/theory.md eq. (51) to eq. (54)), per d and r of the table:

    - at every p, the trained loss (mean over runs) is no worse than the better of the two candidates at the same d
      with the same decoder fit (one-sided: a trained encoder may beat both), within ``standard_errors`` standard
      errors of the difference;
    - at every p, the rows take the better candidate's shape: their mean concentration sum_j bbar_ij^4 is on the
      candidate's side of 1/2 (halfway between a random direction's 3/(d+2) and an axis' 1);
    - the measured crossing, between the largest p whose rows stay delocalised and the smallest whose rows are
      localised, brackets p*(n) (eq. (54)): the grid's resolution is the tolerance;
    - the identity candidate's measured loss is its closed form (eq. (52)) times the decoder fit's 1 + n/(N - n),
      within the standard errors and a tenth of that excess (n/(N - n) is exact for Gaussian features only)."""
    rows = []
    z = tol["standard_errors"]
    runs, cands = _ints(fig10[fig10.kind == "trained"]), _ints(fig10[fig10.kind == "candidate"])
    for (d, r), grp in runs.groupby(["d", "r"]):
        crit = float(grp.critical.iloc[0])
        here = cands[(cands.d == d) & ((cands.r - r).abs() < 1e-9)]
        shapes = []
        for p, g in grp.groupby("p"):
            c = here[(here.p - p).abs() < 1e-12].set_index("init")
            if not {"rotation", "identity"} <= set(c.index):
                continue
            better = str(c.loss.idxmin())
            ref = c.loc[better]
            mean = float(g.loss.mean())
            se = float(np.sqrt((g.loss_se**2).sum())) / len(g)
            allowed = z * float(np.hypot(se, ref.loss_se)) / float(ref.loss)
            gap = mean / float(ref.loss) - 1
            rows.append(
                _row(
                    f"phase d={d}, r={r:g}, p={p:g}: the trained loss is no worse than the better candidate, the "
                    f"{better} (one-sided; {len(g)} runs)",
                    10,
                    float(ref.loss),
                    mean,
                    allowed,
                    gap,
                    gap <= allowed,
                )
            )
            conc, target = float(g.concentration.mean()), float(ref.concentration)
            localised = conc > 0.5
            rows.append(
                _row(
                    f"phase d={d}, r={r:g}, p={p:g}: the rows take the {better}'s shape (mean concentration "
                    f"{target:.3f}; 1/2 divides the shapes)",
                    10,
                    target,
                    conc,
                    abs(0.5 - target),
                    conc - target,
                    localised == (better == "identity"),
                )
            )
            shapes.append((float(p), localised))
        if not shapes:
            continue
        localised = [p for p, loc in shapes if loc]
        if localised:
            first = min(localised)
            last = max([p for p, _ in shapes if p < first], default=0.0)
            rows.append(
                _row(
                    f"phase d={d}, r={r:g}: the measured crossing (rows delocalised at p={last:g}, localised from "
                    f"p={first:g}) brackets p*(n) = {crit:.3f}",
                    10,
                    crit,
                    (first + last) / 2,
                    (first - last) / 2,
                    (first + last) / 2 - crit,
                    last <= crit <= first,
                )
            )
        else:
            top = max(p for p, _ in shapes)
            rows.append(
                _row(
                    f"phase d={d}, r={r:g}: the measured crossing brackets p*(n) = {crit:.3f} (no run localised up "
                    f"to p={top:g})",
                    10,
                    crit,
                    top,
                    0.0,
                    top - crit,
                    False,
                )
            )
    for (d, r, p), c in cands[cands.init == "identity"].groupby(["d", "r", "p"]):
        row = c.iloc[0]
        expected = float(row.predicted) * (1 + float(row.fit_excess))
        allowed = z * float(row.loss_se) / expected + 0.1 * float(row.fit_excess)
        rows.append(
            _row(
                f"phase d={d}, r={r:g}, p={p:g}: the identity's measured loss is its closed form with the decoder "
                "fit's excess",
                10,
                expected,
                float(row.loss),
                allowed,
            )
        )
    return rows


def message_passing_claims(fig11: pd.DataFrame, tol: dict) -> list[dict]:
    """Figure 11 (docs/theory.md eq. (55), eq. (56)), per p and r, the ideal encoder, at the largest d of the table:

    - after K linear steps the unrolled decoder's loss matches the state evolution of its spectrum, within
      ``standard_errors`` standard errors plus the finite-size gap measured at the smallest d, scaled by d_min / d;
    - at p < 1 that gap is smaller at the largest d than at the smallest (one-sided, within the standard errors);
    - at p < 1 depth orders the losses: K steps no worse than one denoiser, one denoiser no worse than the first
      linear step (one-sided, within the standard errors; at p = 1 the posterior mean is linear and all are equal);
    - at p = 1 the learned decoder (eq. (57)) is not below the state evolution, which there is the Bayes risk
      1 - (2/pi) n/d of the ideal encoder at every d, not only as d -> infinity (eq. (56)): no decoder beats it
      (one-sided, within the standard errors of its test mean).

    The trained encoders' rows, and the learned decoder at p < 1 (the state evolution is a d -> infinity value
    there, and the finite-d optimum is not known), are measurements."""
    rows = []
    z = tol["standard_errors"]
    ideal = _ints(fig11[(fig11.kind == "unrolled") & (fig11.encoder == "ideal")])
    for (p, r), grp in ideal.groupby(["p", "r"]):
        K = int(grp.depth.max())
        dims = sorted(int(d) for d in grp.d.unique())
        top, low = dims[-1], dims[0]
        at = grp.set_index(["d", "depth"])

        def gap(d: int, at=at, K=K) -> float:
            row = at.loc[(d, K)]
            return float(row.loss / row.predicted - 1)

        last, one, linear = at.loc[(top, K)], at.loc[(top, 1)], at.loc[(top, 0)]
        allowance = abs(gap(low)) * low / top if low < top else 0.0
        rows.append(
            _row(
                f"message passing p={p:g}, r={r:g}: {K} unrolled steps reach the state evolution at d={top} (ideal "
                "encoder)",
                11,
                float(last.predicted),
                float(last.loss),
                z * float(last.loss_se) / float(last.predicted) + allowance,
            )
        )
        if p < 1 and low < top:
            noise = z * float(np.hypot(last.loss_se, at.loc[(low, K)].loss_se)) / float(last.predicted)
            rows.append(
                _row(
                    f"message passing p={p:g}, r={r:g}: the gap to the state evolution falls from d={low} to d={top} "
                    f"({100 * gap(low):+.2f}% to {100 * gap(top):+.2f}%; one-sided)",
                    11,
                    gap(low),
                    gap(top),
                    noise,
                    gap(top) - gap(low),
                    gap(top) <= gap(low) + noise,
                )
            )
        pairs = (
            (last, one, f"{K} steps are no worse than one denoiser"),
            (one, linear, "one denoiser is no worse than the first linear step"),
        )
        for deeper, shallower, what in pairs if p < 1 else ():  # at p = 1 the posterior mean is linear: all equal
            diff = float(deeper.loss / shallower.loss - 1)
            noise = z * float(np.hypot(deeper.loss_se, shallower.loss_se)) / float(shallower.loss)
            rows.append(
                _row(
                    f"message passing p={p:g}, r={r:g}: {what} at d={top} (one-sided)",
                    11,
                    float(shallower.loss),
                    float(deeper.loss),
                    noise,
                    diff,
                    diff <= noise,
                )
            )
    for row in _ints(fig11[(fig11.kind == "learned") & (fig11.p >= 1)]).itertuples():
        diff = float(row.loss / row.predicted - 1)
        noise = z * float(row.loss_se) / float(row.predicted)
        rows.append(
            _row(
                f"message passing p={row.p:g}, r={row.r:g}: learned precisions do not beat the Bayes risk at "
                f"d={row.d} (one-sided)",
                11,
                float(row.predicted),
                float(row.loss),
                noise,
                diff,
                diff >= -noise,
            )
        )
    return rows


# --- the claim families (docs/claims.md is generated from them: python -m signae.docs docs/claims.md --claims) ---


@dataclass(frozen=True)
class Family:
    """One kind of claim: every row of the claims table whose text matches ``match`` belongs to it.

    prediction: what the reproduced value is compared with; tolerance: the config key(s) and the argument for
    the value; fails: a plausible wrong result that makes it fail; test: the test (file::name) that feeds the
    claims function such a table and shows the claim failing."""

    name: str
    figure: int
    function: str
    match: str
    prediction: str
    tolerance: str
    fails: str
    test: str


FAMILIES = (
    Family(
        "limit",
        1,
        "limit_claims",
        r"^(pgd|sample) reaches R\*\(r\)",
        "R*(r) (eq. (9)), the mean over seeds of each trainer's final exact risk (projected GD) or test loss "
        "(sample-based training); at r <= 1 no seed may be below it",
        "`claims.limit_pgd` 1% and `claims.limit_sample` 3% at d_ref = 256, times 256/d below it: the finite-d "
        "excess of the optimum is O(1/d) (eq. (35)); the sample-based trainer adds its decoder fit's "
        "n/(N - n) = 1/199 and its 60 steps' residual; `claims.below_limit` 1e-6 (absolute) is float64 rounding",
        "a trainer that stops early or an untrained encoder (loss above R*(r) by more than the tolerance); a value "
        "below R*(r) at r <= 1, which the theory forbids",
        "tests/test_claims.py::test_limit_claim_fails_just_above_tolerance",
    ),
    Family(
        "untrained",
        1,
        "limit_claims",
        r"^untrained Gaussian encoder",
        "the Marchenko-Pastur risk of an untrained Gaussian encoder (eq. (15))",
        "`claims.untrained` 1% at d_ref, times 256/d below: O(1/d) finite-size fluctuations of the spectrum",
        "a simulated encoder that is not Gaussian, or the wrong r",
        "tests/test_claims.py::test_untrained_claim_against_the_marchenko_pastur_prediction",
    ),
    Family(
        "dynamics",
        2,
        "dynamics_claims",
        r"converges to R\*\(r\)",
        "R*(r) (eq. (9)), the last point of every training curve",
        "`claims.dynamics` 1% at d_ref, times 256/d below (eq. (35))",
        "a curve that stops before converging",
        "tests/test_claims.py::test_dynamics_claim_fails_just_above_tolerance_and_scales_below_d_ref",
    ),
    Family(
        "spectrum",
        3,
        "features_claims",
        r"eigenvalues of Bbar",
        "a flat frame spectrum (eq. (11)): the eigenvalues of Bbar Bbar^T at 1 (r <= 1) or of Bbar^T Bbar at r "
        "(r > 1); the farthest eigenvalue is compared",
        "`claims.spectrum_below_1` 1% and `claims.spectrum_above_1` 5% on the farthest of the eigenvalues: the "
        "risk is flat to second order around the optimum's spectrum, so an eigenvalue ends about the square root of "
        "the risk's relative gap from its target (sqrt(0.1%) = 3%); at r <= 1 the target, orthonormal rows, is the "
        "one the unit-row projection keeps closest",
        "an untrained Gaussian encoder (Marchenko-Pastur spread)",
        "tests/test_claims.py::test_spectrum_claim_compares_the_farthest_eigenvalue",
    ),
    Family(
        "decoder scale",
        3,
        "features_claims",
        r"decoder scale equals beta",
        "beta(r) (eq. (10)), the scale of the learned weight-tied decoder",
        "`claims.decoder_scale` 1%: as the risk's, O(1/d) at d = 256",
        "a decoder left at its initial scale",
        "tests/test_claims.py::test_decoder_scale_claim",
    ),
    Family(
        "alignment",
        3,
        "features_claims",
        r"look like a random rotation",
        "3d/(d+2), the mean d * IPR of the rows of a random rotation (eq. (12)); axis-aligned rows give d",
        "`claims.alignment` 10%: the rows' d * IPR fluctuates by O(1/sqrt(d)) per row around 3",
        "rows aligned with the coordinate axes",
        "tests/test_claims.py::test_alignment_claim_is_the_mean_over_rows",
    ),
    Family(
        "covariance",
        4,
        "covariance_claims",
        r"spectrum matches water-filling",
        "the water-filling risk of the spectrum (eq. (26), eq. (27))",
        "`claims.covariance` 2% (projected GD) and `claims.covariance_sample` 3% (sample-based trainer, plus its "
        "decoder fit) at d_ref, times 256/d below (eq. (35))",
        "an encoder with the isotropic allocation (the R*(r) encoder on an anisotropic spectrum)",
        "tests/test_claims.py::test_covariance_claim",
    ),
    Family(
        "allocation",
        4,
        "allocation_claims",
        r"learned allocation on the",
        "the water-filling allocation (eq. (27)), by the misallocated fraction of the budget (eq. (36))",
        "`claims.allocation` 10% of n at d_ref, times 256/d below: the learned allocation's block averages "
        "fluctuate by O(1/sqrt(block size))",
        "an allocation proportional to the eigenvalues, or uniform",
        "tests/test_claims.py::test_allocation_claim_fails_just_above_tolerance_and_scales_below_d_ref",
    ),
    Family(
        "universality",
        5,
        "universality_claims",
        r"trained test loss matches",
        "the prediction of the variant (eq. (30)): water-filling on the data's own spectrum (unwhitened), R*(r) "
        "(whitened), mean over seeds",
        "`realdata.claims.unwhitened_low_r` 5% (r <= 1/2), `unwhitened_high_r` 10%, `whitened` 10%: how close "
        "counts as Gaussian universality, the target this reproduction sets itself; a larger gap is reported as a "
        "departure",
        "an encoder that learned nothing (the PCA or untrained loss), or one trained on another data set",
        "tests/test_claims.py::test_universality_claim_fails_for_an_untrained_encoder",
    ),
    Family(
        "trainer on the twin",
        5,
        "universality_claims",
        r"the sample-based trainer reaches the best encoder",
        "the best encoder projected GD finds on the twin's exact risk: its final risk extrapolated to t -> infinity "
        "from its last fifth of steps (eq. (49)); water-filling beside",
        "`realdata.claims.twin_samples` 5%: the allowance the same trainer has on the images (unwhitened_low_r); "
        "its 60 steps of batch 4096 leave gradient noise in the slowest allocation modes (docs/findings.md)",
        "a trainer that never moved from its Gaussian start",
        "tests/test_claims.py::test_twin_trainer_claim_fails_for_a_trainer_that_never_moved",
    ),
    Family(
        "reconstructions",
        6,
        "reconstruction_claims",
        r"pixel MSE of the shown reconstructions falls",
        "more bits per coordinate give a smaller pixel error on the images shown (one-sided)",
        "0: a direction, from the theory's monotone risk in r (eq. (9), eq. (27))",
        "reconstructions swapped between rates",
        "tests/test_claims.py::test_reconstruction_error_rising_with_r_fails",
    ),
    Family(
        "sparse, linear decoder",
        7,
        "sparse_claims",
        r"the linear decoder of the trained encoder matches",
        "the ideal encoder's loss at the same d with the same decoder fit (eq. (48)); R*(r) beside",
        "`sparse.claims.standard_errors` 3 standard errors of the difference of the two test means, plus the "
        "trained-to-ideal difference at the smallest d times d_min/d (it is O(1/(p d)): the projections' excess "
        "kurtosis)",
        "an untrained encoder; R*(r) taken as the reference at finite d (the ideal encoder is 1-9% above it at d=512)",
        "tests/test_sparse.py::test_sparse_linear_claim_fails_for_an_untrained_encoder_and_for_the_asymptotic_reference",
    ),
    Family(
        "sparse, posterior-mean denoiser",
        7,
        "sparse_claims",
        r"the posterior-mean denoiser of the trained encoder",
        "the ideal encoder's posterior-mean denoiser loss at the same d with the same decoder fit (eq. (48)); "
        "mmse_BG(p, v(r)) beside (eq. (39))",
        "as the linear decoder's",
        "the identity as denoiser (the linear decoder's loss)",
        "tests/test_sparse.py::test_sparse_denoiser_claims_fail_for_the_identity_denoiser",
    ),
    Family(
        "sparse, denoising beats the limit",
        7,
        "sparse_claims",
        r"the posterior-mean denoiser is below R\*\(r\)",
        "R*(r), which the posterior-mean denoiser must beat at p < 1 (one-sided)",
        "0: a direction (mmse_BG(p, v(r)) < R*(r) for every p < 1, eq. (39))",
        "the identity as denoiser",
        "tests/test_sparse.py::test_sparse_denoiser_claims_fail_for_the_identity_denoiser",
    ),
    Family(
        "sparse, depth on Gaussian data",
        7,
        "sparse_claims",
        r"the deep decoder reaches R\*\(r\)",
        "R*(r) at p = 1: on Gaussian data the posterior mean given the signs of orthogonal projections is linear, so "
        "no decoder beats the exact linear one; training on fresh samples removes the linear fit's excess",
        "`sparse.claims.standard_errors` standard errors of the deep decoder's test mean, plus the trained-to-ideal "
        "difference of the linear decoders at that d",
        "a deep decoder left at its start (the learned denoiser, about n/(N - n) = 1% above R*(r))",
        "tests/test_sparse.py::test_sparse_depth_claim_fails_for_a_deep_decoder_left_at_its_start",
    ),
    Family(
        "pixel-domain denoiser",
        8,
        "real_denoiser_claims",
        r"pixel-domain denoiser reaches the scalar-channel",
        "the MMSE of the training split's pooled pixel values observed in Gaussian noise at the level the linear "
        "decoder leaves (eq. (50))",
        "`realdata.claims.standard_errors` 3 standard errors of the test mean over test images (the prediction and "
        "the 257-knot fit come from tens of millions of pixels)",
        "the identity as denoiser (the linear decoder's loss)",
        "tests/test_claims.py::test_real_denoiser_claim_fails_for_the_identity_denoiser",
    ),
    Family(
        "structure, gain",
        9,
        "structure_claims",
        r"beat the water-filling prediction on the images",
        "water-filling (eq. (27)), which trained encoders must beat on the images (one-sided)",
        "0: a direction",
        "an untrained or designed encoder (at water-filling)",
        "tests/test_claims.py::test_structure_claims_hold_when_the_shuffle_removes_the_gain_and_fail_otherwise",
    ),
    Family(
        "structure, shuffle",
        9,
        "structure_claims",
        r"shuffling the principal components",
        "the images' trained loss relative to water-filling, which the component shuffle must raise (one-sided, "
        "eq. (47))",
        "0: a direction",
        "a shuffle that keeps the components' dependence, or the designed encoder on both",
        "tests/test_claims.py::test_structure_claims_hold_when_the_shuffle_removes_the_gain_and_fail_otherwise",
    ),
    Family(
        "phase, loss",
        10,
        "phase_claims",
        r"the trained loss is no worse than the better candidate",
        "the better of the two candidates at the same d with the same decoder fit (eq. (48), eq. (54)): a random "
        "rotation or the identity (one-sided: a trained encoder may beat both)",
        "`phase.claims.standard_errors` 3 standard errors of the difference of the two test means",
        "a trainer that never leaves its start (an untrained encoder), or one stuck at the worse shape",
        "tests/test_claims.py::test_phase_claims_fail_for_a_trainer_that_never_leaves_its_start",
    ),
    Family(
        "phase, shape",
        10,
        "phase_claims",
        r"the rows take the",
        "the better candidate's shape: the rows' mean concentration on its side of 1/2 (eq. (54))",
        "1/2: halfway between a random direction's 3/(d + 2) and an axis' 1",
        "rows that stay delocalised where the identity is better, or localise where the rotation is",
        "tests/test_claims.py::test_phase_claims_fail_for_a_trainer_that_never_leaves_its_start",
    ),
    Family(
        "phase, crossing",
        10,
        "phase_claims",
        r"the measured crossing",
        "p*(n) of eq. (54), between the largest p of the grid whose rows stay delocalised and the smallest whose "
        "rows are localised",
        "the grid's resolution: half the interval between the two p",
        "a crossing at another p (the sparsity of the wrong law, or the wrong n)",
        "tests/test_claims.py::test_phase_crossing_claim_fails_when_the_switch_is_elsewhere",
    ),
    Family(
        "phase, identity candidate",
        10,
        "phase_claims",
        r"the identity's measured loss is its closed form",
        "the closed form of eq. (52) times the decoder fit's 1 + n/(N - n)",
        "`phase.claims.standard_errors` standard errors of the measured loss, plus a tenth of n/(N - n) (exact for "
        "Gaussian features only)",
        "the closed form of the other law, or of the other sign convention (eq. (53))",
        "tests/test_claims.py::test_phase_identity_candidate_claim_fails_for_the_other_law",
    ),
    Family(
        "message passing, state evolution",
        11,
        "message_passing_claims",
        r"unrolled steps reach the state evolution",
        "the state evolution of GVAMP for the encoder's spectrum after K linear steps (eq. (55), eq. (56))",
        "`sparse.claims.standard_errors` standard errors of the test mean, plus the gap to the state evolution "
        "measured at the smallest d, scaled by d_min/d (finite-size corrections)",
        "a decoder stopped after one denoiser (its loss stays at mmse_BG(p, v(r)), above the state evolution at "
        "K steps), or a state evolution of the wrong spectrum",
        "tests/test_claims.py::test_message_passing_claims_fail_for_a_decoder_that_stops_after_one_step",
    ),
    Family(
        "message passing, finite size",
        11,
        "message_passing_claims",
        r"the gap to the state evolution falls",
        "the gap at the smallest d: the one at the largest d must be smaller (one-sided; p < 1)",
        "`sparse.claims.standard_errors` standard errors of the difference",
        "a gap that does not shrink with d (a decoder or a prediction wrong in the limit)",
        "tests/test_claims.py::test_message_passing_claims_fail_for_a_decoder_that_stops_after_one_step",
    ),
    Family(
        "message passing, depth",
        11,
        "message_passing_claims",
        r"message passing .* (is|are) no worse than",
        "the shallower decoder's loss: K steps <= one denoiser <= the first linear step (one-sided)",
        "`sparse.claims.standard_errors` standard errors of the difference",
        "iterations that diverge or damage the estimate",
        "tests/test_claims.py::test_message_passing_depth_claim_fails_for_iterations_that_damage_the_estimate",
    ),
    Family(
        "message passing, learned",
        11,
        "message_passing_claims",
        r"learned precisions do not beat the Bayes risk",
        "the Bayes risk 1 - (2/pi) n/d of the ideal encoder on Gaussian data, exact at every d (eq. (56)): the "
        "learned decoder's loss must not be below it (one-sided; p = 1)",
        "`sparse.claims.standard_errors` standard errors of the learned decoder's test mean",
        "a loss measured on the samples the decoder was trained on, or a decoder that sees more than the bits",
        "tests/test_claims.py::test_learned_message_passing_claim_fails_below_the_bayes_risk",
    ),
)


def family_of(claim: str) -> Family:
    """The family of one claim's text; a claim of no family, or of several, is a defect of this registry."""
    found = [f for f in FAMILIES if re.search(f.match, claim)]
    if len(found) != 1:
        raise LookupError(f"claim {claim!r} matches {len(found)} families: {[f.name for f in found]}")
    return found[0]
