"""Evaluation only, on a trained student (needs its checkpoint): image and pixel AUROC when each image's grey level
is matched to the training images' by another statistic than its mean (median, 90th percentile, mean and standard
deviation), or not at all. Prints a markdown table.

    python reports/convergence/screw_levers/eval_grey.py reports/real/seed0/screw ../shared/data/mvtec_ad
"""
import sys
import torch
from stfpm_nb.convergence import layer_discrepancies, stack_items
from stfpm_nb.metrics import image_auroc, pixel_auroc
from stfpm_nb.stfpm import anomaly_map, image_score
from trained_run import load_run
torch.set_num_threads(2)
params, model, train, holdout, test = load_run(sys.argv[1], sys.argv[2])
S = model.image_size
model.grey_target = None   # each matching below is applied by hand, to images prepared without it
truth = stack_items(test)
X = {"train": model.prepare(stack_items(train).images), "holdout": model.prepare(stack_items(holdout).images), "test": model.prepare(truth.images)}

def grey(x): return x.mean(1)  # (N,S,S)
def q(x, p): return torch.quantile(grey(x).flatten(1), p, dim=1).view(-1, 1, 1, 1)
stats = {
  "mean": lambda x: x.mean((1, 2, 3), keepdim=True),
  "median": lambda x: q(x, 0.5),
  "p90": lambda x: q(x, 0.9),
}
def maps(x01): return anomaly_map(layer_discrepancies(model, x01), S, "product", 0.0)
labels, masks = truth.labels, truth.masks
print("| matching | image AUROC | pixel AUROC | test/good / hold-out mean score | defects / hold-out |")
print("|---|---|---|---|---|")
for name in ["none", "mean", "median", "p90", "mean+std"]:
    if name == "none": f = lambda x: x
    elif name == "mean+std":
        m_t = X["train"].mean((1, 2, 3)).mean(); s_t = X["train"].std((1, 2, 3)).mean()
        f = lambda x, m_t=m_t, s_t=s_t: ((x - x.mean((1,2,3), keepdim=True)) / x.std((1,2,3), keepdim=True) * s_t + m_t).clamp(0, 1)
    else:
        st = stats[name]; tgt = st(X["train"]).mean()
        f = lambda x, st=st, tgt=tgt: (x * tgt / st(x).clamp_min(1/255)).clamp(0, 1)
    mt, mh = maps(f(X["test"])), maps(f(X["holdout"]))
    s_t, s_h = (image_score(m, params["score"], params["topk"]).numpy() for m in (mt, mh))
    print(f"| {name} | {image_auroc(s_t, labels):.3f} | {pixel_auroc(mt.numpy(), masks):.3f} | {s_t[labels==0].mean()/s_h.mean():.3f} | {s_t[labels==1].mean()/s_h.mean():.3f} |", flush=True)
