"""Evaluation only, on a trained student (needs its checkpoint): image and pixel AUROC of maps from each subset of
the pyramid's layers (product or sum), of the default map with a border zeroed, and how far from the image border
the maxima of test/good and hold-out maps lie.

    python reports/convergence/screw_levers/eval_layers.py reports/real/seed0/screw ../shared/data/mvtec_ad
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
truth = stack_items(test)
D, H = layer_discrepancies(model, truth.images), layer_discrepancies(model, stack_items(holdout).images)
labels, masks = truth.labels, truth.masks
good = labels == 0
def rep(name, m_t, m_h):
    s_t, s_h = (image_score(m, params["score"], params["topk"]).numpy() for m in (m_t, m_h))
    print(f"| {name} | {image_auroc(s_t, labels):.3f} | {pixel_auroc(m_t.numpy(), masks):.3f} | {s_t[good].mean()/s_h.mean():.3f} |", flush=True)
print("| map | image AUROC | pixel AUROC | test/good / hold-out |\n|---|---|---|---|")
for layers in [(0,), (1,), (2,), (0, 1), (1, 2), (0, 2), (0, 1, 2)]:
    for comb in ("product", "sum"):
        if len(layers) == 1 and comb == "sum": continue
        rep(f"layers {layers} {comb}", anomaly_map([D[l] for l in layers], S, comb, 0.0), anomaly_map([H[l] for l in layers], S, comb, 0.0))
m_t, m_h = anomaly_map(D, S, "product", 0.0), anomaly_map(H, S, "product", 0.0)
for margin in (8, 16, 32):
    w = torch.zeros(S, S); w[margin:-margin, margin:-margin] = 1
    rep(f"product, border {margin}px zeroed", m_t * w, m_h * w)
# where the maxima of test/good sit
am = m_t[torch.from_numpy(good)].flatten(1).argmax(1)
r, c = am // S, am % S
edge = torch.minimum(torch.minimum(r, c), torch.minimum(S - 1 - r, S - 1 - c))
print("test/good argmax distance to border (px):", sorted(edge.tolist()))
amh = m_h.flatten(1).argmax(1); rh, ch = amh // S, amh % S
print("hold-out argmax distance to border:", sorted(torch.minimum(torch.minimum(rh, ch), torch.minimum(S-1-rh, S-1-ch)).tolist()))
