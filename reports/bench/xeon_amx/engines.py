"""Inference engines side by side, one process, freed memory kept: eager PyTorch (BatchNorm folded) against
torch.compile of the same folded networks, and the exported ONNX graph in onnxruntime against the whole eager
`predict`. Batch 32, 256 px, 2 threads, best of 3 after a warm-up call; prints one Markdown table.

    PYTHONPATH="$PWD" python reports/bench/xeon_amx/engines.py efficientnet_lite0 resnet18 efficientnet_lite2
"""
import sys, tempfile, time, warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from stfpm_nb.core import git_commit, reuse_freed_memory
from stfpm_nb.predict import Detector, export_detector, normal_thresholds
from stfpm_nb.stfpm import STFPM, discrepancy, normalized


def best_seconds(fn, repeats=3):
    "The fastest of `repeats` calls of `fn`, after one warm-up call."
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter(); fn(); times.append(time.perf_counter() - start)
    return min(times)


def engines(backbone, x):
    "One table row: img/s of each engine, torch.compile's first call, the largest differences."
    model = STFPM(backbone, x.shape[-1], pretrained=backbone != "resnet18").eval()
    n = len(x)
    with torch.no_grad():
        ref = model.predict(x)
        pre = model.preprocess(x)
        teacher, student = model.folded(model.teacher), model.folded(model.student)
        c_teacher, c_student = torch.compile(teacher), torch.compile(student)
        pyramid = lambda t, s: [discrepancy(a, b) for a, b in zip(normalized(t(pre)), normalized(s(pre)))]
        start = time.perf_counter(); compiled = pyramid(c_teacher, c_student); first_call = time.perf_counter() - start
        eager = pyramid(teacher, student)
        compile_diff = max(float((a - b).abs().max() / a.abs().max()) for a, b in zip(eager, compiled))
        eager_s, compiled_s = best_seconds(lambda: pyramid(teacher, student)), best_seconds(lambda: pyramid(c_teacher, c_student))
        predict_s = best_seconds(lambda: model.predict(x))
    det = Detector(model, "stfpm", normal_thresholds(np.zeros(4), np.zeros((1, 8, 8))), x.shape[-1])
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions(); options.intra_op_num_threads = torch.get_num_threads(); options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(export_detector(det, Path(tmp) / "model.onnx")), options, providers=["CPUExecutionProvider"])
    feed = {"images": x.numpy()}
    onnx_s = best_seconds(lambda: session.run(None, feed))
    onnx_diff = float(np.abs(session.run(None, feed)[0] - ref.maps.numpy()).max())
    return (f"| {backbone} | {n / eager_s:.1f} | {n / compiled_s:.1f} ({first_call:.0f} s) | {compile_diff:.0e} | "
            f"{n / predict_s:.1f} | {n / onnx_s:.1f} | {onnx_diff:.0e} |")


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    reuse_freed_memory(); torch.set_num_threads(2)
    x = torch.rand(32, 3, 256, 256, generator=torch.Generator().manual_seed(0))
    print("| teacher | networks + discrepancies, eager img/s | torch.compile img/s (its first call) | compiled vs eager, "
          "largest relative difference | whole `predict`, eager img/s | whole graph, onnxruntime img/s | onnxruntime vs "
          "eager, largest map difference |\n|---|---|---|---|---|---|---|")
    for backbone in sys.argv[1:]: print(engines(backbone, x), flush=True)
    print(f"\nCommit {git_commit()}; torch {torch.__version__}; onnxruntime {ort.__version__}.")
