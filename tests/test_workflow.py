"""The Snakemake workflow: lint, config validation, the quick preset end to end (on the real MNIST / CIFAR-10
copies when SIGNAE_MNIST_DIR and SIGNAE_CIFAR10_NPZ are set, on synthetic image files otherwise), reruns
that follow the code, and the figure registry driving the rules. Every run uses the package copied with
the workflow (PYTHONPATH), so an edit in the copy is what runs. The Gaussian and sparse part of the quick
preset runs once per session (``gaussian_quick_run``); the tests that need it finished start from a copy."""

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import _copy_finished, _copy_workflow, _gaussian_only, _snakemake, ran_nothing, synthetic_images

from signae import paths, theory

# the figures that need no real data (Gaussian and sparse sources)
FIGURES = (
    "fig1_limit",
    "fig2_dynamics",
    "fig3_features",
    "fig4_covariance",
    "fig7_sparse",
    "fig10_phase",
    "fig11_message_passing",
)
REAL_FIGURES = ("fig5_universality", "fig6_reconstructions", "fig8_real_denoiser", "fig9_structure")


@pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="this machine has a GPU, so device: cuda is valid here"
)
def test_device_cuda_without_a_gpu_fails_before_any_job(repo_root, tmp_path):
    wf = _copy_workflow(repo_root, tmp_path)
    out = _snakemake(wf, "--cores", "1", "--config", "device=cuda")
    assert out.returncode != 0 and "device is 'cuda' but torch sees no GPU" in out.stderr
    assert ran_nothing(wf)
    assert _snakemake(wf, "--dry-run", "--config", "device=cuda").returncode == 0  # a dry run runs nothing


def _planned_jobs(plan: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job of a dry run."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", plan):
        m = re.match(r"(?:local)?rule (\w+):", block)
        if m:
            w = re.search(r"wildcards: (.*)", block)
            jobs.append((m.group(1), w.group(1) if w else ""))
    return jobs


def test_lint_is_clean(repo_root, tmp_path):
    wf = _copy_workflow(repo_root, tmp_path)
    out = _snakemake(wf, "--lint")
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert "Lints for" not in text, text


@pytest.mark.parametrize(
    "overlay,key",
    [
        ("limit:\n  r: [0, 2]\n", "limit.r.0: 0 is less than"),
        ("limit:\n  runs:\n    adam: {d: [64], seeds: 1}\n", "'adam'"),
        ("device: tpu\n", "device: 'tpu' is not one of"),
        ("limit:\n  r: [0.3]\n", "limit.r"),
        ("trainers:\n  sample:\n    lr: 1e-3\n", "write 1.0e-3"),
        ("sparse:\n  depth: {d: [100]}\n", "sparse.depth.d contains [100]"),
        ("sparse:\n  r: [0.3]\n", "sparse.r contains r = 0.3"),
        ("sparse:\n  p: [1, 5.0e-5]\n", "sparse.p contains 5e-05"),
        ("dynamics:\n  trainers: [tied]\n", "features.trainer is 'pgd'"),
        ("realdata:\n  structure: {r: [0.75]}\n", "realdata.structure.r contains [0.75]"),
        ("realdata:\n  test_samples: 2\n", "realdata.reconstructions.images = "),
        ("realdata:\n  validation_samples: 0\n", "realdata.trainer.select is 'validation'"),
        ("realdata:\n  train_samples: 5050\n", "realdata.validation_samples = 5000 leaves 50"),
    ],
    ids=[
        "r<=0",
        "unknown-trainer",
        "unknown-device",
        "r*d-not-integer",
        "yaml-number-as-string",
        "depth-d-untrained",
        "sparse-r*d-not-integer",
        "p-not-in-file-names",
        "features-trainer-untrained",
        "structure-r-untrained",
        "more-reconstructions-than-test-images",
        "early-stopping-without-validation",
        "too-few-training-images",
    ],
)
def test_bad_config_fails_before_any_job_naming_the_key(repo_root, tmp_path, overlay, key):
    wf = _copy_workflow(repo_root, tmp_path)
    (wf / "bad.yaml").write_text(overlay)
    out = _snakemake(wf, "--dry-run", "--configfile", "bad.yaml")
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert key in text, text
    assert not (wf / "results").exists()


