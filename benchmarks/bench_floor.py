"""How far each stage of a finished run is from its floor: the floating-point work its jobs do, at the rate of a
plain matrix product measured here. Run on demand, from the folder of a finished run (its results/, logs and
.snakemake/log/ are read, never written):

    python benchmarks/bench_floor.py --configfile /path/to/data.yaml      # the config files the run was given

For every rule, one job of the run (by default the one of median time; --pick longest) runs again on its own
(``python workflow/scripts/<script>.py TARGET``, signae.job's standalone mode) in a scratch copy of the run whose
results/ are links to the run's files, so the run itself is left as it was. It runs under a torch dispatch mode
that counts the work of every torch operation it calls (:class:`WorkCounter`): matrix products by torch's own
formulas (torch.utils.flop_counter: 2 m n k per product, forward and backward) and the factorisations and solves
by their textbook counts (:data:`LINALG`), each by its dtype. Element-wise work, numpy and scipy are not counted,
so a rule that computes in numpy shows little or no work; the floor is a lower bound on the time.

Per job: its time in the run (its benchmark file), the work counted, the floor (float32 work at the float32
matmul rate plus float64 work at the float64 rate, both measured here with the threads the jobs had) and the
ratio floor / time. Per stage (the run-time table's, signae.reporting): the summed job time, the work and floor
extrapolated from each rule's job (the rule's summed time times its job's work per second), their ratio, and the
fixed cost per job: Snakemake's time around the script (from the run's logs, as bench_job_overhead.py reads them)
plus the imports every script makes (measured here).
Prints markdown tables; --out FILE also writes the per-job rows as CSV, which --table FILE prints again. --rates
gives the matmul rates instead of measuring them (measure them beside the run when this machine is busy now).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_job_overhead import _START, _median_seconds, job_walls, matmul_gflops  # noqa: E402  (beside this file)

# --- counting the work of one job -------------------------------------------------------------------------


def _n(shape, i: int) -> int:
    return int(shape[i])


def _batch(shape) -> int:
    b = 1
    for s in shape[:-2]:
        b *= int(s)
    return b


def _cholesky(a, *args, **kwargs) -> float:  # A (..., n, n) = L L^T
    return _batch(a.shape) * _n(a.shape, -1) ** 3 / 3


def _solve(a, b, *args, **kwargs) -> float:  # LU of A (..., n, n), then the solve of B (..., n, k)
    n = _n(a.shape, -1)
    k = 1 if b.dim() == a.dim() - 1 else _n(b.shape, -1)
    return _batch(a.shape) * (2 * n**3 / 3 + 2 * n**2 * k)


def _cholesky_solve(b, factor, *args, **kwargs) -> float:  # two triangular solves of B (..., n, k)
    return _batch(factor.shape) * 2 * _n(factor.shape, -1) ** 2 * _n(b.shape, -1)


def _triangular(a, b, *args, **kwargs) -> float:  # one triangular solve of B (..., n, k)
    return _batch(a.shape) * _n(a.shape, -1) ** 2 * _n(b.shape, -1)


def _eigh(a, *args, **kwargs) -> float:  # symmetric eigendecomposition with vectors (Golub & Van Loan: 9 n^3)
    return _batch(a.shape) * 9 * _n(a.shape, -1) ** 3


def _qr(a, *args, **kwargs) -> float:  # Householder QR of (m, n), m >= n, with Q: 4 m n^2 - 4 n^3 / 3
    m, n = _n(a.shape, -2), _n(a.shape, -1)
    m, n = max(m, n), min(m, n)
    return _batch(a.shape) * (4 * m * n**2 - 4 * n**3 / 3)


def _linalg_table():
    import torch

    aten = torch.ops.aten
    table = {
        "linalg_cholesky_ex": _cholesky,
        "_linalg_solve_ex": _solve,
        "linalg_solve_ex": _solve,
        "cholesky_solve": _cholesky_solve,
        "_cholesky_solve_helper": _cholesky_solve,
        "linalg_solve_triangular": _triangular,
        "triangular_solve": lambda b, a, *args, **kw: _triangular(a, b),
        "_linalg_eigh": _eigh,
        "linalg_eigh": _eigh,
        "linalg_qr": _qr,
        "geqrf": lambda a, *args, **kw: _qr(a) / 2,
    }
    return {getattr(aten, name): f for name, f in table.items() if hasattr(aten, name)}


LINALG = (
    "Cholesky n^3/3; LU solve 2n^3/3 + 2n^2 k; Cholesky or triangular solve 2n^2 k or n^2 k; eigh with vectors "
    "9n^3; QR 4mn^2 - 4n^3/3"
)


class WorkCounter:
    """Counts the floating-point work of the torch operations run inside it, by dtype: {dtype name: flops}.
    Matrix products by torch.utils.flop_counter's formulas, factorisations and solves by :data:`LINALG`."""

    def __init__(self):
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode
        from torch.utils.flop_counter import flop_registry

        counts = self.counts = Counter()
        linalg = _linalg_table()

        def dtype_of(args):
            for a in args:
                if isinstance(a, torch.Tensor) and a.is_floating_point():
                    return str(a.dtype).removeprefix("torch.")
            return "other"

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                out = func(*args, **kwargs)
                packet = func._overloadpacket
                if packet in flop_registry:
                    counts[dtype_of(args)] += flop_registry[packet](*args, **kwargs, out_val=out)
                elif packet in linalg:
                    counts[dtype_of(args)] += linalg[packet](*args, **kwargs)
                return out

        self._mode = Mode()

    def __enter__(self):
        self._mode.__enter__()
        return self

    def __exit__(self, *exc):
        return self._mode.__exit__(*exc)


