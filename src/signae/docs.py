"""Generated parts of the documentation: the figure table, read from the figure registry
(signae.registry); the claim families, read from signae.claims.FAMILIES; the run-time table, read from a
real run's benchmark files; the list of claims that do not hold, read from a real run's claims table; and
what an edit of each module reruns, read from Snakemake's own dry runs.

    python -m signae.docs README.md [--runtimes results/report/runtimes.csv]
    python -m signae.docs docs/claims.md
    python -m signae.docs docs/findings.md --claims results/claims.csv
    python -m signae.docs docs/layout.md --reruns

rewrites the text between the markers <!-- BEGIN name --> and <!-- END name --> present in the file.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd


def figure_table() -> str:
    """Markdown: every figure of the registry with the functions that build, draw and check it."""
    from .registry import FIGURES

    def names(dotted):
        return ", ".join(f"`{d.removeprefix('signae.')}`" for d in dotted) or "-"

    rows = ["| figure | table built by | drawn by | claims checked by | caption |", "|---|---|---|---|---|"]
    for fig in FIGURES.values():
        rows.append(
            f"| `{fig.stem}` | {names([fig.table])} | {names([fig.plot])} | "
            f"{names([fn for fn, _ in fig.claims])} | `{fig.caption}` |"
        )
    return "\n".join(rows)


def claim_families() -> str:
    """Markdown: every claim family of signae.claims.FAMILIES, by figure: what it compares with, its tolerance and
    the argument for it, what would make it fail, and the test that shows it failing."""
    from .claims import FAMILIES

    lines = []
    for fam in FAMILIES:
        lines += [
            f"### Figure {fam.figure}: {fam.name}",
            "",
            f"- **Compared with:** {fam.prediction}.",
            f"- **Tolerance:** {fam.tolerance}.",
            f"- **Fails for:** {fam.fails}.",
            f"- **Checked by:** `signae.claims.{fam.function}`; shown failing in `{fam.test}`.",
            "",
        ]
    return "\n".join(lines)


def runtime_table(csv_path: str | Path) -> str:
    from .reporting import markdown_table

    df = pd.read_csv(csv_path)
    return markdown_table(
        df.rename(
            columns={
                "job_seconds": "summed job time (s)",
                "longest_job_s": "longest job (s)",
                "peak_mb": "peak memory (MB)",
            }
        )
    )


def replace_block(text: str, name: str, content: str) -> str:
    pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
    if not pattern.search(text):
        raise ValueError(f"README has no <!-- BEGIN {name} --> ... <!-- END {name} --> block")
    return pattern.sub(lambda m: m.group(1) + content.rstrip("\n") + "\n" + m.group(2), text)


def failed_claims(csv_path: str | Path) -> str:
    """Markdown: every claim of a run's claims table that does not hold, with its gap and tolerance."""
    df = pd.read_csv(csv_path)
    held = int(df.holds.sum())
    lines = [
        f"{held} of {len(df)} claims hold. Those that do not:",
        "",
        "| figure | claim | predicted | reproduced | gap | tolerance |",
        "|---|---|---|---|---|---|",
    ]
    for r in df[~df.holds].itertuples(index=False):
        lines.append(
            f"| {r.figure} | {r.claim} | {r.predicted:.4g} | {r.reproduced:.4g} | {100 * r.gap:+.1f}% | "
            f"{100 * r.tolerance:.3g}% |"
        )
    return "\n".join(lines)


#: The files a copy of the workflow needs (the dry runs of :func:`reruns` run in one).
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "profiles", "src", "environment.yml")


def _snakemake(cwd: Path, *args: str) -> str:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(cwd / "src")}
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"snakemake {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return out.stdout + out.stderr


def _job_counts(plan: str) -> dict[str, int]:
    """{rule: jobs} of a dry run's job stats table (empty when there is nothing to be done)."""
    if "Nothing to be done" in plan:
        return {}
    table = plan.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m[1] not in ("total", "all")}


def reruns(root: str | Path = ".", configfiles=(), modules=None) -> dict[str, dict[str, int]]:
    """{module: {rule: jobs}}: the jobs of the workflow that an edit of each module of src/signae/ reruns, with
    ``configfiles`` (default: config/config.yaml alone), from Snakemake's own dry runs in a copy of the workflow
    whose every output exists and is up to date (empty files, all of one age, the code older): a module made
    newer than the outputs is what an edit is to Snakemake. Also {"(all)": {rule: jobs}}: the whole run.
    ``modules``: file names of the modules to edit (default: all)."""
    import os
    import shutil
    import tempfile

    root = Path(root)
    cfg = ("--configfile", *map(str, configfiles)) if configfiles else ()
    args = ("--dry-run", "--workflow-profile", "none", *cfg)
    with tempfile.TemporaryDirectory() as tmp:
        wf = Path(tmp)
        for name in WORKFLOW_FILES:
            (shutil.copytree if (root / name).is_dir() else shutil.copy)(root / name, wf / name)
        plan = _snakemake(wf, *args)
        everything = _job_counts(plan)
        outputs = [p.strip() for line in re.findall(r"^\s+output: (.*)$", plan, re.M) for p in line.split(",")]
        now = 2_000_000_000.0  # one age for every output, the code older, edits newer
        for rel in outputs:
            (wf / rel).parent.mkdir(parents=True, exist_ok=True)
            (wf / rel).touch()
            os.utime(wf / rel, (now, now))
        code = sorted((wf / "src" / "signae").glob("*.py"))
        for module in code:
            os.utime(module, (now - 100, now - 100))
        if _job_counts(_snakemake(wf, *args)):
            raise RuntimeError("the copy's outputs are not up to date; the rerun table cannot be read")
        table = {"(all)": everything}
        for module in (m for m in code if modules is None or m.name in modules):
            os.utime(module, (now + 100, now + 100))
            table[module.name] = _job_counts(_snakemake(wf, *args))
            os.utime(module, (now - 100, now - 100))
    return table


def rerun_table(counts: dict[str, dict[str, int]]) -> str:
    """Markdown of :func:`reruns`: one row per module, the jobs an edit reruns, rule by rule."""
    everything = counts["(all)"]
    total = sum(everything.values())
    rows = [
        f"| module | jobs rerun (of {total}) | which (rule: jobs) |",
        "|---|---|---|",
    ]
    for module, jobs in counts.items():
        if module == "(all)":
            continue
        which = ", ".join(f"{rule} {n}" + ("" if n < everything[rule] else " (all)") for rule, n in jobs.items())
        rows.append(f"| `{module}` | {sum(jobs.values())} | {which or 'none'} |")
    return "\n".join(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file", help="README.md or a page of docs/")
    p.add_argument("--runtimes", help="results/report/runtimes.csv of a real run")
    p.add_argument("--claims", help="results/claims.csv of a real run")
    p.add_argument("--reruns", action="store_true", help="what an edit of each module reruns (dry runs, minutes)")
    a = p.parse_args()
    text = Path(a.file).read_text()
    if "<!-- BEGIN figure-table -->" in text:
        text = replace_block(text, "figure-table", figure_table())
    if "<!-- BEGIN claim-families -->" in text:
        text = replace_block(text, "claim-families", claim_families())
    if a.runtimes:
        text = replace_block(text, "runtime-table", runtime_table(a.runtimes))
    if a.claims:
        text = replace_block(text, "findings-claims", failed_claims(a.claims))
    if a.reruns:
        text = replace_block(text, "rerun-table", rerun_table(reruns()))
    Path(a.file).write_text(text)


if __name__ == "__main__":
    main()
