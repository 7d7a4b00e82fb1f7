"""#11 lever, experiment only (not in the library): 'tilt' = a small random rotation (+-DEG) and shift (+-SHIFT of the
side) of each training image, the uncovered corners filled with the image's median colour (the background on screw),
applied live with the photometric jitter. Control: the same live photometric jitter without tilt.

    python tilt.py OUT {tilt|control} SEED THREADS
"""
import sys
import torch
import torchvision.transforms.v2.functional as TF
import stfpm_nb.stfpm as S
import stfpm_nb.pipeline as P
DEG, SHIFT = 15.0, 0.08
out, arm, seed, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
_orig = S.augment_images

def tilt(x01, g):
    n, side = len(x01), x01.shape[-1]
    ang = ((torch.rand(n, generator=g) * 2 - 1) * DEG).tolist()
    sh = ((torch.rand(n, 2, generator=g) * 2 - 1) * SHIFT * side).round().int().tolist()
    return torch.stack([TF.affine(xi, angle=a, translate=s, scale=1.0, shear=[0.0, 0.0],
                                  interpolation=TF.InterpolationMode.BILINEAR,
                                  fill=xi.flatten(1).median(1).values.tolist()) for xi, a, s in zip(x01, ang, sh)])

def augment_images(x01, kinds, generator):
    kinds = tuple(kinds)
    if "tilt" in kinds:
        x01, kinds = tilt(x01, generator), tuple(k for k in kinds if k != "tilt")
    return _orig(x01, kinds, generator)

S.AUGMENTATIONS = P.AUGMENTATIONS = S.AUGMENTATIONS + ("tilt",)
S.augment_images = augment_images
aug = "brightness,contrast,tilt" if arm == "tilt" else "brightness,contrast"
cfg = P.RunConfig(data_root="../shared/data/mvtec_ad", category="screw", out=out, augment=aug, variants=0,
                  methods="stfpm", seed=seed, progress=False)
r = P.run_category(cfg)
m = r.metrics["methods"]["stfpm"]
print(arm, seed, {k: round(m[k], 4) for k in ("image_auroc", "pixel_auroc", "aupro")}, r.metrics["seconds"], flush=True)
