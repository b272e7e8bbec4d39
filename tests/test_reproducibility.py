"""Pinned environments agree, and the README's generated parts are current (docs/reproducibility.md)."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from signae import docs

ROOT = Path(__file__).resolve().parents[1]


def _lock() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower().replace("_", "-")] = Version(version.strip())
    return pins


def _pyproject_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        reqs += [Requirement(r) for r in extra]
    return reqs


def test_lock_file_satisfies_pyproject():
    lock = _lock()
    for req in _pyproject_requirements():
        name = req.name.lower().replace("_", "-")
        assert name in lock, f"{name} is required by pyproject.toml but missing from requirements-lock.txt"
        assert req.specifier.contains(lock[name], prereleases=True), f"{name}=={lock[name]} violates {req}"


def test_environment_yml_agrees_with_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {}
    pip = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for item in dep["pip"]:
                if not item.startswith("-"):
                    r = Requirement(item)
                    pip[r.name.lower()] = r
        else:
            m = re.match(r"([\w-]+)(.*)", dep)
            conda[m.group(1).lower()] = m.group(2)
    for req in _pyproject_requirements():
        name = req.name.lower()
        if name in ("pytest", "ruff", "snakefmt", "snakemake-executor-plugin-slurm"):
            continue  # test, lint and cluster extras, installed on demand
        if name in pip:
            assert str(pip[name].specifier) == str(req.specifier), f"{name}: {pip[name]} vs {req}"
        else:
            conda_name = "matplotlib-base" if name == "matplotlib" else name
            assert conda_name in conda, f"{name} is in pyproject.toml but not in environment.yml"
            assert conda[conda_name] == str(req.specifier), f"{name}: conda {conda[conda_name]} vs {req}"
    # the exact versions CI ran with satisfy the conda pins too
    lock = _lock()
    for name, spec in conda.items():
        if name in ("python", "pip"):
            continue
        pkg = "matplotlib" if name == "matplotlib-base" else name
        assert Requirement(f"{pkg}{spec}").specifier.contains(lock[pkg]), f"{pkg}=={lock[pkg]} vs conda {spec}"


def test_readme_figure_table_is_generated_from_the_registry():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- BEGIN figure-table -->\n(.*?)<!-- END figure-table -->", text, re.S).group(1)
    assert block.strip() == docs.figure_table().strip(), (
        "README's figure table is stale: run python -m signae.docs README.md"
    )


def _block(path, name: str) -> str:
    text = (ROOT / path).read_text()
    return re.search(rf"<!-- BEGIN {name} -->\n(.*?)<!-- END {name} -->", text, re.S).group(1).strip()


def test_readme_runtime_table_is_generated_from_the_measured_run():
    # docs/data/ keeps the benchmark summary of the measured default run; the README's table is made from it
    assert _block("README.md", "runtime-table") == docs.runtime_table(ROOT / "docs/data/default-runtimes.csv")


def test_the_package_docstring_lists_every_module():
    import signae

    modules = sorted(p.stem for p in (ROOT / "src" / "signae").glob("*.py") if p.stem != "__init__")
    listed = re.findall(r"^- (\w+):", signae.__doc__, re.M)
    assert sorted(listed) == modules


def test_findings_list_the_claims_of_the_measured_run_that_do_not_hold():
    claims = ROOT / "docs/data/default-claims.csv"
    assert _block("docs/findings.md", "findings-claims") == docs.failed_claims(claims)
    import pandas as pd

    table = pd.read_csv(claims)
    # every failing claim appears in the generated block, and only those
    block = _block("docs/findings.md", "findings-claims")
    assert all(row.claim in block for row in table[~table.holds].itertuples())
    assert not any(row.claim in block for row in table[table.holds].itertuples())


def test_every_rule_has_its_stage_in_the_run_time_table():
    """Each rule of workflow/rules/ is either a figure's stage (signae.reporting.STAGES) or one of the shared
    table, plot, claims and report rules; a rule named nowhere stops the run-time table instead of hiding its time
    under another stage."""
    from signae import reporting

    rules = set(
        re.findall(
            r"^(?:local)?rule (\w+):", "".join(p.read_text() for p in (ROOT / "workflow" / "rules").glob("*.smk")), re.M
        )
    )
    assert rules == set(reporting.STAGES) | set(reporting.SHARED) | {"train"}
    assert reporting._stage("train_phase/runs/phase/p1_d64_r0.5.tsv") == "figure 10 (the phase transition)"
    with pytest.raises(KeyError, match="new_rule"):
        reporting._stage("new_rule/x.tsv")
