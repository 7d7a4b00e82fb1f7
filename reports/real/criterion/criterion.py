"""How hard must the synthetic anomalies be for the image-level selection criterion to discriminate, and does it then
rank the variants as the real defects do? For each trained run folder: the criterion of every `scaled-image` variant
(hold-out normals against synthetic anomalies of the same images, 2-fold cross-fitted image AUROC, as the pipeline
computes it) at three difficulties of the synthetic anomalies, beside the variants' test image AUROC from the run's
metrics.json (shown, not used).

    python reports/real/criterion/criterion.py --data-root ../shared/data/mvtec_ad reports/real/seed1/screw ...
"""
import argparse, json
import torch

from stfpm_nb.convergence import stack_items, synthetic_validation_set
from stfpm_nb.image_scaling import select_image_variant
from stfpm_nb.pipeline import RunConfig, check_config, image_level_detectors, image_set_features, load_splits
from stfpm_nb.stfpm import load_stfpm

# (Perlin exponents, blending range): the pipeline's setting first, then smaller and fainter anomalies
DIFFICULTIES = [((3, 6), (0.1, 0.5)), ((4, 6), (0.05, 0.3)), ((5, 6), (0.03, 0.15))]

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--data-root", required=True)
p.add_argument("runs", nargs="+", help="run folders <batch>/<category> with stfpm/best.pt and metrics.json")
args = p.parse_args()
rows = []
for run in args.runs:
    saved = json.load(open(f"{run}/metrics.json"))
    cat, seed = saved["category"], saved["params"]["seed"]
    cfg = check_config(RunConfig(data_root=args.data_root, category=cat, out=run, seed=seed, progress=False))
    splits, model = load_splits(cfg), load_stfpm(f"{run}/stfpm/best.pt").eval()
    normal = image_set_features(model, splits.holdout, cfg.batch_size)
    detectors, _ = image_level_detectors(cfg, model, splits, normal)     # the pipeline's own detectors
    holdout, train = stack_items(splits.holdout).images, stack_items(splits.train).images
    test = {name.split(":")[1]: saved["methods"][name]["image_auroc"] for name in detectors}
    rows.append({"category": cat, "seed": seed, "synthetic": "test images (shown, not used)", **test})
    for exponents, beta in DIFFICULTIES:
        synthetic = synthetic_validation_set(holdout, train, seed=seed, exponents=exponents, beta=beta)
        features = image_set_features(model, synthetic.images[synthetic.labels == 1], cfg.batch_size)
        _, crit = select_image_variant(detectors, normal, features, seed=seed)
        rows.append({"category": cat, "seed": seed, "synthetic": f"scales 2^{exponents[0]}..2^{exponents[1]}, blend {beta[0]}-{beta[1]}",
                     **{k.split(":")[1]: v for k, v in crit.items()}})
print("| category | seed | image AUROC on | " + " | ".join(IMAGE := ["layers-sum", "layers-max", "zscore", "mahalanobis"]) + " |")
print("|---|---|---|" + "---|" * len(IMAGE))
for r in rows:
    print(f"| {r['category']} | {r['seed']} | {r['synthetic']} | " + " | ".join(f"{r[k]:.3f}" for k in IMAGE) + " |")
