"""Photometry of screw's image groups (no model): per group, the mean over images of the mean grey, its percentiles,
the variance of the Laplacian (sharpness) and the high-pass noise of the background. Prints a markdown table.

    python reports/convergence/screw_levers/image_stats.py ../shared/data/mvtec_ad/screw
"""
import sys
from pathlib import Path
import numpy as np
from PIL import Image
from scipy import ndimage

root = Path(sys.argv[1])
groups = {"train/good": root / "train/good"} | {f"test/{d.name}": d for d in sorted((root / "test").iterdir())}
print("| group | images | mean grey | p1 | p50 | p99 | Laplacian variance | background noise |")
print("|---|---|---|---|---|---|---|---|")
for name, folder in groups.items():
    rows = []
    for f in sorted(folder.glob("*.png")):
        a = np.asarray(Image.open(f).convert("L"), dtype=np.float32) / 255
        background = a > np.percentile(a, 60)
        rows.append([a.mean(), *np.percentile(a, [1, 50, 99]), ndimage.laplace(a).var(),
                     (a - ndimage.uniform_filter(a, 5))[background].std()])
    m = np.mean(rows, 0)
    print(f"| {name} | {len(rows)} | " + " | ".join(f"{v:.3f}" for v in m[:4]) + f" | {m[4]:.5f} | {m[5]:.5f} |")