# Known departures, found by this reproduction and reported in the claims table rather than hidden (see
# docs/findings.md): on grey-level CIFAR-10 without whitening, even the training-free designed encoder is far
# above the water-filling prediction (the trainer on Gaussian samples of the twin meets projected GD's encoder,
# a claim that must hold); on MNIST the pixel denoiser is more than twice the scalar-channel MMSE, because the
# linear decoder's error is not noise of one level independent of the pixel (figure 8).
KNOWN_DEPARTURES = ("cifar10 unwhitened: trained", "mnist: the pixel-domain denoiser reaches the scalar-channel")


def _real_overlay(wf: Path, mnist_dir: Path, cifar10_npz: Path) -> Path:
    """The real MNIST files in a torchvision root (made read-only: the pipeline must not write there) and
    the real CIFAR-10 arrays."""
    raw = wf / "tv" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in sorted(mnist_dir.glob("*.gz")):
        shutil.copy(f, raw / f.name)
    for p in (raw, raw.parent, raw.parent.parent):
        p.chmod(0o555)
    overlay = wf / "data.yaml"
    overlay.write_text(f"datasets:\n  mnist: {{root: {wf / 'tv'}}}\n  cifar10: {{npz: {cifar10_npz}}}\n")
    return overlay


def _synthetic_overlay(wf: Path) -> Path:
    """Synthetic images in the data sets' array format and shapes (28 x 28 grey, 32 x 32 x 3 colour)."""
    mnist = synthetic_images(wf / "mnist.npz", (28, 28), 3000, 500, seed=1)
    cifar = synthetic_images(wf / "cifar10.npz", (32, 32, 3), 3000, 500, seed=2)
    overlay = wf / "data.yaml"
    overlay.write_text(f"datasets:\n  mnist: {{npz: {mnist}}}\n  cifar10: {{npz: {cifar}}}\n")
    return overlay


