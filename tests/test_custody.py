"""The chain of custody (signae.custody, signae.job) and the reviewer's check (signae.verify): every file a job
writes has its record, every job verifies what it reads, a run's parameters follow the config in force whatever
is left in .snakemake/, and `python -m signae.verify` passes on a finished run and fails, naming the file, on
each kind of tampering (docs/faults.md lists every case)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import _copy_finished, _copy_workflow, _gaussian_only, _snakemake

from signae import custody, images, job, paths, provenance, verify

QUICK = ("config/quick.yaml", "gauss.yaml")
RUN = "results/runs/isotropic/pgd/d64_r2_seed0"
OTHER = "results/runs/isotropic/pgd/d64_r1_seed0"


def _verify(wf: Path, *overlays: str) -> list[str]:
    failures, _ = verify.check(wf, wf, [wf / f for f in (overlays or QUICK)])
    return failures


@pytest.fixture(scope="module")
def finished(gaussian_quick_run, tmp_path_factory) -> Path:
    """A finished quick run (Gaussian and sparse), verified once; the tests tamper with copies of it."""
    wf = _copy_finished(gaussian_quick_run, tmp_path_factory.mktemp("custody"))
    assert _verify(wf) == []
    return wf


def _copy(finished: Path, tmp_path: Path) -> Path:
    return _copy_finished(finished, tmp_path / "wf")


def test_every_output_has_its_record_and_the_verdict_passes(finished):
    """Records name the file, its SHA-256, the rule, the parameters from the config, the results read and the
    code; the manifest is the records' SHA-256; the reviewer's command says VERIFIED and exits 0."""
    record = custody.read(f"{RUN}.npz", finished)
    assert record["sha256"] == provenance.sha256_file(finished / f"{RUN}.npz") and record["rule"] == "train"
    assert record["params"]["settings"]["steps"] == 30 and "src/signae/train.py" in record["code"]
    table = custody.read("figures/fig1_limit.csv", finished)
    assert table["inputs"][f"{RUN}.json"] == provenance.sha256_file(finished / f"{RUN}.json")
    lines = dict(reversed(line.split("  ", 1)) for line in (finished / paths.MANIFEST).read_text().splitlines())
    assert lines["figures/fig1_limit.csv"] == table["sha256"]
    env = {**os.environ, "PYTHONPATH": str(finished / "src")}
    cmd = [sys.executable, "-m", "signae.verify", str(finished), "--repo", str(finished), "--configfile", *QUICK]
    out = subprocess.run(cmd, cwd=finished, capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.startswith("VERIFIED:"), out.stdout + out.stderr


def _edit_csv(path: Path, column: str, row: int = 0, value=0.123456) -> None:
    table = pd.read_csv(path)
    table.loc[row, column] = value
    table.to_csv(path, index=False)


def _edit_json(path: Path, key: str, value) -> None:
    meta = json.loads(path.read_text())
    meta[key] = value
    path.write_text(json.dumps(meta))


TAMPERING = {
    # name: (what is done to the folder, text every verdict must name)
    "a value of a figure table": (
        lambda wf: _edit_csv(wf / "figures/fig1_limit.csv", "loss"),
        "figures/fig1_limit.csv",
    ),
    "a figure table cut to its header": (
        lambda wf: (wf / "figures/fig2_dynamics.csv").write_text(
            (wf / "figures/fig2_dynamics.csv").read_text().splitlines()[0] + "\n"
        ),
        "figures/fig2_dynamics.csv",
    ),
    "a run's final loss in its .json": (lambda wf: _edit_json(wf / f"{RUN}.json", "final_loss", 0.2), f"{RUN}.json"),
    "another run's weights": (lambda wf: shutil.copy(wf / f"{OTHER}.npz", wf / f"{RUN}.npz"), f"{RUN}.npz"),
    "another run's .npz and .json": (
        lambda wf: [shutil.copy(wf / f"{OTHER}.{e}", wf / f"{RUN}.{e}") for e in ("npz", "json")],
        f"{RUN}.json",
    ),
    "a run deleted": (lambda wf: (wf / f"{RUN}.npz").unlink(), f"{RUN}.npz is missing"),
    "a claim removed": (
        lambda wf: pd.read_csv(wf / paths.CLAIMS).iloc[1:].to_csv(wf / paths.CLAIMS, index=False),
        paths.CLAIMS,
    ),
    "a claim's verdict flipped": (lambda wf: _edit_csv(wf / paths.CLAIMS, "holds", 0, False), paths.CLAIMS),
    "a drawn figure": (lambda wf: (wf / "figures/fig3_features.png").write_bytes(b"\x89PNG"), "fig3_features.png"),
    "the manifest": (
        lambda wf: (wf / paths.MANIFEST).write_text("0" * 64 + "  figures/fig1_limit.csv\n"),
        paths.MANIFEST,
    ),
    "a file and its record forged together": (
        lambda wf: _forge(wf, "figures/fig4_covariance.csv"),
        "was made from another version of figures/fig4_covariance.csv",
    ),
    "the code": (
        lambda wf: (wf / "src/signae/population.py").write_text(
            (wf / "src/signae/population.py").read_text() + "\n# edited\n"
        ),
        "another version of src/signae/population.py",
    ),
}


def _forge(wf: Path, path: str) -> None:
    """Edit a file and rewrite its record to match: the records of what was made from it still disagree."""
    _edit_csv(wf / path, "loss")
    record = custody.read(path, wf)
    record["sha256"] = provenance.sha256_file(wf / path)
    (wf / paths.record(path)).write_text(json.dumps(record))


@pytest.mark.parametrize("case", TAMPERING)
def test_the_verdict_fails_naming_each_kind_of_tampering(finished, tmp_path, case):
    wf = _copy(finished, tmp_path)
    tamper, named = TAMPERING[case]
    tamper(wf)
    failures = _verify(wf)
    assert failures and any(named in f for f in failures), failures


def test_a_config_change_is_named_by_the_verdict_and_reruns_the_runs_without_snakemakes_records(finished, tmp_path):
    """A run's recorded settings against the config in force: the verdict names the key; and with .snakemake/
    removed (Snakemake's own records of params gone) the changed runs still rerun, because their params file
    is an input the workflow rewrites."""
    wf = _copy(finished, tmp_path)
    (wf / "steps.yaml").write_text("trainers:\n  pgd: {steps: 40}\n")
    failures = _verify(wf, *QUICK, "steps.yaml")
    assert any(
        f"{RUN}.npz was made with other parameters" in f and "settings.steps = 30 there, 40" in f for f in failures
    )
    shutil.rmtree(wf / ".snakemake")
    plan = _snakemake(wf, "--dry-run", "--configfile", *QUICK, "steps.yaml")
    assert plan.returncode == 0, plan.stderr[-3000:]
    params = "results/params/train/runs/isotropic/pgd/d64_r2_seed0.json"
    assert f"{RUN}.json" in plan.stdout and params in plan.stdout
    assert json.loads((wf / params).read_text())["settings"]["steps"] == 40
    # the config back: its parameters again (with .snakemake/ gone Snakemake cannot tell that they are the ones
    # the runs were made with, and reruns them: the safe side)
    assert _snakemake(wf, "--dry-run", "--configfile", *QUICK).returncode == 0
    assert json.loads((wf / params).read_text())["settings"]["steps"] == 30


def test_a_job_reading_a_tampered_file_stops_naming_it(finished, tmp_path):
    """Inside the workflow: an edited figure table makes the claims rule rerun (the table is newer), and the claims
    job refuses it against its record, naming the file and the fix, before anything is written."""
    wf = _copy(finished, tmp_path)
    claims_before = (wf / paths.CLAIMS).read_bytes()
    _edit_csv(wf / "figures/fig1_limit.csv", "loss")
    out = _snakemake(wf, "--cores", "1", paths.CLAIMS, "--configfile", *QUICK)
    text = out.stdout + out.stderr
    assert out.returncode != 0 and "figures/fig1_limit.csv does not match its record" in text, text[-3000:]
    assert "--forcerun figures/fig1_limit.csv" in text
    assert not (wf / paths.CLAIMS).exists() and (wf / ".previous" / paths.CLAIMS).read_bytes() == claims_before


def test_moving_the_project_folder_reruns_nothing(finished, tmp_path):
    """No parameter holds where the project or the data lie: a moved copy (times and .snakemake/ kept) is up to
    date."""
    wf = _copy(finished, tmp_path)
    plan = _snakemake(wf, "--dry-run", "--configfile", *QUICK)
    assert "Nothing to be done" in plan.stdout + plan.stderr, plan.stdout[-3000:]


def _sm(tmp_path: Path, out: Path) -> SimpleNamespace:
    """A snakemake object of a one-output job, with its record, as a rule declares them (common.smk, recorded)."""
    from snakemake.iocontainers import InputFiles, OutputFiles, Params, Wildcards

    return SimpleNamespace(
        input=InputFiles(),
        output=OutputFiles(fromdict={"csv": str(out), "record_csv": paths.record(str(out))}),
        params=Params(),
        wildcards=Wildcards(),
        rule="test",
        threads=1,
    )


def test_an_orphaned_job_moves_nothing_into_place(tmp_path, monkeypatch):
    """A job whose snakemake run has ended (a local job of a killed run) writes under temporary names only: when
    it ends, neither its output nor its record reaches its place, and the result already there is untouched."""
    monkeypatch.chdir(tmp_path)
    out = Path("results/claims.csv")
    out.parent.mkdir(parents=True)
    out.write_text("the finished rerun's\n")
    stopped = []

    def ended():
        raise job.OrphanedJob("the run has ended")

    monkeypatch.setattr(job, "check_workflow_alive", ended)
    monkeypatch.setattr(job, "_stop_own_job_process", lambda: stopped.append(True))
    with pytest.raises(job.OrphanedJob):
        job._custody(lambda sm: Path(sm.output[0]).write_text("the orphan's\n"), _sm(tmp_path, out), tmp_path)
    assert out.read_text() == "the finished rerun's\n" and stopped == [True]
    assert not Path(paths.record(str(out))).exists() and sorted(p.name for p in out.parent.iterdir()) == ["claims.csv"]
    monkeypatch.setattr(job, "check_workflow_alive", lambda: None)  # the same job of a live run lands
    job._custody(lambda sm: Path(sm.output[0]).write_text("new\n"), _sm(tmp_path, out), tmp_path)
    assert out.read_text() == "new\n" and custody.read(str(out))["sha256"] == provenance.sha256_file(out)


def test_the_kept_version_does_not_change_when_the_current_one_is_edited_in_place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = Path("results/x.csv")
    out.parent.mkdir()
    out.write_text("made\n")
    (kept,) = job.keep_previous([out], root=tmp_path)
    with open(out, "r+") as fh:  # edited in place: the same inode
        fh.write("EDIT")
    assert out.read_text() == "EDIT\n" and kept.read_text() == "made\n"


def test_data_files_are_checked_against_what_the_config_asks(tmp_path):
    """A data file with fewer images than realdata.train_samples / test_samples asks is refused naming the file and
    the key; a variant whose files were copied over the other variant's is refused naming both."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (1500, 4, 5)).astype(np.uint8)
    npz, record = tmp_path / "images.npz", tmp_path / "images.json"
    np.savez(npz, x_train=x, x_test=x[:2])
    record.write_text(json.dumps({"arrays_sha256": provenance.sha256_file(npz), "path": "/data/mnist.npz"}))
    with pytest.raises(ValueError, match=r"holds 1500 training images, but realdata.train_samples asks for 20000"):
        images.load_images(npz, record, 20000, 1000)
    with pytest.raises(ValueError, match=r"holds 2 test images, but realdata.test_samples asks for 1000"):
        images.load_images(npz, record, 1000, 1000)
    x_train, x_test, _ = images.load_images(npz, record, 1000, 2)
    assert len(x_train) == 1000 and len(x_test) == 2
    folder = tmp_path / "results" / "data" / "mnist"
    folder.mkdir(parents=True)
    prep = images.preprocess(x[:1000], x[1000:], "whitened", floor=0.5)
    images.save_prepared(prep, folder / "whitened.npz", folder / "whitened.json", dataset="mnist", variant="whitened")
    for ext in ("npz", "json"):
        shutil.copy(folder / f"whitened.{ext}", folder / f"unwhitened.{ext}")
    with pytest.raises(ValueError, match=r"is the variant 'whitened', but its path names 'unwhitened'"):
        images.load_prepared(folder / "unwhitened.npz", folder / "unwhitened.json")
    with pytest.raises(ValueError, match="the data set is blank"):
        images.preprocess(np.zeros((200, 4, 5), np.uint8), np.zeros((10, 4, 5), np.uint8), "unwhitened", 0.5)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--config", "seed=18446744073709551616"], "seed: 18446744073709551616 is greater than the maximum"),
        (["--config", "trainers={pgd: {lr: 2}}"], "snakemake --config reads the values inside a mapping as text"),
    ],
    ids=["seed-2^64", "config-mapping"],
)
def test_unclear_config_errors_name_the_key_and_the_fix(repo_root, tmp_path, args, message):
    wf = _copy_workflow(repo_root, tmp_path)
    out = _snakemake(wf, "--dry-run", *args)
    assert out.returncode != 0 and message in out.stdout + out.stderr, (out.stdout + out.stderr)[-2000:]


def test_the_workflow_runs_from_another_folder_and_a_folder_it_cannot_write_is_named(repo_root, tmp_path):
    """`snakemake -s path/to/Snakefile` from another folder reads the repository's config (its results land in
    that folder, as Snakemake's working directory); a folder the run writes to that cannot be written (here a file
    where figures/ goes) is named before any job."""
    wf = _copy_workflow(repo_root, tmp_path / "repo")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(wf / "src")}
    plan = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(wf / "Snakefile"), "--dry-run", "--configfile",
         str(wf / "config/quick.yaml"), str(_gaussian_only(wf))],
        cwd=elsewhere, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert plan.returncode == 0, plan.stderr[-3000:]
    (wf / "figures").write_text("not a folder\n")
    out = _snakemake(wf, "--cores", "1", "--configfile", "config/quick.yaml", "gauss.yaml")
    assert out.returncode != 0 and "figures/ cannot be written" in out.stdout + out.stderr
