"""A reviewer's check of a finished results folder, end to end (docs/reproducibility.md, "Verifying a folder"):

    python -m signae.verify [FOLDER] [--configfile CONFIG.yaml ...]

FOLDER (default: here) holds the results/ and figures/ of a run of this workflow; the config files are the
overlays that run used (config/config.yaml is always read first, as the workflow does). The command plans the
run in a scratch copy of this repository's workflow (Snakemake's own dry run, which also writes every job's
parameters from the config) and checks, naming every failure:

1. every file the plan says the run writes is in FOLDER with its record, and matches it (signae.custody);
2. every record's job ran with the parameters this config gives it (its params file), on the same data (the
   data set's parameters are the SHA-256 of the user's files) and with this repository's code (the SHA-256 of
   every package file it imported);
3. every record's inputs are the files now in FOLDER (the chain is unbroken: each figure was drawn from its
   table, each table built from its runs, each run trained from its data);
4. the claims table is complete and made from these tables: the claims functions, run again on the verified
   figure tables with the config's tolerances, give exactly results/claims.csv, row for row;
5. results/MANIFEST.sha256 lists what the records say.

It prints a verdict and exits with status 0 when everything holds, 1 otherwise. Nothing in FOLDER is written.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import custody, paths, provenance

#: What the scratch copy of the workflow needs.
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "profiles", "src", "environment.yml")


def plan(repo: Path, configfiles) -> tuple[list[tuple[str, list[str]]], Path]:
    """[(rule, outputs)] of every job of a run with ``configfiles``, from Snakemake's dry run in a scratch copy
    of the workflow at ``repo``; and that copy (its results/params/ hold every job's parameters)."""
    scratch = Path(tempfile.mkdtemp(prefix="signae-verify-"))
    for name in WORKFLOW_FILES:
        (shutil.copytree if (repo / name).is_dir() else shutil.copy)(repo / name, scratch / name)
    cfg = ["--configfile", *map(str, configfiles)] if configfiles else []
    cmd = [sys.executable, "-m", "snakemake", "--dry-run", "--workflow-profile", "none", *cfg]
    env = {**os.environ, "PYTHONPATH": str(scratch / "src")}
    out = subprocess.run(cmd, cwd=scratch, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"the workflow cannot plan this config:\n{out.stderr[-3000:]}")
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", out.stdout):
        rule = re.match(r"(?:local)?rule (\w+):", block)
        outputs = re.search(r"^\s+output: (.*)$", block, re.M)
        if rule and outputs and rule[1] != "all":
            jobs.append((rule[1], [p.strip() for p in outputs[1].split(",")]))
    return jobs, scratch


def check(folder: Path, repo: Path, configfiles=()) -> tuple[list[str], dict]:
    """The failures of ``folder`` against the config and the code at ``repo`` (empty: verified), and counts."""
    jobs, scratch = plan(repo, configfiles)
    failures: list[str] = []
    counts = {"files": 0, "jobs": len(jobs), "claims": 0}
    try:
        for rule, outputs in jobs:
            for path in outputs:
                if path.startswith(paths.RECORDS + "/"):
                    continue
                failures += _check_file(folder, scratch, repo, rule, path)
                counts["files"] += 1
        failures += _check_claims(folder)
        failures += _check_manifest(folder)
        if (folder / paths.CLAIMS).is_file():
            import pandas as pd

            counts["claims"] = len(pd.read_csv(folder / paths.CLAIMS))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return failures, counts


def _check_file(folder: Path, scratch: Path, repo: Path, rule: str, path: str) -> list[str]:
    try:
        custody.verify(path, folder, folder)
        record = custody.read(path, folder)
    except custody.CustodyError as err:
        return [str(err)]
    problems = []
    if record.get("rule") != rule:
        problems.append(f"{path} was written by rule {record.get('rule')}, but this config plans rule {rule}")
    for params_file in record.get("params_file", {}):
        planned = json.loads((scratch / params_file).read_text()) if (scratch / params_file).is_file() else None
        if planned != record.get("params"):
            problems.append(f"{path} was made with other parameters than this config gives: {_diff(record, planned)}")
    for source, digest in record.get("code", {}).items():
        here = repo / source
        if not here.is_file() or provenance.sha256_file(here) != digest:
            problems.append(f"{path} was made by another version of {source} than this repository's")
            break
    for source, digest in record.get("inputs", {}).items():
        target = folder / source
        if not target.is_file() or provenance.sha256_file(target) != digest:
            problems.append(f"{path} was made from another version of {source} than the one in the folder")
    return problems


def _diff(record: dict, planned: dict | None) -> str:
    """The first parameter that differs, as a dotted key with both values."""
    if planned is None:
        return "this config plans none"

    def flat(d, prefix=""):
        out = {}
        for k, v in (d or {}).items():
            out |= flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v}
        return out

    made, now = flat(record.get("params")), flat(planned)
    for key in sorted(set(made) | set(now)):
        if made.get(key) != now.get(key):
            return f"{key} = {made.get(key)!r} there, {now.get(key)!r} in this config"
    return "(equal after flattening)"


