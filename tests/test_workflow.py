"""The Snakemake workflow: lint, config validation, and the quick preset end to end."""

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
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


SHARED = Path(__file__).resolve().parents[1].parent / "shared"

# Known departures from the paper's universality claim, found by this reproduction and reported in the
# claims table rather than hidden: on grey-level CIFAR-10 without whitening, even the training-free
# designed encoder is far above the water-filling prediction (projected GD meets it on the Gaussian twin,
# a claim that must hold), and the trainer does not reach the designed encoder. See README, "Findings".
KNOWN_DEPARTURES = ("cifar10 unwhitened: trained", "cifar10 unwhitened: training does")


def _data_overlay(wf: Path) -> Path:
    """Real MNIST files in a torchvision root and a CIFAR-10 subset made by the shared tool."""
    raw = wf / "tv" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in sorted((SHARED / "data" / "mnist").glob("*.gz")):
        shutil.copy(f, raw / f.name)
    npz = wf / "cifar10.npz"
    subprocess.run([sys.executable, str(SHARED / "tools" / "cifar10_npz.py"), str(npz), "--train", "20000",
                    "--test", "1000"], check=True, capture_output=True)
    overlay = wf / "data.yaml"
    overlay.write_text(f"datasets:\n  mnist: {{root: {wf / 'tv'}}}\n  cifar10: {{npz: {npz}}}\n")
    return overlay