def count_one(script: str, target: str, overlays: list[str], out: str) -> None:
    """Run ``script`` on its own for ``target`` (in the current folder, a scratch copy of the run) under a
    :class:`WorkCounter`; write {"flops": {dtype: flops}, "seconds": wall} to ``out``."""
    import torch  # noqa: F401  (the counter needs it loaded before the script runs)

    sys.argv = [script, target, *overlays]
    with WorkCounter() as counter:
        t0 = time.perf_counter()
        try:
            runpy.run_path(script, run_name="__main__")
        except SystemExit as err:
            if err.code not in (None, 0):
                raise
        seconds = time.perf_counter() - t0
    Path(out).write_text(json.dumps({"flops": dict(counter.counts), "seconds": seconds}))


# --- the run's jobs ---------------------------------------------------------------------------------------


def job_outputs(log_dir: Path) -> dict[str, tuple[str, list[str]]]:
    """{benchmark file relative to results/benchmarks/: (rule, its outputs)} from the run's Snakemake logs."""
    jobs = {}
    for log in sorted(log_dir.glob("*.snakemake.log")):
        for m in _START.finditer(log.read_text()):
            bench = re.search(r"^    benchmark: results/benchmarks/(\S+)$", m["body"], re.M)
            output = re.search(r"^    output: (.+)$", m["body"], re.M)
            if bench and output:
                jobs[bench[1]] = (m["rule"], [o.strip() for o in output[1].split(",")])
    return jobs


def rule_scripts(root: Path) -> dict[str, str]:
    """{rule: its script, relative to the workflow folder} from workflow/rules/*.smk."""
    scripts = {}
    for smk in sorted((root / "workflow" / "rules").glob("*.smk")):
        rule = None
        for line in smk.read_text().splitlines():
            m = re.match(r"^rule (\w+):", line)
            if m:
                rule = m[1]
            m = re.match(r'^\s+"\.\./scripts/(\w+\.py)"', line)
            if m and rule:
                scripts[rule] = f"workflow/scripts/{m[1]}"
    return scripts


