"""Synthetic-anomaly validation figures (normal images only) of each run folder given: image and pixel AUROC."""
import sys
import torch
from stfpm_nb.convergence import stack_items, synthetic_validation_set, compare_maps, layer_discrepancies
from trained_run import load_run
torch.set_num_threads(2)
print("run,image_auroc,pixel_auroc")
for run in sys.argv[2:]:
    p, model, train, holdout, _ = load_run(run, sys.argv[1])
    truth = synthetic_validation_set(stack_items(holdout).images, stack_items(train).images, seed=p["seed"])
    r = compare_maps(layer_discrepancies(model, truth.images), truth, model.image_size, {"default": model.maps}).loc["default"]
    print(f"{run},{r.image_auroc:.4f},{r.pixel_auroc:.4f}", flush=True)