@pytest.mark.slow
def test_quick_preset_end_to_end_with_real_data(repo_root, tmp_path):
    wf = _copy_workflow(repo_root, tmp_path)
    overlay = _data_overlay(wf)
    out = _snakemake(wf, "--cores", "2", "--configfile", "config/quick.yaml", str(overlay))
    assert out.returncode == 0, out.stderr[-5000:]
    for stem in FIGURES + ("fig5_universality", "fig6_reconstructions"):
        for ext in ("pdf", "png", "csv"):
            path = wf / "figures" / f"{stem}.{ext}"
            assert path.is_file() and path.stat().st_size > 0, path
    claims = pd.read_csv(wf / "results" / "claims.csv")
    assert list(claims.columns) == ["claim", "figure", "predicted", "reproduced", "gap", "tolerance", "holds"]
    assert set(claims.figure) == {1, 2, 3, 4, 5, 6}
    expected = ~claims.claim.str.startswith(KNOWN_DEPARTURES)
    assert claims[expected].holds.all(), claims[expected & ~claims.holds].to_string()
    assert claims.gap.notna().all()  # every point's gap is reported, held or not
    fig5 = pd.read_csv(wf / "figures" / "fig5_universality.csv")
    assert {"dataset", "variant", "series", "r", "d", "seed", "loss"} <= set(fig5.columns)
    assert set(fig5.dataset) == {"mnist", "cifar10"} and set(fig5.variant) == {"unwhitened", "whitened"}
    # The Gaussian twin: projected GD on every unwhitened variant (a claim per r), the exact twin risk of
    # every trained encoder, and the norm-corrected prediction kappa R + 1 - kappa with kappa from norms.json.
    twin_claims = claims[claims.claim.str.contains("on Gaussian data of the same covariance")]
    assert len(twin_claims) == 2 * 2 and twin_claims.holds.all()  # mnist, cifar10 x r in {0.125, 0.5}
    trained = fig5[fig5.kind == "trained"]
    on_twin = fig5[fig5.series == "trained encoder, on the Gaussian twin"]
    assert len(on_twin) == len(trained) == 2 * 2 * 2
    for (dataset, variant), sub in fig5.groupby(["dataset", "variant"]):
        norms = json.loads((wf / "results" / "real" / dataset / variant / "norms.json").read_text())
        assert 0.5 < norms["kappa"] <= 1.0 and norms["kappa"] == pytest.approx(norms["kappa_x"] / norms["kappa_g"])
        base = sub[sub.series.isin(["water-filling", "R*(r)"])].sort_values("r")
        corrected = sub[sub.series.str.endswith("norm-corrected")].sort_values("r")
        np.testing.assert_allclose(corrected.loss.to_numpy(),
                                   norms["kappa"] * base.loss.to_numpy() + 1 - norms["kappa"], rtol=1e-12)
    # each real-data run records the SHA-256 of the arrays it came from
    prep = json.loads((wf / "results" / "data" / "cifar10" / "unwhitened.json").read_text())
    source = json.loads((wf / "results" / "data" / "cifar10" / "images.json").read_text())
    assert source["source"] == "npz" and len(source["sha256"]) == 64 and prep["source_sha256"]

    # The figure-1 table's theory curves are the closed forms; its markers are the runs' own losses.
    fig1 = pd.read_csv(wf / "figures" / "fig1_limit.csv")
    assert {"series", "r", "d", "seed", "loss"} <= set(fig1.columns)
    limit = fig1[fig1.series == "R*(r)"]
    assert all(math.isclose(row.loss, theory.optimal_risk(row.r), rel_tol=1e-12) for row in limit.itertuples())
    shannon = fig1[fig1.series == "Shannon 2^(-2r)"]
    assert all(math.isclose(row.loss, 2 ** (-2 * row.r), rel_tol=1e-12) for row in shannon.itertuples())
    assert len(fig1[fig1.series == "pgd"]) == 3 * 2  # r in {0.25, 1, 2} x d in {64, 128}, one seed
    meta = json.loads(next((wf / "results" / "runs").rglob("*.json")).read_text())
    assert {"settings", "seed", "versions", "device", "wall_time_s", "weights_sha256"} <= set(meta)
    assert any((wf / "results" / "benchmarks").rglob("*.tsv"))

    # The end-of-run summary agrees with the claims table.
    held = int(claims.holds.sum())
    assert f"signae: {held} of {len(claims)} claims hold" in out.stdout + out.stderr

    # The manifest lists every file the figures are built from, with their current SHA-256.
    import hashlib

    lines = (wf / "results" / "MANIFEST.sha256").read_text().splitlines()
    listed = {}
    for line in lines:
        digest, path = line.split("  ", 1)
        listed[path] = digest
    for path, digest in listed.items():
        assert hashlib.sha256((wf / path).read_bytes()).hexdigest() == digest, path
    assert {f"figures/{stem}.csv" for stem in FIGURES} <= set(listed)
    assert any(p.startswith("results/runs/") and p.endswith(".npz") for p in listed)
    assert any(p.startswith("results/real/") and p.endswith(".npz") for p in listed)

    # The report builds, self-contained, with every figure, the claims, run times and software.
    rep = _snakemake(wf, "--report", "report.html", "--configfile", "config/quick.yaml", str(overlay))
    assert rep.returncode == 0, rep.stderr[-3000:]
    html = (wf / "report.html").read_text(errors="replace")
    for stem in FIGURES + ("fig5_universality", "fig6_reconstructions"):
        assert f"{stem}.png" in html, stem
    for name in ("claims.html", "runtimes.csv", "environment.html"):
        assert name in html, name


def test_corrupt_npz_stops_the_dataset_rule_and_nothing_is_written(repo_root, tmp_path):
    """A corrupt array file configured as the source is reported by the dataset rule, never used."""
    wf = _copy_workflow(repo_root, tmp_path)
    bad = wf / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    (wf / "o.yaml").write_text(f"datasets:\n  mnist: {{npz: {bad}}}\n")
    out = _snakemake(wf, "--cores", "1", "results/data/mnist/images.npz", "--configfile", "o.yaml")
    log = (wf / "logs" / "data" / "mnist.log").read_text()
    assert out.returncode != 0
    assert "corrupt or truncated" in log and "datasets.mnist.npz" in log
    assert not (wf / "results" / "data" / "mnist" / "images.npz").exists()


