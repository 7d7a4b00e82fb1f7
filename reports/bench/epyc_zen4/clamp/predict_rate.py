"""Best and median img/s of six passes of STFPM `predict` (64 random 256-px images, batch 32, 2 threads, ImageNet teacher, ResNet-18 random).

    PYTHONPATH=WORKTREE python reports/bench/epyc_zen4/clamp/predict_rate.py BACKBONE LABEL
"""
import time, torch, warnings, sys
warnings.simplefilter("ignore")
from stfpm_nb.stfpm import STFPM
from stfpm_nb.core import reuse_freed_memory
reuse_freed_memory(); torch.set_num_threads(2)
bb = sys.argv[1]
m = STFPM(bb, 256, pretrained=bb != "resnet18").eval()   # ResNet-18: random weights (none on this machine)
x = torch.rand(64, 3, 256, 256, generator=torch.Generator().manual_seed(0))
def one_pass():
    t0 = time.perf_counter()
    for b in x.split(32): m.predict(b)
    return time.perf_counter() - t0
with torch.no_grad():
    one_pass(); rates = [64 / one_pass() for _ in range(6)]
print(sys.argv[2], bb, round(max(rates), 1), round(sorted(rates)[3], 1))
