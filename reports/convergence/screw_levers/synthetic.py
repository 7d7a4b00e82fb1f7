"""Synthetic-anomaly validation figures (normal images only) of each run folder given: image and pixel AUROC."""
import json, sys
from pathlib import Path
import torch
from stfpm_nb.convergence import stack_items, synthetic_validation_set, compare_maps, layer_discrepancies
from stfpm_nb.data import MVTecCategory, holdout_split
from stfpm_nb.stfpm import load_stfpm
torch.set_num_threads(2)
print("run,image_auroc,pixel_auroc")
for run in map(Path, sys.argv[2:]):
    p = json.loads((run / "metrics.json").read_text())["params"]
    model = load_stfpm(run / "stfpm" / "best.pt").eval()
    train, holdout = holdout_split(MVTecCategory(sys.argv[1], p["category"], "train", image_size=model.image_size), p["holdout"], p["seed"])
    truth = synthetic_validation_set(stack_items(holdout).images, stack_items(train).images, seed=p["seed"])
    r = compare_maps(layer_discrepancies(model, truth.images), truth, model.image_size, {"default": model.maps}).loc["default"]
    print(f"{run},{r.image_auroc:.4f},{r.pixel_auroc:.4f}", flush=True)
