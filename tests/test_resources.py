"""signae.resources: the jobs' memory and run-time requests, against hand arithmetic and the Snakefile."""

import copy
import itertools
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from signae import resources as res
from signae.datasets import DATASETS
from signae.theory import hidden_units

ROOT = Path(__file__).resolve().parents[1]


# --- hand computations -------------------------------------------------------------------------------


def test_constants_are_those_of_the_snakefile():
    assert res.TORCH_BASE_MB == 1500
    assert res.CPU_FLOPS_PER_THREAD == 5e9
    assert res.GPU_FLOPS == 1e12
    assert (res.TRAIN_MIN_MINUTES, res.REAL_MIN_MINUTES) == (10, 15)


@pytest.mark.parametrize(
    "device, smi, expected",
    [
        ("cuda", False, True),
        ("cuda", True, True),
        ("auto", True, True),
        ("auto", False, False),
        ("cpu", True, False),
        ("cpu", False, False),
    ],
)
def test_uses_gpu(device, smi, expected):
    assert res.uses_gpu(device, smi) is expected


def test_rate_flops():
    assert res.rate_flops(True, 8) == 1e12  # a GPU: threads do not matter
    assert res.rate_flops(False, 1) == 5e9
    assert res.rate_flops(False, 4) == 2e10


def test_train_mem_mb_by_hand():
    # d = 256, n = 512 (r = 2), batch 8192 (the sample trainer):
    # n^2 = 262144, n d = 131072, d^2 = 65536
    # 8 * (10 * 262144 + 10 * 131072 + 2 * 65536) = 8 * 4063232 = 32505856 bytes
    # 4 * 6 * 8192 * (512 + 256) = 150994944 bytes; total 183500800 bytes = 183.5008 MB
    assert res.train_mem_mb(256, 512, 8192, 1) == 1683  # int(1500 + 183.5008)
    assert res.train_mem_mb(256, 512, 8192, 2) == 3367  # int(1683.5008 * 2 = 3367.0016)
    assert res.train_mem_mb(256, 512, 8192, 3) == 6734  # int(1683.5008 * 4 = 6734.0032)
    # exact-risk trainer (batch 0), d = 256, n = 128: 8 * (163840 + 327680 + 131072) = 4980736 bytes
    assert res.train_mem_mb(256, 128, 0, 1) == 1504  # int(1504.980736)


def test_train_runtime_by_hand():
    # d = 256, n = 512, batch 8192, 60 steps, one CPU thread (5e9 FLOP/s):
    # 8 n^2 d = 536870912, n^3 = 134217728, 6 * 8192 * 512 * 768 = 19327352832 -> 19998441472 per step
    # * 60 = 1199906488320 flops -> 239.98 s -> 3 * 239.98 / 60 = 11.999 -> ceil 12 minutes (> 10)
    assert res.train_runtime_min(256, 512, 8192, 60, 5e9, 1) == 12
    assert res.train_runtime_min(256, 512, 8192, 60, 5e9, 2) == 24
    assert res.train_runtime_min(256, 512, 8192, 60, 5e9, 4) == 96
    # two threads: 119.99 s -> 5.9995 -> ceil 6 -> the 10-minute floor
    assert res.train_runtime_min(256, 512, 8192, 60, 1e10, 1) == 10
    # 600 steps: 2399.8 s -> 119.99 -> 120 minutes
    assert res.train_runtime_min(256, 512, 8192, 600, 5e9, 1) == 120


def test_real_sizes():
    mnist, cifar10 = DATASETS["mnist"], DATASETS["cifar10"]
    assert res.real_pixels(mnist.shape, True) == res.real_pixels(mnist.shape, False) == 784
    assert res.real_pixels(cifar10.shape, True) == 1024
    assert res.real_pixels(cifar10.shape, False) == 3072
    assert res.real_rows(mnist.train_images, mnist.test_images, None, None) == 70000
    assert res.real_rows(cifar10.train_images, cifar10.test_images, None, None) == 60000
    assert res.real_rows(cifar10.train_images, cifar10.test_images, 2000, 500) == 2500
    assert res.real_rows(mnist.train_images, mnist.test_images, 2000, None) == 12000


def test_real_mem_mb_by_hand():
    # MNIST, all 70000 rows, n = 1 * 784 = 784.0, batch 4096:
    # 4 * 3 * 70000 * 784 = 658560000; 8 * (6 + 4 + 2) * 784^2 = 96 * 614656 = 59006976;
    # 4 * 6 * 4096 * 784 = 77070336; total 794637312 bytes = 794.637312 MB
    assert res.real_mem_mb(784, 70000, 784.0, 4096, 1) == 2294  # int(2294.637312)
    assert res.real_mem_mb(784, 70000, 784.0, 4096, 2) == 4589  # int(4589.274624)


