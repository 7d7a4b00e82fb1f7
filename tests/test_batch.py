"""Papermill batch runs (nbs/09_batch.ipynb) with a throwaway parameterised notebook.

Each category costs a papermill kernel start (~2-3 s), so the scenarios share a few batches.
"""
import importlib.util
import json
import sys

import nbformat
import pytest

from stfpm_nb.batch import parse_params, resolve_categories, run_batch
from stfpm_nb.core import UserError
from stfpm_nb.report import collect_runs


def toy_notebook(path):
    "Writes metrics.json; raises when <data_root>/<category>/FAIL exists; writes nothing when SILENT exists."
    params = nbformat.v4.new_code_cell('data_root = ""\ncategory = ""\nout_dir = "."\nthreshold = 0.5')
    params.metadata["tags"] = ["parameters"]
    body = nbformat.v4.new_code_cell(
        "import json, pathlib\n"
        "folder = pathlib.Path(data_root)/category\n"
        'with open(pathlib.Path(out_dir, "runs.txt"), "a") as f: f.write("run\\n")  # stands for a checkpoint\n'
        'if (folder/"FAIL").exists(): raise RuntimeError(f"{category} was made to fail")\n'
        'if not (folder/"SILENT").exists():\n'
        '    pathlib.Path(out_dir, "metrics.json").write_text(json.dumps(\n'
        '        {"category": category, "methods": {"stfpm": {"image_auroc": threshold}}}))')
    nb = nbformat.v4.new_notebook(cells=[params, body])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def setup(tmp_path):
    root = tmp_path/"data"
    for name in ("good", "bad", "silent"):
        (root/name/"train"/"good").mkdir(parents=True)
    (root/"bad"/"FAIL").touch()
    (root/"silent"/"SILENT").touch()
    (root/"LICENSE.txt").write_text("not a category")
    return toy_notebook(tmp_path/"toy.ipynb"), root, tmp_path/"run"


def metrics(folder):
    return json.loads((folder/"metrics.json").read_text())


def test_categories_and_params(setup):
    _, root, _ = setup
    assert resolve_categories(root, "all") == ["bad", "good", "silent"]
    assert resolve_categories(root, "good,bad") == ["good", "bad"]
    with pytest.raises(UserError, match="unknown category carpet.*available: bad, good, silent"):
        resolve_categories(root, "good,carpet")
    assert parse_params([("epochs", "2"), ("device", "cpu"), ("fast", "false")]) == \
        {"epochs": 2, "device": "cpu", "fast": False}
    with pytest.raises(UserError, match="--out"):
        parse_params([("out_dir", "x")])


