"""A small category from a large one: `n` training images drawn with a seed, the test split and masks linked as they are.

    python reports/convergence/small/subset.py ../shared/data/mvtec_ad screw /tmp/small --n 60

The images are symbolic links into the source, so nothing is copied (MVTec AD must not be copied into the repository).
"""
import argparse, random
from pathlib import Path

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("data_root"); p.add_argument("category"); p.add_argument("out_root")
p.add_argument("--n", type=int, default=60, help="training images kept (MVTec AD's smallest category, toothbrush, has 60)")
p.add_argument("--seed", type=int, default=0)
args = p.parse_args()
src, dst = Path(args.data_root).resolve() / args.category, Path(args.out_root) / args.category
files = sorted((src / "train/good").glob("*.png"))
(dst / "train/good").mkdir(parents=True, exist_ok=True)
for f in sorted(random.Random(args.seed).sample(files, args.n)):
    link = dst / "train/good" / f.name
    if not link.exists(): link.symlink_to(f)
for sub in ("test", "ground_truth"):
    if not (dst / sub).exists(): (dst / sub).symlink_to(src / sub)
print(f"{dst}: {args.n} of {len(files)} training images")
