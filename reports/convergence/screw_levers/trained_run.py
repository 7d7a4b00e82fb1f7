"""What the evaluation-only scripts of this folder share: a finished run's parameters, its student and its splits."""
import json
from pathlib import Path
from stfpm_nb.data import MVTecCategory, holdout_split
from stfpm_nb.stfpm import load_stfpm


def load_run(run: str | Path, data_root: str):
    "(params, model in eval mode, train split, hold-out split, test set) of the run folder `run`, as it was trained."
    run = Path(run)
    params = json.loads((run / "metrics.json").read_text())["params"]
    model = load_stfpm(run / "stfpm" / "best.pt").eval()
    size = model.image_size
    train, holdout = holdout_split(MVTecCategory(data_root, params["category"], "train", image_size=size),
                                   params["holdout"], params["seed"])
    return params, model, train, holdout, MVTecCategory(data_root, params["category"], "test", image_size=size)
