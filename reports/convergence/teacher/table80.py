"""Lite2 against Lite0 at the 80-epoch default, per category and seed: each run of `lite2_80/` beside the run of
`reports/real` with the same category and seed (the Lite0 teacher), from their metrics.json and `synthetic80.csv`.

    python reports/convergence/teacher/table80.py
"""
import json
from pathlib import Path
import pandas as pd
HERE = Path(__file__).parent
REAL = HERE.parents[1] / "real"
MACHINE = {"Lite0": "EPYC, AVX2", "Lite2": "Xeon, AMX"}   # where each set of runs trained (2 cores, float32 both)
synthetic = pd.read_csv(HERE / "synthetic80.csv", index_col=["teacher", "category", "seed"])


def row(path: Path, teacher: str) -> dict:
    r = json.loads(path.read_text()); p, m = r["params"], r["methods"]
    key = (teacher, p["category"], p["seed"])
    synth = synthetic.loc[key] if key in synthetic.index else None
    return {"category": p["category"], "seed": p["seed"], "teacher": teacher,
            "synthetic image AUROC": synth.image_auroc if synth is not None else float("nan"),
            "synthetic pixel AUROC": synth.pixel_auroc if synth is not None else float("nan"),
            "test image AUROC": m["stfpm"]["image_auroc"], "test pixel AUROC": m["stfpm"]["pixel_auroc"],
            "test AU-PRO": m["stfpm"]["aupro"], "test EGS": m["stfpm"]["egs"],
            "scaled-image (neighbours) image AUROC": m["scaled-image:neighbours"]["image_auroc"],
            "training s": round(r["seconds"]["train_stfpm"]), "trained on": MACHINE[teacher]}


rows = []
for path in sorted(HERE.glob("lite2_80/seed*/*/metrics.json")):
    rows += [row(REAL / path.relative_to(HERE / "lite2_80"), "Lite0"), row(path, "Lite2")]
table = pd.DataFrame(rows).sort_values(["category", "seed", "teacher"])
print("| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns))
for values in table.itertuples(index=False): print("| " + " | ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in values) + " |")
print("\nmean ± std over the seeds\n")
cols = [c for c in table.columns if c not in ("category", "seed", "teacher", "training s", "trained on")]
print("| category | teacher | seeds | " + " | ".join(cols) + " |\n|" + "---|" * (len(cols) + 3))
for (category, teacher), g in table.groupby(["category", "teacher"]):
    print(f"| {category} | {teacher} | {len(g)} | " + " | ".join(f"{g[c].mean():.3f}" + (f" ± {g[c].std():.3f}" if len(g) > 1 else "") for c in cols) + " |")