def scratch_copy(root: Path, where: Path) -> Path:
    """A folder that looks like the run to a script run on its own: the workflow's files linked, results/ a tree
    of links to the run's files (the parameters files copied, since reading the workflow may rewrite them)."""
    where.mkdir(parents=True)
    for entry in root.iterdir():
        if entry.name in ("results", "logs", ".snakemake", ".previous", ".git", ".venv"):
            continue
        (where / entry.name).symlink_to(entry.resolve())
    subprocess.run(["cp", "-rs", str((root / "results").resolve()), str(where / "results")], check=True)
    params = where / "results" / "params"
    if params.exists():
        shutil.rmtree(params)
        shutil.copytree(root / "results" / "params", params)
    return where


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", default=".", help="the folder of a finished run (default: here)")
    ap.add_argument("--configfile", nargs="*", default=[], help="the config files the run was given")
    ap.add_argument("--pick", choices=("median", "longest"), default="median", help="which job of each rule")
    ap.add_argument("--threads", type=int, default=1, help="torch threads of the run's jobs (config threads)")
    ap.add_argument("--rules", nargs="*", help="count only these rules' jobs (default: every rule)")
    ap.add_argument("--out", help="also write the per-job rows here (CSV)")
    ap.add_argument("--count", nargs=3, metavar=("SCRIPT", "TARGET", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--table", help="print the tables of a CSV written by --out, counting nothing")
    ap.add_argument(
        "--rates",
        nargs=2,
        type=float,
        metavar=("FLOAT32", "FLOAT64"),
        help="matmul GFLOP/s to use instead of measuring them (e.g. measured beside the run while this machine is "
        "busy); with --table, the floors are recomputed at these rates",
    )
    a = ap.parse_args()
    if a.table:
        import pandas as pd

        df = pd.read_csv(a.table)
        if a.rates:
            df["floor_s"] = df.gflop_float32 / a.rates[0] + df.gflop_float64 / a.rates[1]
        print_tables(df, a.pick)
        return
    if a.count:
        count_one(a.count[0], a.count[1], a.configfile, a.count[2])
        return

    from signae import reporting

    root = Path(a.run).resolve()
    overlays = [str(Path(c).resolve()) for c in a.configfile]
    jobs = reporting.benchmark_rows(root / "results" / "benchmarks")  # job, stage, seconds, max_rss_mb
    walls = job_walls(root / ".snakemake" / "log")
    outputs = job_outputs(root / ".snakemake" / "log")
    scripts = rule_scripts(root)
    jobs["rule"] = [job.split("/", 1)[0] for job in jobs.job]
    jobs["around"] = [
        max(walls[f"{j}.tsv"] - s, 0.0) if f"{j}.tsv" in walls else None
        for j, s in zip(jobs.job, jobs.seconds, strict=True)
    ]
    rates = (
        dict(zip(("float32", "float64"), a.rates, strict=True))
        if a.rates
        else {dt: matmul_gflops(1024, 10, dt, a.threads) for dt in ("float32", "float64")}
    )
    imports = _median_seconds("import torch, signae.job, signae.custody, signae.provenance", 5) - _median_seconds(
        "pass", 5
    )
    print(f"run: {root}; {len(jobs)} jobs; matmul (1024^3, {a.threads} thread(s)): float32 {rates['float32']:.1f}, "
          f"float64 {rates['float64']:.1f} GFLOP/s; imports every script makes: {imports:.2f} s\n")  # fmt: skip

    rows = []
    with tempfile.TemporaryDirectory(prefix="signae-floor-") as tmp:
        scratch = scratch_copy(root, Path(tmp) / "run")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), os.environ.get("PYTHONPATH", "")])}
        env.pop("SIGNAE_WORKFLOW", None)
        for (stage, rule), grp in jobs.groupby(["stage", "rule"]):
            if a.rules and rule not in a.rules:
                continue
            grp = grp.sort_values("seconds")
            job = grp.iloc[len(grp) // 2] if a.pick == "median" else grp.iloc[-1]
            rule_name, outs = outputs.get(f"{job.job}.tsv", (rule, []))
            target = next((o for o in outs if "/records/" not in o), None)
            if rule_name not in scripts or target is None:
                print(f"  {job.job}: no script or output found in the run's logs; skipped", file=sys.stderr)
                continue
            out = Path(tmp) / "count.json"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--count", scripts[rule_name], target, str(out)]
            cmd += ["--configfile", *overlays] if overlays else []
            done = subprocess.run(cmd, cwd=scratch, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"  {job.job}: the job failed on its own:\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            counted = json.loads(out.read_text())
            flops = counted["flops"]
            f32 = sum(v for k, v in flops.items() if k != "float64")  # float32 and anything else at the float32 rate
            f64 = flops.get("float64", 0.0)
            floor = f32 / (rates["float32"] * 1e9) + f64 / (rates["float64"] * 1e9)
            rows.append(
                {
                    "stage": stage, "rule": rule, "jobs": len(grp), "rule_seconds": float(grp.seconds.sum()),
                    "rule_around": float(grp.around.dropna().sum()), "job": job.job, "job_seconds": float(job.seconds),
                    "gflop_float32": f32 / 1e9, "gflop_float64": f64 / 1e9, "floor_s": floor,
                    "rerun_seconds": counted["seconds"],
                }
            )  # fmt: skip
            print(f"  {job.job}: {(f32 + f64) / 1e9:.1f} GFLOP, floor {floor:.2f} s of {job.seconds:.1f} s",
                  file=sys.stderr)  # fmt: skip

    import pandas as pd

    df = pd.DataFrame(rows)
    df["imports_s"] = imports
    if a.out:
        df.to_csv(a.out, index=False)
    print_tables(df, a.pick)


def print_tables(df, pick: str) -> None:
    """The two markdown tables: one job per rule, and per stage."""
    imports = float(df.imports_s.iloc[0])
    print(f"One job per rule ({pick}), counted:\n")
    print("| rule | jobs | job | time in the run (s) | GFLOP float32 | GFLOP float64 | floor (s) | floor / time |")
    print("|---|---|---|---|---|---|---|---|")
    for r in df.itertuples():
        print(f"| {r.rule} | {r.jobs} | {r.job.split('/', 1)[-1]} | {r.job_seconds:.1f} | {r.gflop_float32:.1f} | "
              f"{r.gflop_float64:.1f} | {r.floor_s:.2f} | {r.floor_s / r.job_seconds:.1%} |")  # fmt: skip
    df = df.assign(
        rule_floor=df.rule_seconds * df.floor_s / df.job_seconds,  # the rule's time at its job's floor ratio
        rule_gflop=df.rule_seconds * (df.gflop_float32 + df.gflop_float64) / df.job_seconds,
    )
    print("\nPer stage (work and floor extrapolated from each rule's job by its summed time; fixed cost per job:")
    print(f"Snakemake around the script, from the run's logs, plus the imports every script makes, {imports:.2f} s):\n")
    print("| stage | jobs | summed job time (s) | work (GFLOP) | floor (s) | floor / time | fixed cost per job (s) |")
    print("|---|---|---|---|---|---|---|")
    tot = Counter()
    for stage, g in df.groupby("stage"):
        n, t, w, f, ar = (
            int(g.jobs.sum()),
            g.rule_seconds.sum(),
            g.rule_gflop.sum(),
            g.rule_floor.sum(),
            g.rule_around.sum(),
        )
        tot.update({"n": n, "t": t, "w": w, "f": f, "ar": ar})
        print(f"| {stage} | {n} | {t:.1f} | {w:.0f} | {f:.1f} | {f / t:.1%} | {ar / n + imports:.2f} |")
    print(f"| all | {tot['n']} | {tot['t']:.1f} | {tot['w']:.0f} | {tot['f']:.1f} | {tot['f'] / tot['t']:.1%} | "
          f"{tot['ar'] / tot['n'] + imports:.2f} |")  # fmt: skip
    print(f"\nNot counted: element-wise work, numpy and scipy. Factorisations: {LINALG}.")


if __name__ == "__main__":
    main()
