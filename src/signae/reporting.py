"""What a reviewer reads first: the claims rendered failures first, run times and memory per figure,
the software and the device, the manifest of every file a figure is built from (docs/reproducibility.md).
All inputs are files the pipeline already wrote."""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

import pandas as pd

#: Which figure a job serves, by its rule (the first folder of its benchmark file under results/benchmarks/,
#: signae.paths.benchmark); the rule train serves figures 1-3 on isotropic data and figure 4 on the others.
STAGES = {
    "untrained_baseline": "figure 1 (untrained baseline)",
    "train_sparse": "figure 7 (sparse data)",
    "deep_decoder": "figure 7 (depth: the deep decoder)",
    "real_denoiser": "figure 8 (denoiser on real images)",
    "dataset": "figures 5-6 (data, preprocessing)",
    "preprocess": "figures 5-6 (data, preprocessing)",
    "train_real": "figures 5-6 (training, designed encoder, Gaussian twin)",
    "designed_real": "figures 5-6 (training, designed encoder, Gaussian twin)",
    "gaussian_twin": "figures 5-6 (training, designed encoder, Gaussian twin)",
    "twin_trainer": "figure 5 (the trainer on Gaussian samples of the twins)",
    "structure": "figure 9 (what training exploits)",
    "train_phase": "figure 10 (the phase transition)",
    "message_passing": "figure 11 (message passing by depth)",
}
#: The rules that serve every figure: counted as "tables and plots".
SHARED = ("figure_table", "figure_plot", "claims", "manifest", "report_tables")


def _stage(rel: str) -> str:
    rule = rel.split("/", 1)[0].removesuffix(".tsv")
    if rule == "train":
        return "figures 1-3 (isotropic Gaussian training)" if "/isotropic/" in rel else "figure 4 (general covariance)"
    if rule in SHARED:
        return "tables and plots"
    if rule not in STAGES:  # a new rule must say which figure it serves, or its time hides under another stage
        raise KeyError(f"signae.reporting.STAGES names no stage for the rule {rule!r} (benchmark file {rel}); add it")
    return STAGES[rule]


def benchmark_rows(bench_dir: str | Path) -> pd.DataFrame:
    """One row per job: its benchmark file, stage, wall seconds and peak memory (max_rss, MB)."""
    rows = []
    root = Path(bench_dir)
    for path in sorted(root.rglob("*.tsv")):
        with open(path) as fh:
            rec = list(csv.DictReader(fh, delimiter="\t"))
        if not rec:
            continue
        rel = str(path.relative_to(root))
        max_rss = pd.to_numeric(rec[-1].get("max_rss"), errors="coerce")
        rows.append(
            {
                "job": rel[: -len(".tsv")],
                "stage": _stage(rel),
                "seconds": float(rec[-1]["s"]),
                "max_rss_mb": float(max_rss) if pd.notna(max_rss) else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=["job", "stage", "seconds", "max_rss_mb"])


def runtime_table(jobs: pd.DataFrame) -> pd.DataFrame:
    """Per stage: number of jobs, summed job time (CPU-side wall seconds), longest job, peak memory."""
    if jobs.empty:
        return pd.DataFrame(columns=["stage", "jobs", "job_seconds", "longest_job_s", "peak_mb"])
    g = jobs.groupby("stage")
    table = pd.DataFrame(
        {
            "jobs": g.size(),
            "job_seconds": g.seconds.sum().round(1),
            "longest_job_s": g.seconds.max().round(1),
            "peak_mb": g.max_rss_mb.max().round(0),
        }
    )
    return table.reset_index()


def markdown_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def claims_html(claims: pd.DataFrame) -> str:
    """The claims table as HTML, failures first, with the relative gap as a percentage."""
    ordered = claims.sort_values(["holds", "figure"], kind="stable")
    held = int(claims.holds.sum())
    rows = []
    for r in ordered.itertuples(index=False):
        colour = "#e6f4ea" if r.holds else "#fce8e6"
        rows.append(
            f'<tr style="background:{colour}"><td>{html.escape(str(r.claim))}</td><td>{r.figure}</td>'
            f"<td>{r.predicted:.6g}</td><td>{r.reproduced:.6g}</td><td>{100 * r.gap:+.3f}%</td>"
            f"<td>{100 * r.tolerance:.3g}%</td><td>{'yes' if r.holds else '<b>no</b>'}</td></tr>"
        )
    head = (
        "<tr><th>claim</th><th>figure</th><th>predicted</th><th>reproduced</th><th>gap</th>"
        "<th>tolerance</th><th>holds</th></tr>"
    )
    return (
        f"<html><body><h2>{held} of {len(claims)} claims hold</h2>"
        f'<table border="1" cellpadding="3" style="border-collapse:collapse;font-family:sans-serif;'
        f'font-size:12px">{head}{"".join(rows)}</table></body></html>\n'
    )


def environment_html(run_jsons, claims_path) -> str:
    """Software versions and devices recorded by the training runs."""
    versions, devices = {}, set()
    for path in run_jsons:
        meta = json.loads(Path(path).read_text())
        versions.update(meta.get("versions", {}))
        dev = meta.get("device", {})
        devices.add(
            f"{dev.get('device')} {dev.get('gpu', '')} ({dev.get('platform', '')}, "
            f"{dev.get('torch_threads', '?')} torch threads)"
        )
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in sorted(versions.items())
    )
    devs = "".join(f"<li>{html.escape(d)}</li>" for d in sorted(devices))
    return (
        f"<html><body><h2>Software</h2><table border='1' cellpadding='3'>{rows}</table>"
        f"<h2>Devices</h2><ul>{devs}</ul><p>claims table: {html.escape(str(claims_path))}</p></body></html>\n"
    )


def manifest(files, root=".") -> str:
    """sha256sum-style lines for every file, sorted by path, from the records of the jobs that wrote them
    (signae.custody), never by hashing what is on disk: ``sha256sum -c`` then checks the files against what
    their jobs wrote."""
    from .custody import read

    return "".join(f"{read(p, root)['sha256']}  {p}\n" for p in sorted(set(map(str, files))))


def summary(claims: pd.DataFrame, figures, report_hint: str) -> str:
    """The one-screen summary printed at the end of a run."""
    held = int(claims.holds.sum())
    lines = ["", "=" * 72, f"signae: {held} of {len(claims)} claims hold (results/claims.csv)"]
    for r in claims[~claims.holds].itertuples(index=False):
        lines.append(
            f"  NOT HELD  fig {r.figure}: {r.claim}  (gap {100 * r.gap:+.2f}%, tolerance {100 * r.tolerance:.3g}%)"
        )
    lines.append(f"figures: {', '.join(sorted({str(Path(f).with_suffix('')) for f in figures}))} (.pdf/.png/.csv)")
    lines.append(report_hint)
    lines.append("=" * 72)
    return "\n".join(lines)
