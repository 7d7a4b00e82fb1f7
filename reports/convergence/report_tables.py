"""What the table scripts under reports/convergence share: a report file as git keeps it at a commit (so a table
stays the same when `reports/real` is made again), and a frame printed as a Markdown table."""
import subprocess
from pathlib import Path

import pandas as pd


def git_show(commit: str, path: str, cwd: Path) -> str:
    "The text of `path` (relative to the repository root) at `commit`."
    return subprocess.run(["git", "show", f"{commit}:{path}"], cwd=cwd, capture_output=True, text=True, check=True).stdout


def print_markdown(table: pd.DataFrame) -> None:
    "`table` as a Markdown table, floats with four decimals."
    print("| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns))
    for values in table.itertuples(index=False):
        print("| " + " | ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in values) + " |")
