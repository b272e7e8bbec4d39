"""Faults and bad inputs the workflow tests do not already cover (docs/faults.md): each test asserts the
message the user sees (the file or config key named, and the fix) and that nothing already computed is lost.

Interruptions are made deterministic with a gate: in the test's copy of the workflow, the training script
waits before or after saving until a file exists, so a job can be killed, or orphaned, at a known point.
Where the pipeline does not yet do what docs/faults.md promises, the test stops with ``pytest.xfail`` and
the reason, after checking everything that does hold, and passes once the fault is fixed."""

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import _copy_workflow, _snakemake, ran_nothing

from signae import (
    config,
    datasets,
    gaussian_source,
    images,
    job,
    paths,
    provenance,
    real_source,
    registry,
    runs,
    structure,
    twin,
)
from signae.runs import RunSpec

# Gaussian data only (with the quick preset); the tests name their targets, so the preset's sizes matter only
# for the line printed at start and the checks made when the Snakefile is parsed.
GAUSS = "realdata:\n  datasets: []\n"
GATE_HOOK = '''

def _gate(variable):
    """Test hook (tests/test_faults.py): wait here until the file named by $variable exists."""
    import os
    import pathlib
    import time

    gate = os.environ.get(variable)
    if gate:
        pathlib.Path(gate + ".waiting").touch()
        while not os.path.exists(gate):
            time.sleep(0.05)


def main('''
SAVE = '    runs.save(result, {**meta, "rule": sm.rule}, sm.output.npz, sm.output.json)\n'


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _workflow(repo_root: Path, tmp_path: Path, gated: bool = False) -> Path:
    """A copy of the workflow with a Gaussian-only overlay (gauss.yaml); gated: the training script waits
    at $FAULTS_BEFORE_SAVE / $FAULTS_AFTER_SAVE (a file path) until that file exists."""
    wf = _copy_workflow(repo_root, tmp_path)
    (wf / "gauss.yaml").write_text(GAUSS)
    if gated:
        script = wf / "workflow" / "scripts" / "train.py"
        text = script.read_text()
        assert text.count(SAVE) == 1 and text.count("\ndef main(") == 1, "the gate hook no longer fits train.py"
        text = text.replace("\n\ndef main(", GATE_HOOK, 1)
        text = text.replace(SAVE, f"    _gate('FAULTS_BEFORE_SAVE')\n{SAVE}    _gate('FAULTS_AFTER_SAVE')\n", 1)
        script.write_text(text)
    return wf


def _start(wf: Path, log: Path, *args: str, **env: str) -> subprocess.Popen:
    """snakemake in the background, in its own process group (so that the group can be killed), its
    output in ``log``."""
    with open(log, "w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "snakemake", *args],
            cwd=wf,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(wf / "src"), **env},
        )


def _wait_for(path: Path, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"snakemake ended before {path.name} appeared:\n{log.read_text()[-3000:]}")
        assert time.time() < deadline, f"{path.name} did not appear in {timeout} s"
        time.sleep(0.1)


def _wait_ended(processes: list, timeout: float = 60) -> bool:
    """Whether the processes ended (or are zombies no one has reaped yet) within timeout seconds."""
    import psutil

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in processes):
                return True
        except psutil.NoSuchProcess:
            continue
        time.sleep(0.1)
    return False


@pytest.fixture
def leftovers():
    """(gates, processes): gates opened and processes killed when the test ends, whatever happened, so that
    no job is left waiting at a gate."""
    import psutil

    gates, processes = [], []
    yield gates, processes
    for gate in gates:
        gate.touch()
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()


def _tree(proc: subprocess.Popen) -> list:
    """snakemake and every process under it."""
    import psutil

    main = psutil.Process(proc.pid)
    return [main, *main.children(recursive=True)]


def _job_processes(proc: subprocess.Popen) -> list:
    """The Python processes of the training jobs snakemake started."""
    import psutil

    kids = psutil.Process(proc.pid).children(recursive=True)
    return [p for p in kids if "train.py" in " ".join(p.cmdline()) and "python" in p.name()]


def _run_files(wf: Path, stem: str) -> dict[str, bytes]:
    return {ext: (wf / f"{stem}.{ext}").read_bytes() for ext in ("npz", "json")}


# --- configuration ------------------------------------------------------------------------------------


