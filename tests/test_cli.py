"Command line: the installed `stfpm-nb` in a subprocess, as a user runs it (exit codes, one-line errors, files)."
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from stfpm_nb.demo import make_demo_dataset

MVTEC = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mvtec_ad"
needs_mvtec = pytest.mark.skipif(not MVTEC.is_dir(), reason=f"real MVTec AD data not found at {MVTEC}")
TINY = ["--image-size", "64", "--epochs", "2", "--batch-size", "8", "--device", "cpu", "--quiet"]


def cli(*args, check_rc=None):
    "Run `stfpm-nb ARGS` (the module's main, in a fresh interpreter); returns the completed process."
    proc = subprocess.run([sys.executable, "-c", "import sys; from stfpm_nb.cli import main; sys.exit(main())", *map(str, args)],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stdout + proc.stderr
    return proc


def assert_user_error(proc, *words):
    "Exit status 2, one line on stderr naming the culprit, no traceback."
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stfpm-nb: error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    for w in words: assert w in lines[0], (w, lines[0])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return make_demo_dataset(tmp_path_factory.mktemp("data") / "demo", categories=["demo_brick"], image_size=64,
                             n_train=12, n_test_good=3, n_test_defect=2)


@needs_mvtec
@pytest.mark.parametrize("category,counts", [("bottle", (209, 83, 63)), ("screw", (320, 160, 119))])
def test_check_data_real_counts(category, counts):
    out = json.loads(cli("check-data", "--data-root", MVTEC, "--category", category, "--json", check_rc=0).stdout)
    assert (out["train"], out["test"], out["masks"]) == counts
    assert sum(out["test_by_type"].values()) == counts[1]


def test_check_data_text(demo):
    out = cli("check-data", "--data-root", demo, "--category", "demo_brick", check_rc=0).stdout
    assert out.startswith("demo_brick: 12 train, 7 test, 4 masks")


def test_bad_input_is_one_line(demo, tmp_path):
    assert_user_error(cli("check-data", "--data-root", tmp_path / "missing", "--category", "x"), "missing")
    assert_user_error(cli("check-data", "--data-root", demo, "--category", "nope"), "nope")
    broken = tmp_path / "broken"
    (broken / "cat" / "train" / "good").mkdir(parents=True)
    (broken / "cat" / "train" / "good" / "000.png").write_bytes(b"not a png")
    assert_user_error(cli("check-data", "--data-root", broken, "--category", "cat"), "000.png")
    assert_user_error(cli("run", "--data-root", demo, "--category", "demo_brick", "--out", tmp_path / "r",
                          "--methods", "stfpm,magic", *TINY), "magic")
    assert_user_error(cli("train", "--data-root", demo, "--category", "demo_brick", "--out", tmp_path / "r",
                          "--backbone", "vgg", *TINY), "vgg")


def test_bad_option_value_exits_nonzero(demo, tmp_path):
    proc = cli("train", "--data-root", demo, "--category", "demo_brick", "--out", tmp_path, "--epochs", "0")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "--epochs" in proc.stderr


def test_train_reuses_refuses_other_options_then_forces(demo, tmp_path):
    out, cosine = tmp_path / "run", ["--schedule", "cosine"]      # a decaying schedule: its total may not change
    cli("train", "--data-root", demo, "--category", "demo_brick", "--out", out, *TINY, *cosine, check_rc=0)
    assert (out / "stfpm" / "best.pt").is_file()
    stamp = (out / "stfpm" / "best.pt").stat().st_mtime_ns
    cli("train", "--data-root", demo, "--category", "demo_brick", "--out", out, *TINY, *cosine, check_rc=0)  # reused
    assert (out / "stfpm" / "best.pt").stat().st_mtime_ns == stamp
    more = [a if a != "2" else "3" for a in TINY]   # --epochs 3
    assert_user_error(cli("train", "--data-root", demo, "--category", "demo_brick", "--out", out, *more, *cosine),
                      "recipe.epochs=2", "recipe.epochs=3", "--force")
    cli("train", "--data-root", demo, "--category", "demo_brick", "--out", out, *more, *cosine, "--force", check_rc=0)
    assert len(json.loads((out / "stfpm" / "history.json").read_text())) == 3


def test_paper_recipe_may_be_trained_on(demo, tmp_path):
    "A constant schedule does not depend on the total: a finished run continues to more epochs."
    out = tmp_path / "run"
    cli("train", "--data-root", demo, "--category", "demo_brick", "--out", out, *TINY, "--recipe", "paper", check_rc=0)
    more = [a if a != "2" else "3" for a in TINY]
    cli("train", "--data-root", demo, "--category", "demo_brick", "--out", out, *more, "--recipe", "paper", check_rc=0)
    assert len(json.loads((out / "stfpm" / "history.json").read_text())) == 3


def test_predict_scores_a_folder_and_names_bad_files(demo, tmp_path):
    out = tmp_path / "run"
    cli("run", "--data-root", demo, "--category", "demo_brick", "--out", out, *TINY, "--methods", "stfpm,scaled",
        "--scaling", "layer", "--egs-draws", "50", check_rc=0)
    images = tmp_path / "new"; images.mkdir()
    for p in sorted((Path(demo) / "demo_brick" / "test").glob("*/*.png"))[:3]:
        Image.open(p).convert("L").resize((50, 70)).save(images / f"{p.parent.name}_{p.name}")   # gray, odd size
    (images / "broken.png").write_bytes(b"no image")
    proc = cli("predict", out, images, "--out", tmp_path / "pred", "--method", "scaled:layer", "--quiet")
    assert proc.returncode == 1 and "broken.png" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    rows = (tmp_path / "pred" / "scores.csv").read_text().splitlines()
    assert len(rows) == 4 and rows[0].startswith("path,score,anomalous,anomalous_pixels,image_threshold")
    masks = sorted((tmp_path / "pred" / "masks").glob("*.png"))
    assert len(masks) == 3 and Image.open(masks[0]).size == (50, 70)                # at the image's own size
    # the onnxruntime engine: the same decisions, the engine named in scores.csv; a GPU with it is refused
    proc = cli("predict", out, images, "--out", tmp_path / "pred_onnx", "--method", "scaled:layer", "--engine", "onnxruntime", "--quiet")
    assert proc.returncode == 1 and "by onnxruntime" in proc.stdout, proc.stdout + proc.stderr
    import csv
    by = {e: list(csv.DictReader(open(tmp_path / d / "scores.csv"))) for e, d in (("torch", "pred"), ("onnxruntime", "pred_onnx"))}
    assert [r["anomalous"] for r in by["torch"]] == [r["anomalous"] for r in by["onnxruntime"]]
    assert {r["engine"] for r in by["onnxruntime"]} == {"onnxruntime"} and {r["engine"] for r in by["torch"]} == {"torch"}
    assert_user_error(cli("predict", out, images, "--out", tmp_path / "p5", "--engine", "onnxruntime", "--device", "cuda"),
                      "runs on the CPU")
    assert_user_error(cli("predict", out, images, "--out", tmp_path / "p2", "--method", "assisted"), "assisted", "not evaluated")
    assert_user_error(cli("predict", tmp_path / "none", images, "--out", tmp_path / "p3"), "does not exist")
    assert_user_error(cli("predict", out, tmp_path / "nothing*.png", "--out", tmp_path / "p4"), "nothing")
    # the exported graph gives the maps and scores of the PyTorch detector
    import numpy as np
    from stfpm_nb.predict import load_detector, run_exported, to_batch
    det = load_detector(out, "scaled:layer")
    x = to_batch(sorted(str(p) for p in images.glob("*_*.png")), det.image_size)[0]
    ref = det.predict(x)
    for fmt, name in (("onnx", "m.onnx"), ("torchscript", "m.pt")):
        cli("export", out, "--method", "scaled:layer", "--format", fmt, "--out", tmp_path / name, check_rc=0)
        maps, scores = run_exported(tmp_path / name, x)
        # float32 rounding only, a thousandth of the map's range: scaled maps are z-scores, whose division by small
        # standard deviations magnifies rounding (the 1e-4 goal is measured on the real data in nbs/14_predict)
        tol = 1e-3 * float(ref.maps.max() - ref.maps.min())
        np.testing.assert_allclose(maps, ref.maps.numpy(), rtol=0, atol=tol)
        np.testing.assert_allclose(scores, ref.scores.numpy(), rtol=0, atol=tol)
    assert_user_error(cli("export", out, "--out", tmp_path), "is a folder")


def test_run_writes_metrics(demo, tmp_path):
    out = tmp_path / "run"
    proc = cli("run", "--data-root", demo, "--category", "demo_brick", "--out", out, *TINY,
               "--methods", "stfpm,scaled", "--scaling", "layer,channel", "--egs-draws", "100", check_rc=0)
    assert "metrics.json" in proc.stdout
    m = json.loads((out / "metrics.json").read_text())
    assert m["category"] == "demo_brick" and m["params"]["epochs"] == 2 and m["git_commit"]
    assert set(m["methods"]) == {"stfpm", "scaled:layer", "scaled:channel"}
    for v in m["methods"].values():
        assert {"image_auroc", "pixel_auroc", "aupro", "egs", "egs_oracle", "egs_regret"} <= set(v)
        assert 0 <= v["egs"] <= v["egs_oracle"] <= 1


def _unusual_copy(demo: Path, root: Path) -> Path:
    "The demo category as grayscale images of an odd, non-square size (masks resized to match): valid, unusual input."
    for src in (demo / "demo_brick").rglob("*.png"):
        dst = root / "odd" / src.relative_to(demo / "demo_brick")
        dst.parent.mkdir(parents=True, exist_ok=True)
        im = Image.open(src)
        is_mask = "ground_truth" in src.parts
        im.convert("L").resize((77, 53), Image.NEAREST if is_mask else Image.BILINEAR).save(dst)
    return root


def test_unusual_valid_input_runs_one_method_and_tables(demo, tmp_path):
    "Grayscale images of 77x53 px, one category, a single method: run and table succeed, metrics are in range."
    root = _unusual_copy(demo, tmp_path / "data")
    cli("check-data", "--data-root", root, "--category", "odd", "--deep", check_rc=0)
    out = tmp_path / "runs" / "odd"
    cli("run", "--data-root", root, "--category", "odd", "--out", out, *TINY, "--methods", "stfpm", "--egs-draws", "50", check_rc=0)
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["methods"]) == {"stfpm"} and 0 <= m["methods"]["stfpm"]["pixel_auroc"] <= 1
    cli("table", tmp_path / "runs", "--out", tmp_path / "tables", check_rc=0)
    assert (tmp_path / "tables" / "results_image_auroc.md").is_file()