def _check_quick_run(wf: Path, out, overlay: Path) -> pd.DataFrame:
    """What every quick run must produce, whatever the images: figures, a complete claims table whose
    Gaussian claims hold, figure 5's twin diagnostics consistent with norms.json, provenance, the manifest,
    the report. Returns the claims table."""
    assert out.returncode == 0, out.stderr[-5000:]
    for stem in (*FIGURES, *REAL_FIGURES):
        for ext in ("pdf", "png", "csv"):
            path = wf / "figures" / f"{stem}.{ext}"
            assert path.is_file() and path.stat().st_size > 0, path
    claims = pd.read_csv(wf / "results" / "claims.csv")
    assert list(claims.columns) == ["claim", "figure", "predicted", "reproduced", "gap", "tolerance", "holds"]
    assert set(claims.figure) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
    gaussian = claims[claims.figure <= 4]
    assert gaussian.holds.all(), gaussian[~gaussian.holds].to_string()
    assert claims.gap.notna().all()  # every point's gap is reported, held or not
    fig5 = pd.read_csv(wf / "figures" / "fig5_universality.csv")
    assert {"dataset", "variant", "series", "r", "d", "seed", "loss"} <= set(fig5.columns)
    assert set(fig5.dataset) == {"mnist", "cifar10"} and set(fig5.variant) == {"unwhitened", "whitened"}
    # The Gaussian twin: the sample-based trainer on its samples against projected GD's extrapolated limit on
    # every unwhitened variant (a claim per r), the exact twin risk of every trained encoder, and the
    # norm-corrected prediction kappa R + 1 - kappa with kappa from norms.json.
    twin_claims = claims[claims.claim.str.contains("the sample-based trainer reaches the best encoder projected GD")]
    # whether they hold is a property of the spectrum: the real-data test requires it, while synthetic images
    # (a far steeper spectrum) are beyond 150 twin steps
    assert len(twin_claims) == 2 * 2  # mnist, cifar10 x r in {0.125, 0.5}
    # the sample-based trainer on the twin: its encoder's exact risk, and beside it the same encoder with the
    # decoder fitted on N samples (higher, by about n / (N - n)); no other row carries that column
    samples = fig5.series == "Gaussian twin samples, sample-based training"
    assert samples.sum() == 2 * 2 and (fig5[samples].loss_fitted_decoder > fig5[samples].loss).all()
    assert fig5[~samples].loss_fitted_decoder.isna().all()
    trained = fig5[fig5.kind == "trained"]
    on_twin = fig5[fig5.series == "trained encoder, on the Gaussian twin"]
    assert len(on_twin) == len(trained) == 2 * 2 * 2
    for (dataset, variant), sub in fig5.groupby(["dataset", "variant"]):
        norms = json.loads((wf / "results" / "real" / dataset / variant / "norms.json").read_text())
        # kappa <= 1 holds for a Gaussian scale mixture (real images are close to one); synthetic images can
        # have norms more concentrated than their Gaussian twin's, so only a sane range is required here
        assert 0.5 < norms["kappa"] < 1.5 and norms["kappa"] == pytest.approx(norms["kappa_x"] / norms["kappa_g"])
        base = sub[sub.series.isin(["water-filling", "R*(r)"])].sort_values("r")
        corrected = sub[sub.series.str.endswith("norm-corrected")].sort_values("r")
        np.testing.assert_allclose(
            corrected.loss.to_numpy(),
            norms["kappa"] * base.loss.to_numpy() + 1 - norms["kappa"],
            rtol=1e-12,
            atol=1e-15,
        )
    # each real-data run records the SHA-256 of the arrays it came from
    prep = json.loads((wf / "results" / "data" / "cifar10" / "unwhitened.json").read_text())
    assert len(prep["source_sha256"]) == 64

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

    listed = dict(
        reversed(line.split("  ", 1)) for line in (wf / "results" / "MANIFEST.sha256").read_text().splitlines()
    )
    for path, digest in listed.items():
        assert hashlib.sha256((wf / path).read_bytes()).hexdigest() == digest, path
    assert {f"figures/{stem}.csv" for stem in FIGURES} <= set(listed)
    assert any(p.startswith("results/runs/") and p.endswith(".npz") for p in listed)
    assert any(p.startswith("results/real/") and p.endswith(".npz") for p in listed)
    assert {"results/decoders/real/mnist.json", "results/decoders/real/cifar10.json"} <= set(listed)
    assert any(p.startswith("results/decoders/deep/") for p in listed)

    # The report builds, self-contained, with every figure and its caption, the claims, run times and software.
    rep = _snakemake(wf, "--report", "report.html", "--configfile", "config/quick.yaml", str(overlay))
    assert rep.returncode == 0, rep.stderr[-3000:]
    html = (wf / "report.html").read_text(errors="replace")
    for stem in (*FIGURES, *REAL_FIGURES):
        assert f"{stem}.png" in html, stem
    for name in ("claims.html", "runtimes.csv", "environment.html"):
        assert name in html, name
    return claims


def _training_jobs(out) -> set[str]:
    """Rules of the jobs a snakemake run executed, from its log."""
    return set(re.findall(r"^(?:local)?rule (\w+):", out.stdout + out.stderr, flags=re.M))


