"Data layer: datasets on generated demo data and on the real MVTec AD categories, bad input, caching, splits."
import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from stfpm_nb.core import UserError
from stfpm_nb.data import (FolderDataset, MVTecCategory, check_dataset, holdout_split, load_image, load_mask)
from stfpm_nb.demo import make_demo_dataset

MVTEC = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mvtec_ad"
needs_mvtec = pytest.mark.skipif(not MVTEC.is_dir(), reason=f"real MVTec AD data not found at {MVTEC}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    "The default demo dataset (demo_brick, demo_gravel), generated once for the module."
    return make_demo_dataset(tmp_path_factory.mktemp("data") / "demo", seed=0)


@pytest.fixture
def category(demo, tmp_path) -> Path:
    "A private copy of demo_brick to break; returns its folder (the data root is its parent)."
    shutil.copytree(demo / "demo_brick", tmp_path / "demo_brick")
    return tmp_path / "demo_brick"


def _write(path, arr, mode=None):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr, mode).save(path)


# --- demo data -------------------------------------------------------------------------------------------------

def test_demo_counts(demo):
    assert check_dataset(demo, "demo_brick") == {"train": 40, "test": 20, "masks": 10,
                                                 "test_by_type": {"good": 10, "scratch": 5, "stain": 5}}
    assert check_dataset(demo, "demo_gravel")["test_by_type"] == {"good": 10, "hole": 5, "stain": 5}


def test_demo_is_idempotent_and_deterministic(demo, tmp_path):
    files = sorted(demo.rglob("*.png"))
    stamps = [p.stat().st_mtime_ns for p in files]
    make_demo_dataset(demo, seed=0)
    assert [p.stat().st_mtime_ns for p in files] == stamps
    again = make_demo_dataset(tmp_path / "again", seed=0, categories=["demo_brick"])
    for p in (again / "demo_brick").rglob("*.png"):
        assert p.read_bytes() == (demo / "demo_brick" / p.relative_to(again / "demo_brick")).read_bytes()


def test_demo_refuses_foreign_folder(tmp_path):
    (tmp_path / "demo_brick").mkdir()
    with pytest.raises(UserError, match="not written by make_demo_dataset"):
        make_demo_dataset(tmp_path, categories=["demo_brick"])


@pytest.mark.parametrize("split", ["train", "test"])
def test_items(demo, split):
    ds = MVTecCategory(demo, "demo_gravel", split, image_size=64)
    for i in (0, len(ds) - 1):
        item = ds[i]
        assert item["image"].shape == (3, 64, 64) and item["image"].dtype == torch.float32
        assert 0 <= item["image"].min() and item["image"].max() <= 1
        assert item["mask"].shape == (1, 64, 64) and set(item["mask"].unique().tolist()) <= {0.0, 1.0}
        assert (item["mask"].sum() > 0) == (item["label"] == 1) == (item["defect_type"] != "good")
        assert Path(item["path"]).is_file()
    assert ds.labels.sum() == (10 if split == "test" else 0)


def test_dataloader_collates(demo):
    batch = next(iter(DataLoader(MVTecCategory(demo, "demo_brick", "test", image_size=32), batch_size=8)))
    assert batch["image"].shape == (8, 3, 32, 32) and batch["label"].shape == (8,)
    assert len(batch["defect_type"]) == 8 and len(batch["path"]) == 8


# --- bad input: one line naming the path ----------------------------------------------------------------------

def _raises(fn, *fragments):
    with pytest.raises(UserError) as e:
        fn()
    msg = str(e.value)
    assert "\n" not in msg, msg
    for f in fragments:
        assert str(f) in msg, (f, msg)
    return msg


def _both(root, name, *fragments):
    "check_dataset and both splits of MVTecCategory fail with the same kind of message."
    _raises(lambda: check_dataset(root, name), *fragments)
    _raises(lambda: MVTecCategory(root, name, "train"), *fragments)
    _raises(lambda: MVTecCategory(root, name, "test"), *fragments)


