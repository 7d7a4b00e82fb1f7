"""Evaluation only: how closely the trained student imitates the teacher on its own train split, on the hold-out
split and on test/good (mean discrepancy in eval mode, per layer), and what re-estimating its BatchNorm statistics
on the train split (un-augmented, cumulative average) does to the hold-out discrepancy and the test figures.

    python reports/convergence/screw_levers/student_fit.py reports/real/seed0/screw ../shared/data/mvtec_ad
"""
import copy
import sys
import torch
from stfpm_nb.convergence import layer_discrepancies, stack_items
from stfpm_nb.metrics import image_auroc, pixel_auroc
from stfpm_nb.stfpm import anomaly_map, image_score
from trained_run import load_run
torch.set_num_threads(2)
params, model, train, holdout, test = load_run(sys.argv[1], sys.argv[2])
truth = stack_items(test)
X, H = stack_items(train).images, stack_items(holdout).images

print("| images | n | discrepancy (sum of layers) | layer 1 | layer 2 | layer 3 |\n|---|---|---|---|---|---|")
for name, x in (("train split", X), ("hold-out", H), ("test/good", truth.images[truth.labels == 0])):
    D = layer_discrepancies(model, x)
    print(f"| {name} | {len(x)} | {sum(d.mean() for d in D).item():.4f} | " + " | ".join(f"{d.mean().item():.4f}" for d in D) + " |", flush=True)

def figures(name, m):
    D = layer_discrepancies(m, truth.images)
    maps = anomaly_map(D, m.image_size, "product", 0.0)
    s = image_score(maps, params["score"], params["topk"]).numpy()
    hold = sum(d.mean() for d in layer_discrepancies(m, H)).item()
    print(f"| {name} | {hold:.4f} | {image_auroc(s, truth.labels):.3f} | {pixel_auroc(maps.numpy(), truth.masks):.3f} |", flush=True)

print("\n| student | hold-out discrepancy | test image AUROC | test pixel AUROC |\n|---|---|---|---|")
figures("as trained", model)
m = copy.deepcopy(model)
for bn in m.student.modules():
    if isinstance(bn, torch.nn.modules.batchnorm._BatchNorm): bn.reset_running_stats(); bn.momentum = None
m.student.train()
with torch.no_grad():
    for i in range(0, len(X), 8): m.student_features(m.preprocess(X[i:i + 8]))
m.eval()
figures("BatchNorm statistics re-estimated on the train split", m)