@pytest.mark.slow
def test_quick_preset_end_to_end_on_synthetic_images(gaussian_quick_run, tmp_path):
    """The whole quick preset on synthetic image files: the suite's end-to-end run where the real copies are
    absent. Where they are set, test_quick_preset_end_to_end_with_real_data runs the same rules on the real
    files (CIFAR-10 through the same .npz source as here) and checks everything this test checks and more, so
    this one is skipped there to keep the suite within its time (CI sets both variables)."""
    if os.environ.get("SIGNAE_MNIST_DIR") and os.environ.get("SIGNAE_CIFAR10_NPZ"):
        pytest.skip(
            "SIGNAE_MNIST_DIR and SIGNAE_CIFAR10_NPZ are set: test_quick_preset_end_to_end_with_real_data runs "
            "this pipeline on the real files instead"
        )
    wf = _copy_finished(gaussian_quick_run, tmp_path)
    overlay = _synthetic_overlay(wf)
    out = _snakemake(wf, "--cores", "2", "--configfile", "config/quick.yaml", str(overlay))
    _check_quick_run(wf, out, overlay)
    # the copied Gaussian and sparse runs were finished: adding real data trains only on real data
    assert not {"train", "train_sparse", "deep_decoder"} & _training_jobs(out), _training_jobs(out)
    source = json.loads((wf / "results" / "data" / "mnist" / "images.json").read_text())
    assert source["source"] == "npz" and len(source["sha256"]) == 64


@pytest.mark.slow
def test_quick_preset_end_to_end_with_real_data(gaussian_quick_run, tmp_path, mnist_dir, cifar10_npz):
    wf = _copy_finished(gaussian_quick_run, tmp_path)
    overlay = _real_overlay(wf, mnist_dir, cifar10_npz)
    out = _snakemake(wf, "--cores", "2", "--configfile", "config/quick.yaml", str(overlay))
    claims = _check_quick_run(wf, out, overlay)
    expected = ~claims.claim.str.startswith(KNOWN_DEPARTURES)
    assert claims[expected].holds.all(), claims[expected & ~claims.holds].to_string()  # the twin claims too
    for norms in (wf / "results" / "real").rglob("norms.json"):
        assert json.loads(norms.read_text())["kappa"] <= 1.0, norms  # image norms spread more than Gaussian ones
    source = json.loads((wf / "results" / "data" / "mnist" / "images.json").read_text())
    assert source["source"] == "root" and len(source["md5"]) == 4


def test_corrupt_npz_stops_the_dataset_rule_and_nothing_is_written(repo_root, tmp_path):
    """A corrupt array file configured as the source is reported by the dataset rule, never used."""
    wf = _copy_workflow(repo_root, tmp_path)
    bad = wf / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    (wf / "o.yaml").write_text(f"datasets:\n  mnist: {{npz: {bad}}}\n")
    out = _snakemake(wf, "--cores", "1", "results/data/mnist/images.npz", "--configfile", "o.yaml")
    log = (wf / paths.log("dataset", paths.fill(paths.IMAGES, dataset="mnist"))).read_text()
    assert out.returncode != 0
    assert "corrupt or truncated" in log and "datasets.mnist.npz" in log
    assert not (wf / "results" / "data" / "mnist" / "images.npz").exists()