def test_missing_root(tmp_path):
    _both(tmp_path / "nowhere", "demo_brick", tmp_path / "nowhere", "--data-root")


def test_missing_category(category):
    _both(category.parent, "demo_tiles", category.parent / "demo_tiles", "demo_brick")


def test_no_training_images(category):
    for p in (category / "train/good").iterdir(): p.unlink()
    _both(category.parent, "demo_brick", category / "train/good")


def test_no_test_images(category):
    shutil.rmtree(category / "test")
    _both(category.parent, "demo_brick", category / "test")


def test_defect_image_without_mask(category):
    (category / "ground_truth/stain/002_mask.png").unlink()
    _both(category.parent, "demo_brick", category / "test/stain/002.png", category / "ground_truth/stain/002_mask.png")


def test_mask_of_other_size(category):
    _write(category / "ground_truth/scratch/001_mask.png", np.zeros((100, 128), np.uint8))
    _both(category.parent, "demo_brick", category / "ground_truth/scratch/001_mask.png", "128x100")


@pytest.mark.parametrize("where", ["train/good/007.png", "test/good/003.png", "test/stain/000.png",
                                   "ground_truth/stain/000_mask.png"])
def test_unreadable_file(category, where):
    (category / where).write_bytes(b"this is not a png")
    _both(category.parent, "demo_brick", category / where)


def test_truncated_image_found_on_decode(category):
    p = category / "train/good/005.png"
    p.write_bytes(p.read_bytes()[:300])
    ds = MVTecCategory(category.parent, "demo_brick", image_size=32)     # headers are fine
    _raises(lambda: ds[5], p)
    _raises(lambda: check_dataset(category.parent, "demo_brick", decode=True), p)


def test_missing_file_and_bad_split(tmp_path):
    _raises(lambda: load_image(tmp_path / "gone.png"), tmp_path / "gone.png")
    _raises(lambda: load_mask(tmp_path / "gone_mask.png"), tmp_path / "gone_mask.png")
    _raises(lambda: MVTecCategory(tmp_path, "x", split="validation"), "split")


# --- image formats and sizes ----------------------------------------------------------------------------------