def test_config_files_go_to_one_flag_and_the_resolved_sizes_show_it(repo_root, tmp_path):
    """Repeated --configfile flags: Snakemake keeps only the last, and the line printed at start shows the
    sizes that will really run; a missing overlay is named; nothing runs in either case."""
    wf = _workflow(repo_root, tmp_path)
    one = _snakemake(wf, "--dry-run", "--configfile", "config/quick.yaml", "gauss.yaml")
    assert one.returncode == 0, one.stderr[-3000:]
    # the printed count is the dry run's own count of training runs (figures 1-4 and 7 in this overlay; figure
    # 10's phase points are jobs of their own, not runs)
    jobs = dict(re.findall(r"^(train\w*)\s+(\d+)$", one.stdout, flags=re.M))
    assert set(jobs) == {"train", "train_sparse", "train_phase"}, one.stdout[-2000:]
    runs = int(jobs["train"]) + int(jobs["train_sparse"])
    assert f"{runs} training runs, Gaussian d in [64, 128], real data none" in one.stderr
    two = _snakemake(wf, "--dry-run", "--configfile", "config/quick.yaml", "--configfile", "gauss.yaml")
    assert two.returncode == 0
    assert "Gaussian d in [128, 256, 512], real data none" in two.stderr  # quick.yaml was dropped
    missing = _snakemake(wf, "--dry-run", "--configfile", "config/quick.yaml", "data.yaml")
    assert missing.returncode != 0
    assert "No such file or directory: 'data.yaml'" in missing.stdout + missing.stderr
    assert ran_nothing(wf)


def test_config_messages_name_the_file_the_key_and_the_fix(repo_root, tmp_path, monkeypatch):
    """signae.config: a YAML syntax error names file and line; an unknown key lists the known ones (not the
    whole schema); the number hint appears for a number YAML read as a string, and only then."""
    monkeypatch.chdir(repo_root)

    def message(text: str) -> str:
        path = tmp_path / "bad.yaml"
        path.write_text(text)
        with pytest.raises(config.ConfigError) as err:
            config.load_config([path])
        return str(err.value)

    text = message("seed: [1, 2\nfoo: 3\n")
    assert f"{tmp_path / 'bad.yaml'} line 2" in text and "not valid YAML" in text
    text = message("bogus: 1\n")
    assert "(top level): Additional properties are not allowed ('bogus' was unexpected)" in text
    assert "known keys here:" in text and "trainers" in text and "'$schema'" not in text and len(text) < 1500
    text = message("trainers:\n  sample:\n    lr: 1e-3\n")
    assert "trainers.sample.lr: '1e-3' is not of type 'number'" in text and "write 1.0e-3" in text
    text = message("seed: abc\n")
    assert "seed: 'abc' is not of type 'integer'" in text and "Hint" not in text  # not a number at all
    assert "merged from config/config.yaml" in text and "bad.yaml" in text
    assert "must hold a mapping" in message("- 1\n- 2\n")
    # the command that checks files before a run
    check = [sys.executable, "-m", "signae.config"]
    good = subprocess.run([*check, "config/quick.yaml"], capture_output=True, text=True)
    assert good.returncode == 0 and "valid: config/config.yaml, config/quick.yaml" in good.stdout
    bad = subprocess.run([*check, str(tmp_path / "bad.yaml")], capture_output=True, text=True)
    assert bad.returncode == 1 and "must hold a mapping" in bad.stderr


# --- data ---------------------------------------------------------------------------------------------


