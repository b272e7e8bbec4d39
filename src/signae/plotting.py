"""One function per figure, one shared style. Each reads only its tidy table (signae.tables), never a result
or a formula; the figure registry (signae.registry) says which function draws which figure.

Every function writes the same figure as PDF and PNG: ``plot_figN(table, pdf_path, png_path)``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

#: One colour per curve, the same in every figure.
COLORS = {
    "R*(r)": "black",
    "water-filling": "black",
    "Shannon 2^(-2r)": "#7f7f7f",
    "PCA max(0, 1-r)": "#bcbd22",
    "PCA": "#bcbd22",
    "untrained (Marchenko-Pastur)": "#9467bd",
    "untrained (simulated)": "#9467bd",
    "pgd": "#1f77b4",
    "tied": "#d62728",
    "sample": "#ff7f0e",
    "init": "#9467bd",
    "trained": "#1f77b4",
    "predicted": "black",
    "learned": "#1f77b4",
    "designed": "#2ca02c",
    "Gaussian twin, projected GD": "#1f77b4",
    "trained encoder, on the Gaussian twin": "#ff7f0e",
}
LABELS = {
    "pgd": "projected GD (exact risk)",
    "tied": "weight-tied GD (exact risk)",
    "sample": "sample-based GD (tanh surrogate)",
    "designed": "designed encoder (no training)",
}
MARKERS = ["o", "s", "^", "D", "v"]


def apply_style() -> None:
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)
    plt.rcParams.update({"figure.dpi": 150, "savefig.bbox": "tight", "legend.frameon": False})


def _save(fig, pdf_path, png_path) -> None:
    fig.savefig(pdf_path)
    fig.savefig(png_path, dpi=150)
    plt.close(fig)


def _label(series: str) -> str:
    return LABELS.get(series, series)


def plot_fig1(table: pd.DataFrame, pdf_path, png_path) -> None:
    """Loss vs r: R*(r), references, trained markers (mean +- spread over seeds) per trainer and d."""
    apply_style()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    theory = table[table.kind == "theory"]
    for series, grp in theory.groupby("series", sort=False):
        style = "-" if series == "R*(r)" else "--"
        ax.plot(grp.r, grp.loss, style, color=COLORS[series], lw=2 if series == "R*(r)" else 1.2, label=series)
    points = table[table.kind != "theory"].astype({"d": int})
    for (series, d), grp in points.groupby(["series", "d"]):
        stats = grp.groupby("r").loss.agg(["mean", "min", "max"]).reset_index()
        dims = sorted(points[points.series == series].d.unique())
        marker = MARKERS[dims.index(d) % len(MARKERS)]
        ax.errorbar(
            stats.r,
            stats["mean"],
            yerr=[(stats["mean"] - stats["min"]).clip(lower=0), (stats["max"] - stats["mean"]).clip(lower=0)],
            fmt=marker,
            ms=5,
            mfc="none" if series != "pgd" else COLORS[series],
            color=COLORS[series],
            capsize=2,
            lw=1,
            label=f"{_label(series)}, d={d}",
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("compression rate r = n/d (bits per coordinate)")
    ax.set_ylabel("population risk  E||x - A sign(Bx)||² / d")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("The fundamental limit on isotropic Gaussian data")
    _save(fig, pdf_path, png_path)


def plot_fig2(table: pd.DataFrame, pdf_path, png_path) -> None:
    """Loss vs iteration (top) and excess over R*(r) on a log axis (bottom), per trainer and r."""
    apply_style()
    trainers = list(dict.fromkeys(table.series))
    fig, axes = plt.subplots(2, len(trainers), figsize=(5 * len(trainers), 7), squeeze=False, sharex="col")
    palette = sns.color_palette("viridis", n_colors=table.r.nunique())
    rates = sorted(table.r.unique())
    for j, trainer in enumerate(trainers):
        sub = table[table.series == trainer]
        for (r, seed), grp in sub.groupby(["r", "seed"]):
            c = palette[rates.index(r)]
            axes[0, j].plot(grp.step, grp.loss, color=c, label=f"r={r:g}" if seed == sub.seed.min() else None)
            axes[1, j].axhline(1e-15, color="grey", lw=0.5, ls=":")  # float64 resolution of the risk
            axes[0, j].axhline(grp.limit.iloc[0], color=c, ls="--", lw=0.8)
            excess = np.maximum(grp.loss - grp.limit, 1e-16)
            axes[1, j].semilogy(grp.step, excess, color=c)
        axes[0, j].set_title(_label(trainer))
        axes[0, j].set_ylabel("population risk (dashed: R*(r))")
        axes[1, j].set_ylabel("excess risk  R - R*(r)")
        axes[1, j].set_xlabel("iteration")
        axes[0, j].legend(fontsize=8, loc="upper right")
    fig.suptitle(f"Training dynamics, d = {int(table.d.iloc[0])}")
    fig.tight_layout()
    _save(fig, pdf_path, png_path)


def plot_fig3(table: pd.DataFrame, pdf_path, png_path) -> None:
    """Spectra at init (with MP density) and after training; decoder scale vs beta(r); axis alignment."""
    apply_style()
    spec = table[table.panel == "spectrum"]
    rates = sorted(spec.r.unique())
    fig = plt.figure(figsize=(3.3 * max(len(rates), 2), 7))
    grid = fig.add_gridspec(2, 2 * len(rates))
    top = [fig.add_subplot(grid[0, 2 * k : 2 * k + 2]) for k in range(len(rates))]
    half = len(rates)
    bottom = [fig.add_subplot(grid[1, :half]), fig.add_subplot(grid[1, half:])]
    first_seed = spec.seed.min()
    for ax, r in zip(top, rates, strict=True):
        sub = spec[(spec.r == r) & (spec.seed == first_seed)]
        init, trained = sub[sub.series == "init"].value, sub[sub.series == "trained"].value
        init = init[init > 1e-9]  # the rank-deficient zero block is not part of the MP density drawn
        bins = np.linspace(0, 1.05 * max(init.max(), trained.max()), 60)
        ax.hist(init, bins=bins, density=True, color=COLORS["init"], alpha=0.5, label="init")
        mp = table[(table.panel == "mp_density") & (table.r == r)]
        ax.plot(mp["index"], mp.value, color=COLORS["init"], lw=1.2, label="Marchenko-Pastur")
        target = sub.predicted.iloc[0]
        ax.axvline(target, color="black", ls="--", lw=0.8)
        ax2 = ax.twinx()
        ax2.hist(trained, bins=bins, color=COLORS["trained"], alpha=0.8, label="trained (right axis: count)")
        ax.set_title(f"r = {r:g}: eigenvalues of " + ("BbarBbarᵀ" if r <= 1 else "BbarᵀBbar"), fontsize=9)
        ax.set_xlabel("eigenvalue")
        if r == rates[0]:
            handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
            ax.legend(handles=handles, fontsize=7)
    ax = bottom[0]
    scale = table[table.panel == "decoder_scale"]
    curve = table[table.panel == "beta_curve"].sort_values("r")
    ax.plot(curve.r, curve.value, color="black", label="beta(r)")
    for k, (trainer, grp) in enumerate(scale.groupby("trainer")):
        ax.plot(
            grp.r,
            grp.value,
            MARKERS[k],
            ms=9 - 4 * k,
            mfc="none" if k == 0 else COLORS[trainer],
            color=COLORS[trainer],
            label=_label(trainer),
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("r")
    ax.set_title("decoder A ~ beta Bbarᵀ", fontsize=9)
    ax.legend(fontsize=7)
    ax = bottom[1]
    align = table[table.panel == "alignment"]
    d = int(align.d.iloc[0])
    for r, grp in align.groupby("r"):
        ax.hist(grp.value, bins=40, histtype="step", density=True, label=f"r={r:g}")
    ax.axvline(align.predicted.iloc[0], color="black", ls="--", lw=0.8, label="random rotation 3d/(d+2)")
    ax.set_xlabel(f"d · Σ_j bbar_ij⁴ per row (axis-aligned: {d})")
    ax.set_title("alignment with coordinate axes", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, pdf_path, png_path)


def plot_fig4(table: pd.DataFrame, pdf_path, png_path) -> None:
    """Per spectrum: loss vs r (water-filling, PCA, trained) and the allocation m_i, predicted vs learned."""
    apply_style()
    spectra = list(dict.fromkeys(table.spectrum))
    fig, axes = plt.subplots(2, len(spectra), figsize=(5.2 * len(spectra), 7.5), squeeze=False)
    for j, kind in enumerate(spectra):
        ax = axes[0, j]
        loss = table[(table.panel == "loss") & (table.spectrum == kind)]
        for series in ("water-filling", "PCA"):
            grp = loss[loss.series == series]
            ax.plot(grp.r, grp.loss, "-" if series == "water-filling" else "--", color=COLORS[series], label=series)
        trained = loss[loss.predicted.notna()]
        for trainer, grp in trained.groupby("series"):
            ax.plot(grp.r, grp.loss, "o", color=COLORS.get(trainer, "C0"), label=_label(trainer))
        ax.set_xscale("log", base=2)
        ax.set_xlabel("r")
        ax.set_ylabel("population risk")
        ax.set_title(f"{kind} spectrum, d = {int(loss.d.iloc[0])}")
        ax.legend(fontsize=8)
        ax = axes[1, j]
        alloc = table[(table.panel == "allocation") & (table.spectrum == kind)]
        first_seed = alloc.seed.min()
        palette = sns.color_palette("viridis", n_colors=alloc.r.nunique())
        for k, (r, grp) in enumerate(alloc[alloc.seed == first_seed].groupby("r")):
            pred, learned = grp[grp.series == "predicted"], grp[grp.series == "learned"]
            ax.plot(pred["index"] + 1, pred.value, "-", color=palette[k], lw=1.5, label=f"r={r:g} predicted")
            ax.plot(learned["index"] + 1, learned.value, ".", color=palette[k], ms=3)
        ax.set_xscale("log")
        ax.set_xlabel("eigen-direction i of Sigma (descending)")
        ax.set_ylabel("allocation m_i  (lines: water-filling, dots: learned)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, pdf_path, png_path)


#: Figure 5's markers: (marker, filled) per series; the twin's markers are exact risks, the others test losses.
FIG5_MARKERS = {
    "sample": ("o", True),
    "sample, refined from the designed encoder": ("o", True),
    "sample, from a Gaussian initialisation": ("^", False),
    "Gaussian twin samples, sample-based training": ("+", True),
    "designed": ("s", False),
    "Gaussian twin, projected GD": ("x", True),
    "trained encoder, on the Gaussian twin": ("o", False),
}


def plot_fig5(table: pd.DataFrame, pdf_path, png_path) -> None:
    """Loss vs r on real data: rows = data sets, columns = variants (unwhitened vs water-filling,
    whitened vs R*(r), each also corrected for the spread of the images' norms, dotted); trained and
    designed encoders on the test images, and the exact risks on the Gaussian twin, as markers
    (mean, bars span the seeds)."""
    apply_style()
    datasets = list(dict.fromkeys(table.dataset))
    variants = [v for v in ("unwhitened", "whitened") if v in set(table.variant)]
    fig, axes = plt.subplots(
        len(datasets), len(variants), figsize=(5.6 * len(variants), 4.3 * len(datasets)), squeeze=False
    )
    for i, dataset in enumerate(datasets):
        for j, variant in enumerate(variants):
            ax = axes[i, j]
            sub = table[(table.dataset == dataset) & (table.variant == variant)]
            for series, grp in sub[sub.kind == "theory"].groupby("series", sort=False):
                base = series.split(",")[0]
                style = "--" if series == "PCA" else (":" if series.endswith("norm-corrected") else "-")
                label = (
                    series
                    if "kappa" not in grp or grp.kappa.isna().all()
                    else f"{series} (kappa = {grp.kappa.iloc[0]:.3f})"
                )
                ax.plot(grp.r, grp.loss, style, color=COLORS.get(base, "black"), label=label)
            for series, grp in sub[sub.kind != "theory"].groupby("series"):
                marker, filled = FIG5_MARKERS.get(series, ("D", True))
                stats = grp.groupby("r").loss.agg(["mean", "min", "max"]).reset_index()
                where = " (exact risk)" if "twin" in series else " (test images)"
                ax.errorbar(
                    stats.r,
                    stats["mean"],
                    yerr=[(stats["mean"] - stats["min"]).clip(lower=0), (stats["max"] - stats["mean"]).clip(lower=0)],
                    fmt=marker,
                    mfc=None if filled else "none",
                    color=COLORS.get(series, "#2ca02c"),
                    capsize=2,
                    label=_label(series) + where,
                )
            ax.set_xscale("log", base=2)
            ax.set_xlabel("r = n/d")
            ax.set_ylabel("loss ||x - A sign(Bx)||² / d")
            ax.set_title(f"{dataset}, {variant} (d = {int(sub.d.dropna().iloc[0])})")
            ax.legend(fontsize=6.5)
    fig.tight_layout()
    _save(fig, pdf_path, png_path)


def plot_fig6(table: pd.DataFrame, pdf_path, png_path) -> None:
    """Test images (first column) and their reconstructions at each r, one block of rows per data set."""
    apply_style()
    blocks = []
    for dataset, grp in table.groupby("dataset", sort=False):
        rates = [None, *sorted(grp.r.dropna().unique())]
        blocks.append((dataset, grp, rates, int(grp.image.max()) + 1))
    ncols = max(len(b[2]) for b in blocks)
    nrows = sum(b[3] for b in blocks)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.3 * ncols, 1.3 * nrows), squeeze=False)
    row = 0
    for dataset, grp, rates, count in blocks:
        h, w, c = (int(grp[k].iloc[0]) for k in ("height", "width", "channels"))
        for i in range(count):
            for j, r in enumerate(rates):
                ax = axes[row + i, j]
                sel = grp[(grp.image == i) & (grp.r.isna() if r is None else (grp.r == r))].sort_values("pixel")
                img = sel.value.to_numpy().reshape(h, w, c) if c == 3 else sel.value.to_numpy().reshape(h, w)
                ax.imshow(img, cmap=None if c == 3 else "gray", vmin=0, vmax=1, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0:
                    ax.set_title("original" if r is None else f"r = {r:.3g}", fontsize=8)
            axes[row + i, 0].set_ylabel(dataset if i == 0 else "", fontsize=8)
        for i in range(count):
            for j in range(len(rates), ncols):
                axes[row + i, j].axis("off")
        row += count
    fig.tight_layout(pad=0.2)
    _save(fig, pdf_path, png_path)


def plot_fig7(table: pd.DataFrame, pdf_path, png_path) -> None:
    """Sparse data. Top: loss vs r per sparsity p, with R*(r), the denoised prediction mmse_BG(p, v(r)) and
    the trained points (linear decoder by d; the two denoisers and the ideal encoder's values at the largest d).
    Bottom: the trained encoder's linear-decoder loss relative to the ideal encoder's at the same d (eq. (48)),
    against d, the rows' axis alignment against d, one line per p, and
    depth: the deep decoder's loss relative to the learned denoiser on the same samples, against r."""
    apply_style()
    ps = sorted(table.p.unique(), reverse=True)
    cols = max(len(ps), 3)
    fig, axes = plt.subplots(2, cols, figsize=(3.4 * cols, 7.2), squeeze=False, layout="constrained")
    trained = table[table.kind == "trained"].astype({"d": int})
    dims = sorted(trained.d.unique())
    shades = sns.color_palette("Blues", n_colors=len(dims) + 1)[1:]
    for j, p in enumerate(ps):
        ax = axes[0, j]
        th = table[(table.kind == "theory") & (table.p == p)]
        for series, style in (("R*(r)", "-"), ("mmse_BG(p, v(r))", "--")):
            grp = th[th.series == series]
            ax.plot(grp.r, grp.loss, style, color="black" if series == "R*(r)" else "tab:red", lw=1.5, label=series)
        sub = trained[trained.p == p]
        for k, d in enumerate(dims):
            lin = sub[(sub.series == "linear") & (sub.d == d)].groupby("r").loss.mean()
            ax.plot(lin.index, lin.values, "o", color=shades[k], ms=5, label=f"linear decoder, d={d}")
        top = sub[sub.d == dims[-1]]
        for series, marker, color in (("eta", "^", "tab:red"), ("learned", "x", "tab:green")):
            pts = top[top.series == series].groupby("r").loss.mean()
            label = "posterior-mean denoiser" if series == "eta" else "learned denoiser"
            ax.plot(pts.index, pts.values, marker, color=color, ms=6, mfc="none", label=f"{label}, d={dims[-1]}")
        ref = table[table.kind == "reference"].astype({"d": int})
        ref = ref[(ref.p == p) & (ref.d == dims[-1])]
        for series, color in (("linear", "black"), ("eta", "tab:red")):
            pts = ref[ref.series == series].groupby("r").loss.mean()
            ax.plot(pts.index, pts.values, "+", color=color, ms=8, label=f"ideal encoder, {series}, d={dims[-1]}")
        ax.set_xscale("log", base=2)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"p = {p:g}")
        ax.set_xlabel("r = n/d")
        if j == 0:
            ax.set_ylabel("test loss  E||x - x_hat||² / d")
            ax.legend(fontsize=6, loc="lower left")
    lin = trained[trained.series == "linear"].copy()
    keys = ["p", "r", "d", "seed"]
    ideal = table[(table.kind == "reference") & (table.series == "linear")].astype({"d": int})[[*keys, "loss"]]
    lin = lin.merge(ideal.rename(columns={"loss": "ideal"}), on=keys, how="left")
    lin["gap"] = 100 * (lin.loss / lin.ideal - 1)
    colors = sns.color_palette("viridis", n_colors=len(ps))
    ax_gap, ax_ipr = axes[1, 0], axes[1, 1]
    for i, p in enumerate(ps):
        sub = lin[lin.p == p]
        for r, grp in sub.groupby("r"):
            g = grp.groupby("d").gap.mean()
            ax_gap.plot(g.index, g.values, "o-", color=colors[i], lw=1, ms=3, alpha=0.4 + 0.6 * (r == sub.r.max()))
        ax_gap.plot([], [], "o-", color=colors[i], label=f"p={p:g}")
        ipr = sub.groupby("d").axis_alignment.mean()
        ax_ipr.plot(ipr.index, ipr.values, "o-", color=colors[i], label=f"p={p:g}")
    ax_gap.axhline(0, color="black", lw=0.8)
    ax_gap.set_xscale("log", base=2)
    ax_gap.set_xlabel("d")
    ax_gap.set_ylabel("trained vs ideal encoder, linear decoder (%)")
    ax_gap.set_title("trained vs ideal encoder at the same d, each r", fontsize=9)
    ax_gap.legend(fontsize=6)
    ax_ipr.axhline(3, color="gray", ls=":", lw=1)
    ax_ipr.set_xscale("log", base=2)
    ax_ipr.set_xlabel("d")
    ax_ipr.set_ylabel("axis alignment d Σ b̄⁴")
    ax_ipr.set_title("learned rows, mean over r (3: random rotation)", fontsize=9)
    ax_ipr.legend(fontsize=6)
    ax_deep = axes[1, 2]
    deep = trained[trained.series == "deep"].copy()
    if not deep.empty:
        deep["gain"] = 100 * (deep.loss / deep.paired_learned - 1)
        for i, p in enumerate(ps):
            g = deep[deep.p == p].groupby("r").gain.mean()
            if not g.empty:
                ax_deep.plot(g.index, g.values, "s-", color=colors[i], ms=4, label=f"p={p:g}")
        ax_deep.set_title(
            f"one hidden layer vs the learned denoiser, d={', '.join(map(str, sorted(deep.d.unique())))}", fontsize=9
        )
        ax_deep.legend(fontsize=6)
    ax_deep.axhline(0, color="black", lw=0.8)
    ax_deep.set_xscale("log", base=2)
    ax_deep.set_xlabel("r = n/d")
    ax_deep.set_ylabel("deep decoder vs learned denoiser (%)")
    for ax in (*axes[1, 3:], *axes[0, len(ps) :]):
        ax.axis("off")
    fig.suptitle("Sparse (Bernoulli-Gaussian) data: linear and denoising decoders")
    _save(fig, pdf_path, png_path)


def plot_fig8(table: pd.DataFrame, pdf_path, png_path) -> None:
    """The pixel-domain denoiser on real images. Per data set: test loss against r, linear decoder and
    denoised (mean over seeds, each seed as a faint point) with the scalar-channel prediction (docs/theory.md
    eq. (50)), and the fitted function phi (reconstructed pixel value -> denoised pixel value) at every r, first
    seed."""
    apply_style()
    datasets = list(dict.fromkeys(table.dataset))
    fig, axes = plt.subplots(
        2, max(len(datasets), 1), figsize=(3.8 * max(len(datasets), 1), 6.6), squeeze=False, layout="constrained"
    )
    for j, dataset in enumerate(datasets):
        sub = table[table.dataset == dataset]
        ax = axes[0, j]
        for series, marker, color, label in (
            ("linear", "o", "tab:blue", "linear decoder"),
            ("denoised", "s", "tab:green", "linear decoder + denoiser"),
        ):
            pts = sub[sub.series == series]
            ax.plot(pts.r, pts.loss, marker, color=color, ms=3, alpha=0.3)
            mean = pts.groupby("r").loss.mean()
            ax.plot(mean.index, mean.values, marker + "-", color=color, ms=5, label=label)
        pred = sub[sub.series == "denoised"].groupby("r").predicted.mean()
        ax.plot(pred.index, pred.values, "--", color="black", lw=1, label="scalar-channel MMSE (eq. (50))")
        ax.set_xscale("log", base=2)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("r = n/d")
        ax.set_title(dataset)
        if j == 0:
            ax.set_ylabel("test loss  E||x - x_hat||² / d")
            ax.legend(fontsize=7)
        ax = axes[1, j]
        phi = sub[(sub.series == "phi") & (sub.seed == sub.seed.min())]
        rates = sorted(phi.r.unique())
        shades = sns.color_palette("Greens", n_colors=len(rates) + 1)[1:]
        for k, r in enumerate(rates):
            cur = phi[phi.r == r].sort_values("u")
            ax.plot(cur.u, cur.value, color=shades[k], lw=1.5, label=f"r={r:.3g}")
        lims = [float(phi.u.min()), float(phi.u.max())] if not phi.empty else [0, 1]
        ax.plot(lims, lims, ":", color="gray", lw=1, label="identity")
        ax.set_xlabel("linear reconstruction (pixel value)")
        ax.set_title(f"{dataset}: fitted denoiser", fontsize=9)
        if j == 0:
            ax.set_ylabel("denoised pixel value")
        ax.legend(fontsize=6)
    fig.suptitle("Real images: a coordinate-wise denoiser after the linear decoder")
    _save(fig, pdf_path, png_path)


#: Figure 9's series: (data, encoder) -> (marker, colour, label).
FIG9_SERIES = {
    ("images", "refined"): ("D", "tab:cyan", "refined from designed (figure 5), images"),
    ("images", "trained"): ("o", "tab:blue", "trained from a Gaussian start, images"),
    ("images", "designed"): ("s", "tab:gray", "designed, images"),
    ("shuffled", "trained"): ("o", "tab:orange", "trained from a Gaussian start, components shuffled"),
    ("shuffled", "designed"): ("s", "tab:brown", "designed, components shuffled"),
}


def plot_fig9(table: pd.DataFrame, pdf_path, png_path) -> None:
    """What training exploits on real images (docs/theory.md eq. (47)). Per data set: test loss
    relative to water-filling against r for trained and designed encoders on the images and on the
    component-shuffled images; the per-unit sign efficiency (E|p|)^2 / E p^2 at the smallest r (Gaussian:
    2/pi); the learned allocation over eigen-directions at the smallest r against water-filling."""
    apply_style()
    datasets = list(dict.fromkeys(table.dataset))
    fig, axes = plt.subplots(
        max(len(datasets), 1), 3, figsize=(12, 3.6 * max(len(datasets), 1)), squeeze=False, layout="constrained"
    )
    for i, dataset in enumerate(datasets):
        sub = table[table.dataset == dataset]
        enc = sub[sub.kind == "encoder"]
        ax = axes[i, 0]
        for (data, encoder), (marker, color, label) in FIG9_SERIES.items():
            pts = enc[(enc.data == data) & (enc.encoder == encoder)]
            gap = pts.groupby("r").apply(lambda g: (g.loss / g.predicted).mean() - 1, include_groups=False)
            ax.plot(gap.index, gap.values, marker + "-", color=color, ms=5, label=label)
        ax.axhline(0, color="black", lw=1, label="water-filling")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("r = n/d")
        ax.set_ylabel("test loss / water-filling - 1")
        ax.set_title(f"{dataset}: loss against the Gaussian prediction", fontsize=9)
        ax.legend(fontsize=6)
        r0 = float(enc.r.min())
        units = sub[(sub.kind == "unit") & ((sub.r - r0).abs() < 1e-9)]
        ax = axes[i, 1]
        bins = np.linspace(min(0.3, units.sign_efficiency.min()), 1, 36)
        for (data, encoder), (_, color, label) in FIG9_SERIES.items():
            vals = units[(units.data == data) & (units.encoder == encoder)].sign_efficiency
            if len(vals):
                ax.hist(vals, bins=bins, histtype="step", color=color, lw=1.4, label=label)
        ax.axvline(2 / np.pi, color="black", ls=":", lw=1, label="Gaussian 2/π")
        ax.set_xlabel("sign efficiency (E|p|)² / E p² of a unit")
        ax.set_ylabel("units")
        ax.set_title(f"{dataset}: projections p = b̄·x, r = {r0:.3g}", fontsize=9)
        ax.legend(fontsize=6)
        ax = axes[i, 2]
        alloc = sub[(sub.kind == "allocation") & ((sub.r - r0).abs() < 1e-9)]
        for (data, encoder), (_, color, label) in FIG9_SERIES.items():
            pts = alloc[(alloc.data == data) & (alloc.encoder == encoder)]
            pts = pts[pts.seed == pts.seed.min()].sort_values("index")
            if len(pts) and encoder == "trained":
                ax.plot(pts["index"] + 1, pts.value, ".", color=color, ms=3, label=label)
        wf = sub[(sub.kind == "water-filling") & ((sub.r - r0).abs() < 1e-9)].sort_values("index")
        ax.plot(wf["index"] + 1, wf.value, "-", color="black", lw=1.2, label="water-filling")
        ax.set_xscale("log")
        ax.set_xlabel("eigen-direction i of Sigma_hat (descending)")
        ax.set_ylabel("allocation m_i")
        ax.set_title(f"{dataset}: learned allocation, r = {r0:.3g}", fontsize=9)
        ax.legend(fontsize=6)
    fig.suptitle("What training exploits in the images beyond their covariance")
    _save(fig, pdf_path, png_path)


def plot_fig10(table: pd.DataFrame, pdf_path, png_path) -> None:
    """The phase transition of the Bernoulli-Rademacher source (docs/theory.md eq. (51) to eq. (54)). Left: test loss
    against p per d: the closed forms (the identity's, eq. (52), dashed; R*(r), solid), both candidates measured at
    the same d (open markers) and the trained runs (filled, mean over seeds, one marker per initialisation).
    Middle: the rows' mean concentration sum_j bbar_ij^4 against p (3/(d+2): a random direction; 1: an axis), with
    p*(n) of eq. (54) per d. Right: p*(n) and the measured crossing interval against d."""
    apply_style()
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.0), layout="constrained")
    ax_loss, ax_shape, ax_cross = axes
    dims = sorted(int(d) for d in table.d.dropna().unique())
    colors = dict(zip(dims, sns.color_palette("viridis", n_colors=len(dims)), strict=True))
    markers = {"gaussian": "o", "rotation": "s"}
    for d in dims:
        sub = table[table.d == d]
        th = sub[sub.kind == "theory"]
        ident = th[th.init == "identity"].sort_values("p")
        ax_loss.plot(ident.p, ident.loss, "--", color=colors[d], lw=1, label=f"identity, closed form, d={d}")
        rot = th[th.init != "identity"].sort_values("p")
        if d == dims[0]:
            ax_loss.plot(rot.p, rot.loss, "-", color="black", lw=1, label="R*(r) (rotation, d -> infinity)")
        cand = sub[sub.kind == "candidate"]
        for name, marker in (("rotation", "D"), ("identity", "^")):
            pts = cand[cand.init == name].sort_values("p")
            ax_loss.plot(pts.p, pts.loss, marker, color=colors[d], mfc="none", ms=6)
        runs = sub[sub.kind == "trained"]
        for init, grp in runs.groupby("init"):
            mean = grp.groupby("p")[["loss", "concentration"]].mean()
            ax_loss.plot(mean.index, mean.loss, markers.get(init, "o"), color=colors[d], ms=4)
            ax_shape.plot(mean.index, mean.concentration, markers.get(init, "o") + "-", color=colors[d], ms=4, lw=1,
                          label=f"d={d}, {init} start")  # fmt: skip
        crit = float(sub.critical.dropna().iloc[0]) if sub.critical.notna().any() else None
        if crit is not None:
            ax_shape.axvline(crit, color=colors[d], ls=":", lw=1)
    ax_loss.plot([], [], "D", color="gray", mfc="none", label="rotation, measured")
    ax_loss.plot([], [], "^", color="gray", mfc="none", label="identity, measured")
    ax_loss.plot([], [], "o", color="gray", label="trained (Gaussian start; squares: rotation start)")
    ax_loss.set_xlabel("sparsity p")
    ax_loss.set_ylabel("test loss  E||x - x_hat||² / d")
    ax_loss.legend(fontsize=6)
    ax_shape.axhline(0.5, color="gray", lw=0.8)
    ax_shape.set_yscale("log")
    ax_shape.set_xlabel("sparsity p")
    ax_shape.set_ylabel("rows' concentration Σ b̄⁴ (1: an axis)")
    ax_shape.set_title("dotted: p*(n), eq. (54)", fontsize=9)
    ax_shape.legend(fontsize=6)
    runs = table[table.kind == "trained"]
    if not runs.empty:
        crit = runs.groupby("d").critical.first()
        ax_cross.plot(crit.index, crit.values, "k-o", ms=4, label="p*(n), eq. (54)")
        for d, grp in runs.groupby("d"):
            conc = grp.groupby("p").concentration.mean()
            loc = conc[conc > 0.5]
            if len(loc):
                first = float(loc.index.min())
                last = float(conc[conc.index < first].index.max()) if (conc.index < first).any() else 0.0
                ax_cross.plot([d, d], [last, first], "-", color=colors[int(d)], lw=4, alpha=0.6)
            else:
                ax_cross.plot([d], [float(conc.index.max())], "^", color=colors[int(d)], ms=8)
        ax_cross.plot([], [], "-", color="gray", lw=4, alpha=0.6, label="measured crossing (▲: none up to this p)")
        ax_cross.set_xscale("log", base=2)
    ax_cross.set_xlabel("d")
    ax_cross.set_ylabel("critical sparsity")
    ax_cross.legend(fontsize=6)
    fig.suptitle("Bernoulli-Rademacher data: when the identity beats a random rotation, and what training finds")
    _save(fig, pdf_path, png_path)