def test_image_modes(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    _write(tmp_path / "rgb.png", rgb)
    _write(tmp_path / "gray.png", rgb[..., 1])
    _write(tmp_path / "rgba.png", np.dstack([rgb, np.zeros(rgb.shape[:2], np.uint8)]))
    _write(tmp_path / "g16.png", rgb[..., 1].astype(np.uint16) * 257)
    Image.fromarray(rgb).convert("P").save(tmp_path / "pal.png")
    Image.fromarray(rgb).save(tmp_path / "rgb.jpg", quality=95)
    assert (load_image(tmp_path / "rgb.png") == rgb).all()
    for name in ("gray.png", "g16.png"):
        assert (load_image(tmp_path / name) == rgb[..., 1:2]).all()
    assert (load_image(tmp_path / "rgba.png") == rgb).all()
    for name in ("pal.png", "rgb.jpg"):
        out = load_image(tmp_path / name)
        assert out.shape == (37, 53, 3) and out.dtype == np.uint8


def test_mask_encodings(tmp_path):
    m = np.zeros((20, 30), bool); m[3:8, 4:9] = True
    for name, arr in {"a": m * np.uint8(255), "b": m.astype(np.uint8), "c": m * np.uint16(65535),
                      "d": (m * 240 + 5).astype(np.uint8)}.items():
        _write(tmp_path / f"{name}.png", arr)
        assert (load_mask(tmp_path / f"{name}.png") == m).all(), name


def test_odd_sized_grayscale_and_rgba_category(tmp_path):
    "Any resolution and mode: a grayscale 77x45 category with RGBA defects, resized to 64."
    cat, rng = tmp_path / "odd", np.random.default_rng(0)
    for i in range(3): _write(cat / f"train/good/{i:03d}.png", rng.integers(0, 256, (45, 77), dtype=np.uint8))
    _write(cat / "test/good/000.png", rng.integers(0, 256, (45, 77), dtype=np.uint8))
    _write(cat / "test/dent/000.png", rng.integers(0, 256, (45, 77, 4), dtype=np.uint8))
    m = np.zeros((45, 77), np.uint8); m[10:20, 30:50] = 255
    _write(cat / "ground_truth/dent/000_mask.png", m)
    test = MVTecCategory(tmp_path, "odd", "test", image_size=64)
    dent, good = test[0], test[1]
    assert dent["image"].shape == good["image"].shape == (3, 64, 64)
    assert torch.equal(good["image"][0], good["image"][2])
    assert 0 < dent["mask"].mean() < 0.2
    native = MVTecCategory(tmp_path, "odd", "test", image_size=None)
    assert native[0]["image"].shape == (3, 45, 77) and native[0]["mask"].sum() == 200


# --- caching ---------------------------------------------------------------------------------------------------

def test_cache_hits_return_identical_arrays(demo, tmp_path):
    ds = MVTecCategory(demo, "demo_brick", "test", image_size=48, cache_dir=tmp_path / "cache")
    first = [ds[i] for i in range(len(ds))]
    second = [ds[i] for i in range(len(ds))]
    assert ds.cache.stats["decoded"] == 30 and ds.cache.stats["memory"] == 30    # 20 images + 10 masks
    from_disk = MVTecCategory(demo, "demo_brick", "test", image_size=48, cache_dir=tmp_path / "cache")
    third = [from_disk[i] for i in range(len(ds))]
    assert dict(from_disk.cache.stats) == {"disk": 30}
    for a, b, c in zip(first, second, third):
        for k in ("image", "mask"):
            assert torch.equal(a[k], b[k]) and torch.equal(a[k], c[k])
    uncached = MVTecCategory(demo, "demo_brick", "test", image_size=48, cache=False)
    assert torch.equal(uncached[3]["image"], first[3]["image"]) and len(uncached.cache.memory or {}) == 0


def test_cache_misses_on_changed_file_or_size(category, tmp_path):
    root = category.parent
    ds = MVTecCategory(root, "demo_brick", image_size=32, cache_dir=tmp_path / "cache")
    before = ds[0]["image"]
    _write(category / "train/good/000.png", np.zeros((128, 128, 3), np.uint8))
    os.utime(category / "train/good/000.png", ns=(1, 1))
    assert ds[0]["image"].max() == 0 and not torch.equal(before, ds[0]["image"])
    assert MVTecCategory(root, "demo_brick", image_size=40, cache_dir=tmp_path / "cache")[1]["image"].shape[-1] == 40


def test_cached_item_cannot_be_corrupted_by_caller(demo):
    ds = MVTecCategory(demo, "demo_brick", image_size=32)
    ds[0]["image"].zero_()
    assert ds[0]["image"].max() > 0


# --- splits ----------------------------------------------------------------------------------------------------

def test_holdout_split(demo):
    train = MVTecCategory(demo, "demo_brick", image_size=32)
    fit, hold = holdout_split(train)
    assert (len(fit), len(hold)) == (32, 8)
    assert sorted(fit.indices + hold.indices) == list(range(40))
    assert holdout_split(train, seed=0)[1].indices == hold.indices
    assert holdout_split(train, seed=1)[1].indices != hold.indices
    assert len(holdout_split(train, fraction=0.5)[1]) == 20
    _raises(lambda: holdout_split(train, fraction=1.0), "fraction")


def test_folder_dataset(demo, tmp_path):
    "Normal folder split by seed; anomalous images in subfolders; masks by a file-name rule."
    cat = demo / "demo_gravel"
    shutil.copytree(cat / "test/hole", tmp_path / "bad/hole"); shutil.copytree(cat / "test/stain", tmp_path / "bad/stain")
    kw = dict(mask_name="{defect_type}/{stem}_mask.png", test_fraction=0.25, seed=3, image_size=32)
    train = FolderDataset(cat / "train/good", tmp_path / "bad", cat / "ground_truth", "train", **kw)
    test = FolderDataset(cat / "train/good", tmp_path / "bad", cat / "ground_truth", "test", **kw)
    assert (len(train), len(test)) == (30, 20)
    assert not {s.path for s in train.samples} & {s.path for s in test.samples}
    assert Counter(s.defect_type for s in test.samples) == {"good": 10, "hole": 5, "stain": 5}
    assert all((test[i]["mask"].sum() > 0) == (test[i]["label"] == 1) for i in range(len(test)))
    again = FolderDataset(cat / "train/good", tmp_path / "bad", cat / "ground_truth", "train", **kw)
    assert [s.path for s in again.samples] == [s.path for s in train.samples]


def test_folder_dataset_flat_and_with_own_test_normals(demo, tmp_path):
    cat = demo / "demo_brick"
    for p in (cat / "test/scratch").iterdir():
        shutil.copy(p, tmp_path / f"s{p.name}")
        shutil.copy(cat / "ground_truth/scratch" / f"{p.stem}_mask.png", tmp_path / f"s{p.stem}_mask.png")
    (tmp_path / "bad").mkdir(); (tmp_path / "gt").mkdir()
    for p in list(tmp_path.glob("s*_mask.png")): p.rename(tmp_path / "gt" / p.name)
    for p in list(tmp_path.glob("s*.png")): p.rename(tmp_path / "bad" / p.name)
    test = FolderDataset(cat / "train/good", tmp_path / "bad", tmp_path / "gt", "test",
                         normal_test_dir=cat / "test/good", image_size=32)
    assert len(test) == 15 and Counter(s.defect_type for s in test.samples)["anomalous"] == 5
    assert len(FolderDataset(cat / "train/good", tmp_path / "bad", tmp_path / "gt",
                             normal_test_dir=cat / "test/good")) == 40
    no_masks = FolderDataset(cat / "train/good", tmp_path / "bad", split="test", image_size=32)
    assert not no_masks.has_masks and no_masks[len(no_masks) - 1]["mask"].sum() == 0
    (tmp_path / "gt" / "s002_mask.png").unlink()
    _raises(lambda: FolderDataset(cat / "train/good", tmp_path / "bad", tmp_path / "gt"), tmp_path / "gt" / "s002_mask.png")
    _raises(lambda: FolderDataset(tmp_path / "none"), tmp_path / "none")


# --- real data -------------------------------------------------------------------------------------------------

@needs_mvtec
@pytest.mark.parametrize("name, counts", [
    ("bottle", {"train": 209, "test": 83, "masks": 63,
                "test_by_type": {"broken_large": 20, "broken_small": 22, "contamination": 21, "good": 20}}),
    ("screw", {"train": 320, "test": 160, "masks": 119,
               "test_by_type": {"good": 41, "manipulated_front": 24, "scratch_head": 24, "scratch_neck": 25,
                                "thread_side": 23, "thread_top": 23}}),
])
def test_real_counts(name, counts):
    assert check_dataset(MVTEC, name) == counts


@needs_mvtec
@pytest.mark.parametrize("name", ["bottle", "screw"])
def test_real_items(name):
    train, test = MVTecCategory(MVTEC, name, "train"), MVTecCategory(MVTEC, name, "test")
    assert len(train) == check_dataset(MVTEC, name)["train"]
    item = train[0]
    assert item["image"].shape == (3, 256, 256) and item["label"] == 0 and item["mask"].sum() == 0
    first_defect = int(np.argmax(test.labels))
    item = test[first_defect]
    assert item["label"] == 1 and item["defect_type"] != "good" and item["mask"].sum() > 0
    if name == "screw":                                      # 8-bit grayscale -> three equal channels
        assert torch.equal(item["image"][0], item["image"][1])
    fit, hold = holdout_split(train)
    assert len(hold) == round(0.2 * len(train))
