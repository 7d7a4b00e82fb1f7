"""STFPM and the assisted head at two training lengths over the same student: one Markdown table.

    python reports/real/assisted_steps/compare.py RUN_200 RUN_2000 [RUN_200 RUN_2000 ...] > reports/real/assisted_steps/results.md

Each RUN_200, RUN_2000 pair: `stfpm-nb run` folders sharing one student (one category and seed), the head trained
5 x 40 and 20 x 100 steps (README.md).
"""
import json, sys
from pathlib import Path

COLUMNS = {"image_auroc": "image AUROC", "pixel_auroc": "pixel AUROC", "aupro": "AU-PRO", "aupimo": "AUPIMO",
           "egs": "EGS", "egs_oracle": "EGS oracle", "egs_regret": "EGS regret"}

def short_commit(commit: str) -> str:
    "The first 7 digits of a recorded commit, keeping its `-dirty`."
    return commit[:7] + ("-dirty" if commit.endswith("-dirty") else "")


folders = sys.argv[1:]
if not folders or len(folders) % 2:
    sys.exit("give the run folders in pairs: RUN_200 RUN_2000 [RUN_200 RUN_2000 ...]")
print("| category | seed | method | head steps (epochs x steps) | " + " | ".join(COLUMNS.values())
      + " | EGS 95% interval | head training s |")
print("|---" * (len(COLUMNS) + 6) + "|")
notes = []
for short, long in zip(folders[::2], folders[1::2]):
    runs = [json.loads((Path(p) / "metrics.json").read_text()) for p in (short, long)]
    where = f"{runs[0]['category']} | {runs[0]['params']['seed']}"
    rows = [("stfpm", "-", runs[0]["methods"]["stfpm"], None)]
    rows += [("assisted", f"{r['params']['assisted_epochs']} x {r['params']['assisted_steps']}", r["methods"]["assisted"],
              r["seconds"]["train_assisted"]) for r in runs]
    for name, steps, m, seconds in rows:
        print(f"| {where} | {name} | {steps} | " + " | ".join(f"{m[k]:.3f}" for k in COLUMNS) +
              f" | {m['egs_ci_low']:.3f}-{m['egs_ci_high']:.3f} | {'-' if seconds is None else f'{seconds:.0f}'} |")
    same = runs[0]["stfpm_training"] == runs[1]["stfpm_training"]
    notes.append(f"{runs[0]['category']}, seed {runs[0]['params']['seed']}: one student ({'the same' if same else 'DIFFERENT'} "
                 f"training record in both runs, {runs[0]['seconds']['train_stfpm']:.0f} s), {runs[0]['params']['backbone']}, "
                 f"commits {' and '.join(short_commit(r['git_commit']) for r in runs)}; "
                 f"torch {runs[0]['versions']['torch']}.")
print("\n" + "  \n".join(notes))