@pytest.mark.slow
def test_interrupted_run_resumes_without_recomputing_finished_results(gaussian_quick_run, tmp_path):
    import signal
    import time

    wf = _copy_finished(gaussian_quick_run, tmp_path)
    cfg = ("--configfile", "config/quick.yaml", str(_gaussian_only(wf)))
    finished = "results/runs/isotropic/pgd/d64_r0.25_seed0.json"
    stamp = (wf / finished).stat().st_mtime_ns
    # work left to do: the sparse runs and everything built on them (Snakemake does not remake a missing
    # input of an output that is up to date), and the logs (the kill below waits for new ones)
    for path in ("results/runs/sparse", "results/decoders", "results/report", "logs"):
        shutil.rmtree(wf / path)
    for path in (
        "results/claims.csv",
        "results/MANIFEST.sha256",
        *(f"figures/fig7_sparse.{e}" for e in ("csv", "pdf", "png")),
    ):
        (wf / path).unlink()

    # Start the whole run and kill it, like a power cut, once another training job is under way.
    proc = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "1", *cfg],
        cwd=wf,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(wf / "src")},
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list((wf / "logs" / "train_sparse").rglob("*.log"))) < 2:
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

    # What an edit reruns, planned (each edit is undone, mtime included, before the next: the plans are the
    # point, and running them would redraw every figure):
    def planned_after_appending(rel: str, text: str) -> list[tuple[str, str]]:
        path = wf / rel
        before, stat = path.read_bytes(), path.stat()
        with open(path, "a") as fh:
            fh.write(text)
        try:
            return _planned_jobs(_snakemake(wf, "--dry-run", *cfg).stdout)
        finally:
            path.write_bytes(before)
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    # a style change redraws the figures and nothing else: no training, no table, no claims
    jobs = planned_after_appending("src/signae/plotting.py", "\n# a style change\n")
    assert sorted(jobs) == sorted([("all", "")] + [("figure_plot", f"figure={stem}") for stem in FIGURES]), jobs
    # a caption change redraws only its figure (the caption travels with the figure into the report)
    jobs = planned_after_appending("workflow/report/fig1.rst", "\nA new sentence.\n")
    assert sorted(jobs) == [("all", ""), ("figure_plot", "figure=fig1_limit")], jobs
    # reruns follow the code: editing figure 7's formulas (signae.sparse) reruns what imports them (the sparse
    # runs record their predictions, the deep decoder trains on them, tables evaluate them), not the Gaussian
    # training nor the untrained baseline, which never import them
    rules = {rule for rule, _ in planned_after_appending("src/signae/sparse.py", "\n# an edit of a formula's module\n")}
    assert {"train_sparse", "deep_decoder", "figure_table", "claims"} <= rules, rules
    assert not {"train", "untrained_baseline"} & rules, rules
    # and with every edit undone there is nothing to do (the plans above came from the edits alone)
    plan = _snakemake(wf, "--dry-run", *cfg)
    assert "Nothing to be done" in plan.stdout + plan.stderr


def test_the_figure_registry_drives_the_rules(repo_root, gaussian_quick_run, tmp_path):
    """Every registry entry is one table job and one plot job; a new entry is a new figure, with no rule
    written for it."""
    fresh = _copy_workflow(repo_root, tmp_path / "fresh")
    cfg = ("--configfile", "config/quick.yaml", str(_gaussian_only(fresh)))
    plan = _snakemake(fresh, "--dry-run", *cfg).stdout
    assert {stem for rule, stem in _planned_jobs(plan) if rule == "figure_table"} == {f"figure={s}" for s in FIGURES}
    wf = _copy_finished(gaussian_quick_run, tmp_path / "finished")  # the new figure on top of a finished run
    cfg = ("--configfile", "config/quick.yaml", str(_gaussian_only(wf)))
    with open(wf / "src" / "signae" / "registry.py", "a") as fh:
        fh.write(
            "\nFIGURES['fig9_test'] = Figure('fig9_test', 9, inputs=lambda c: {'runs': _paths(dynamics_runs(c))},\n"
            "    table='signae.tables.dynamics_table', plot='signae.plotting.plot_fig2',\n"
            "    claims=(('signae.claims.dynamics_claims', 'claims'),), caption='workflow/report/fig2.rst')\n"
        )
    plan = _planned_jobs(_snakemake(wf, "--dry-run", *cfg).stdout)
    assert ("figure_table", "figure=fig9_test") in plan and ("figure_plot", "figure=fig9_test") in plan, plan
    done = _snakemake(wf, "--cores", "2", "figures/fig9_test.pdf", "results/claims.csv", *cfg)
    assert done.returncode == 0, done.stderr[-3000:]
    claims = pd.read_csv(wf / "results" / "claims.csv")
    assert (claims.figure == 9).sum() == (claims.figure == 2).sum() > 0


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


