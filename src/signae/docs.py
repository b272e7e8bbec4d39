"""Generated parts of the README (issue: reviewer reproduction): the figure -> rule -> script table, read
from the workflow's rule files, and the run-time table, read from a real run's benchmark files.

    python -m signae.docs README.md [--runtimes results/report/runtimes.csv]

rewrites the text between the markers <!-- BEGIN name --> and <!-- END name -->.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

RULE = re.compile(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)*)", re.M)


def rules(workflow_dir: str | Path = "workflow/rules") -> dict[str, str]:
    """{rule name: its body text} from every .smk file."""
    out = {}
    for path in sorted(Path(workflow_dir).glob("*.smk")):
        for m in RULE.finditer(path.read_text()):
            out[m.group(1)] = m.group(2)
    return out


def figure_table(workflow_dir: str | Path = "workflow/rules") -> str:
    """Markdown: figure, the rule that draws it and its script, the rule that makes its CSV and its script."""
    body = rules(workflow_dir)
    script = lambda b: (re.search(r'script:\s*\n\s*"\.\./scripts/([\w.]+)"', b) or [None, "-"])[1]  # noqa: E731
    rows = ["| figure | drawn by rule | script | its table (CSV) from rule | script |", "|---|---|---|---|---|"]
    for name, b in sorted(body.items()):
        m = re.search(r'"figures/(fig\d+_\w+)\.pdf"', b)
        if not m or "report(" not in b:
            continue
        stem = m.group(1)
        table_rule = next((n for n, tb in body.items() if re.search(rf'output:\s*\n\s*"figures/{stem}\.csv"', tb)), "-")
        rows.append(f"| `{stem}` | `{name}` | `workflow/scripts/{script(b)}` | `{table_rule}` | "
                    f"`workflow/scripts/{script(body.get(table_rule, ''))}` |")
    return "\n".join(rows)


def runtime_table(csv_path: str | Path) -> str:
    from .reporting import markdown_table

    df = pd.read_csv(csv_path)
    return markdown_table(df.rename(columns={"job_seconds": "summed job time (s)", "longest_job_s": "longest job (s)",
                                             "peak_mb": "peak memory (MB)"}))


def replace_block(text: str, name: str, content: str) -> str:
    pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
    if not pattern.search(text):
        raise ValueError(f"README has no <!-- BEGIN {name} --> ... <!-- END {name} --> block")
    return pattern.sub(lambda m: m.group(1) + content.rstrip("\n") + "\n" + m.group(2), text)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("readme")
    p.add_argument("--runtimes", help="results/report/runtimes.csv of a real run")
    a = p.parse_args()
    text = Path(a.readme).read_text()
    text = replace_block(text, "figure-table", figure_table())
    if a.runtimes:
        text = replace_block(text, "runtime-table", runtime_table(a.runtimes))
    Path(a.readme).write_text(text)


if __name__ == "__main__":
    main()
