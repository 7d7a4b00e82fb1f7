"""Bad input across the commands, one table: each case must exit non-zero with one line on stderr that names the
culprit (a file, a folder or a value), and no traceback. The commands run in-process (`cli.main(argv)`), so a
traceback would fail the test as an exception. Every case here is refused before any training starts."""
import shutil

import numpy as np
import pytest
from PIL import Image

from stfpm_nb.cli import main
from stfpm_nb.demo import make_demo_dataset

TINY = ["--image-size", "64", "--epochs", "1", "--batch-size", "4", "--device", "cpu", "--quiet"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    "A valid demo category and broken copies of it, one defect each."
    root = tmp_path_factory.mktemp("bad")
    demo = make_demo_dataset(root / "demo", categories=["demo_brick"], image_size=64, n_train=8, n_test_good=2, n_test_defect=2)
    cat = demo / "demo_brick"

    def broken(name, change):
        target = root / name
        shutil.copytree(demo, target)
        change(target / "demo_brick")
        return target

    def first(folder, pattern="*.png"): return sorted(folder.glob(pattern))[0]
    defect = sorted(p for p in (cat / "test").iterdir() if p.name != "good")[0].name
    paths = {
        "demo": demo,
        "corrupt_train": broken("corrupt_train", lambda c: first(c / "train" / "good").write_bytes(b"not a png")),
        "corrupt_mask": broken("corrupt_mask", lambda c: first(c / "ground_truth" / defect).write_bytes(b"\x89PNG broken")),
        "mask_size": broken("mask_size", lambda c: Image.new("L", (13, 7), 255).save(first(c / "ground_truth" / defect))),
        "no_train": broken("no_train", lambda c: shutil.rmtree(c / "train")),
        "empty_train": broken("empty_train", lambda c: [p.unlink() for p in (c / "train" / "good").glob("*.png")]),
        "no_test": broken("no_test", lambda c: shutil.rmtree(c / "test")),
        "no_ground_truth": broken("no_ground_truth", lambda c: shutil.rmtree(c / "ground_truth")),
        "text_as_image": broken("text_as_image", lambda c: first(c / "test" / "good").write_text("hello")),
        "empty_image": broken("empty_image", lambda c: first(c / "train" / "good").write_bytes(b"")),
        "one_train": broken("one_train", lambda c: [p.unlink() for p in sorted((c / "train" / "good").glob("*.png"))[1:]]),
        "no_test_good": broken("no_test_good", lambda c: shutil.rmtree(c / "test" / "good")),
        "no_test_defect": broken("no_test_defect", lambda c: [shutil.rmtree(p) for p in (c / "test").iterdir() if p.name != "good"]),
        "root_file": root / "a_file.txt",
        "weights_corrupt": root / "corrupt.pth",
        "out_file": root / "out_file.txt",
        "empty_dir": root / "empty_dir",
    }
    paths["root_file"].write_text("x")
    paths["weights_corrupt"].write_bytes(b"not a checkpoint")
    paths["out_file"].write_text("x")
    paths["empty_dir"].mkdir()
    return paths


def run_args(root, out, *extra):
    return ["run", "--data-root", root, "--category", "demo_brick", "--out", out, *TINY, *extra]


# (case, argv builder from (paths, tmp folder), words the one line must contain)
CASES = [
    # data
    ("missing data root", lambda d, t: ["check-data", "--data-root", t / "nowhere", "--category", "demo_brick"], ["nowhere"]),
    ("data root is a file", lambda d, t: ["check-data", "--data-root", d["root_file"], "--category", "demo_brick"], ["a_file.txt"]),
    ("unknown category", lambda d, t: ["check-data", "--data-root", d["demo"], "--category", "bottel"], ["bottel"]),
    ("corrupt training image", lambda d, t: ["check-data", "--data-root", d["corrupt_train"], "--category", "demo_brick"], [".png"]),
    ("corrupt mask", lambda d, t: ["check-data", "--data-root", d["corrupt_mask"], "--category", "demo_brick"], [".png"]),
    ("mask of another size", lambda d, t: ["check-data", "--data-root", d["mask_size"], "--category", "demo_brick"], [".png"]),
    ("no train folder", lambda d, t: ["check-data", "--data-root", d["no_train"], "--category", "demo_brick"], ["train"]),
    ("no training images", lambda d, t: ["check-data", "--data-root", d["empty_train"], "--category", "demo_brick"], ["train"]),
    ("no test folder", lambda d, t: ["check-data", "--data-root", d["no_test"], "--category", "demo_brick"], ["test"]),
    ("no ground truth", lambda d, t: ["check-data", "--data-root", d["no_ground_truth"], "--category", "demo_brick"], ["ground_truth"]),
    ("text file named .png", lambda d, t: ["check-data", "--data-root", d["text_as_image"], "--category", "demo_brick"], [".png"]),
    ("empty image file", lambda d, t: ["check-data", "--data-root", d["empty_image"], "--category", "demo_brick"], [".png"]),
    ("run on a corrupt image", lambda d, t: run_args(d["corrupt_train"], t / "r"), [".png"]),
    ("run on a mask of another size", lambda d, t: run_args(d["mask_size"], t / "r"), [".png"]),
    ("run on one training image", lambda d, t: run_args(d["one_train"], t / "r"), ["one_train", "train/good", "1 image"]),
    ("run without normal test images", lambda d, t: run_args(d["no_test_good"], t / "r"), ["no_test_good", "test/good"]),
    ("run without defective test images", lambda d, t: run_args(d["no_test_defect"], t / "r"), ["no_test_defect", "defective"]),
    # parameters
    ("epochs 0", lambda d, t: run_args(d["demo"], t / "r", "--epochs", "0"), ["--epochs"]),
    ("epochs not a number", lambda d, t: run_args(d["demo"], t / "r", "--epochs", "abc"), ["--epochs", "abc"]),
    ("negative batch size", lambda d, t: run_args(d["demo"], t / "r", "--batch-size", "-4"), ["-4"]),
    ("negative learning rate", lambda d, t: run_args(d["demo"], t / "r", "--lr", "-1"), ["-1"]),
    ("learning rate not a number", lambda d, t: run_args(d["demo"], t / "r", "--lr", "fast"), ["fast"]),
    ("negative seed", lambda d, t: run_args(d["demo"], t / "r", "--seed", "-3"), ["-3"]),
    ("seed too large", lambda d, t: run_args(d["demo"], t / "r", "--seed", str(2 ** 70)), ["seed"]),
    ("image size too small", lambda d, t: run_args(d["demo"], t / "r", "--image-size", "8"), ["image_size", "8"]),
    ("unknown backbone", lambda d, t: run_args(d["demo"], t / "r", "--backbone", "vgg16"), ["vgg16"]),
    ("unknown recipe", lambda d, t: run_args(d["demo"], t / "r", "--recipe", "slow"), ["slow"]),
    ("unknown optimizer", lambda d, t: run_args(d["demo"], t / "r", "--optimizer", "lbfgs"), ["lbfgs"]),
    ("unknown schedule", lambda d, t: run_args(d["demo"], t / "r", "--schedule", "linear"), ["linear"]),
    ("unknown augmentation", lambda d, t: run_args(d["demo"], t / "r", "--augment", "blur"), ["blur"]),
    ("unknown brightness", lambda d, t: run_args(d["demo"], t / "r", "--brightness", "max"), ["max"]),
    ("unknown precision", lambda d, t: run_args(d["demo"], t / "r", "--precision", "fp8"), ["fp8"]),
    ("unknown device", lambda d, t: run_args(d["demo"], t / "r", "--device", "tpu"), ["tpu"]),
    ("unknown method", lambda d, t: run_args(d["demo"], t / "r", "--methods", "stfpm,magic"), ["magic"]),
    ("unknown scaling variant", lambda d, t: run_args(d["demo"], t / "r", "--scaling", "pixel"), ["pixel"]),
    ("unknown image-level variant", lambda d, t: run_args(d["demo"], t / "r", "--image-scaling", "median"), ["median"]),
    ("negative smoothing", lambda d, t: run_args(d["demo"], t / "r", "--sigma", "-2"), ["-2"]),
    ("top-k share above 1", lambda d, t: run_args(d["demo"], t / "r", "--topk", "1.5"), ["1.5"]),
    ("EGS draws 0", lambda d, t: run_args(d["demo"], t / "r", "--egs-draws", "0"), ["egs"]),
    ("image score unknown", lambda d, t: run_args(d["demo"], t / "r", "--score", "mean"), ["mean"]),
    # weights and output paths
    ("missing teacher weights", lambda d, t: run_args(d["demo"], t / "r", "--backbone", "resnet18", "--teacher-weights", t / "no.pth"), ["no.pth"]),
    ("corrupt teacher weights", lambda d, t: run_args(d["demo"], t / "r", "--backbone", "resnet18", "--teacher-weights", d["weights_corrupt"]), ["corrupt.pth"]),
    ("--out is a file", lambda d, t: run_args(d["demo"], d["out_file"]), ["out_file.txt"]),
    ("--out under a file", lambda d, t: run_args(d["demo"], d["out_file"] / "run"), ["out_file.txt", "under the file"]),
    ("--out not writable", lambda d, t: run_args(d["demo"], "/proc/stfpm_nb/run"), ["/proc/stfpm_nb/run", "cannot be written"]),
    # batch, table, predict, export
    ("batch: unknown -p key", lambda d, t: ["batch", "--data-root", d["demo"], "--categories", "demo_brick", "--out", t / "b", "-p", "epoch", "2"], ["epoch"]),
    ("batch: workers 0", lambda d, t: ["batch", "--data-root", d["demo"], "--categories", "demo_brick", "--out", t / "b", "--workers", "0"], ["--workers"]),
    ("batch: unknown category", lambda d, t: ["batch", "--data-root", d["demo"], "--categories", "demo_brick,nope", "--out", t / "b"], ["nope"]),
    ("batch: --out is a file", lambda d, t: ["batch", "--data-root", d["demo"], "--categories", "demo_brick", "--out", d["out_file"]], ["out_file.txt"]),
    ("table: --out under a file", lambda d, t: ["table", d["empty_dir"], "--out", d["out_file"] / "tables"], ["out_file.txt"]),
    ("table: missing folder", lambda d, t: ["table", t / "no_batch"], ["no_batch"]),
    ("table: folder without runs", lambda d, t: ["table", d["empty_dir"]], ["empty_dir"]),
    ("predict: missing run", lambda d, t: ["predict", t / "no_run", d["demo"], "--out", t / "p"], ["no_run"]),
    ("predict: run without a model", lambda d, t: ["predict", d["empty_dir"], d["demo"], "--out", t / "p"], ["empty_dir"]),
    ("predict: --out is a file", lambda d, t: ["predict", d["empty_dir"], d["demo"], "--out", d["out_file"]], ["out_file.txt"]),
    ("export: --out is a folder", lambda d, t: ["export", d["empty_dir"], "--out", d["empty_dir"]], ["empty_dir", "is a folder"]),
    ("export: missing run", lambda d, t: ["export", t / "no_run", "--out", t / "m.onnx"], ["no_run"]),
    ("export: unknown format", lambda d, t: ["export", d["empty_dir"], "--out", t / "m.onnx", "--format", "tflite"], ["tflite"]),
]


@pytest.mark.parametrize("case,argv,words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_in_one_line(case, argv, words, data, tmp_path, capsys):
    try: rc = main([str(a) for a in argv(data, tmp_path)])
    except SystemExit as e: rc = e.code   # argparse's own refusals
    err = capsys.readouterr().err.strip().splitlines()
    assert rc not in (0, None), (case, rc, err)
    assert len(err) == 1, (case, err)
    assert "Traceback" not in err[0], (case, err)
    for w in words: assert w in err[0], (case, w, err[0])


def test_enough_cases():
    assert len(CASES) >= 40