def test_problems_a_run_survives_are_warned_not_silent(demo, tmp_path):
    "A grey-level mask, a mask without an image and a dangling link: the run goes on, with one warning line per kind."
    import shutil
    import numpy as np
    root = tmp_path / "data"; shutil.copytree(demo, root)
    cat = root / "demo_brick"
    mask = sorted((cat / "ground_truth").rglob("*_mask.png"))[0]
    grey = np.asarray(Image.open(mask).convert("L")).copy(); grey[grey > 0] = 200; grey[0, 0] = 100
    Image.fromarray(grey).save(mask)
    shutil.copy(mask, mask.with_name("999_mask.png"))
    (cat / "train" / "good" / "zz.png").symlink_to(cat / "train" / "good" / "nowhere.png")
    proc = cli("run", "--data-root", root, "--category", "demo_brick", "--out", tmp_path / "run", *TINY, "--methods", "stfpm",
               "--egs-draws", "20", check_rc=0)
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("stfpm-nb: warning:")]
    assert [w.split(",")[0] for w in warnings] == ["stfpm-nb: warning: 1 dangling link", "stfpm-nb: warning: 1 grey mask",
                                                    "stfpm-nb: warning: 1 orphan mask"], proc.stderr
    assert "zz.png" in warnings[0] and mask.name in warnings[1] and "999_mask.png" in warnings[2]
    assert (tmp_path / "run" / "metrics.json").is_file()


def test_rerun_with_other_settings_names_them(demo, tmp_path):
    "A finished run folder asked for another seed or image size: refused in one line that names the setting, not a digest."
    out = tmp_path / "run"
    cli("train", "--data-root", demo, "--category", "demo_brick", "--out", out, *TINY, check_rc=0)
    assert_user_error(cli("train", "--data-root", demo, "--category", "demo_brick", "--out", out, *TINY, "--seed", "3"),
                      "seed=0 but this run has seed=3", "--force")
    tiny32 = [*TINY]; tiny32[1] = "32"
    assert_user_error(cli("train", "--data-root", demo, "--category", "demo_brick", "--out", out, *tiny32),
                      "model.image_size=64 but this run has model.image_size=32")
