"""Evaluation only: is the teacher or the student what limits screw? Each test position's distance to its nearest
neighbour among the train split's teacher features (PatchCore's idea without a coreset; the L2-normalised features
STFPM matches, so the distance is STFPM's discrepancy 0.5 * ||t - t_nn||^2), per layer, combined like STFPM's map,
beside the trained student's map. Image AUROC overall and per defect type (that type against test/good).

    python reports/convergence/screw_levers/teacher_knn.py reports/real/seed0/screw ../shared/data/mvtec_ad
"""
import sys
import numpy as np
import torch
import torch.nn.functional as F
from stfpm_nb.convergence import layer_discrepancies, stack_items
from stfpm_nb.metrics import image_auroc, pixel_auroc
from stfpm_nb.stfpm import anomaly_map, image_score, evaluating
from trained_run import load_run
torch.set_num_threads(2)
torch.manual_seed(0)
params, model, train, holdout, test = load_run(sys.argv[1], sys.argv[2])
S, BANK = model.image_size, 60_000   # memory bank per layer: a seeded random subset of the train split's positions
truth = stack_items(test)
types = np.array([s.defect_type for s in test.samples])
kinds = sorted(set(types) - {"good"})

def teacher_pyramid(images):
    with torch.no_grad(), evaluating(model):
        parts = [model.teacher_features(model.preprocess(images[i:i + 32])) for i in range(0, len(images), 32)]
    return [torch.cat(p) for p in zip(*parts)]

def nearest_discrepancy(bank, query):
    "0.5 * squared distance of each query position to its nearest bank position (unit vectors: 1 - max cosine)."
    C = bank.shape[1]
    b = bank.permute(0, 2, 3, 1).reshape(-1, C)
    b = b[torch.randperm(len(b))[:BANK]]
    q = query.permute(0, 2, 3, 1).reshape(-1, C)
    best = torch.cat([(q[i:i + 8192] @ b.T).amax(1) for i in range(0, len(q), 8192)])
    return (1 - best).clamp_min(0).reshape(query.shape[0], *query.shape[2:])

def row(name, maps):
    s = image_score(maps, params["score"], params["topk"]).numpy()
    good = s[types == "good"]
    per = [image_auroc(np.r_[good, s[types == k]], np.r_[np.zeros(len(good)), np.ones((types == k).sum())]) for k in kinds]
    print(f"| {name} | {image_auroc(s, truth.labels):.3f} | {pixel_auroc(maps.numpy(), truth.masks):.3f} | "
          + " | ".join(f"{a:.2f}" for a in per) + " |", flush=True)

print("| map (product of 3 layers, top-1% score) | image AUROC | pixel AUROC | " + " | ".join(kinds) + " |")
print("|---|---|---|" + "---|" * len(kinds))
row("STFPM: the trained student", anomaly_map(layer_discrepancies(model, truth.images), S, "product", 0.0))
bank, query = teacher_pyramid(stack_items(train).images), teacher_pyramid(truth.images)
row("teacher alone: nearest train position", anomaly_map([nearest_discrepancy(b, q) for b, q in zip(bank, query)], S, "product", 0.0))
pool = lambda feats: [F.normalize(F.avg_pool2d(f, 3, 1, 1), dim=1) for f in feats]
row("teacher alone, 3x3-averaged features", anomaly_map([nearest_discrepancy(b, q) for b, q in zip(pool(bank), pool(query))], S, "product", 0.0))