def plot_fig11(table: pd.DataFrame, pdf_path, png_path) -> None:
    """Message passing on sparse data (docs/theory.md eq. (55), eq. (56)). One panel per p: test loss against the
    depth k of the unrolled decoder (k = 0: its first linear step; k = 1: one denoiser), the state evolution as
    d -> infinity (black line, one per r), the ideal encoder at every d (open markers, darker for larger d), the
    trained encoders of figure 7 (filled) and the decoder with learned precisions at its last depth (eq. (57); open
    star)."""
    apply_style()
    ps = sorted(table.p.unique(), reverse=True)
    fig, axes = plt.subplots(1, len(ps), figsize=(3.6 * len(ps), 3.8), squeeze=False, layout="constrained")
    runs = table[table.kind == "unrolled"]
    dims = sorted(int(d) for d in runs[runs.encoder == "ideal"].d.unique())
    shades = sns.color_palette("Blues", n_colors=len(dims) + 1)[1:]
    rates = sorted(table.r.unique())
    styles = dict(zip(rates, ["-", "--", ":", "-."] * 4, strict=False))
    for j, p in enumerate(ps):
        ax = axes[0, j]
        for r in rates:
            se = table[(table.kind == "state evolution") & (table.p == p) & (table.r == r)].sort_values("depth")
            ax.plot(se.depth, se.loss, styles[r], color="black", lw=1.2, label=f"state evolution, r={r:g}")
            sub = runs[(runs.p == p) & (runs.r == r)]
            for k, d in enumerate(dims):
                pts = sub[(sub.encoder == "ideal") & (sub.d == d)].sort_values("depth")
                ax.plot(pts.depth, pts.loss, "o", color=shades[k], mfc="none", ms=4,
                        label=f"ideal encoder, d={d}" if r == rates[0] else None)  # fmt: skip
            tr = sub[sub.encoder == "trained"].groupby("depth").loss.mean()
            ax.plot(tr.index, tr.values, "s", color="tab:orange", ms=3,
                    label="trained encoder (figure 7)" if r == rates[0] else None)  # fmt: skip
            lr = table[(table.kind == "learned") & (table.p == p) & (table.r == r)]
            label = f"learned precisions, d={int(lr.d.iloc[0])}" if r == rates[0] and len(lr) else None
            ax.plot(lr.depth, lr.loss, "*", color="tab:red", ms=7, mfc="none", label=label)
        shown = table[(table.p == p) & table.loss.notna()].loss
        if shown.max() > 2 * shown.min():  # a log scale only where the losses span more than a factor 2
            ax.set_yscale("log")
        ax.set_xlabel("depth k (linear steps)")
        ax.set_title(f"p = {p:g}")
        if j == 0:
            ax.set_ylabel("test loss  E||x - x_hat||² / d")
            ax.legend(fontsize=6)
    fig.suptitle("Sparse data: the decoder that unrolls message passing, against its state evolution")
    _save(fig, pdf_path, png_path)