def test_failure_recorded_rerun_skips_and_retries_force_reruns(setup):
    notebook, root, out = setup
    # 1. three categories on two workers: one finishes, one raises, one ends without metrics.json
    result = run_batch(notebook, root, "all", out, workers=2, params={"threshold": 0.7}, progress=False)
    assert result == {"bad": "failed", "good": "ok", "silent": "failed"}
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["bad.failed", "batch_status.json",
                                                                                  "good", "silent.failed"]
    assert (out/".bad.work").is_dir() and not (out/".good.work").exists()   # kept for resuming; finished: renamed
    assert sorted(p.name for p in (out/"good").iterdir()) == ["good.ipynb", "metrics.json", "runs.txt"]
    assert metrics(out/"good")["methods"]["stfpm"]["image_auroc"] == 0.7
    status = json.loads((out/"batch_status.json").read_text())
    assert status["params"] == {"threshold": 0.7}
    assert status["categories"]["good"]["status"] == "ok"
    assert status["categories"]["bad"]["error"] == "RuntimeError: bad was made to fail (cell [3])"
    assert "without writing metrics.json" in status["categories"]["silent"]["error"]
    assert (out/"bad.failed"/"bad.ipynb").exists() and "made to fail" in (out/"bad.failed"/"error.txt").read_text()
    assert collect_runs(out).set_index("category").status.to_dict() == {"good": "ok", "bad": "failed",
                                                                          "silent": "failed"}

    # 2. rerun once "bad" is fixed: the finished category is skipped, the failed one retried (and now succeeds)
    (root/"bad"/"FAIL").unlink()
    stamp = (out/"good"/"metrics.json").stat().st_mtime_ns
    assert run_batch(notebook, root, "good,bad", out, params={"threshold": 0.7}, progress=False) == {"good": "skipped", "bad": "ok"}
    with pytest.raises(UserError, match="--force"):        # other parameters: the finished result would lie
        run_batch(notebook, root, "good", out, params={"threshold": 0.8}, progress=False)
    assert (out/"good"/"metrics.json").stat().st_mtime_ns == stamp
    assert not (out/"bad.failed").exists() and metrics(out/"bad")["category"] == "bad"
    assert (out/"bad"/"runs.txt").read_text() == "run\nrun\n"      # the retry continued the failed run's folder
    status = json.loads((out/"batch_status.json").read_text())["categories"]
    assert status["bad"]["status"] == "ok" and status["silent"]["status"] == "failed"   # older records kept

    # 3. force reruns a finished category, replacing its result
    assert run_batch(notebook, root, ["good"], out, params={"threshold": 0.9}, force=True, progress=False) == \
        {"good": "ok"}
    assert metrics(out/"good")["methods"]["stfpm"]["image_auroc"] == 0.9
    assert (out/"good"/"runs.txt").read_text() == "run\nrun\n"     # a forced rerun starts from the finished folder
    # only the still-failing category keeps its working folder (to resume); nothing else is left behind
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".silent.work"]


def test_user_errors_before_anything_runs(setup):
    notebook, root, out = setup
    with pytest.raises(UserError, match="unknown category"):
        run_batch(notebook, root, "nope", out)
    with pytest.raises(UserError, match="not found"):
        run_batch(out/"missing.ipynb", root, "good", out)
    with pytest.raises(UserError, match="workers"):
        run_batch(notebook, root, "good", out, workers=0)
    assert not out.exists()


def test_scheduler_without_dask_is_a_user_error(setup, monkeypatch):
    notebook, root, out = setup
    monkeypatch.setitem(sys.modules, "distributed", None)          # makes `import distributed` fail
    with pytest.raises(UserError, match="dask"):
        run_batch(notebook, root, "good", out, scheduler="tcp://127.0.0.1:8786", progress=False)


@pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                    reason="dask.distributed is not installed (pip install 'dask[distributed]')")
def test_dask_local_cluster_on_loopback(setup, monkeypatch):
    from distributed import LocalCluster
    notebook, root, out = setup
    monkeypatch.chdir(notebook.parent)                   # relative paths are resolved before they go to a worker
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        result = run_batch("toy.ipynb", "data", "good,bad", "run", scheduler=cluster.scheduler_address,
                           progress=False)
    assert result == {"good": "ok", "bad": "failed"}
    assert metrics(out/"good")["category"] == "good"
    assert "made to fail" in json.loads((out/"batch_status.json").read_text())["categories"]["bad"]["error"]


def test_category_notebook_defaults_are_run_config_defaults():
    "The papermill parameters of nbs/experiments/category.ipynb repeat RunConfig's defaults (the teacher included)."
    import ast, dataclasses
    from pathlib import Path
    from stfpm_nb.pipeline import RunConfig, check_config
    nb = nbformat.read(Path(__file__).parents[1]/"nbs/experiments/category.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    values = {n.targets[0].id: ast.literal_eval(n.value) for n in ast.parse(cell.source).body if isinstance(n, ast.Assign)}
    # differ on purpose: the notebook's data_root "" means the demo data, and it evaluates every method by default
    shared = {f.name for f in dataclasses.fields(RunConfig)} & values.keys() - {"data_root", "methods"}
    assert {"backbone", "image_size", "recipe", "precision", "score", "seed"} <= shared
    notebook = check_config(RunConfig(**{k: values[k] for k in shared}))
    default = check_config(RunConfig())
    assert {k: getattr(notebook, k) for k in shared} == {k: getattr(default, k) for k in shared}
