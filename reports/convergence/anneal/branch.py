"""Turn a constant-step-size train state into the annealed arm's, at the epoch where the anneal begins.

Usage: python branch.py RUN/stfpm/last.pt STEPS_PER_EPOCH

Both arms of the side-by-side run the same steps at the same step size until the last quarter of the run, so the
annealed arm is the constant arm's train state at that epoch (model, momentum, random states, history), continued
with the annealed schedule. This rewrites the recipe recorded in the copied state (the only thing that differs)
to the annealed one, so that `stfpm-nb run --schedule cosine --decay 0.25` continues it instead of refusing it.
The step size of the first continued step is the same under both schedules (the cosine starts at its peak), so
the continuation is the run the annealed recipe makes from scratch: checked on screw seed 0, where both arms were
also trained from scratch (reports/convergence/anneal/README.md).
"""
import sys
from dataclasses import asdict, replace

import torch

from stfpm_nb.core import save_torch
from stfpm_nb.stfpm import get_recipe
from stfpm_nb.train import epochs_for

path, steps_per_epoch = sys.argv[1], int(sys.argv[2])
state = torch.load(path, map_location="cpu", weights_only=True)
recipe = get_recipe("fast", schedule="cosine", decay=0.25).optim
recipe = replace(recipe, epochs=epochs_for(recipe, steps_per_epoch))
done = len(state["history"])
start = round(recipe.epochs * (1 - recipe.decay))
assert done == start, f"{path} holds {done} epochs; the anneal of a {recipe.epochs}-epoch run begins after epoch {start}"
state["identity"]["recipe"] = asdict(recipe)
save_torch(path, state)
print(f"{path}: {done} epochs, recipe now {recipe.schedule} (decay {recipe.decay}, {recipe.epochs} epochs)")
