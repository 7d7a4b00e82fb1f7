"""#11 lever, experiment only (not in the library): every image (training, hold-out, test) Gaussian-blurred by
SIGMA px after it is resized to the model's size, for teacher and student alike, against aliasing of the screw
thread's periodic edges by the strided features. Everything else is the default fast recipe.

    python blur.py OUT SEED SIGMA
"""
import sys
import torch
import torchvision.transforms.v2.functional as TF
import stfpm_nb.stfpm as S
import stfpm_nb.pipeline as P
out, seed, sigma = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
_prepare = S.STFPM.prepare

def prepare(self, images01):
    if isinstance(images01, (list, tuple)): return torch.cat([prepare(self, x) for x in images01])
    x = _prepare(self, images01)
    k = 2 * round(3 * sigma) + 1
    return TF.gaussian_blur(x, [k, k], [sigma, sigma])

S.STFPM.prepare = prepare
cfg = P.RunConfig(data_root="../shared/data/mvtec_ad", category="screw", out=out, methods="stfpm", seed=seed, progress=False)
r = P.run_category(cfg)
m = r.metrics["methods"]["stfpm"]
print(seed, sigma, {k: round(m[k], 4) for k in ("image_auroc", "pixel_auroc", "aupro")}, r.metrics["stfpm_training"], r.metrics["seconds"], flush=True)
