"""Every method of two versions of `reports/real`, side by side: mean ± std over seeds 0-2, per category, each
version read from git at the commit that made it. By default the Lite0 report at 80 epochs (c6e332d) against the
Lite2 report at 80 epochs (0eb663f); `0eb663f HEAD` compares the latter with the 160-epoch report.

Usage (from the repository root): python reports/convergence/teacher/every_method.py [BEFORE AFTER]
"""
import io
import sys
from pathlib import Path

import pandas as pd
sys.path.insert(0, str(Path(__file__).parents[1]))
from report_tables import git_show

BEFORE, AFTER = sys.argv[1:3] if len(sys.argv) == 3 else ("c6e332d", "0eb663f")   # Lite0 and Lite2, both at 80 epochs
METRICS = {"image_auroc": "image AUROC", "pixel_auroc": "pixel AUROC", "aupro": "AU-PRO", "egs": "EGS"}


def results(commit: str, metric: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(git_show(commit, f"reports/real/results_{metric}.csv", Path.cwd())), index_col="method")


def cell(frame: pd.DataFrame, method: str, category: str) -> str:
    if method not in frame.index or pd.isna(frame.loc[method, category]): return "-"
    return f"{frame.loc[method, category]:.3f} ± {frame.loc[method, f'{category} std']:.3f}"


for category in ("screw", "bottle"):
    print(f"\n{category}, mean ± std over seeds 0-2: {BEFORE} -> {AFTER}\n")
    print("| method | " + " | ".join(METRICS.values()) + " |")
    print("|---|" + "---|" * len(METRICS))
    tables = {m: (results(BEFORE, m), results(AFTER, m)) for m in METRICS}
    for method in tables["image_auroc"][1].index:
        cells = [f"{cell(a, method, category)} -> {cell(b, method, category)}" for a, b in tables.values()]
        print(f"| {method} | " + " | ".join(cells) + " |")
