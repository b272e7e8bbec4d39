"""The claims table (signae.claims) on small hand-built figure tables.

Every claims function is checked on a case that must hold and on cases that must fail (gap just
above the tolerance, and each one-sided rule), with the gap recomputed here as
reproduced / predicted - 1, and with the tolerances of config/config.yaml. A claims row that always
said "holds" fails this file.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from signae import claims, registry
from signae.tables import REFINED

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "config.yaml").read_text())
TOL = CONFIG["claims"]
REAL_TOL = CONFIG["realdata"]["claims"]
D_REF = TOL["d_ref"]
C = math.pi / 2 - 1


def r_star(r: float) -> float:
    """R*(r) written out (docs/theory.md eq. (9)), independent of signae.theory."""
    return 1 - 2 * r / math.pi if r <= 1 else C / (r + C)


def beta(r: float) -> float:
    """beta(r) written out (docs/theory.md eq. (10))."""
    return math.sqrt(2 / math.pi) if r <= 1 else math.sqrt(math.pi / 2) / (r + C)


def only(rows: list[dict]) -> dict:
    assert len(rows) == 1, rows
    assert set(rows[0]) == set(claims.COLUMNS)
    return rows[0]


# --- scaled -----------------------------------------------------------------------------------------


def test_scaled_grows_below_d_ref_only():
    assert claims.scaled(0.01, 256, 256) == pytest.approx(0.01)
    assert claims.scaled(0.01, 128, 256) == pytest.approx(0.02)
    assert claims.scaled(0.03, 64, 256) == pytest.approx(0.12)
    assert claims.scaled(0.01, 512, 256) == pytest.approx(0.01)  # never tighter above d_ref


# --- figure 1: limit_claims -------------------------------------------------------------------------


def limit_table(losses, r=2.0, d=256, series="pgd", kind="trained"):
    pred = r_star(r)
    return pd.DataFrame(
        [
            {"series": series, "kind": kind, "r": r, "d": d, "seed": s, "loss": loss, "predicted": pred}
            for s, loss in enumerate(losses)
        ]
    )


def with_theory_rows(df):
    """Add theory rows (no d, seed, predicted) that the claims must ignore."""
    theory = pd.DataFrame(
        [
            {"series": "R*(r)", "kind": "theory", "r": r, "d": None, "seed": None, "loss": r_star(r)}
            for r in (0.5, 1.0, 2.0)
        ]
    )
    return pd.concat([theory, df], ignore_index=True).astype({"d": "Int64", "seed": "Int64"})


def test_limit_claim_holds_within_tolerance_with_its_gap():
    pred = r_star(2.0)
    losses = [pred * 1.004, pred * 1.006]
    row = only(claims.limit_claims(with_theory_rows(limit_table(losses)), TOL))
    expected_gap = np.mean(losses) / pred - 1
    assert row["gap"] == pytest.approx(expected_gap, rel=1e-9) and expected_gap == pytest.approx(0.005)
    assert row["predicted"] == pytest.approx(pred) and row["reproduced"] == pytest.approx(np.mean(losses))
    assert row["tolerance"] == pytest.approx(TOL["limit_pgd"])
    assert row["holds"] is True
    assert row["figure"] == 1


@pytest.mark.parametrize("sign", [1, -1])
def test_limit_claim_fails_just_above_tolerance(sign):
    pred = r_star(2.0)  # r > 1: only the two-sided gap applies
    loss = pred * (1 + sign * 1.05 * TOL["limit_pgd"])
    row = only(claims.limit_claims(limit_table([loss]), TOL))
    assert abs(row["gap"]) == pytest.approx(1.05 * TOL["limit_pgd"])
    assert row["holds"] is False


def test_limit_claim_uses_the_sample_tolerance_for_sample_training():
    pred = r_star(2.0)
    loss = pred * (1 + 0.5 * (TOL["limit_pgd"] + TOL["limit_sample"]))  # between the two tolerances
    assert only(claims.limit_claims(limit_table([loss], series="pgd"), TOL))["holds"] is False
    row = only(claims.limit_claims(limit_table([loss], series="sample"), TOL))
    assert row["tolerance"] == pytest.approx(TOL["limit_sample"]) and row["holds"] is True
    loss = pred * (1 + 1.05 * TOL["limit_sample"])
    assert only(claims.limit_claims(limit_table([loss], series="sample"), TOL))["holds"] is False


@pytest.mark.parametrize("r", [0.5, 1.0])
def test_limit_claim_at_r_le_1_fails_below_the_limit_even_with_a_tiny_gap(r):
    pred = r_star(r)
    below = 10 * TOL["below_limit"]
    losses = [pred - below, pred + below]  # mean exactly at R*(r): gap ~ 0
    row = only(claims.limit_claims(limit_table(losses, r=r), TOL))
    assert abs(row["gap"]) < 1e-12
    assert row["holds"] is False
    # within below_limit it holds
    losses = [pred - 0.5 * TOL["below_limit"], pred + 0.5 * TOL["below_limit"]]
    assert only(claims.limit_claims(limit_table(losses, r=r), TOL))["holds"] is True


def test_limit_claim_at_r_above_1_is_exempt_from_the_one_sided_rule():
    pred = r_star(2.0)
    below = 10 * TOL["below_limit"]
    row = only(claims.limit_claims(limit_table([pred - below, pred + below], r=2.0), TOL))
    assert row["holds"] is True


def test_limit_claim_tolerance_scales_below_d_ref():
    pred = r_star(2.0)
    loss = pred * (1 + 1.5 * TOL["limit_pgd"])
    at_ref = only(claims.limit_claims(limit_table([loss], d=D_REF), TOL))
    half = only(claims.limit_claims(limit_table([loss], d=D_REF // 2), TOL))
    assert at_ref["holds"] is False and at_ref["tolerance"] == pytest.approx(TOL["limit_pgd"])
    assert half["holds"] is True and half["tolerance"] == pytest.approx(2 * TOL["limit_pgd"])


def test_untrained_claim_against_the_marchenko_pastur_prediction():
    pred = 0.8  # the table's predicted column is what is compared, whatever its value

    def sim(loss, d):
        return pd.DataFrame(
            [
                {
                    "series": "untrained (simulated)",
                    "kind": "simulated",
                    "r": 0.5,
                    "d": d,
                    "seed": s,
                    "loss": loss + e,
                    "predicted": pred,
                }
                for s, e in enumerate((-1e-4, 1e-4))
            ]
        )

    ok = only(claims.limit_claims(sim(pred * (1 + 0.5 * TOL["untrained"]), D_REF), TOL))
    assert ok["holds"] is True and ok["gap"] == pytest.approx(0.5 * TOL["untrained"])
    loss = pred * (1 + 1.5 * TOL["untrained"])
    bad = only(claims.limit_claims(sim(loss, D_REF), TOL))
    assert bad["holds"] is False and bad["gap"] == pytest.approx(loss / pred - 1)
    assert only(claims.limit_claims(sim(loss, D_REF // 2), TOL))["holds"] is True


# --- figure 2: dynamics_claims ----------------------------------------------------------------------


def dynamics_table(final, r=2.0, d=256, steps=5):
    limit = r_star(r)
    losses = list(np.linspace(1.0, final, steps + 1))
    rows = [
        {"series": "pgd", "r": r, "d": d, "seed": 0, "step": s, "loss": loss, "limit": limit}
        for s, loss in enumerate(losses)
    ]
    return pd.DataFrame(rows[::-1])  # reversed: the claim must take the last step, not the last row


def test_dynamics_claim_reads_the_last_step():
    limit = r_star(2.0)
    final = limit * (1 + 0.5 * TOL["dynamics"])
    row = only(claims.dynamics_claims(dynamics_table(final), TOL))
    assert row["reproduced"] == pytest.approx(final)  # not the loss 1.0 of step 0
    assert row["gap"] == pytest.approx(final / limit - 1)
    assert row["holds"] is True and row["figure"] == 2


def test_dynamics_claim_fails_just_above_tolerance_and_scales_below_d_ref():
    limit = r_star(0.5)
    final = limit * (1 + 1.05 * TOL["dynamics"])
    assert only(claims.dynamics_claims(dynamics_table(final, r=0.5), TOL))["holds"] is False
    final = limit * (1 + 1.5 * TOL["dynamics"])
    assert only(claims.dynamics_claims(dynamics_table(final, r=0.5, d=D_REF), TOL))["holds"] is False
    half = only(claims.dynamics_claims(dynamics_table(final, r=0.5, d=D_REF // 2), TOL))
    assert half["holds"] is True and half["tolerance"] == pytest.approx(2 * TOL["dynamics"])


def test_dynamics_claims_one_row_per_curve():
    df = pd.concat([dynamics_table(r_star(0.5), r=0.5), dynamics_table(r_star(2.0) * 1.5, r=2.0)])
    rows = claims.dynamics_claims(df, TOL)
    assert [r["holds"] for r in rows] == [True, False]


# --- figure 3: features_claims ----------------------------------------------------------------------


def spectrum_table(values, r, d=256, init=(0.1, 5.0)):
    target = r if r > 1 else 1.0
    rows = [
        {
            "panel": "spectrum",
            "series": "trained",
            "trainer": "pgd",
            "r": r,
            "d": d,
            "seed": 0,
            "index": i,
            "value": v,
            "predicted": target,
        }
        for i, v in enumerate(values)
    ]
    rows += [
        {
            "panel": "spectrum",
            "series": "init",
            "trainer": "pgd",
            "r": r,
            "d": d,
            "seed": 0,
            "index": i,
            "value": v,
            "predicted": target,
        }
        for i, v in enumerate(init)
    ]  # a spread init must be ignored
    return pd.DataFrame(rows)


def test_spectrum_claim_compares_the_farthest_eigenvalue():
    r, eps = 2.0, 0.8 * TOL["spectrum_above_1"]
    values = [r * (1 + eps), r, r * (1 - 0.5 * eps)]
    row = only(claims.features_claims(spectrum_table(values, r), TOL))
    assert row["reproduced"] == pytest.approx(r * (1 + eps)) and row["gap"] == pytest.approx(eps)
    assert row["tolerance"] == pytest.approx(TOL["spectrum_above_1"]) and row["holds"] is True
    values = [r, r * (1 - 1.05 * TOL["spectrum_above_1"]), r * (1 + 0.5 * eps)]
    row = only(claims.features_claims(spectrum_table(values, r), TOL))
    assert row["gap"] == pytest.approx(-1.05 * TOL["spectrum_above_1"]) and row["holds"] is False


@pytest.mark.parametrize("r", [0.5, 1.0])
def test_spectrum_claim_at_r_le_1_uses_the_tighter_tolerance(r):
    eps = 0.5 * (TOL["spectrum_below_1"] + TOL["spectrum_above_1"])  # holds above 1, not below
    row = only(claims.features_claims(spectrum_table([1.0, 1 + eps], r), TOL))
    assert row["predicted"] == 1.0 and row["tolerance"] == pytest.approx(TOL["spectrum_below_1"])
    assert row["holds"] is False
    row = only(claims.features_claims(spectrum_table([1.0, 1 + 0.5 * TOL["spectrum_below_1"]], r), TOL))
    assert row["holds"] is True


def test_decoder_scale_claim():
    def table(value, r):
        return pd.DataFrame(
            [
                {
                    "panel": "decoder_scale",
                    "series": "pgd",
                    "trainer": "pgd",
                    "r": r,
                    "d": 256,
                    "seed": 0,
                    "index": 1e-3,
                    "value": value,
                    "predicted": beta(r),
                }
            ]
        )

    for r in (0.5, 2.0):
        value = beta(r) * (1 + 0.5 * TOL["decoder_scale"])
        row = only(claims.features_claims(table(value, r), TOL))
        assert row["gap"] == pytest.approx(value / beta(r) - 1) and row["holds"] is True
        value = beta(r) * (1 - 1.05 * TOL["decoder_scale"])
        assert only(claims.features_claims(table(value, r), TOL))["holds"] is False


def test_alignment_claim_is_the_mean_over_rows():
    d = 256
    pred = 3 * d / (d + 2)

    def table(values):
        return pd.DataFrame(
            [
                {
                    "panel": "alignment",
                    "series": "trained",
                    "trainer": "pgd",
                    "r": 2.0,
                    "d": d,
                    "seed": 0,
                    "index": i,
                    "value": v,
                    "predicted": pred,
                }
                for i, v in enumerate(values)
            ]
        )

    values = [2.5, pred, 3.4]  # single rows off by more than 10%, the mean within
    row = only(claims.features_claims(table(values), TOL))
    assert row["reproduced"] == pytest.approx(np.mean(values))
    assert row["gap"] == pytest.approx(np.mean(values) / pred - 1) and row["holds"] is True
    axis_aligned = [float(d)] * 3  # rows on the coordinate axes: d * IPR = d
    assert only(claims.features_claims(table(axis_aligned), TOL))["holds"] is False
    assert only(claims.features_claims(table([pred * (1 + 1.05 * TOL["alignment"])] * 2), TOL))["holds"] is False


# --- figure 4: covariance_claims, allocation_claims -------------------------------------------------


def covariance_table(losses, pred=0.4, d=256, r=0.5):
    rows = [
        {
            "panel": "loss",
            "series": "water-filling",
            "spectrum": "levels",
            "r": r,
            "d": d,
            "seed": None,
            "loss": pred * 0.5,
        }
    ]  # a theory row (no predicted): ignored
    rows += [
        {
            "panel": "loss",
            "series": "pgd",
            "spectrum": "levels",
            "r": r,
            "d": d,
            "seed": s,
            "loss": loss,
            "predicted": pred,
        }
        for s, loss in enumerate(losses)
    ]
    return pd.DataFrame(rows)


def test_covariance_claim():
    pred = 0.4
    losses = [pred * 1.005, pred * 1.015]
    row = only(claims.covariance_claims(covariance_table(losses, pred), TOL))
    assert row["gap"] == pytest.approx(np.mean(losses) / pred - 1) and row["holds"] is True
    loss = pred * (1 + 1.05 * TOL["covariance"])
    assert only(claims.covariance_claims(covariance_table([loss], pred), TOL))["holds"] is False
    loss = pred * (1 + 1.5 * TOL["covariance"])
    assert only(claims.covariance_claims(covariance_table([loss], pred, d=D_REF), TOL))["holds"] is False
    half = only(claims.covariance_claims(covariance_table([loss], pred, d=D_REF // 2), TOL))
    assert half["holds"] is True and half["tolerance"] == pytest.approx(2 * TOL["covariance"])


def allocation_table(pred, learned, d=256, shuffle=True):
    rows = [
        {
            "panel": "allocation",
            "series": series,
            "spectrum": "levels",
            "r": 0.5,
            "d": d,
            "seed": 0,
            "index": i,
            "eigenvalue": 1.0,
            "value": v,
        }
        for series, vals in (("predicted", pred), ("learned", learned))
        for i, v in enumerate(vals)
    ]
    df = pd.DataFrame(rows)
    return df.sample(frac=1, random_state=0) if shuffle else df  # the claim must pair rows by index


def test_allocation_claim_is_the_misallocated_fraction():
    pred = np.array([4.0, 3.0, 2.0, 1.0, 0.0, 0.0])
    eps = 0.5 * TOL["allocation"] * pred.sum()  # move this much of the budget from index 0 to index 4
    learned = pred.copy()
    learned[0] -= eps / 2
    learned[4] += eps / 2
    row = only(claims.allocation_claims(allocation_table(pred, learned), TOL))
    dist = np.abs(learned - pred).sum() / pred.sum()
    assert dist == pytest.approx(0.5 * TOL["allocation"])
    assert row["gap"] == pytest.approx(dist) and row["reproduced"] == pytest.approx(dist)
    assert row["predicted"] == 0.0 and row["holds"] is True and row["figure"] == 4


def test_allocation_claim_fails_just_above_tolerance_and_scales_below_d_ref():
    pred = np.array([4.0, 3.0, 2.0, 1.0, 0.0, 0.0])

    def moved(frac):
        learned = pred.copy()
        learned[0] -= frac * pred.sum() / 2
        learned[5] += frac * pred.sum() / 2
        return learned

    assert (
        only(claims.allocation_claims(allocation_table(pred, moved(1.05 * TOL["allocation"])), TOL))["holds"] is False
    )
    learned = moved(1.5 * TOL["allocation"])
    assert only(claims.allocation_claims(allocation_table(pred, learned, d=D_REF), TOL))["holds"] is False
    half = only(claims.allocation_claims(allocation_table(pred, learned, d=D_REF // 2), TOL))
    assert half["holds"] is True and half["tolerance"] == pytest.approx(2 * TOL["allocation"])


def test_allocation_claim_pairs_entries_by_index():
    pred = np.array([4.0, 3.0, 2.0, 1.0])
    # the same values, but swapped between index 0 and 3: a wrong allocation, whatever the row order
    learned = np.array([1.0, 3.0, 2.0, 4.0])
    row = only(claims.allocation_claims(allocation_table(pred, learned), TOL))
    assert row["gap"] == pytest.approx(6.0 / 10.0) and row["holds"] is False
    row = only(claims.allocation_claims(allocation_table(pred, pred.copy()), TOL))
    assert row["gap"] == pytest.approx(0.0) and row["holds"] is True


# --- figure 5: universality_claims ------------------------------------------------------------------


def universality_table(r, loss, pred, variant="unwhitened", designed=None, d=784):
    rows = [
        {
            "dataset": "mnist",
            "variant": variant,
            "d": d,
            "seed": None,
            "series": "water-filling",
            "kind": "theory",
            "r": r,
            "loss": pred * 0.5,
        }
    ]
    rows += [
        {
            "dataset": "mnist",
            "variant": variant,
            "d": d,
            "seed": s,
            "series": "sample",
            "kind": "trained",
            "r": r,
            "loss": loss + e,
            "predicted": pred,
        }
        for s, e in enumerate((-1e-5, 1e-5))
    ]
    if designed is not None:
        rows += [
            {
                "dataset": "mnist",
                "variant": variant,
                "d": d,
                "seed": s,
                "series": "designed",
                "kind": "designed",
                "r": r,
                "loss": designed,
            }
            for s in range(2)
        ]
    return pd.DataFrame(rows)


def test_a_claim_with_a_non_finite_number_is_refused_naming_the_claim_and_its_table():
    """registry.check_finite checks a table's plotted column; a NaN elsewhere (here figure 5's `predicted`)
    would give a claim with a NaN gap that reads as failed. claims.check_claims refuses it instead, naming
    the claim and the figure table; the same table with a finite prediction passes."""

    checks = {5: [(claims.universality_claims, REAL_TOL)]}
    good = claims.claims_table({5: universality_table(0.25, 0.3, 0.3)}, checks)
    claims.check_claims(good, {5: "fig5_universality"})
    broken = universality_table(0.25, 0.3, 0.3)
    broken.loc[broken.kind == "trained", "predicted"] = float("nan")
    registry.check_finite(broken, "figures/fig5_universality.csv")  # its plotted column is finite
    table = claims.claims_table({5: broken}, checks)
    with pytest.raises(claims.NonFiniteClaim, match=r"'mnist unwhitened: trained .*figures/fig5_universality\.csv"):
        claims.check_claims(table, {5: "fig5_universality"})


def prediction_row(rows):
    (row,) = [row for row in rows if "matches" in row["claim"]]
    return row


def designed_row(rows):
    (row,) = [row for row in rows if "designed encoder" in row["claim"]]
    return row


def test_universality_claim_holds_with_its_gap():
    pred = 0.3
    loss = pred * (1 + 0.5 * REAL_TOL["unwhitened_low_r"])
    row = prediction_row(claims.universality_claims(universality_table(0.25, loss, pred), REAL_TOL))
    assert row["gap"] == pytest.approx(loss / pred - 1) and row["holds"] is True and row["figure"] == 5


@pytest.mark.parametrize(
    "r, tol_key",
    [(0.125, "unwhitened_low_r"), (0.5, "unwhitened_low_r"), (0.75, "unwhitened_high_r"), (1.0, "unwhitened_high_r")],
)
def test_universality_tolerance_switches_at_r_one_half(r, tol_key):
    pred = 0.3
    gap = 0.5 * (REAL_TOL["unwhitened_low_r"] + REAL_TOL["unwhitened_high_r"])  # between the two tolerances
    row = prediction_row(claims.universality_claims(universality_table(r, pred * (1 + gap), pred), REAL_TOL))
    assert row["tolerance"] == pytest.approx(REAL_TOL[tol_key])
    assert row["holds"] is (tol_key == "unwhitened_high_r")
    loss = pred * (1 + 1.05 * REAL_TOL[tol_key])
    assert prediction_row(claims.universality_claims(universality_table(r, loss, pred), REAL_TOL))["holds"] is False


def test_universality_whitened_tolerance():
    pred = r_star(0.25)
    ok = pred * (1 - 0.9 * REAL_TOL["whitened"])
    row = prediction_row(claims.universality_claims(universality_table(0.25, ok, pred, "whitened"), REAL_TOL))
    assert row["tolerance"] == pytest.approx(REAL_TOL["whitened"]) and row["holds"] is True
    bad = pred * (1 + 1.05 * REAL_TOL["whitened"])
    row = prediction_row(claims.universality_claims(universality_table(0.25, bad, pred, "whitened"), REAL_TOL))
    assert row["holds"] is False


def test_universality_at_least_as_well_as_the_designed_encoder_is_one_sided():
    pred, ref = 0.3, 0.32

    def row_for(loss):
        rows = claims.universality_claims(universality_table(0.25, loss, pred, designed=ref), REAL_TOL)
        return designed_row(rows)

    much_better = row_for(ref * 0.7)  # 30% better than the designed encoder: holds, however large the gap
    assert much_better["gap"] == pytest.approx(0.7 - 1) and much_better["predicted"] == pytest.approx(ref)
    assert much_better["holds"] is True
    slightly_worse = row_for(ref * (1 + 0.5 * REAL_TOL["vs_designed"]))
    assert slightly_worse["holds"] is True
    worse = row_for(ref * (1 + 1.05 * REAL_TOL["vs_designed"]))
    assert worse["gap"] == pytest.approx(1.05 * REAL_TOL["vs_designed"]) and worse["holds"] is False


def test_universality_without_a_designed_value_has_no_designed_row():
    rows = claims.universality_claims(universality_table(0.25, 0.3, 0.3), REAL_TOL)
    assert [row for row in rows if "designed encoder" in row["claim"]] == []


def test_universality_twin_claim():
    def table(loss, pred=0.3):
        return pd.DataFrame(
            [
                {
                    "dataset": "mnist",
                    "variant": "unwhitened",
                    "d": 784,
                    "seed": 0,
                    "series": "Gaussian twin, projected GD",
                    "kind": "twin",
                    "r": 0.25,
                    "loss": loss,
                    "predicted": pred,
                }
            ]
        )

    row = only(claims.universality_claims(table(0.3 * (1 + 0.5 * REAL_TOL["twin"])), REAL_TOL))
    assert row["gap"] == pytest.approx(0.5 * REAL_TOL["twin"]) and row["holds"] is True
    assert only(claims.universality_claims(table(0.3 * (1 + 1.05 * REAL_TOL["twin"])), REAL_TOL))["holds"] is False


def test_universality_twin_samples_claim_and_the_refined_series_name():
    def table(loss, pred=0.3):
        row = {"dataset": "cifar10", "variant": "unwhitened", "d": 1024, "seed": 0, "kind": "twin", "r": 0.5}
        series = "Gaussian twin samples, sample-based training"
        return pd.DataFrame([{**row, "series": series, "loss": loss, "predicted": pred}])

    row = only(claims.universality_claims(table(0.3 * (1 + 0.5 * REAL_TOL["twin_samples"])), REAL_TOL))
    assert "sample-based trainer reaches" in row["claim"] and row["holds"] is True
    assert (
        only(claims.universality_claims(table(0.3 * (1 + 1.05 * REAL_TOL["twin_samples"])), REAL_TOL))["holds"] is False
    )
    refined = universality_table(0.25, 0.3, 0.3, designed=0.31).replace({"series": {"sample": REFINED}})
    assert "refined from the designed encoder" in designed_row(claims.universality_claims(refined, REAL_TOL))["claim"]


# --- figure 9: structure_claims ---------------------------------------------------------------------


def structure_table(gap_images, gap_shuffled, pred=0.32):
    rows = []
    for data, gap in (("images", gap_images), ("shuffled", gap_shuffled)):
        for seed in (0, 1):
            rows.append(
                {
                    "dataset": "mnist",
                    "kind": "encoder",
                    "data": data,
                    "encoder": "trained",
                    "r": 0.1255,
                    "seed": seed,
                    "loss": pred * (1 + gap),
                    "predicted": pred,
                }
            )
        rows.append(
            {
                "dataset": "mnist",
                "kind": "encoder",
                "data": data,
                "encoder": "designed",
                "r": 0.1255,
                "seed": 0,
                "loss": pred,
                "predicted": pred,
            }
        )
    return pd.DataFrame(rows)


def test_structure_claims_hold_when_the_shuffle_removes_the_gain_and_fail_otherwise():
    beats, removed = claims.structure_claims(structure_table(-0.15, -0.02))
    assert beats["holds"] is True and beats["gap"] == pytest.approx(-0.15) and beats["figure"] == 9
    assert removed["holds"] is True and removed["gap"] == pytest.approx(0.13)
    beats, removed = claims.structure_claims(structure_table(0.03, -0.05))
    assert beats["holds"] is False and removed["holds"] is False


# --- figure 6: reconstruction_claims ----------------------------------------------------------------


def reconstruction_table(errors_by_r, pixels=8, images=2):
    rng = np.random.default_rng(0)
    orig = rng.uniform(0.2, 0.8, (images, pixels))
    rows = [("mnist", i, None, j, float(orig[i, j])) for i in range(images) for j in range(pixels)]
    for r, rms in errors_by_r.items():
        # every pixel off by exactly rms (random sign): the pixel MSE is rms^2
        signs = rng.choice([-1.0, 1.0], (images, pixels))
        rec = orig + rms * signs
        rows += [("mnist", i, r, j, float(rec[i, j])) for i in range(images) for j in range(pixels)]
    df = pd.DataFrame(rows, columns=["dataset", "image", "r", "pixel", "value"])
    return df.sample(frac=1, random_state=1)  # pixels must be paired by (image, pixel), not by row order


def test_reconstruction_error_falling_with_r_holds():
    rows = claims.reconstruction_claims(reconstruction_table({0.125: 0.2, 0.5: 0.1, 1.0: 0.05}))
    assert len(rows) == 2
    for row, (e0, e1) in zip(rows, [(0.04, 0.01), (0.01, 0.0025)], strict=True):
        assert row["predicted"] == pytest.approx(e0) and row["reproduced"] == pytest.approx(e1)
        assert row["gap"] == pytest.approx(e1 / e0 - 1) and row["holds"] is True and row["figure"] == 6


def test_reconstruction_error_rising_with_r_fails():
    rows = claims.reconstruction_claims(reconstruction_table({0.125: 0.2, 0.5: 0.25, 1.0: 0.05}))
    assert [row["holds"] for row in rows] == [False, True]
    assert rows[0]["gap"] == pytest.approx(0.25**2 / 0.2**2 - 1)
    # an unchanged error does not count as falling
    (row,) = claims.reconstruction_claims(reconstruction_table({0.125: 0.1, 0.5: 0.1}))
    assert row["holds"] is False


# --- claims_table -----------------------------------------------------------------------------------


def test_claims_table_order_skipped_figures_and_columns():
    pred2 = r_star(2.0)
    tables = {
        1: with_theory_rows(limit_table([pred2 * 1.001])),
        2: dynamics_table(r_star(0.5) * 1.5, r=0.5),
        4: pd.concat(
            [covariance_table([0.4]), allocation_table(np.array([2.0, 1.0]), np.array([2.0, 1.0]))], ignore_index=True
        ),
        9: limit_table([pred2 * 2]),  # no checks for it: ignored
    }
    checks = {
        4: [(claims.covariance_claims, TOL), (claims.allocation_claims, TOL)],
        3: [(claims.features_claims, TOL)],  # no table: skipped
        1: [(claims.limit_claims, TOL)],
        2: [(claims.dynamics_claims, TOL)],
    }
    out = claims.claims_table(tables, checks)
    assert list(out.columns) == claims.COLUMNS
    assert list(out.figure) == [4, 4, 1, 2]
    assert "water-filling" in out.claim.iloc[0] and "allocation" in out.claim.iloc[1]
    assert list(out.holds) == [True, True, True, False]
    # the figure column is the number the checks are filed under, whatever the function writes
    refiled = claims.claims_table({7: tables[1]}, {7: [(claims.limit_claims, TOL)]})
    assert list(refiled.figure) == [7]
    empty = claims.claims_table({}, checks)
    assert list(empty.columns) == claims.COLUMNS and len(empty) == 0


def test_claims_table_groups_d_and_seed_read_back_from_csv_as_floats():
    pred = r_star(0.5)
    df = with_theory_rows(
        pd.concat(
            [limit_table([pred, pred + 1e-7, pred], r=0.5, d=D_REF), limit_table([pred * 1.5], r=0.5, d=D_REF // 2)],
            ignore_index=True,
        )
    )
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    back = pd.read_csv(io.StringIO(buf.getvalue()))
    assert back.d.dtype == float and back.seed.dtype == float  # the theory rows' gaps made them floats
    checks = {1: [(claims.limit_claims, TOL)]}
    direct, read = claims.claims_table({1: df}, checks), claims.claims_table({1: back}, checks)
    pd.testing.assert_frame_equal(direct, read)
    assert len(read) == 2  # one row per (trainer, d, r), the three seeds together
    assert "d=128," in read.claim.iloc[0] and "d=256," in read.claim.iloc[1]
    assert "(3 seeds)" in read.claim.iloc[1] and not read.claim.str.contains(r"\.0,").any()
    assert list(read.holds) == [False, True]
    assert read.tolerance.iloc[0] == pytest.approx(2 * TOL["limit_pgd"])
