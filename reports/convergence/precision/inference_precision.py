"""Inference precision side by side: one trained student per category, its test and hold-out maps in float32 and bf16.

Usage: python reports/convergence/precision/inference_precision.py DATA_ROOT BATCH_FOLDER OUT_JSON
(BATCH_FOLDER holds <category>/stfpm/best.pt, e.g. the seed-0 batch of reports/real_next before its checkpoints
were left out of git)."""
import json, sys, time
from pathlib import Path

import torch
import stfpm_nb.pipeline as P
from stfpm_nb.core import run_info, write_json
from stfpm_nb.stfpm import load_stfpm

data_root, batch, out = sys.argv[1:4]
rows = {}
for category in ("screw", "bottle"):
    cfg = P.check_config(P.RunConfig(data_root=data_root, category=category, out="unused", seed=0, methods="stfpm", progress=False))
    splits = P.load_splits(cfg)
    masks, labels = P.test_truth(splits.test)
    model = load_stfpm(Path(batch) / category / "stfpm" / "best.pt")
    for precision in ("fp32", "bf16"):
        model.precision = precision
        start = time.perf_counter()
        features = [P.image_set_features(model, s, 32) for s in (splits.test, splits.holdout)]
        seconds = time.perf_counter() - start
        summary = P.evaluate_detector(model, *features, masks, labels, cfg, torch.device("cpu")).evaluation.summary()
        rows[f"{category}/{precision}"] = {k: float(summary[k]) for k in ("image_auroc", "pixel_auroc", "aupro", "egs")} | {"features_s": seconds}
        print(category, precision, rows[f"{category}/{precision}"], flush=True)
write_json(out, run_info({"data_root": data_root, "batch": batch}) | {"results": rows})