def _user_npz(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    np.savez(
        path,
        x_train=rng.integers(0, 256, (200, 28, 28)).astype(np.uint8),
        y_train=rng.integers(0, 10, 200),
        x_test=rng.integers(0, 256, (40, 28, 28)).astype(np.uint8),
        y_test=rng.integers(0, 10, 40),
    )


@pytest.mark.slow
def _params_changed(plan: str, rule: str) -> bool:
    """The dry run plans a job of ``rule`` because its parameters changed: the job's params file (an input the
    workflow rewrites when the config gives the job other values; signae.paths.params) is newer than its outputs."""
    return re.search(rf"reason: Updated input files: [^\n]*results/params/{rule}/", plan) is not None


def test_a_truncated_images_npz_is_refused_and_a_user_file_changed_in_place_is_read_again(repo_root, tmp_path):
    wf = _workflow(repo_root, tmp_path)
    user = tmp_path / "user" / "mnist.npz"
    user.parent.mkdir()
    _user_npz(user, seed=0)
    (wf / "data.yaml").write_text(f"realdata: {{datasets: [mnist]}}\ndatasets:\n  mnist: {{npz: {user}}}\n")
    cfg = ("--configfile", "config/quick.yaml", "data.yaml")
    images, record = wf / "results/data/mnist/images.npz", wf / "results/data/mnist/images.json"
    made = _snakemake(wf, "--cores", "1", "results/data/mnist/images.npz", *cfg)
    assert made.returncode == 0, made.stderr[-3000:]
    assert json.loads(record.read_text())["sha256"] == _sha(user)
    plan = _snakemake(wf, "--dry-run", "results/data/mnist/images.npz", *cfg)
    assert "Nothing to be done" in plan.stdout + plan.stderr
    user_bytes, record_bytes = user.read_bytes(), record.read_bytes()

    # The verified arrays truncated after they were written: the preprocess rule refuses them, naming the
    # file, its record and the fix, and writes no variant.
    images.write_bytes(images.read_bytes()[: images.stat().st_size // 2])
    bad = _snakemake(wf, "--cores", "1", "results/data/mnist/unwhitened.npz", *cfg)
    text = bad.stdout + bad.stderr
    assert bad.returncode != 0
    assert (
        "results/data/mnist/images.npz does not match its record results/records/data/mnist/images.npz.json"
    ) in text, text[-3000:]
    assert "--forcerun results/data/mnist/images.npz" in text
    assert not (wf / "results/data/mnist/unwhitened.npz").exists()
    assert user.read_bytes() == user_bytes and record.read_bytes() == record_bytes  # the source is untouched

    # The user's file rewritten in place with other images: the dataset rule's params hold its bytes'
    # SHA-256 (not its path), so the next run reads it again (and the stale images.npz is remade, not trusted).
    _user_npz(user, seed=1)
    assert user.stat().st_mtime > images.stat().st_mtime
    plan = _snakemake(wf, "--dry-run", "results/data/mnist/images.npz", *cfg)
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert "rule dataset:" in plan.stdout and _params_changed(plan.stdout, "dataset")

    # The same file moved elsewhere: its bytes are the same, so nothing reruns (the path is no parameter).
    made = _snakemake(wf, "--cores", "1", "results/data/mnist/images.npz", *cfg)
    assert made.returncode == 0, made.stderr[-3000:]
    moved = tmp_path / "elsewhere" / "mnist.npz"
    moved.parent.mkdir()
    shutil.copy2(user, moved)
    (wf / "moved.yaml").write_text(f"realdata: {{datasets: [mnist]}}\ndatasets:\n  mnist: {{npz: {moved}}}\n")
    plan = _snakemake(
        wf, "--dry-run", "results/data/mnist/images.npz", "--configfile", "config/quick.yaml", "moved.yaml"
    )
    assert "Nothing to be done" in plan.stdout + plan.stderr, plan.stdout[-3000:]

    # Read again; then replaced once more with its old timestamp put back (cp -p, touch -r): the bytes
    # changed, so the rule reruns (its params hold the files' SHA-256); a chmod alone reruns nothing.
    made = _snakemake(wf, "--cores", "1", "results/data/mnist/images.npz", *cfg)
    assert made.returncode == 0, made.stderr[-3000:]
    user.chmod(0o444)
    same = _snakemake(wf, "--dry-run", "results/data/mnist/images.npz", *cfg)
    assert "Nothing to be done" in same.stdout + same.stderr, same.stdout[-3000:]
    user.chmod(0o644)
    stamp = user.stat()
    _user_npz(user, seed=2)
    os.utime(user, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    plan = _snakemake(wf, "--dry-run", "results/data/mnist/images.npz", *cfg)
    assert "rule dataset:" in plan.stdout and _params_changed(plan.stdout, "dataset"), plan.stdout


def test_a_truncated_prepared_variant_is_refused_naming_the_file_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    npz, record = _prepared(Path("results/data/mnist"))
    prep = images.load_prepared(npz, record)
    record_bytes = record.read_bytes()
    npz.write_bytes(npz.read_bytes()[:-100])
    with pytest.raises(provenance.ChecksumMismatch) as err:
        images.load_prepared(npz, record)
    assert f"{npz} does not match the SHA-256 recorded in {record}" in str(err.value)
    assert f"--forcerun {npz}" in str(err.value)
    assert record.read_bytes() == record_bytes
    # a record written before checksums were recorded is refused too, not trusted
    record.write_text(json.dumps({k: v for k, v in prep.info.items() if k != "arrays_sha256"}))
    with pytest.raises(provenance.ChecksumMismatch, match=r"records no SHA-256.*--forcerun results/data"):
        images.load_prepared(npz, record)


def _no_network(monkeypatch) -> list[str]:
    """urlopen fails as it does offline ("Name or service not known"); returns the URLs asked for."""
    import socket
    import urllib.error
    import urllib.request

    asked = []

    def offline(url, *args, **kwargs):
        asked.append(url)
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail(f"retried after {s} s although there is no network"))
    return asked


def _plant_mnist(raw: Path) -> None:
    """Well-formed extracted MNIST files that are not MNIST (5 and 3 blank images), as torchvision would
    find them beside the archives."""
    import struct

    raw.mkdir(parents=True, exist_ok=True)
    for name, count in (("train-images-idx3-ubyte", 5), ("t10k-images-idx3-ubyte", 3)):
        (raw / name).write_bytes(struct.pack(">iiii", 2051, count, 28, 28) + bytes(count * 784))
    for name, count in (("train-labels-idx1-ubyte", 5), ("t10k-labels-idx1-ubyte", 3)):
        (raw / name).write_bytes(struct.pack(">ii", 2049, count) + bytes(count))


def test_extracted_files_in_the_download_folder_are_never_read(tmp_path, monkeypatch):
    """Only the MD5-checked archives are read: planted extracted files do not pass as MNIST, and without the
    network the download fails at once (no retries), naming the data set, the folder and the options."""
    asked = _no_network(monkeypatch)
    _plant_mnist(tmp_path / "dl" / "MNIST" / "raw")
    with pytest.raises(datasets.DatasetError) as err:
        datasets.obtain("mnist", {"root": None, "npz": None}, tmp_path / "dl")
    text = str(err.value)
    assert f"downloading mnist into {tmp_path / 'dl'} failed" in text and "Name or service not known" in text
    assert "datasets.mnist.root" in text and "datasets.mnist.npz" in text
    assert len(asked) == 1  # offline: the first address failed and nothing was retried


def test_a_download_folder_with_the_archives_is_read_from_them_alone(mnist_dir, tmp_path, monkeypatch):
    """Archives already in download_root with the right MD5 are used without the network, decoded from the
    verified bytes; planted extracted files and torchvision's processed/*.pt beside them are ignored."""
    asked = _no_network(monkeypatch)
    raw = tmp_path / "dl" / "MNIST" / "raw"
    _plant_mnist(raw)
    for gz in mnist_dir.glob("*-ubyte.gz"):
        (raw / gz.name).write_bytes(gz.read_bytes())
    (tmp_path / "dl" / "MNIST" / "processed").mkdir()
    (tmp_path / "dl" / "MNIST" / "processed" / "training.pt").write_bytes(b"not a tensor file")
    arrays, info = datasets.obtain("mnist", {"root": None, "npz": None}, tmp_path / "dl")
    assert arrays["x_train"].shape == (60000, 28, 28) and arrays["x_test"].shape == (10000, 28, 28)
    assert info["source"] == "download" and len(info["md5"]) == 4 and not asked


def test_a_download_root_that_cannot_be_written_names_the_key(tmp_path, monkeypatch):
    _no_network(monkeypatch)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(datasets.DatasetError, match=r"datasets\.download_root = .*a-file/dl: cannot write there"):
        datasets.obtain("cifar10", {"root": None, "npz": None}, blocker / "dl")


# --- results ------------------------------------------------------------------------------------------


def test_a_figure_table_with_a_nan_loss_is_refused_naming_the_file(repo_root, tmp_path, monkeypatch):
    path = "figures/fig2_dynamics.csv"
    table = pd.DataFrame({"series": ["pgd", "pgd"], "r": [1.0, 1.0], "step": [0, 1], "loss": [0.5, np.nan]})
    with pytest.raises(registry.NonFiniteTable, match=r"^figures/fig2_dynamics\.csv: 1 row\(s\).*--forcerun"):
        registry.check_finite(table, path)
    table.loc[1, "loss"] = np.inf
    with pytest.raises(registry.NonFiniteTable, match="fig2_dynamics"):
        registry.check_finite(table, path)

    # The claims script stops at the broken table, naming it, and leaves the last claims table as it was.
    import importlib.util

    spec = importlib.util.spec_from_file_location("claims_script", repo_root / "workflow/scripts/claims.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    (tmp_path / "gauss.yaml").write_text(GAUSS)
    cfg = config.load_config([tmp_path / "gauss.yaml"], root=repo_root)
    checks = [(1, "figures/fig1_limit.csv", [("signae.claims.limit_claims", cfg["claims"])])]
    sm = SimpleNamespace(
        input=SimpleNamespace(tables=["figures/fig1_limit.csv"]), params=SimpleNamespace(checks=checks),
        output=["results/claims.csv"],
    )  # fmt: skip
    monkeypatch.chdir(tmp_path)
    Path("figures").mkdir()
    Path("results").mkdir()
    pd.DataFrame({"series": ["pgd"], "r": [1.0], "d": [16], "seed": [0], "loss": [np.nan]}).to_csv(
        "figures/fig1_limit.csv", index=False
    )
    Path("results/claims.csv").write_text("claim,holds\nearlier,True\n")
    with pytest.raises(registry.NonFiniteTable, match=r"^figures/fig1_limit\.csv: 1 row"):
        script.main(sm)
    assert Path("results/claims.csv").read_text() == "claim,holds\nearlier,True\n"


def _prepared(folder: Path) -> tuple[Path, Path]:
    """A small prepared variant (unwhitened, 20 pixels) and its record, as the preprocess rule writes them."""
    rng = np.random.default_rng(0)
    pixels = np.clip(128 + 40 * rng.standard_normal((1200, 5)) @ rng.standard_normal((5, 20)), 0, 255)
    pixels = pixels.astype(np.uint8).reshape(1200, 4, 5)
    prep = images.preprocess(pixels[:1000], pixels[1000:], "unwhitened", floor=0.5)
    npz, record = folder / "unwhitened.npz", folder / "unwhitened.json"
    folder.mkdir(parents=True)
    images.save_prepared(prep, npz, record, dataset="mnist", variant="unwhitened", source="test")
    return npz, record


def test_each_trainer_that_diverges_is_refused_naming_its_step_size_keys(tmp_path, monkeypatch):
    """pgd (joint decoder) and tied GD diverge to non-finite or huge losses and are refused by
    experiment.check_result; the sample-based trainers (Gaussian and real data) must be refused the same
    way, with their keys. Nothing is saved in any case."""
    monkeypatch.chdir(tmp_path)
    pgd = RunSpec("isotropic", "pgd", 1.0, 0, d=16)
    bad = {"steps": 30, "lr": 1.0, "decoder": "joint", "lr_decoder": 1.0e6}
    with pytest.raises(runs.TrainingDiverged, match=r"d16_r1_seed0: non-finite.*trainers\.pgd\.lr_decoder"):
        gaussian_source.run(pgd, bad, device="cpu")
    tied = RunSpec("isotropic", "tied", 1.0, 0, d=16)
    with pytest.raises(runs.TrainingDiverged, match=r"not below the trivial risk 1.*trainers\.tied\.lr_beta"):
        gaussian_source.run(tied, {"steps": 20, "lr": 1.0, "lr_beta": 1.0e6}, device="cpu")
    assert not list(tmp_path.iterdir())  # nothing saved

    npz, record = _prepared(tmp_path / "prep")
    sample = RunSpec("isotropic", "sample", 1.0, 0, d=16)
    real = RunSpec("mnist", "sample", 0.5, 0, variant="unwhitened")
    settings = {"steps": 10, "batch": 512, "lr": 1.0e30, "sharpness": [1.0, 3.0], "fit_samples_per_unit": 200}
    prep = images.load_prepared(npz, record)
    k = prep.z_train.shape[1]
    failures = []
    for name, call, keys in (
        ("sample", lambda: gaussian_source.run(sample, settings, device="cpu"), "trainers.sample.lr"),
        ("real", lambda: real_source.run(real, npz, record, settings, device="cpu"), "realdata.trainer.lr"),
        # figure 5's trainer on Gaussian samples of the twin, figure 9's training on the shuffled images
        (
            "twin",
            lambda: twin.twin_trainer(prep.eigenvalues, k, 4, settings, 200, 0, "cpu"),
            "realdata.trainer.lr",
        ),
        ("shuffled", lambda: structure.experiment(prep, [], [0.5], settings, 0, "cpu"), "realdata.trainer.lr"),
    ):
        try:
            call()
        except runs.TrainingDiverged as err:
            assert keys in str(err)
        except Exception as err:  # anything else reaches the user as a bare traceback
            failures.append(f"{name}: {type(err).__name__}: {err}")
        else:
            failures.append(f"{name}: not refused")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prep"]  # nothing saved
    assert not failures, f"a diverging sample-based trainer is not refused with its step-size keys: {failures}"


def test_a_trained_result_above_the_trivial_risk_is_refused_naming_what_and_keys():
    """runs.check_trained, which the twin and figure 9 checks use: a finite result that does no better
    than predicting 0 is refused like a non-finite one; a sound one passes."""
    res = twin.twin_pgd(np.array([4.0, 2.0, 1.0, 0.5]), 2, 5, 1.0, 0, "cpu")
    runs.check_trained(res, "twin", "realdata.twin.lr", trivial=1.875)  # tr Sigma / d
    with pytest.raises(runs.TrainingDiverged, match=r"^twin: final loss .* not below .*realdata\.twin\.lr"):
        runs.check_trained(res, "twin", "realdata.twin.lr", trivial=res.final_loss)
    res.A[0, 0] = np.nan
    with pytest.raises(runs.TrainingDiverged, match=r"^twin: non-finite A"):
        runs.check_trained(res, "twin", "realdata.twin.lr", trivial=1.875)


@pytest.mark.slow
def test_a_failed_rerun_after_a_config_change_keeps_the_previous_run(repo_root, tmp_path):
    """Snakemake deletes a job's outputs when the job starts; the previous run survives in .previous/ (a
    link made when it finished), and docs/faults.md's recovery (copy back, snakemake --touch with the config
    it was made with) puts it back with Snakemake's records matching it."""
    wf = _workflow(repo_root, tmp_path)
    (wf / "diverge.yaml").write_text("trainers:\n  pgd: {decoder: joint, lr_decoder: 1.0e+6}\n")
    stem = "results/runs/isotropic/pgd/d16_r1_seed0"
    cfg = ("--configfile", "config/quick.yaml", "gauss.yaml")
    first = _snakemake(wf, "--cores", "1", f"{stem}.json", *cfg)
    assert first.returncode == 0, first.stderr[-3000:]
    before = _run_files(wf, stem)
    assert _run_files(wf, f".previous/{stem}") == before  # kept when it finished
    plan = _snakemake(wf, "--dry-run", f"{stem}.json", *cfg, "diverge.yaml")
    assert _params_changed(plan.stdout, "train"), plan.stdout[-3000:]
    failed = _snakemake(wf, "--cores", "1", f"{stem}.json", *cfg, "diverge.yaml")
    text = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert f"run {stem}: non-finite" in text and "trainers.pgd.lr_decoder" in text and "nothing was saved" in text
    assert not (wf / f"{stem}.npz").exists()  # Snakemake removed it when the job started ...
    assert _run_files(wf, f".previous/{stem}") == before  # ... and the previous run is kept, bit for bit

    # The recovery of docs/faults.md: copy back, then record it as made by the config it was made with.
    (wf / stem).parent.mkdir(parents=True, exist_ok=True)
    for ext in ("npz", "json"):
        (wf / f"{stem}.{ext}").write_bytes((wf / f".previous/{stem}.{ext}").read_bytes())
        record = paths.record(f"{stem}.{ext}")  # and its record, which the failed job's start removed too
        (wf / record).parent.mkdir(parents=True, exist_ok=True)
        (wf / record).write_bytes((wf / ".previous" / record).read_bytes())
    assert _snakemake(wf, "--touch", f"{stem}.json", *cfg).returncode == 0
    assert _run_files(wf, stem) == before
    same = _snakemake(wf, "--dry-run", f"{stem}.json", *cfg)
    assert "Nothing to be done" in same.stdout + same.stderr
    changed = _snakemake(wf, "--dry-run", f"{stem}.json", *cfg, "diverge.yaml")
    assert _params_changed(changed.stdout, "train")  # never taken for the new settings


# --- interruptions ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_killed_job_or_snakemake_leaves_no_output_and_finished_runs_are_kept(repo_root, tmp_path, leftovers):
    gates, processes = leftovers
    wf = _workflow(repo_root, tmp_path, gated=True)
    cfg = ("--configfile", "config/quick.yaml", "gauss.yaml")
    finished, second = "results/runs/isotropic/pgd/d16_r1_seed0", "results/runs/isotropic/pgd/d16_r2_seed0"
    done = _snakemake(wf, "--cores", "1", f"{finished}.json", *cfg)
    assert done.returncode == 0, done.stderr[-3000:]
    before = _run_files(wf, finished)

    # 1. The job's own process killed (as the out-of-memory killer does) after it wrote its files: they
    #    are under their temporary names (a local run has no shadow directories), never moved into place.
    gate, log = tmp_path / "gate1", tmp_path / "run1.log"
    gates.append(gate)
    proc = _start(wf, log, "--cores", "1", f"{second}.json", *cfg, FAULTS_AFTER_SAVE=str(gate))
    _wait_for(Path(f"{gate}.waiting"), proc, log)
    processes += _tree(proc)
    assert (wf / f"{second}.partial.npz").exists()  # written, staged under its temporary name
    assert not (wf / ".snakemake" / "shadow").exists() or not any((wf / ".snakemake" / "shadow").iterdir())
    jobs = _job_processes(proc)
    assert jobs
    for process in jobs:
        process.send_signal(signal.SIGKILL)
    proc.wait(timeout=120)
    out = log.read_text()
    assert proc.returncode != 0 and "died with <Signals.SIGKILL: 9>" in out, out[-3000:]
    assert not (wf / f"{second}.npz").exists() and not (wf / f"{second}.json").exists()
    assert _run_files(wf, finished) == before

    # 2. snakemake and its job killed together (a power cut, kill -9 of the process group).
    gate, log = tmp_path / "gate2", tmp_path / "run2.log"
    gates.append(gate)
    proc = _start(wf, log, "--cores", "1", f"{second}.json", *cfg, FAULTS_AFTER_SAVE=str(gate))
    _wait_for(Path(f"{gate}.waiting"), proc, log)
    tree = _tree(proc)
    processes += tree
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert _wait_ended(tree)  # the whole job went with it
    assert not (wf / f"{second}.npz").exists() and not (wf / f"{second}.json").exists()
    assert _run_files(wf, finished) == before
    locked = _snakemake(wf, "--cores", "1", f"{second}.json", *cfg)
    text = locked.stdout + locked.stderr
    assert locked.returncode != 0 and "Directory cannot be locked" in text and "--unlock argument" in text
    unlock = _snakemake(wf, "--unlock", *cfg)
    assert unlock.returncode == 0 and "Unlocked working directory" in unlock.stdout + unlock.stderr
    assert _run_files(wf, finished) == before


@pytest.mark.slow
def test_an_orphaned_job_never_overwrites_the_rerun_result(repo_root, tmp_path, leftovers):
    """snakemake killed alone while its job runs: the orphaned job goes on and saves after a rerun with
    other settings has finished. When it has ended, results/ must hold the rerun's run, its .npz matching the
    SHA-256 its .json records."""
    gates, processes = leftovers
    wf = _workflow(repo_root, tmp_path, gated=True)
    (wf / "first.yaml").write_text("trainers:\n  pgd: {steps: 12}\n")
    (wf / "second.yaml").write_text("trainers:\n  pgd: {steps: 9}\n")
    stem = "results/runs/isotropic/pgd/d16_r1_seed0"
    cfg = ("--configfile", "config/quick.yaml", "gauss.yaml")
    gate, log = tmp_path / "gate", tmp_path / "first.log"
    gates.append(gate)
    proc = _start(wf, log, "--cores", "1", f"{stem}.json", *cfg, "first.yaml", FAULTS_BEFORE_SAVE=str(gate))
    _wait_for(Path(f"{gate}.waiting"), proc, log)  # the first run's job has trained and waits to save
    orphans = _tree(proc)[1:]  # the job: its script's Python process
    processes += orphans
    assert _job_processes(proc)
    os.kill(proc.pid, signal.SIGKILL)  # snakemake alone: its job is orphaned
    proc.wait(timeout=60)
    assert all(p.is_running() for p in orphans)

    assert _snakemake(wf, "--unlock", *cfg).returncode == 0
    rerun = _snakemake(wf, "--cores", "1", f"{stem}.json", *cfg, "second.yaml")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert json.loads((wf / f"{stem}.json").read_text())["settings"]["steps"] == 9
    assert all(p.is_running() for p in orphans)  # the orphan outlived the rerun

    gate.touch()  # the orphan saves now, after the rerun's result is in place
    assert _wait_ended(orphans)
    meta = json.loads((wf / f"{stem}.json").read_text())
    assert meta["weights_sha256"] == _sha(wf / f"{stem}.npz")  # whichever run it is, the pair is consistent
    assert meta["settings"]["steps"] == 9  # the orphan saw its run had ended and discarded its outputs


def test_a_job_tells_whether_the_run_that_started_it_is_still_there(monkeypatch):
    """job.check_workflow_alive, the check an orphaned job fails: the token names a process by host,
    pid and start time (a reused pid is another process)."""
    import platform

    monkeypatch.delenv(job.WORKFLOW_VARIABLE, raising=False)
    job.check_workflow_alive()  # a script run on its own: nothing to check
    monkeypatch.setenv(job.WORKFLOW_VARIABLE, job.workflow_token())
    job.check_workflow_alive()  # this process is alive
    host, pid, start = job.workflow_token().rsplit(":", 2)
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    for token in (f"{host}:{ended.pid}:{start}", f"{host}:{pid}:{int(start) + 1}"):  # gone; pid reused
        monkeypatch.setenv(job.WORKFLOW_VARIABLE, token)
        with pytest.raises(job.OrphanedJob, match=r"has ended while the job ran.*Run snakemake again"):
            job.check_workflow_alive()
    monkeypatch.setenv(job.WORKFLOW_VARIABLE, f"not-{platform.node()}:{ended.pid}:{start}")
    job.check_workflow_alive()  # a cluster job: its run is on another host, nothing to check


def test_a_cifar10_download_is_decoded_from_the_verified_archive_in_memory(tmp_path, monkeypatch):
    """The download path end to end without the network: a small archive in CIFAR-10's layout served from a
    file:// address (the registry entry's address, archive sum and file sums replaced by its own). Nothing is
    extracted, a corrupt
    download is refused naming its MD5, and a second call reuses the archive without fetching it."""
    import io
    import pickle
    import tarfile
    import urllib.request

    rng = np.random.default_rng(0)
    batches = {}
    for fname, count in (("data_batch_1", 6), ("test_batch", 4)):
        data = rng.integers(0, 256, size=(count, 3072), dtype=np.uint8)
        batches[fname] = pickle.dumps({"data": data, "labels": list(range(count))})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for fname, blob in batches.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{fname}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    served = tmp_path / "served.tar.gz"
    served.write_bytes(buf.getvalue())
    md5 = hashlib.md5
    files = tuple((f"cifar-10-batches-py/{f}", md5(batches[f]).hexdigest()) for f in ("data_batch_1", "test_batch"))
    cifar10 = datasets.DATASETS["cifar10"]
    served_archive = ((served.as_uri(),), "cifar-10-python.tar.gz", md5(buf.getvalue()).hexdigest())
    monkeypatch.setitem(
        datasets.DATASETS, "cifar10", dataclasses.replace(cifar10, root_files=files, archives=(served_archive,))
    )

    arrays, info = datasets.obtain("cifar10", {"root": None, "npz": None}, tmp_path / "dl")
    assert arrays["x_train"].shape == (6, 32, 32, 3) and arrays["x_test"].shape == (4, 32, 32, 3)
    first = pickle.loads(batches["data_batch_1"])["data"][0]
    assert np.array_equal(arrays["x_train"][0].transpose(2, 0, 1).reshape(-1), first)  # channels last
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == ["cifar-10-python.tar.gz"]  # not extracted

    # the archive is there with the right MD5: used again, never fetched
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("fetched again"))
    again, _ = datasets.obtain("cifar10", {"root": None, "npz": None}, tmp_path / "dl")
    assert np.array_equal(again["x_test"], arrays["x_test"])
    monkeypatch.undo()

    # a server that sends other bytes: refused by MD5 (after the retries), nothing left under the archive's name
    monkeypatch.setattr(time, "sleep", lambda s: None)
    wrong = ((served.as_uri(),), "cifar-10-python.tar.gz", "0" * 32)
    monkeypatch.setitem(datasets.DATASETS, "cifar10", dataclasses.replace(cifar10, root_files=files, archives=(wrong,)))
    with pytest.raises(datasets.DatasetError, match="fails its MD5 check"):
        datasets.obtain("cifar10", {"root": None, "npz": None}, tmp_path / "dl2")
    assert not list((tmp_path / "dl2").iterdir())


def test_a_script_run_on_its_own_gets_the_same_cross_key_checks(repo_root, tmp_path):
    """A workflow script run on its own builds its job from the Snakefile (signae.job.mock), so a schema-valid
    config whose keys disagree is refused naming them, as a Snakemake run does, and nothing is written; and
    config.load_config (python -m signae.config) runs the same config.check_consistency."""
    wf = _copy_workflow(repo_root, tmp_path / "wf")
    (wf / "bad.yaml").write_text("dynamics:\n  trainers: [tied]\n")
    env = {**os.environ, "PYTHONPATH": str(wf / "src")}
    out = subprocess.run(
        [sys.executable, "workflow/scripts/untrained_baseline.py", "bad.yaml"],
        cwd=wf, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert out.returncode != 0 and "features.trainer is 'pgd'" in out.stderr, out.stderr[-2000:]
    assert "Traceback" not in out.stderr and not (wf / "results").exists()
    (tmp_path / "bad.yaml").write_text("dynamics:\n  trainers: [tied]\n")
    with pytest.raises(config.ConfigError, match=r"features\.trainer is 'pgd'.*dynamics\.trainers"):
        config.load_config([tmp_path / "bad.yaml"], root=repo_root)
    config.load_config([], root=repo_root)  # the default config passes
    # figure 9's r must be trained only where figure 9 is drawn
    (tmp_path / "no9.yaml").write_text("realdata:\n  r: [0.5, 1]\n  structure: {datasets: []}\n")
    config.load_config([tmp_path / "no9.yaml"], root=repo_root)
    (tmp_path / "with9.yaml").write_text("realdata:\n  r: [0.5, 1]\n")
    with pytest.raises(config.ConfigError, match=r"realdata\.structure\.r contains \[0\.125, 0\.25\]"):
        config.load_config([tmp_path / "with9.yaml"], root=repo_root)


def test_a_script_run_on_its_own_keeps_what_it_replaces_and_puts_it_back_if_it_fails(tmp_path, monkeypatch):
    """job.standalone: the replaced version is kept in .previous/ (the new result is a new file, so the
    kept link keeps the old bytes); when the script fails, the old version is back and no new output is left."""
    monkeypatch.chdir(tmp_path)
    out, new = Path("results/x.csv"), Path("results/y.csv")
    with job.standalone([out]):  # makes the folder, as Snakemake does
        out.write_text("old\n")
    with job.standalone([out, new]):
        out.write_text("new\n")
        new.write_text("made\n")
    assert out.read_text() == "new\n" and Path(".previous/results/x.csv").read_text() == "old\n"
    new.unlink()
    with pytest.raises(RuntimeError, match="boom"), job.standalone([out, new]):
        out.write_text("half")
        new.write_text("half")
        raise RuntimeError("boom")
    assert out.read_text() == "new\n" and not new.exists()  # the version before the failed run, nothing new


@pytest.mark.parametrize(
    "script,args,message",
    [
        ("dataset.py", ["dataset=mnst"], "dataset=mnst is not one the workflow knows: mnist, cifar10"),
        ("designed_real.py", ["dataset=mnist", "variant=whitned"], "variant=whitned is not one"),
        ("plot_figure.py", ["figures/fig1_limt.pdf"], "figure=fig1_limt is not one the workflow knows: fig1_limit"),
        ("plot_figure.py", [], "rule figure_plot needs the wildcards ['figure'], got none: give a file it writes"),
        ("train.py", ["results/claims.csv"], "rule train does not write results/claims.csv; its outputs:"),
        ("claims.py", ["nothere.yaml"], "config file nothere.yaml does not exist"),
        ("plot_figure.py", ["figure=fig1_limit"], "the job's inputs are not there yet (figures/fig1_limit.csv"),
    ],
)
def test_a_script_run_on_its_own_names_a_wrong_name(repo_root, tmp_path, script, args, message):
    """A wrong command line is refused with what the script accepts (signae.job.mock), not a traceback."""
    wf = _copy_workflow(repo_root, tmp_path)
    env = {**os.environ, "PYTHONPATH": str(wf / "src")}
    out = subprocess.run(
        [sys.executable, f"workflow/scripts/{script}", *args], cwd=wf, capture_output=True, text=True, env=env
    )
    assert out.returncode != 0 and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    assert ran_nothing(wf)


def test_standalone_refuses_absolute_outputs_and_keeps_an_output_it_could_not_move(tmp_path, monkeypatch):
    """An absolute output is refused before anything moves; when keeping a version fails part-way, the
    outputs not yet moved aside stay as they were."""
    monkeypatch.chdir(tmp_path)
    a, b = Path("a.csv"), Path("b.csv")
    a.write_text("a\n")
    b.write_text("b\n")
    with pytest.raises(ValueError, match="relative"), job.standalone([a, tmp_path / "c.csv"]):
        pass
    assert a.read_text() == "a\n"
    calls = []

    def keep_then_fail(outs, root=None):
        calls.append(outs)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_keep(outs, root)

    real_keep = job.keep_previous
    monkeypatch.setattr(job, "keep_previous", keep_then_fail)
    with pytest.raises(OSError, match="disk full"), job.standalone([a, b]):
        pass
    assert a.read_text() == "a\n" and b.read_text() == "b\n"  # a put back, b never moved