def test_real_runtime_by_hand():
    # MNIST, n = 784.0, 150 steps of 4096:
    # 150 * 8 * 4096 * 784 * 2 * 784 = 6042314342400; 60000 * 784 * (784 + 784) * 2 = 147517440000
    # total 6189831782400 flops at 5e9 -> 1237.97 s -> 3 * 1237.97 / 60 = 61.898 -> 62 minutes
    assert res.real_runtime_min(784, 784.0, 150, 4096, 5e9, 1) == 62
    assert res.real_runtime_min(784, 784.0, 150, 4096, 5e9, 2) == 124
    # on a GPU: 6.19 s -> ceil(0.31) = 1 -> the 15-minute floor
    assert res.real_runtime_min(784, 784.0, 150, 4096, 1e12, 1) == 15


def test_floors_and_doubling():
    for attempt in (1, 2, 3):
        assert res.train_runtime_min(8, 4, 0, 1, 1e12, attempt) == 10 * 2 ** (attempt - 1)
        assert res.real_runtime_min(8, 1.0, 1, 1, 1e12, attempt) == 15 * 2 ** (attempt - 1)
        # the memory floor is the torch base itself
        assert res.train_mem_mb(1, 1, 0, attempt) == 1500 * 2 ** (attempt - 1)
    # a request above the floor doubles too (up to the integer truncation of the memory)
    for attempt in (2, 3, 5):
        assert res.train_runtime_min(256, 512, 8192, 60, 5e9, attempt) == 12 * 2 ** (attempt - 1)
        assert res.real_runtime_min(784, 784.0, 150, 4096, 5e9, attempt) == 62 * 2 ** (attempt - 1)
        m1 = res.train_mem_mb(512, 1024, 8192, 1)
        assert m1 * 2 ** (attempt - 1) <= res.train_mem_mb(512, 1024, 8192, attempt) < (m1 + 1) * 2 ** (attempt - 1)


def test_attempt_counts_from_one():
    with pytest.raises(ValueError, match="attempt"):
        res.train_mem_mb(256, 128, 0, 0)
    with pytest.raises(ValueError, match="attempt"):
        res.real_runtime_min(784, 784.0, 150, 4096, 5e9, 0)


def test_monotone_in_size():
    sizes = [16, 64, 256, 1024, 4096]
    for f in (
        lambda v: res.train_mem_mb(256, v, 0),
        lambda v: res.train_mem_mb(v, 128, 0),
        lambda v: res.train_mem_mb(256, 128, v),
        lambda v: res.real_mem_mb(784, 70000, v, 4096),
        lambda v: res.real_mem_mb(784, v * 10, 784.0, 4096),
        lambda v: res.real_mem_mb(v, 70000, 98.0, 4096),
    ):
        values = [f(v) for v in sizes]
        assert values == sorted(values) and values[-1] > values[0]
    for f in (
        lambda v: res.train_runtime_min(256, v, 8192, 600, 5e9),
        lambda v: res.train_runtime_min(v, 256, 8192, 600, 5e9),
        lambda v: res.train_runtime_min(256, 256, v, 600, 5e9),
        lambda v: res.train_runtime_min(256, 256, 8192, v, 5e9),
        lambda v: res.real_runtime_min(784, float(v), 150, 4096, 5e9),
        lambda v: res.real_runtime_min(784, 784.0, v, 4096, 5e9),
    ):
        values = [f(v) for v in sizes]
        assert values == sorted(values) and values[-1] > values[0]
    # a faster machine never asks for more time
    times = [res.train_runtime_min(1024, 2048, 8192, 600, rate) for rate in (5e9, 1e10, 1e11, 1e12)]
    assert times == sorted(times, reverse=True)


def test_a_wrong_constant_changes_the_numbers(monkeypatch):
    """The exact-int assertions above pin the constants: changing one moves the requests."""
    monkeypatch.setattr(res, "TORCH_BASE_MB", 1000)
    assert res.train_mem_mb(256, 512, 8192, 1) == 1183 != 1683
    monkeypatch.setattr(res, "TRAIN_MIN_MINUTES", 5)
    assert res.train_runtime_min(8, 4, 0, 1, 1e12, 1) == 5 != 10
    monkeypatch.setattr(res, "SAFETY", 2)
    assert res.train_runtime_min(256, 512, 8192, 60, 5e9, 1) == 8 != 12


# --- same numbers as the Snakefile -------------------------------------------------------------------


