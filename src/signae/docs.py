"""Generated parts of the documentation: the figure table, read from the figure registry
(signae.figures); the run-time table, read from a real run's benchmark files; and the list of claims
that do not hold, read from a real run's claims table.

    python -m signae.docs README.md [--runtimes results/report/runtimes.csv]
    python -m signae.docs docs/findings.md --claims results/claims.csv

rewrites the text between the markers <!-- BEGIN name --> and <!-- END name --> present in the file.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd


def figure_table() -> str:
    """Markdown: every figure of the registry with the functions that build, draw and check it."""
    from .figures import FIGURES

    def names(dotted):
        return ", ".join(f"`{d.removeprefix('signae.')}`" for d in dotted) or "-"

    rows = ["| figure | table built by | drawn by | claims checked by | caption |", "|---|---|---|---|---|"]
    for fig in FIGURES.values():
        rows.append(
            f"| `{fig.stem}` | {names([fig.table])} | {names([fig.plot])} | "
            f"{names([fn for fn, _ in fig.claims])} | `{fig.caption}` |"
        )
    return "\n".join(rows)


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file", help="README.md or a page of docs/")
    p.add_argument("--runtimes", help="results/report/runtimes.csv of a real run")
    p.add_argument("--claims", help="results/claims.csv of a real run")
    a = p.parse_args()
    text = Path(a.file).read_text()
    if "<!-- BEGIN figure-table -->" in text:
        text = replace_block(text, "figure-table", figure_table())
    if a.runtimes:
        text = replace_block(text, "runtime-table", runtime_table(a.runtimes))
    if a.claims:
        text = replace_block(text, "findings-claims", failed_claims(a.claims))
    Path(a.file).write_text(text)


if __name__ == "__main__":
    main()
