"""Exploration harness for #11 (not committed): train STFPM variants on one category, log hold-out per epoch, test metrics at the end."""
import json, sys, time, math, argparse
import numpy as np, torch, torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torchvision.transforms.v2 import functional as TF
from stfpm_nb.data import MVTecCategory, holdout_split
from stfpm_nb.stfpm import STFPM, discrepancy, normalized, stfpm_loss, stack_images, teacher_cache, epoch_order, anomaly_map

p = argparse.ArgumentParser()
p.add_argument("--cat", default="screw"); p.add_argument("--name", required=True)
p.add_argument("--epochs", type=int, default=25); p.add_argument("--opt", default="sgd")
p.add_argument("--lr", type=float, default=0.4); p.add_argument("--wd", type=float, default=1e-4)
p.add_argument("--bs", type=int, default=32); p.add_argument("--sched", default="none")
p.add_argument("--aug", default=""); p.add_argument("--bf16", type=int, default=1)
p.add_argument("--norm", default="none"); p.add_argument("--seed", type=int, default=0)
p.add_argument("--size", type=int, default=256); p.add_argument("--threads", type=int, default=2)
p.add_argument("--backbone", default="efficientnet_lite0"); p.add_argument("--warm", type=int, default=0)
p.add_argument("--save", default=""); p.add_argument("--hard", type=float, default=1.0)
p.add_argument("--data-root", default="../shared/data/mvtec_ad")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed); np.random.seed(a.seed)
root = a.data_root
train_all = MVTecCategory(root, a.cat, "train", image_size=a.size)
train_ds, hold_ds = holdout_split(train_all, 0.2, a.seed)
test_ds = MVTecCategory(root, a.cat, "test", image_size=a.size)
m = STFPM(a.backbone, a.size, seed=a.seed)
m.student.to(memory_format=torch.channels_last); m.teacher.to(memory_format=torch.channels_last)

def raw(ds):
    return torch.stack([ds[i]["image"] for i in range(len(ds))])
Xtr, Xho, Xte = raw(train_ds), raw(hold_ds), raw(test_ds)
ref_median = Xtr.mean(1).flatten(1).median(1).values.mean()
def photonorm(x):
    if a.norm == "median":
        med = x.mean(1).flatten(1).median(1).values.view(-1,1,1,1)
        return (x * (ref_median / med)).clamp(0, 1)
    return x
def prep(x): return m.preprocess(photonorm(x)).contiguous(memory_format=torch.channels_last)
ac = lambda: torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(a.bf16))

def augment(x, g):
    n = len(x); out = x.clone()
    if "dihedral" in a.aug:
        k = torch.randint(0, 4, (n,), generator=g); f = torch.rand(n, generator=g) < 0.5
        out = torch.stack([torch.rot90(xi.flip(-1) if fi else xi, int(ki), (-2, -1)) for xi, ki, fi in zip(out, k, f)])
    if "rot" in a.aug:
        ang = torch.rand(n, generator=g) * 360
        out = torch.stack([TF.rotate(xi, float(t), interpolation=TF.InterpolationMode.BILINEAR, fill=float(xi.mean())) for xi, t in zip(out, ang)])
    if "bright" in a.aug:
        gain = 1 + (torch.rand(n, 1, 1, 1, generator=g) * 2 - 1) * 0.15
        out = out * gain
    if "contrast" in a.aug:
        c = 1 + (torch.rand(n, 1, 1, 1, generator=g) * 2 - 1) * 0.15
        mu = out.mean((1, 2, 3), keepdim=True); out = (out - mu) * c + mu
    return out.clamp(0, 1)

with torch.no_grad():
    Ptr, Pho = prep(Xtr), prep(Xho)
    with ac(): Tho = [f.float() for f in normalized(m.teacher(Pho))]
    Ttr = None
    if not a.aug:
        with ac(): Ttr = [torch.cat(l) for l in zip(*[[f.float() for f in normalized(m.teacher(x))] for x in Ptr.split(32)])]
params = m.student.parameters()
if a.opt == "sgd": opt = torch.optim.SGD(params, lr=a.lr, momentum=0.9, weight_decay=a.wd)
elif a.opt == "adam": opt = torch.optim.Adam(params, lr=a.lr, weight_decay=a.wd)
elif a.opt == "adamw": opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=a.wd)
steps_per_epoch = math.ceil(len(Ptr) / a.bs); total = steps_per_epoch * a.epochs
if a.sched == "cosine": sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=total, pct_start=max(a.warm, 1) / total, anneal_strategy="cos", div_factor=25 if a.warm else 1.0001, final_div_factor=1e3)
elif a.sched == "onecycle": sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=total, pct_start=0.1)
else: sched = None
g = torch.Generator().manual_seed(a.seed)