def old_common(config, has_nvidia_smi):
    """The resource functions of workflow/rules/common.smk before signae.resources, copied verbatim
    (shutil.which("nvidia-smi") replaced by the has_nvidia_smi flag)."""

    def trainer_settings(wildcards):
        settings = dict(config["trainers"][wildcards.trainer])
        if wildcards.data != "isotropic" and wildcards.trainer == "pgd":
            settings.update(config["covariance"]["pgd"])
        return settings

    USES_GPU = config["device"] == "cuda" or (config["device"] == "auto" and has_nvidia_smi)
    RATE_FLOPS = 1e12 if USES_GPU else 5e9 * config["threads"]
    TORCH_BASE_MB = 1500

    def _train_size(wildcards):
        d, r = int(wildcards.d), float(wildcards.r)
        n = max(1, round(r * d))
        settings = trainer_settings(wildcards)
        batch = settings.get("batch", 0)
        return d, n, batch, settings["steps"]

    def train_mem_mb(wildcards, attempt):
        d, n, batch, _ = _train_size(wildcards)
        payload = 8 * (10 * n * n + 10 * n * d + 2 * d * d) + 4 * 6 * batch * (n + d)
        return int((TORCH_BASE_MB + payload / 1e6) * 2 ** (attempt - 1))

    def train_runtime(wildcards, attempt):
        d, n, batch, steps = _train_size(wildcards)
        flops = steps * (8 * n * n * d + n**3 + 6 * batch * n * (n + d))
        seconds = flops / RATE_FLOPS
        return int(max(10, math.ceil(3 * seconds / 60)) * 2 ** (attempt - 1))

    def real_mem_mb(wildcards, attempt):
        pixels = {"mnist": 784, "cifar10": 1024 if config["realdata"]["cifar10_grayscale"] else 3072}[wildcards.dataset]
        rows = config["realdata"]["train_samples"] or {"mnist": 60000, "cifar10": 50000}[wildcards.dataset]
        rows += config["realdata"]["test_samples"] or 10000
        n = max(config["realdata"]["r"]) * pixels
        batch = config["realdata"]["trainer"]["batch"]
        payload = 4 * 3 * rows * pixels + 8 * (6 * n * n + 4 * n * pixels + 2 * pixels * pixels) + 4 * 6 * batch * n
        return int((TORCH_BASE_MB + payload / 1e6) * 2 ** (attempt - 1))

    def real_runtime(wildcards, attempt):
        pixels = {"mnist": 784, "cifar10": 1024 if config["realdata"]["cifar10_grayscale"] else 3072}[wildcards.dataset]
        n = max(config["realdata"]["r"]) * pixels
        t = config["realdata"]["trainer"]
        steps = t["steps"] + t.get("gaussian_init_steps", 0)  # a run trains twice since the trainer of eq. (44)
        flops = steps * 8 * t["batch"] * n * 2 * pixels + 60000 * n * (n + pixels) * 2
        return int(max(15, math.ceil(3 * flops / RATE_FLOPS / 60)) * 2 ** (attempt - 1))

    return SimpleNamespace(
        USES_GPU=USES_GPU,
        RATE_FLOPS=RATE_FLOPS,
        train_mem_mb=train_mem_mb,
        train_runtime=train_runtime,
        real_mem_mb=real_mem_mb,
        real_runtime=real_runtime,
    )


def new_common(config, has_nvidia_smi):
    """How common.smk calls signae.resources: sizes from the wildcards and the config, then the pure functions."""
    gpu = res.uses_gpu(config["device"], has_nvidia_smi)
    rate = res.rate_flops(gpu, config["threads"])

    def train_size(w):
        settings = dict(config["trainers"][w.trainer])
        if w.data != "isotropic" and w.trainer == "pgd":
            settings.update(config["covariance"]["pgd"])
        d = int(w.d)
        return d, hidden_units(float(w.r), d), settings.get("batch", 0), settings["steps"]

    def real_size(w):
        rd = config["realdata"]
        pixels = res.real_pixels(DATASETS[w.dataset].shape, rd["cifar10_grayscale"])
        return pixels, max(rd["r"]) * pixels, rd["trainer"]

    def train_mem_mb(w, attempt):
        d, n, batch, _ = train_size(w)
        return res.train_mem_mb(d, n, batch, attempt)

    def train_runtime(w, attempt):
        return res.train_runtime_min(*train_size(w), rate, attempt)

    def real_mem_mb(w, attempt):
        pixels, n, t = real_size(w)
        rd = config["realdata"]
        data = DATASETS[w.dataset]
        rows = res.real_rows(data.train_images, data.test_images, rd["train_samples"], rd["test_samples"])
        return res.real_mem_mb(pixels, rows, n, t["batch"], attempt)

    def real_runtime(w, attempt):
        pixels, n, t = real_size(w)
        return res.real_runtime_min(pixels, n, t["steps"] + t["gaussian_init_steps"], t["batch"], rate, attempt)

    return SimpleNamespace(
        USES_GPU=gpu,
        RATE_FLOPS=rate,
        train_mem_mb=train_mem_mb,
        train_runtime=train_runtime,
        real_mem_mb=real_mem_mb,
        real_runtime=real_runtime,
    )


