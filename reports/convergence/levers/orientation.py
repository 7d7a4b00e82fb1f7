"""Per-image STFPM image scores of one trained screw run with each screw's angle to the image axes, as a CSV.

Usage: python reports/convergence/levers/orientation.py RUN_DIR OUT_CSV
(RUN_DIR: a finished `stfpm-nb run` folder of screw with stfpm/best.pt; its metrics.json gives the data and seed.)
"""
import json, sys
from pathlib import Path

import numpy as np, pandas as pd, torch
from skimage.measure import label, regionprops

from stfpm_nb.data import dataset_samples
from stfpm_nb.pipeline import RunConfig, load_splits
from stfpm_nb.stfpm import image_score, load_stfpm, stack_images


def axis_angle(grey: np.ndarray) -> float:
    "Degrees between the long axis of the largest dark region (the screw) and the nearer image axis: 0 aligned, 45 diagonal."
    region = max(regionprops(label(grey < np.median(grey) - 0.2)), key=lambda r: r.area)
    a = abs(np.degrees(region.orientation)) % 90
    return float(min(a, 90 - a))


def rows(model, dataset, split: str):
    x = stack_images(model, dataset)
    with torch.no_grad():
        maps = torch.cat([model.predict(b).maps for b in x.split(16)])
    scores = image_score(maps, model.maps.score, model.maps.topk).numpy()
    for s, img, score in zip(dataset_samples(dataset), x.mean(1).numpy(), scores):
        yield {"split": split, "image": f"{s.defect_type}/{Path(s.path).name}", "defect": s.defect_type,
               "axis_angle": axis_angle(img), "score": float(score)}


if __name__ == "__main__":
    run, out = Path(sys.argv[1]), Path(sys.argv[2])
    p = json.loads((run / "metrics.json").read_text())["params"]
    torch.manual_seed(0); torch.set_num_threads(1)
    splits = load_splits(RunConfig(data_root=p["data_root"] if Path(p["data_root"]).is_absolute() else str(run / p["data_root"]),
                                   category=p["category"], image_size=p["image_size"], holdout=p["holdout"], seed=p["seed"]))
    model = load_stfpm(run / "stfpm/best.pt")
    table = pd.DataFrame([r for split in ("train", "holdout", "test") for r in rows(model, getattr(splits, split), split)])
    table.to_csv(out, index=False, float_format="%.6g")
    print(f"wrote {out}: {len(table)} images")
