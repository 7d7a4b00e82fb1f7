"""Evaluation only: do the students of several seeds err apart? Test maps of each student and of their ensembles.

    python reports/convergence/screw_levers/seed_ensemble.py ../shared/data/mvtec_ad reports/real/seed{0,1,2}/screw
"""
import sys
import torch
from stfpm_nb.convergence import stack_items
from stfpm_nb.metrics import aupro, image_auroc, pixel_auroc
from stfpm_nb.stfpm import anomaly_map, discrepancy, evaluating, image_score
from trained_run import load_run
torch.set_num_threads(2)
runs = [load_run(run, sys.argv[1]) for run in sys.argv[2:]]
params, S = runs[0][0], runs[0][1].image_size
truth = stack_items(runs[0][4])   # the test split is the same for every seed

def pyramids(model):
    with torch.no_grad(), evaluating(model):
        parts = [model.normalized_features(truth.images[i:i + 32]) for i in range(0, len(truth.images), 32)]
    return [torch.cat([p[0][l] for p in parts]) for l in range(3)], [torch.cat([p[1][l] for p in parts]) for l in range(3)]

def row(name, maps):
    s = image_score(maps, params["score"], params["topk"]).numpy()
    print(f"| {name} | {image_auroc(s, truth.labels):.3f} | {pixel_auroc(maps.numpy(), truth.masks):.3f} | "
          f"{aupro(maps.numpy(), truth.masks):.3f} |", flush=True)

print("| map | image AUROC | pixel AUROC | AU-PRO |\n|---|---|---|---|")
feats = [pyramids(m) for _, m, *_ in runs]   # one forward pass per student; every map below derives from it
D = [[discrepancy(t, s) for t, s in zip(*f)] for f in feats]
maps = [anomaly_map(d, S, "product", 0.0) for d in D]
for (p, *_), m in zip(runs, maps): row(f"seed {p['seed']} alone", m)
n = len(runs)
row(f"mean of the {n} maps", sum(maps) / n)
row(f"per-layer mean of the {n} discrepancies, then the product", anomaly_map([sum(d[l] for d in D) / n for l in range(3)], S, "product", 0.0))
teacher, student_mean = feats[0][0], [sum(f[1][l] for f in feats) / n for l in range(3)]
row(f"teacher against the mean of the {n} students' features", anomaly_map([discrepancy(t, s) for t, s in zip(teacher, student_mean)], S, "product", 0.0))