def _merge(base, over):
    """Snakemake's --configfile overlay: nested dicts updated key by key."""
    out = copy.deepcopy(base)
    for key, value in (over or {}).items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _config(preset):
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    return cfg if preset is None else _merge(cfg, yaml.safe_load((ROOT / "config" / preset).read_text()))


def _fmt_r(r):
    return f"{float(r):g}"


def train_jobs(config):
    """Wildcards of every Gaussian training job of the config (figures 1-4), as common.smk builds them."""
    jobs = [
        ("isotropic", t, d, r)
        for t, spec in config["limit"]["runs"].items()
        for d in spec["d"]
        for r in config["limit"]["r"]
    ]
    dyn = config["dynamics"]
    jobs += [("isotropic", t, dyn["d"], r) for t in dyn["trainers"] for r in dyn["r"]]
    cov = config["covariance"]
    jobs += [(kind, "pgd", cov["d"], r) for kind in cov["spectra"] for r in cov["r"]]
    return [SimpleNamespace(data=data, trainer=t, d=str(d), r=_fmt_r(r), seed="0") for data, t, d, r in set(jobs)]


def real_jobs(config):
    rd = config["realdata"]
    return [
        SimpleNamespace(dataset=ds, variant=v, r=_fmt_r(r), seed="0")
        for ds in rd["datasets"]
        for v in rd["variants"]
        for r in rd["r"]
    ]


@pytest.mark.parametrize("preset", [None, "quick.yaml", "paper.yaml"])
@pytest.mark.parametrize(
    "device, smi, threads",
    [
        ("auto", False, 1),
        ("auto", True, 1),
        ("cpu", True, 2),
        ("cuda", False, 4),
        ("cpu", False, 3),
    ],
)
def test_same_numbers_as_common_smk(preset, device, smi, threads):
    config = _config(preset)
    if preset is None or device != "auto":  # paper.yaml pins device: cuda; keep it in one case
        config["device"] = device
    config["threads"] = threads
    old, new = old_common(config, smi), new_common(config, smi)
    assert (new.USES_GPU, new.RATE_FLOPS) == (old.USES_GPU, old.RATE_FLOPS)
    gaussian, real = train_jobs(config), real_jobs(config)
    assert gaussian and (real or not config["realdata"]["datasets"])
    for w, attempt in itertools.product(gaussian, (1, 2, 3)):
        assert new.train_mem_mb(w, attempt) == old.train_mem_mb(w, attempt), w
        assert new.train_runtime(w, attempt) == old.train_runtime(w, attempt), w
    for w, attempt in itertools.product(real, (1, 2, 3)):
        assert new.real_mem_mb(w, attempt) == old.real_mem_mb(w, attempt), w
        assert new.real_runtime(w, attempt) == old.real_runtime(w, attempt), w


def test_default_config_requests():
    """A few requests of the default config, pinned (the SLURM requests it makes today)."""
    config = _config(None)
    new = new_common(config, has_nvidia_smi=False)
    w = SimpleNamespace(data="isotropic", trainer="sample", d="256", r="4", seed="0")
    # n = 1024, batch 8192: 8 * (10 * 1048576 + 10 * 262144 + 2 * 65536) = 105906176 bytes,
    # 24 * 8192 * 1280 = 251658240 bytes -> 357.564416 MB
    assert new.train_mem_mb(w, 1) == 1857
    # per step 8 * 1048576 * 256 + 1073741824 + 6 * 8192 * 1024 * 1280 = 67645734912; * 60 / 5e9 = 811.75 s
    # -> 3 * 811.75 / 60 = 40.59 -> 41 minutes
    assert new.train_runtime(w, 1) == 41
    cifar = SimpleNamespace(dataset="cifar10", variant="whitened", r="1", seed="0")
    # pixels 1024, rows 60000, n = 1024.0, batch 4096: 737280000 + 8 * 12 * 1048576 + 24 * 4096 * 1024
    # = 737280000 + 100663296 + 100663296 = 938606592 bytes
    assert new.real_mem_mb(cifar, 1) == 2438
