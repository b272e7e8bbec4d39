"""What a trained encoder exploits in real images beyond their Gaussian twin (docs/theory.md eq. (45) to
eq. (47); figure 9).

Every encoder B (n, d) acts on a variant's own x (N, d). The statistics are invariant under a fixed
rotation of pixel space applied to the images and to the encoder together (x -> Q x, B -> B Q^T), except
the pixel-basis localisation, which is reported to show that it is *not* what matters:

- ``sign_efficiency``: (E|p|)^2 / E[p^2] of each unit's projection p = bbar . x, the fraction of the
  projection's variance that its sign carries (2/pi for any Gaussian projection, eq. (45));
- ``excess_kurtosis``: E[p^4] / E[p^2]^2 - 3 of each projection (0 when Gaussian);
- ``shuffle_components``: the images with every principal component permuted independently across
  images: each component's distribution and the spectrum are kept, the dependence between components is
  removed (eq. (47)).
"""

from __future__ import annotations

import numpy as np

from .linalg import unit_rows


def projections(B: np.ndarray, x: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """p = x Bbar^T (N, n), float64, for the encoder B (n, d) on rows x (N, d): the projections of
    docs/theory.md eq. (45)."""
    Bbar = unit_rows(np.asarray(B, dtype=np.float64))
    return np.concatenate([x[i : i + chunk].astype(np.float64) @ Bbar.T for i in range(0, len(x), chunk)])


def sign_efficiency(P: np.ndarray) -> np.ndarray:
    """(E|p|)^2 / E[p^2] per column of P (N, n) (docs/theory.md eq. (45)). -> (n,)

    For one unit with its least-squares decoder this is the fraction of the projection's variance that
    sign(p) recovers: E[p sign(p)]^2 / E[sign(p)^2] / E[p^2]. Gaussian: 2/pi; a symmetric two-point
    (bimodal) law: 1; heavy tails: less than 2/pi.
    """
    P = np.asarray(P, dtype=np.float64)
    return np.abs(P).mean(axis=0) ** 2 / (P**2).mean(axis=0)


def excess_kurtosis(P: np.ndarray) -> np.ndarray:
    """E[p^4] / E[p^2]^2 - 3 per column of P (N, n), about 0 (centred data; docs/theory.md eq. (45)). -> (n,)"""
    P = np.asarray(P, dtype=np.float64)
    return (P**4).mean(axis=0) / (P**2).mean(axis=0) ** 2 - 3


def shuffle_components(x: np.ndarray, Q: np.ndarray, seed: int) -> np.ndarray:
    """x (N, d) with its coefficients c = x Q (Q (d, d) orthogonal, the training eigenbasis) permuted
    independently in every column, mapped back: x' = c' Q^T (docs/theory.md eq. (47)). float32 (N, d).

    Each principal component keeps its values (so its distribution, and the diagonal of the covariance
    in that basis, are unchanged); their pairing across components is random, so the components become
    independent. The sample cross-covariances of the components were 0 on the training split and are
    O(1/sqrt(N)) after the shuffle.
    """
    rng = np.random.default_rng(seed)
    C = np.asarray(x, dtype=np.float64) @ Q  # (N, d)
    for j in range(C.shape[1]):
        C[:, j] = C[rng.permutation(len(C)), j]
    return (C @ Q.T).astype(np.float32)


def misallocated_fraction(learned: np.ndarray, predicted: np.ndarray) -> float:
    """sum_i |m_learned - m_predicted| / sum_i m_predicted, the misallocated fraction, for the allocations of
    docs/theory.md eq. (46)."""
    return float(np.abs(np.asarray(learned) - np.asarray(predicted)).sum() / np.sum(predicted))


def eigenbasis(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lambda (d,) descending, Q (d, d)) of the covariance x^T x / N of centred rows x (N, d)."""
    from .universality import covariance

    lam, Q = np.linalg.eigh(covariance(x))
    return lam[::-1].clip(min=0), Q[:, ::-1]


def encoder_statistics(B: np.ndarray, x: np.ndarray, lam: np.ndarray, Q: np.ndarray) -> dict:
    """Per-unit and per-encoder statistics of the encoder B (n, d) on rows x (N, d) of its data, with the
    training eigenbasis (lam (d,), Q (d, d)) (docs/theory.md eq. (46)):

    sign_efficiency, excess_kurtosis: (n,) of the projections bbar . x;
    localisation_pixels: mean d * sum_j bbar_j^4 in the pixel basis;
    localisation_eigen:  the same for the whitened rows u = normalised B Q diag(sqrt(lambda)) in the eigenbasis;
    allocation:          (d,) m_i = sum_a u_ai^2, the learned allocation over eigen-directions.
    """
    from .evaluate import axis_alignment

    P = projections(B, x)  # (N, n)
    U = unit_rows((np.asarray(B, dtype=np.float64) @ Q) * np.sqrt(lam))  # (n, d) whitened rows, eigenbasis
    return {
        "sign_efficiency": sign_efficiency(P),
        "excess_kurtosis": excess_kurtosis(P),
        "localisation_pixels": float(axis_alignment(B).mean()),
        "localisation_eigen": float(axis_alignment(U).mean()),
        "allocation": (U**2).sum(axis=0),
    }


def shuffled_variant(prep, Q: np.ndarray, seed: int):
    """The unwhitened variant ``prep`` (signae.images.Prepared) with every split's principal components
    shuffled (:func:`shuffle_components`, eq. (47)); the encoder's whitening map and the spectrum are the
    original's (the shuffle keeps each component's variance on the training split exactly)."""
    from dataclasses import replace

    W = np.asarray(prep.encoder_basis, dtype=np.float64)  # (d, k): x -> z
    splits = {}
    for i, name in enumerate(("train", "test", "val")):
        x = getattr(prep, f"x_{name}")
        if x is None or not len(x):
            splits[f"x_{name}"], splits[f"z_{name}"] = x, getattr(prep, f"z_{name}")
            continue
        xs = shuffle_components(x, Q, seed + i)
        splits[f"x_{name}"], splits[f"z_{name}"] = xs, (xs.astype(np.float64) @ W).astype(np.float32)
    return replace(prep, **splits, info={**prep.info, "shuffled_components_seed": seed})


def experiment(prep, run_jsons, r_values, settings: dict, seed: int, device) -> list[dict]:
    """Figure 9's rows for one unwhitened variant (docs/theory.md eq. (47)).

    For every r: the refined runs of figure 5 (``run_jsons``, on the images; encoder "refined"), the designed
    encoder, and the trainer (``settings``, ``seed``) from a Gaussian start for ``gaussian_init_steps`` steps
    (encoder "trained"), on the images and on the component-shuffled images, each judged on the test split of
    the data it was trained on. Rows of kind "encoder" hold the test
    loss, the water-filling prediction and the encoder's statistics (means over units); rows of kind
    "unit" one unit's sign efficiency and excess kurtosis; rows of kind "allocation" the learned
    allocation per eigen-direction against water-filling.
    """
    import torch

    from . import real_source, theory, train
    from .images import trivial_loss
    from .runs import check_trained, diverged, load, step_keys

    dev = torch.device(device)
    d, k = prep.x_train.shape[1], prep.z_train.shape[1]
    lam, Q = eigenbasis(prep.x_train)
    shuffled = shuffled_variant(prep, Q, seed)
    runs = {}
    for path in run_jsons:
        meta, arr = load(path)
        runs.setdefault(theory.hidden_units(meta["r_asked"], d), []).append(
            (meta["seed"], meta["final_loss"], arr["B"])
        )
    rows = []

    def add(data: str, encoder: str, n: int, r_seed: int, loss: float, B: np.ndarray, x: np.ndarray) -> None:
        st = encoder_statistics(B, x, lam, Q)
        predicted = theory.variant_prediction("unwhitened", prep.eigenvalues, n)
        base = {"data": data, "encoder": encoder, "r": n / d, "d": d, "seed": r_seed}
        rows.append(
            {
                **base,
                "kind": "encoder",
                "loss": loss,
                "predicted": predicted,
                "sign_efficiency": float(st["sign_efficiency"].mean()),
                "excess_kurtosis": float(st["excess_kurtosis"].mean()),
                "localisation_pixels": st["localisation_pixels"],
                "localisation_eigen": st["localisation_eigen"],
                "misallocated": misallocated_fraction(st["allocation"], theory.water_filling(lam, n).allocation),
            }
        )
        for unit, (eff, kurt) in enumerate(zip(st["sign_efficiency"], st["excess_kurtosis"], strict=True)):
            rows.append(  # value: the row's plotted number (its sign efficiency), required by figures.check_finite
                {**base, "kind": "unit", "unit": unit, "value": eff, "sign_efficiency": eff, "excess_kurtosis": kurt}
            )
        for i, m in enumerate(st["allocation"][: min(d, 4 * n)]):
            rows.append({**base, "kind": "allocation", "index": i, "eigenvalue": lam[i], "value": m})

    for r in r_values:
        n = theory.hidden_units(r, d)
        predicted = theory.water_filling(lam, n).allocation
        for i, m in enumerate(predicted[: min(d, 4 * n)]):
            rows.append({"kind": "water-filling", "r": n / d, "d": d, "index": i, "eigenvalue": lam[i], "value": m})
        for s, loss, B in runs.get(n, []):
            add("images", "refined", n, s, loss, B, prep.x_test)
        V = real_source.designed_encoder(prep.eigenvalues, k, n, seed)  # (n, k)
        B_designed = unit_rows(V @ np.asarray(prep.encoder_basis).T)  # (n, d)
        for data, p in (("images", prep), ("shuffled", shuffled)):
            test, _ = real_source.evaluate_designed(p, n, seed, dev)
            add(data, "designed", n, seed, test, B_designed, p.x_test)
        # the same trainer from the same Gaussian start on both: what training finds, not where it started
        keys = step_keys("realdata.trainer", settings)
        steps = settings.get("gaussian_init_steps") or settings["steps"]
        options = {**train.options(train.train_on_samples, settings), "steps": steps, "seed": seed}
        for data, p in (("images", prep), ("shuffled", shuffled)):
            what = f"figure 9's training from a Gaussian start on the {data} at n = {n}"
            try:
                res = real_source.train_on_split(p, n, dev, init="gaussian", **options)
            except torch.linalg.LinAlgError as err:
                raise diverged(what, keys, err) from err
            check_trained(res, what, keys, trivial_loss(p))
            add(data, "trained", n, seed, res.final_loss, res.B, p.x_test)
            print(f"r={n / d:.4f}: {data}, from a Gaussian start {res.final_loss:.5f} ({res.wall_time_s:.1f} s)")
    return rows
