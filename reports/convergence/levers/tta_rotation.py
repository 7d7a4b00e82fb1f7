"""Test-time rotation on screw (#11): does averaging the maps of rotated copies of each image remove the orientation
effect? Views: exact quarter turns of the 256-px image (`torch.rot90`, the same canvas), 45 degrees (the image
reflect-padded to 362 px so that the turned image has no empty corners, the map turned back and cropped), and the
control for that padding: the padded canvas turned by 0 degrees. Prints image and pixel AUROC, the hold-out image
scores' coefficient of variation, and test/good's mean score over the hold-out's, for each view and for averages.

    python reports/convergence/levers/tta_rotation.py reports/real/seed0/screw ../shared/data/mvtec_ad
"""
import json, math, sys
from pathlib import Path
import torch, torch.nn.functional as F
import torchvision.transforms.v2.functional as TF
from stfpm_nb.convergence import stack_items
from stfpm_nb.data import MVTecCategory, holdout_split
from stfpm_nb.metrics import image_auroc, pixel_auroc
from stfpm_nb.stfpm import anomaly_map, discrepancy, image_score, load_stfpm

run, data = Path(sys.argv[1]), sys.argv[2]
params = json.loads((run / "metrics.json").read_text())["params"]
model = load_stfpm(run / "stfpm" / "best.pt").eval()
S = model.image_size
test = MVTecCategory(data, params["category"], "test", image_size=S)
_, holdout = holdout_split(MVTecCategory(data, params["category"], "train", image_size=S), params["holdout"], params["seed"])



@torch.no_grad()
def product_map(x01: torch.Tensor) -> torch.Tensor:
    "The default product map (no smoothing) of prepared images, at their own size."
    z = model.normalize(x01)
    return anomaly_map([discrepancy(t, s) for t, s in zip(model.teacher_features(z), model.student_features(z))],
                       x01.shape[-1], "product", 0.0)


def view_map(x01: torch.Tensor, view: str) -> torch.Tensor:
    "Map of one view, brought back to the original image's frame."
    x = model.prepare(x01)                                          # RGB, the run's brightness matching
    if view.startswith("rot"):
        k = int(view[3:]) // 90
        return torch.rot90(product_map(torch.rot90(x, k, (2, 3))), -k, (1, 2))
    angle = float(view.split()[1])                                  # "padded 45": reflect-padded canvas, turned
    p = math.ceil(S * (math.sqrt(2) - 1) / 2)
    m = product_map(TF.rotate(F.pad(x, (p,) * 4, mode="reflect"), angle, interpolation=TF.InterpolationMode.BILINEAR))
    return TF.center_crop(TF.rotate(m[:, None], -angle, interpolation=TF.InterpolationMode.BILINEAR), [S, S])[:, 0]


views = ["rot0", "rot90", "rot180", "rot270", "padded 0", "padded 45"]
truth = stack_items(test)
sets = {"test": truth.images, "holdout": stack_items(holdout).images}
maps = {v: {k: torch.cat([view_map(x[i:i + 16], v) for i in range(0, len(x), 16)]) for k, x in sets.items()} for v in views}
labels, masks = truth.labels, truth.masks
print(f"run {run}, seed {params['seed']}")
print("| views averaged | image AUROC | pixel AUROC | hold-out score CV | test/good mean / hold-out mean |")
print("|---|---|---|---|---|")
for combo in [[v] for v in views] + [["rot0", "rot90", "rot180", "rot270"], ["rot0", "padded 45"]]:
    mt, mh = (torch.stack([maps[v][k] for v in combo]).mean(0) for k in ("test", "holdout"))
    st, sh = (image_score(m, params["score"], params["topk"]).numpy() for m in (mt, mh))
    print(f"| {' + '.join(combo)} | {image_auroc(st, labels):.3f} | {pixel_auroc(mt.numpy(), masks):.3f} | "
          f"{sh.std() / sh.mean():.3f} | {st[labels == 0].mean() / sh.mean():.3f} |")