def _check_claims(folder: Path) -> list[str]:
    """The claims table against the claims functions run again on the verified figure tables."""
    import pandas as pd

    from . import claims, registry

    path = folder / paths.CLAIMS
    try:
        record = custody.read(paths.CLAIMS, folder)
    except custody.CustodyError as err:
        return [str(err)]
    tables, checks = {}, {}
    for number, table_path, functions in record["params"]["checks"]:
        if table_path not in record["inputs"]:
            return [f"{paths.CLAIMS}: the table of figure {number} ({table_path}) is not among its inputs"]
        tables[number] = pd.read_csv(folder / table_path)
        checks[number] = [(registry.resolve(fn), tol) for fn, tol in functions]
    again = claims.claims_table(tables, checks)
    table = pd.read_csv(path)
    have, want = set(table.claim), set(again.claim)
    problems = [f"{paths.CLAIMS} lacks the claim {c!r}" for c in sorted(want - have)]
    problems += [f"{paths.CLAIMS} has a claim its tables do not give: {c!r}" for c in sorted(have - want)]
    if not problems:
        merged = table.merge(again, on="claim", suffixes=("", "_again"))
        for column in ("predicted", "reproduced", "gap", "tolerance", "holds"):
            bad = merged[merged[column] != merged[f"{column}_again"]]
            if len(bad):
                problems.append(f"{paths.CLAIMS}: {column} of {bad.claim.iloc[0]!r} is not what its table gives")
    return problems


def _check_manifest(folder: Path) -> list[str]:
    path = folder / paths.MANIFEST
    if not path.is_file():
        return [f"{paths.MANIFEST} is missing"]
    problems = []
    for line in path.read_text().splitlines():
        digest, name = line.split("  ", 1)
        try:
            if custody.read(name, folder).get("sha256") != digest:
                problems.append(f"{paths.MANIFEST} lists {name} with another SHA-256 than its record")
        except custody.CustodyError as err:
            problems.append(str(err))
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m signae.verify", description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=".", help="the folder of the run (results/, figures/)")
    parser.add_argument("--configfile", nargs="*", default=[], help="the config overlays the run used")
    parser.add_argument("--repo", default=None, help="the repository whose workflow and code to check against")
    a = parser.parse_args(argv)
    folder = Path(a.folder).resolve()
    repo = Path(a.repo).resolve() if a.repo else Path(__file__).resolve().parents[2]
    configfiles = [Path(f).resolve() for f in a.configfile]
    failures, counts = check(folder, repo, configfiles)
    if failures:
        print(f"NOT VERIFIED: {len(failures)} problem(s) in {folder}")
        for problem in failures:
            print(f"  - {problem}")
        return 1
    print(
        f"VERIFIED: {counts['files']} files of {counts['jobs']} jobs match their records, the parameters this config "
        f"gives them, this repository's code and each other; {counts['claims']} claims recomputed from the figure "
        f"tables; the manifest lists what the records say ({folder})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
