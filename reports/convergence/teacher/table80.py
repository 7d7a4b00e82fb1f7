"""Lite2 against Lite0 at the 80-epoch default, per category and seed: each run of `lite2_80/` beside the run of
`reports/real` with the same category and seed (the Lite0 teacher), from their metrics.json and `synthetic80.csv`.
The Lite0 runs are read from git at the commit that made them, so the table stays the same when `reports/real` is
made again.

    python reports/convergence/teacher/table80.py
"""
import json
import sys
from pathlib import Path
import pandas as pd
HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from report_tables import git_show, print_markdown, print_means
LITE0 = "c6e332d"   # the commit that made reports/real with Lite0 at 80 epochs
MACHINE = {"Lite0": "EPYC, AVX2", "Lite2": "Xeon, AMX"}   # where each set of runs trained (2 cores, float32 both)
synthetic = pd.read_csv(HERE / "synthetic80.csv", index_col=["teacher", "category", "seed"])


def lite0_run(run: Path) -> str:
    "metrics.json of the Lite0 run of reports/real with the category and seed of the Lite2 run `run`, as git keeps it."
    return git_show(LITE0, f"reports/real/{run.relative_to(HERE / 'lite2_80').as_posix()}", HERE)


def row(text: str, teacher: str) -> dict:
    r = json.loads(text); p, m = r["params"], r["methods"]
    synth = synthetic.loc[(teacher, p["category"], p["seed"])]
    return {"category": p["category"], "seed": p["seed"], "teacher": teacher,
            "synthetic image AUROC": synth.image_auroc, "synthetic pixel AUROC": synth.pixel_auroc,
            "test image AUROC": m["stfpm"]["image_auroc"], "test pixel AUROC": m["stfpm"]["pixel_auroc"],
            "test AU-PRO": m["stfpm"]["aupro"], "test EGS": m["stfpm"]["egs"],
            "scaled-image (neighbours) image AUROC": m["scaled-image:neighbours"]["image_auroc"],
            "training s": round(r["seconds"]["train_stfpm"]), "trained on": MACHINE[teacher]}


rows = []
for path in sorted(HERE.glob("lite2_80/seed*/*/metrics.json")):
    rows += [row(lite0_run(path), "Lite0"), row(path.read_text(), "Lite2")]
table = pd.DataFrame(rows).sort_values(["category", "seed", "teacher"])
print_markdown(table)
print("\nmean ± std over the seeds\n")
cols = [c for c in table.columns if c not in ("category", "seed", "teacher", "training s", "trained on")]
print_means(table, ["category", "teacher"], cols)
