"""Every method of `reports/real` with the Lite0 teacher (the report as committed at c6e332d, read from git) beside
the same report made with the Lite2 teacher (`reports/real` now): mean ± std over seeds 0-2, per category.

Usage (from the repository root): python reports/convergence/teacher/every_method.py
"""
import io
import sys
from pathlib import Path

import pandas as pd
sys.path.insert(0, str(Path(__file__).parents[1]))
from report_tables import git_show

LITE0 = "c6e332d"   # the commit whose reports/real holds the Lite0 runs
METRICS = {"image_auroc": "image AUROC", "pixel_auroc": "pixel AUROC", "aupro": "AU-PRO", "egs": "EGS"}


def lite0(metric: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(git_show(LITE0, f"reports/real/results_{metric}.csv", Path.cwd())), index_col="method")


def lite2(metric: str) -> pd.DataFrame:
    return pd.read_csv(Path("reports/real") / f"results_{metric}.csv", index_col="method")


def cell(frame: pd.DataFrame, method: str, category: str) -> str:
    if method not in frame.index or pd.isna(frame.loc[method, category]): return "-"
    return f"{frame.loc[method, category]:.3f} ± {frame.loc[method, f'{category} std']:.3f}"


for category in ("screw", "bottle"):
    print(f"\n{category}, mean ± std over seeds 0-2: Lite0 (c6e332d) -> Lite2 (reports/real)\n")
    print("| method | " + " | ".join(METRICS.values()) + " |")
    print("|---|" + "---|" * len(METRICS))
    tables = {m: (lite0(m), lite2(m)) for m in METRICS}
    for method in lite2("image_auroc").index:
        cells = [f"{cell(a, method, category)} -> {cell(b, method, category)}" for a, b in tables.values()]
        print(f"| {method} | " + " | ".join(cells) + " |")
