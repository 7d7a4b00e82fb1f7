"""synthetic.py of reports/convergence/tilt for blurred runs: the same figures with blur.py's preprocessing (SIGMA=argv[1])."""
import runpy, sys
import torch
import torchvision.transforms.v2.functional as TF
import stfpm_nb.stfpm as S
sigma = float(sys.argv.pop(1))
_prepare = S.STFPM.prepare
def prepare(self, images01):
    if isinstance(images01, (list, tuple)): return torch.cat([prepare(self, x) for x in images01])
    k = 2 * round(3 * sigma) + 1
    return TF.gaussian_blur(_prepare(self, images01), [k, k], [sigma, sigma])
S.STFPM.prepare = prepare
runpy.run_path("reports/convergence/screw_levers/synthetic.py", run_name="__main__")