def test_adding_a_trainer_is_its_function_and_its_settings(repo_root, tmp_path):
    """docs/layout.md, "Adding a trainer": a function in signae.gaussian_source.TRAINERS and its section of
    trainers in the config (the keys are its arguments) are all it takes; the rules, the run record, the
    settings and the resources follow. Here: projected GD at half the step, trained and tabulated."""
    wf = _copy_workflow(repo_root, tmp_path)
    with open(wf / "src" / "signae" / "gaussian_source.py", "a") as fh:
        fh.write(
            "\n\ndef pgd_half(d, n, steps, lr=1.0, seed=0, Sigma=None, device='cpu'):\n"
            "    return train.projected_gd(d, n, steps, lr=lr / 2, seed=seed, Sigma=Sigma, device=device)\n\n\n"
            "TRAINERS['pgd_half'] = pgd_half\n"
        )
    (wf / "new.yaml").write_text(
        "trainers:\n  pgd_half: {steps: 40, lr: 1.0}\n"
        "limit:\n  r: [0.5]\n  runs: {pgd_half: {d: [32], seeds: 1}}\n  untrained: {d: 32, seeds: 1}\n"
        "realdata: {datasets: []}\n"
    )
    run = "results/runs/isotropic/pgd_half/d32_r0.5_seed0.json"
    out = _snakemake(wf, "--cores", "2", "figures/fig1_limit.csv", "--configfile", "new.yaml")
    assert out.returncode == 0, out.stderr[-3000:]
    meta = json.loads((wf / run).read_text())
    assert meta["trainer"] == "pgd_half" and meta["settings"] == {"steps": 40, "lr": 1.0}
    assert meta["final_loss"] == pytest.approx(theory.optimal_risk(0.5), rel=1e-3)  # r <= 1: exact at any d
    fig1 = pd.read_csv(wf / "figures" / "fig1_limit.csv")
    assert (fig1.series == "pgd_half").sum() == 1
    # a key that is no argument of the trainer is refused naming it, not ignored
    (wf / "typo.yaml").write_text((wf / "new.yaml").read_text().replace("lr: 1.0}", "lr: 1.0, lr_decoder: 0.2}"))
    bad = _snakemake(wf, "--cores", "1", run, "--force", "--configfile", "typo.yaml")
    assert bad.returncode != 0 and "['lr_decoder'] are not arguments of pgd_half" in bad.stdout + bad.stderr


def test_adding_a_data_set_is_its_registry_entry_and_its_source(repo_root, tmp_path):
    """docs/layout.md, "Adding a data set": an entry of signae.datasets.DATASETS (shape, split sizes; here an
    .npz-only set, so no files to decode) and its section of datasets in the config; preprocessing, training
    and the resources follow. A name the registry does not know is refused before any job."""
    wf = _copy_workflow(repo_root, tmp_path)
    with open(wf / "src" / "signae" / "datasets.py", "a") as fh:
        fh.write("\nDATASETS['tiny'] = DataSet(shape=(6, 6), train_images=600, test_images=200)\n")
    npz = synthetic_images(wf / "tiny.npz", (6, 6), 600, 200, seed=3)
    (wf / "new.yaml").write_text(
        f"datasets:\n  tiny: {{npz: {npz}}}\n"
        "realdata:\n  datasets: [tiny]\n  variants: [unwhitened]\n  r: [0.25]\n  seeds: 1\n"
        "  validation_samples: 100\n  structure: {datasets: []}\n  reconstructions: {r: [0.25], images: 2}\n"
        "  trainer: {steps: 10, batch: 256, gaussian_init_steps: 10}\n"
    )
    run = "results/real/tiny/unwhitened/r0.25_seed0.json"
    out = _snakemake(wf, "--cores", "2", run, "--configfile", "new.yaml")
    assert out.returncode == 0, out.stderr[-3000:]
    meta = json.loads((wf / run).read_text())
    assert meta["d"] == 36 and meta["n"] == 9 and 0 < meta["final_loss"] < 1
    (wf / "unknown.yaml").write_text("realdata:\n  datasets: [tinny]\n")
    bad = _snakemake(wf, "--dry-run", "--configfile", "unknown.yaml")
    assert bad.returncode != 0 and "realdata.datasets contains 'tinny'" in bad.stdout + bad.stderr
