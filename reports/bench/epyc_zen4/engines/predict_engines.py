"""`predict` on a folder by each engine, beside the model alone by the same engine: best of ROUNDS alternated rounds.

    PYTHONPATH="$PWD" python reports/bench/epyc_zen4/engines/predict_engines.py RUN CATEGORY [ROUNDS]

RUN: an evaluated run folder (its `stfpm` detector is timed; speed does not depend on the training); CATEGORY: a
category of ../shared/data/mvtec_ad whose test images are scored. Prints one Markdown row per engine.
"""
import sys, tempfile, time, warnings
from pathlib import Path

import torch

from stfpm_nb.core import git_commit, reuse_freed_memory
from stfpm_nb.predict import ENGINES, load_detector, predict_folder, to_batch

warnings.simplefilter("ignore")
reuse_freed_memory()
run, category, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3
paths = sorted((Path(__file__).resolve().parents[5] / "shared" / "data" / "mvtec_ad" / category / "test").glob("*/*.png"))
detectors = {e: load_detector(run, "stfpm", engine=e) for e in ENGINES}
decoded = to_batch(paths, detectors["torch"].image_size)[0]   # the model alone: decoded and resized beforehand
out = Path(tempfile.mkdtemp())


def model_alone(det):
    for start in range(0, len(decoded), 16): det.outputs(decoded[start:start + 16])   # predict's batch size


jobs = {(e, job): fn for e, det in detectors.items() for job, fn in (
    ("model", lambda det=det: model_alone(det)),
    ("predict", lambda det=det: predict_folder(det, paths, out / "full", progress=False)),
    ("lean", lambda det=det: predict_folder(det, paths, out / "lean", progress=False, overlays=False)))}
for fn in jobs.values(): fn()   # warm-up (the onnxruntime graph is exported here)
best = {}
for _ in range(rounds):
    for key, fn in jobs.items():
        start = time.perf_counter(); fn(); best[key] = min(best.get(key, 1e9), time.perf_counter() - start)
rate = {k: len(paths) / s for k, s in best.items()}
print(f"| engine | {category}: model alone img/s | predict img/s (masks + overlays) | predict --no-overlays img/s | "
      "predict / model alone | --no-overlays / model alone |\n|---|---|---|---|---|---|")
for e in ENGINES:
    print(f"| {e} | {rate[e, 'model']:.1f} | {rate[e, 'predict']:.1f} | {rate[e, 'lean']:.1f} | "
          f"{rate[e, 'predict'] / rate[e, 'model']:.2f} | {rate[e, 'lean'] / rate[e, 'model']:.2f} |")
print(f"\n{len(paths)} test images, best of {rounds} alternated rounds; torch {torch.__version__}, {torch.get_num_threads()} "
      f"threads; commit {git_commit()}.")