@torch.no_grad()
def holdout():
    m.student.eval(); tot = 0.0
    for x, t0, t1, t2 in zip(Pho.split(32), *[f.split(32) for f in Tho]):
        with ac(): s = [f.float() for f in normalized(m.student(x))]
        tot += sum(discrepancy(t, ss).mean((1, 2)) for t, ss in zip((t0, t1, t2), s)).sum().item()
    return tot / len(Pho)

hist = []; t_start = time.perf_counter()
for ep in range(1, a.epochs + 1):
    t0 = time.perf_counter(); m.student.train(); ls = 0.0
    order = epoch_order(len(Ptr), a.seed, ep)
    for idx in order.split(a.bs):
        if a.aug:
            x = prep(augment(Xtr[idx], g))
            with torch.no_grad(), ac(): t = [f.float() for f in normalized(m.teacher(x))]
        else:
            x = Ptr[idx]; t = [f[idx] for f in Ttr]
        with ac(): s = m.student(x)
        ss = normalized([f.float() for f in s])
        if a.hard < 1:
            loss = 0
            for tt, sl in zip(t, ss):
                dl = discrepancy(tt, sl).flatten()
                loss = loss + dl.topk(max(1, int(a.hard * dl.numel()))).values.mean()
        else:
            loss = stfpm_loss(t, ss)
        opt.zero_grad(set_to_none=True); (2 * loss).backward(); opt.step()
        if sched: sched.step()
        ls += loss.item() * len(idx)
    h = holdout(); dt = time.perf_counter() - t0
    hist.append({"epoch": ep, "loss": ls / len(Ptr), "holdout": h, "seconds": dt})
    print(f"{a.name} ep {ep} loss {ls/len(Ptr):.4f} holdout {h:.4f} {dt:.1f}s", flush=True)
train_time = time.perf_counter() - t_start

@torch.no_grad()
def layer_maps(X):
    m.eval(); out = []
    for x in X.split(32):
        x = prep(x)
        with ac(): t = normalized(m.teacher(x)); s = normalized(m.student(x))
        out.append([discrepancy(tt.float(), ss.float()) for tt, ss in zip(t, s)])
    return [torch.cat(l) for l in zip(*out)]

def gauss(maps, sigma):
    k = int(2 * round(4 * sigma) + 1)
    return TF.gaussian_blur(maps[:, None], [k, k], [sigma, sigma])[:, 0]

lm_te, lm_ho = layer_maps(Xte), layer_maps(Xho)
labels = np.array([test_ds[i]["label"] for i in range(len(test_ds))])
masks = np.stack([test_ds[i]["mask"][0].numpy() > 0.5 for i in range(len(test_ds))])
res = {"name": a.name, "args": vars(a), "train_seconds": train_time, "final_holdout": hist[-1]["holdout"], "best_holdout": min(h["holdout"] for h in hist)}
for comb in ("product", "sum"):
    full = anomaly_map(lm_te, a.size, comb)
    res[f"pix_{comb}"] = roc_auc_score(masks.ravel(), full.numpy().ravel())
    res[f"img_{comb}_max"] = roc_auc_score(labels, full.flatten(1).amax(1).numpy())
    g4 = gauss(full, 4)
    res[f"img_{comb}_g4"] = roc_auc_score(labels, g4.flatten(1).amax(1).numpy())
    res[f"pix_{comb}_g4"] = roc_auc_score(masks.ravel(), g4.numpy().ravel())
    k = max(1, int(0.01 * full[0].numel()))
    res[f"img_{comb}_top1"] = roc_auc_score(labels, full.flatten(1).topk(k, 1).values.mean(1).numpy())
    feat = anomaly_map(lm_te, lm_te[0].shape[-1], comb)
    res[f"img_{comb}_feat"] = roc_auc_score(labels, feat.flatten(1).amax(1).numpy())
# holdout vs test/good score comparison
full_ho = anomaly_map(lm_ho, a.size, "product"); full_te = anomaly_map(lm_te, a.size, "product")
sc_te = gauss(full_te, 4).flatten(1).amax(1).numpy(); sc_ho = gauss(full_ho, 4).flatten(1).amax(1).numpy()
res["score_holdout_median"] = float(np.median(sc_ho)); res["score_testgood_median"] = float(np.median(sc_te[labels == 0])); res["score_defect_median"] = float(np.median(sc_te[labels == 1]))
res["history"] = hist
print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items() if k not in ("history", "args")}), flush=True)
with open(f"{a.name}.json", "w") as f: json.dump(res, f)
if a.save: torch.save(m.student.state_dict(), a.save)