def _gaussian_only(wf: Path) -> Path:
    overlay = wf / "gauss.yaml"
    overlay.write_text("realdata:\n  datasets: []\n")
    return overlay


@pytest.mark.slow
def test_interrupted_run_resumes_without_recomputing_finished_results(repo_root, tmp_path):
    import os
    import signal
    import time

    wf = _copy_workflow(repo_root, tmp_path)
    cfg = ("--configfile", "config/quick.yaml", str(_gaussian_only(wf)))
    finished = "results/runs/isotropic/pgd/d64_r0.25_seed0.json"
    assert _snakemake(wf, "--cores", "1", finished, *cfg).returncode == 0
    stamp = (wf / finished).stat().st_mtime_ns

    # Start the whole run and kill it, like a power cut, once another training job is under way.
    proc = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "1", *cfg], cwd=wf,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((wf / "logs" / "train").rglob("*.log"))) < 3:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _snakemake(wf, "--unlock", *cfg).returncode == 0

    plan = _snakemake(wf, "--dry-run", "--rerun-incomplete", *cfg)
    outputs = [line for line in plan.stdout.splitlines() if line.strip().startswith("output:")]
    assert plan.returncode == 0 and outputs  # something is left to do
    assert not any(finished in line for line in outputs)  # but not the finished run
    done = _snakemake(wf, "--cores", "2", "--rerun-incomplete", *cfg)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (wf / finished).stat().st_mtime_ns == stamp  # the finished run was not recomputed
    assert (wf / "results" / "claims.csv").is_file()

    # Determinism: the same training rule run twice gives bit-identical arrays (CPU, same seed).
    import numpy as np

    target = "results/runs/isotropic/sample/d64_r1_seed0.npz"
    with np.load(wf / target) as z:
        before = {k: z[k].copy() for k in z.files}
    again = _snakemake(wf, "--cores", "1", "--force", target, *cfg)
    assert again.returncode == 0, again.stderr[-3000:]
    with np.load(wf / target) as z:
        assert set(z.files) == set(before)
        for k in z.files:
            assert np.array_equal(z[k], before[k]), k

    assert _snakemake(wf, "--cores", "2", *cfg).returncode == 0  # bring the tables up to the rerun run

    # A style change redraws the figures and nothing else: no training, no table, no claims.
    with open(wf / "src" / "signae" / "plotting.py", "a") as fh:
        fh.write("\n# a style change\n")
    plan = _snakemake(wf, "--dry-run", *cfg)
    jobs = set(re.findall(r"^(?:local)?rule (\w+):", plan.stdout, re.M))
    assert jobs == {"fig1", "fig2", "fig3", "fig4", "all"}, jobs
    # and a caption change reruns nothing (captions are read by the report only)
    with open(wf / "workflow" / "report" / "fig1.rst", "a") as fh:
        fh.write("\nA new sentence.\n")
    assert _snakemake(wf, "--cores", "2", *cfg).returncode == 0
    plan = _snakemake(wf, "--dry-run", *cfg)
    assert "Nothing to be done" in plan.stdout + plan.stderr


def test_paper_preset_requests_a_gpu_and_size_derived_resources_for_every_training_job(repo_root, tmp_path):
    wf = _copy_workflow(repo_root, tmp_path)
    plan = _snakemake(wf, "--dry-run", "--workflow-profile", "none", "--configfile", "config/paper.yaml")
    assert plan.returncode == 0, plan.stderr[-3000:]
    blocks = re.split(r"\n(?=(?:local)?rule \w+:)", plan.stdout)
    training = [b for b in blocks if re.match(r"rule (train|train_real):", b)]
    assert len(training) > 400
    mem = set()
    for block in training:
        res = re.search(r"resources: (.*)", block).group(1)
        assert "gpu=1" in res, block
        mem.add(int(re.search(r"mem_mb=(\d+)", res).group(1)))
        assert int(re.search(r"runtime=(\d+)", res).group(1)) >= 10
    assert len(mem) > 10  # memory follows each job's size, not one guessed value
