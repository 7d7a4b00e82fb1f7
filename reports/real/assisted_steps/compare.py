"""STFPM and the assisted head at two training lengths over the same student: one Markdown table.

    python reports/real/assisted_steps/compare.py RUN_200 RUN_2000 > reports/real/assisted_steps/results.md

RUN_200, RUN_2000: `stfpm-nb run` folders sharing one student, the head trained 5 x 40 and 20 x 100 steps (README.md).
"""
import json, sys
from pathlib import Path

COLUMNS = {"image_auroc": "image AUROC", "pixel_auroc": "pixel AUROC", "aupro": "AU-PRO", "aupimo": "AUPIMO",
           "egs": "EGS", "egs_oracle": "EGS oracle", "egs_regret": "EGS regret"}
runs = [json.loads((Path(p) / "metrics.json").read_text()) for p in sys.argv[1:3]]
rows = [("stfpm", "-", runs[0]["methods"]["stfpm"], None)]
rows += [("assisted", f"{r['params']['assisted_epochs']} x {r['params']['assisted_steps']}", r["methods"]["assisted"],
          r["seconds"]["train_assisted"]) for r in runs]
print("| method | head steps (epochs x steps) | " + " | ".join(COLUMNS.values()) + " | EGS 95% interval | head training s |")
print("|---" * (len(COLUMNS) + 4) + "|")
for name, steps, m, seconds in rows:
    print(f"| {name} | {steps} | " + " | ".join(f"{m[k]:.3f}" for k in COLUMNS) +
          f" | {m['egs_ci_low']:.3f}-{m['egs_ci_high']:.3f} | {'-' if seconds is None else f'{seconds:.0f}'} |")
same = runs[0]["stfpm_training"] == runs[1]["stfpm_training"]
print(f"\n{runs[0]['category']}, seed {runs[0]['params']['seed']}, one student ({'the same' if same else 'DIFFERENT'} training record in both "
      f"runs), {runs[0]['params']['backbone']}, commit {runs[0]['git_commit']}; torch {runs[0]['versions']['torch']}.")
