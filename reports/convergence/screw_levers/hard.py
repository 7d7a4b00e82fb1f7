"""#11 lever, experiment only (not in the library): the student's loss on the hardest FRACTION of positions of each
layer in each batch (the mean of the top FRACTION of the discrepancies, EfficientAD's hard-feature loss), so that
the student spends its steps where it imitates the teacher worst (on screw: threads along the image axes).
Everything else is the default fast recipe.

    python hard.py OUT SEED FRACTION [CATEGORY]   (CATEGORY: screw by default)
"""
import sys
import torch
import stfpm_nb.stfpm as S
import stfpm_nb.pipeline as P
out, seed, fraction = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
category = sys.argv[4] if len(sys.argv) > 4 else "screw"

def hard_loss(teacher_feats, student_feats):
    losses = []
    for t, s in zip(teacher_feats, student_feats):
        d = S.discrepancy(t, s).flatten()
        losses.append(d.topk(max(1, int(fraction * d.numel()))).values.mean())
    return sum(losses)

S.stfpm_loss = hard_loss
cfg = P.RunConfig(data_root="../shared/data/mvtec_ad", category=category, out=out, methods="stfpm", seed=seed, progress=False)
r = P.run_category(cfg)
m = r.metrics["methods"]["stfpm"]
print(category, seed, fraction, {k: round(m[k], 4) for k in ("image_auroc", "pixel_auroc", "aupro")}, r.metrics["stfpm_training"], r.metrics["seconds"], flush=True)
