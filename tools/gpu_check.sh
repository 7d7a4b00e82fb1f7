#!/usr/bin/env bash
# The GPU check: run on a machine with a CUDA GPU, from the repository root, within about 10 minutes.
# It benchmarks training and inference on the GPU (bf16 and fp32), trains the fast recipe on bottle and screw with
# every method, and writes reports/bench/gpu.md and reports/gpu/. Usage: bash tools/gpu_check.sh [DATA_ROOT]
# DATA_ROOT defaults to ../shared/data/mvtec_ad (on a lent machine, a 256-px copy of it keeps the transfer small).
set -euo pipefail
DATA="${1:-../shared/data/mvtec_ad}"
BIN="${BIN:-.venv/bin}"
test -x "$BIN/stfpm-nb" || make install
start=$(date +%s)
"$BIN/python" - <<'PY'
from stfpm_nb import bench_model
bench_model.run("reports/bench/gpu", device="cuda", backbones=("efficientnet_lite0", "efficientnet_lite2", "resnet18"),
                n_images=256, batch_size=32)
PY
"$BIN/stfpm-nb" batch --data-root "$DATA" --categories bottle,screw --out reports/gpu --workers 2 \
  -p device cuda -p methods stfpm,scaled,assisted -p scaling all
"$BIN/stfpm-nb" table reports/gpu --metrics image_auroc,pixel_auroc,aupro,egs,egs_regret
{
  echo "# GPU check"
  echo
  echo "Command: bash tools/gpu_check.sh $DATA ($(($(date +%s) - start)) s in all, $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1))."
  echo
  cat reports/bench/gpu/bench_model.md
  echo
  cat reports/gpu/results.md
} > reports/bench/gpu.md
echo "wrote reports/bench/gpu.md"
