"""The Snakemake workflow: lint, config validation, and the quick preset end to end."""

import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from signae import theory

WORKFLOW_FILES = ("Snakefile", "workflow", "config", "profiles", "src", "environment.yml")
FIGURES = ("fig1_limit", "fig2_dynamics", "fig3_features", "fig4_covariance")


def _copy_workflow(repo_root: Path, dest: Path) -> Path:
    for name in WORKFLOW_FILES:
        src = repo_root / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    return dest


def _snakemake(cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def test_lint_is_clean(repo_root, tmp_path):
    wf = _copy_workflow(repo_root, tmp_path)
    out = _snakemake(wf, "--lint")
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert "Lints for" not in text, text


@pytest.mark.parametrize(
    "overlay,key",
    [
        ("limit:\n  r: [0, 2]\n", "['limit']['r']"),
        ("limit:\n  runs:\n    adam: {d: [64], seeds: 1}\n", "'adam'"),
        ("device: tpu\n", "['device']"),
        ("limit:\n  r: [0.3]\n", "limit.r"),
    ],
    ids=["r<=0", "unknown-trainer", "unknown-device", "r*d-not-integer"],
)
def test_bad_config_fails_before_any_job_naming_the_key(repo_root, tmp_path, overlay, key):
    wf = _copy_workflow(repo_root, tmp_path)
    (wf / "bad.yaml").write_text(overlay)
    out = _snakemake(wf, "--dry-run", "--configfile", "bad.yaml")
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert key in text, text
    assert not (wf / "results").exists()


@pytest.mark.slow
def test_quick_preset_end_to_end(repo_root, tmp_path):
    wf = _copy_workflow(repo_root, tmp_path)
    out = _snakemake(wf, "--cores", "2", "--configfile", "config/quick.yaml")
    assert out.returncode == 0, out.stderr[-5000:]
    for stem in FIGURES:
        for ext in ("pdf", "png", "csv"):
            path = wf / "figures" / f"{stem}.{ext}"
            assert path.is_file() and path.stat().st_size > 0, path
    claims = pd.read_csv(wf / "results" / "claims.csv")
    assert list(claims.columns) == ["claim", "figure", "predicted", "reproduced", "gap", "tolerance", "holds"]
    assert set(claims.figure) == {1, 2, 3, 4}
    assert claims.holds.all(), claims[~claims.holds].to_string()

    # The figure-1 table's theory curves are the closed forms; its markers are the runs' own losses.
    fig1 = pd.read_csv(wf / "figures" / "fig1_limit.csv")
    assert {"series", "r", "d", "seed", "loss"} <= set(fig1.columns)
    limit = fig1[fig1.series == "R*(r)"]
    assert all(math.isclose(row.loss, theory.optimal_risk(row.r), rel_tol=1e-12) for row in limit.itertuples())
    shannon = fig1[fig1.series == "Shannon 2^(-2r)"]
    assert all(math.isclose(row.loss, 2 ** (-2 * row.r), rel_tol=1e-12) for row in shannon.itertuples())
    pgd = fig1[(fig1.series == "pgd")]
    assert len(pgd) == 3 * 2  # r in {0.25, 1, 2} x d in {64, 128}, one seed
    # every run records its settings, seed, versions and device
    import json

    meta = json.loads(next((wf / "results" / "runs").rglob("*.json")).read_text())
    assert {"settings", "seed", "versions", "device", "wall_time_s", "weights_sha256"} <= set(meta)
    assert all((wf / "logs").rglob("*.log")) and any((wf / "results" / "benchmarks").rglob("*.tsv"))
