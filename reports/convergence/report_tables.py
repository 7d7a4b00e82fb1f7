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


def print_means(table: pd.DataFrame, by: list[str], cols: list[str]) -> None:
    "Mean ± standard deviation of `cols` over the rows of each group of `by` (the seeds), as a Markdown table."
    print("| " + " | ".join(by) + " | seeds | " + " | ".join(cols) + " |\n|" + "---|" * (len(by) + len(cols) + 1))
    for keys, g in table.groupby(by):
        spread = lambda c: f" ± {g[c].std():.3f}" if len(g) > 1 else ""
        print("| " + " | ".join(map(str, keys)) + f" | {len(g)} | " + " | ".join(f"{g[c].mean():.3f}{spread(c)}" for c in cols) + " |")
