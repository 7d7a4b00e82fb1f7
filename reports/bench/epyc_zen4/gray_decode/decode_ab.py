"""Decoding cost of the code on PYTHONPATH, one JSON line per category: the decoding check of a run
(`dataset_problems`, which also fills the image cache), the `predict` reader over the test folder (CPU time per
image), and `predict` itself (wall time per image, masks and overlays) with RUN's stfpm detector. Best of three.

    PYTHONPATH=<checkout> python decode_ab.py DATA_ROOT RUN
"""
import json, resource, subprocess, sys, time
from pathlib import Path

from stfpm_nb.core import reuse_freed_memory
from stfpm_nb.data import ImageCache, dataset_problems
from stfpm_nb.predict import _read_chunk, load_detector, predict_folder

import stfpm_nb


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def best(fn, repeats: int = 3) -> tuple[float, float]:
    "(fastest wall seconds, least CPU seconds) of `fn` over `repeats` calls."
    walls, cpus = [], []
    for _ in range(repeats):
        c, t = cpu_seconds(), time.perf_counter(); fn()
        walls.append(time.perf_counter() - t); cpus.append(cpu_seconds() - c)
    return min(walls), min(cpus)


def main(data_root: str, run: str) -> None:
    reuse_freed_memory()
    det = load_detector(run, "stfpm")
    commit = subprocess.run(["git", "-C", str(Path(stfpm_nb.__file__).parent), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    for category in ("screw", "bottle"):
        paths = sorted((Path(data_root) / category / "test").glob("*/*.png"))
        check = best(lambda: dataset_problems(data_root, category, keep=ImageCache()))
        reader = best(lambda: [_read_chunk(paths[s:s + 16], det.image_size) for s in range(0, len(paths), 16)])
        out = Path("/tmp") / f"decode_ab_{category}"
        predict = best(lambda: predict_folder(det, paths, out, progress=False))
        n = len(paths)
        print(json.dumps({"commit": commit, "category": category, "dataset_problems_s": round(check[0], 2),
                          "reader_cpu_ms_per_image": round(reader[1] / n * 1e3, 2),
                          "predict_wall_ms_per_image": round(predict[0] / n * 1e3, 2)}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
