"""Lite2 at 160 epochs against the 80-epoch default, per category and seed: each run of `lite2_160/` beside the run of
`reports/real` with the same category and seed (Lite2, 80 epochs, read from git at the commit that made it), from
their metrics.json, `synthetic80.csv` and `synthetic160.csv`.

    python reports/convergence/teacher/table160.py
"""
import json
import sys
from pathlib import Path
import pandas as pd
HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from report_tables import git_show, print_markdown, print_means
REAL_LITE2 = "0eb663f"   # the commit that made reports/real with Lite2 at 80 epochs
synthetic = {epochs: pd.read_csv(HERE / name).set_index(["category", "seed"])   # synthetic-anomaly figures per run
             for epochs, name in ((80, "synthetic80.csv"), (160, "synthetic160.csv"))}
synthetic[80] = synthetic[80].query("teacher == 'Lite2'")


def row(text: str, epochs: int) -> dict:
    r = json.loads(text); p, m = r["params"], r["methods"]
    s = synthetic[epochs].loc[(p["category"], p["seed"])]
    return {"category": p["category"], "seed": p["seed"], "epochs": epochs,
            "hold-out discrepancy": r["stfpm_training"]["holdout_discrepancy"],
            "synthetic image AUROC": s.image_auroc, "synthetic pixel AUROC": s.pixel_auroc,
            "test image AUROC": m["stfpm"]["image_auroc"], "test pixel AUROC": m["stfpm"]["pixel_auroc"],
            "test AU-PRO": m["stfpm"]["aupro"], "test EGS": m["stfpm"]["egs"],
            "scaled-image (neighbours) image AUROC": m["scaled-image:neighbours"]["image_auroc"],
            "training s": round(r["seconds"]["train_stfpm"])}


rows = []
for path in sorted(HERE.glob("lite2_160/seed*/*/metrics.json")):
    run = path.parent.relative_to(HERE / "lite2_160").as_posix()
    rows += [row(git_show(REAL_LITE2, f"reports/real/{run}/metrics.json", HERE), 80), row(path.read_text(), 160)]
table = pd.DataFrame(rows).sort_values(["category", "seed", "epochs"])
print_markdown(table)
print("\nmean ± std over the seeds\n")
cols = [c for c in table.columns if c not in ("category", "seed", "epochs", "training s")]
print_means(table, ["category", "epochs"], cols)
