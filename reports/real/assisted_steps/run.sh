#!/usr/bin/env bash
# Usage: bash reports/real/assisted_steps/run.sh [CATEGORY] [OUT] [SEED]
# One category and seed (0 unless given): the default student, then the assisted head over it at the CPU setting of the reports
# (5 x 40 steps) and at its default (20 x 100 steps), each in its own run folder with every method evaluated.
# Resumable: run it again after an interruption (finished models are reused, an unfinished one resumes).
set -euo pipefail
cd "$(dirname "$0")/../../.."   # the repository root
BIN=.venv/bin
CATEGORY="${1:-screw}"
OUT="${2:-../exp/s17/assisted_steps}"   # where the run folders go (their checkpoints stay out of git)
SEED="${3:-0}"
date; git rev-parse HEAD
/usr/bin/time -v $BIN/stfpm-nb run --data-root ../shared/data/mvtec_ad --category "$CATEGORY" --out "$OUT/${CATEGORY}_200" --seed "$SEED" \
  --methods all --scaling all --assisted-epochs 5 --assisted-steps 40 --quiet
date
mkdir -p "$OUT/${CATEGORY}_2000"
cp -r "$OUT/${CATEGORY}_200/stfpm" "$OUT/${CATEGORY}_200/scaling.pt" "$OUT/${CATEGORY}_2000/"
/usr/bin/time -v $BIN/stfpm-nb run --data-root ../shared/data/mvtec_ad --category "$CATEGORY" --out "$OUT/${CATEGORY}_2000" --seed "$SEED" \
  --methods all --scaling all --assisted-epochs 20 --assisted-steps 100 --quiet
date
