"""The map and score settings of `nbs/13_convergence` ("Map and score settings, on synthetic anomalies") measured
again with the default teacher's students: every candidate on the synthetic validation set of each run's own
hold-out split (the choice), and on its test split (a figure only). One csv row per run and setting.

Usage (from the repository root): PYTHONPATH=$PWD python reports/convergence/teacher/map_settings.py DATA_ROOT RUN... > out.csv
"""
import csv, sys
from pathlib import Path

import torch
sys.path.insert(0, str(Path(__file__).parents[1] / "screw_levers"))
from trained_run import load_run
from stfpm_nb.convergence import compare_maps, layer_discrepancies, stack_items, synthetic_validation_set
from stfpm_nb.stfpm import MapSettings

CANDIDATES = {f"{c}, sigma {s}, {k}": MapSettings(combine=c, sigma=s, score=k)
              for c in ("product", "sum") for s in (0, 2, 4, 8) for k in ("max", "topk")}

torch.set_num_threads(2)
out = csv.writer(sys.stdout)
out.writerow(["run", "setting", "synthetic_image_auroc", "synthetic_pixel_auroc", "test_image_auroc", "test_pixel_auroc"])
for run in sys.argv[2:]:
    params, model, train, holdout, test = load_run(run, sys.argv[1])
    synth = synthetic_validation_set(stack_items(holdout).images, stack_items(train).images, seed=params["seed"])
    test = stack_items(test)
    s = compare_maps(layer_discrepancies(model, synth.images), synth, model.image_size, CANDIDATES)
    t = compare_maps(layer_discrepancies(model, test.images), test, model.image_size, CANDIDATES)
    for name in s.index:
        out.writerow([run, name, *(f"{v:.4f}" for v in (s.loc[name, "image_auroc"], s.loc[name, "pixel_auroc"],
                                                       t.loc[name, "image_auroc"], t.loc[name, "pixel_auroc"]))])
    sys.stdout.flush()
