"""The side-by-side table of README.md: each run of this folder beside the run of `reports/real` with the same
category and seed (the default of its time, 40 epochs), from their metrics.json and synthetic.csv. `reports/real`
has since been made again at 80 epochs, so the 40-epoch runs are read from git, at the last commit that holds them.

    python reports/convergence/long/table.py
"""
import json
import sys
from pathlib import Path
import pandas as pd
HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from report_tables import git_show, print_markdown
FORTY = "e0ceaf6"   # the last commit whose reports/real holds the 40-epoch runs
synthetic = pd.read_csv(HERE / "synthetic.csv", index_col=["length", "category", "seed"])

def forty_epochs(run: Path) -> str:
    "metrics.json of the 40-epoch run of reports/real with the category and seed of `run`, as git keeps it."
    return git_show(FORTY, f"reports/real/{run.relative_to(HERE).as_posix()}", HERE)


def row(text: str, name: str) -> dict:
    r = json.loads(text); p, m = r["params"], r["methods"]["stfpm"]
    synth = synthetic.loc[(name, p["category"], p["seed"])]
    return {"category": p["category"], "seed": p["seed"], "length": name, "epochs": r["stfpm_training"]["epochs_run"],
            "hold-out discrepancy": r["stfpm_training"]["holdout_discrepancy"],
            "synthetic image AUROC": synth.image_auroc, "synthetic pixel AUROC": synth.pixel_auroc,
            "test image AUROC": m["image_auroc"], "test pixel AUROC": m["pixel_auroc"], "test AU-PRO": m["aupro"],
            "test AUPIMO": m["aupimo"], "test EGS": m["egs"], "training s": r["seconds"]["train_stfpm"]}

rows = []
for path in sorted(HERE.glob("seed*/*/metrics.json")):
    rows += [row(forty_epochs(path), "1x"), row(path.read_text(), "2x")]
table = pd.DataFrame(rows)
table["training s"] = table["training s"].round().astype(int)
print_markdown(table)
