"Synthetic anomalies: reproducibility, masks that mark exactly the altered pixels, anomaly rate, shapes, v2, errors."
import math

import pytest
import torch
from skimage import data as skdata
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from stfpm_nb.core import UserError
from stfpm_nb.synth import (SOURCES, SyntheticAnomaly, SyntheticAnomalyDataset, generator_for, match_channels,
                            perlin_noise, resize)


def _astronaut(h: int, w: int, channels: int = 3) -> torch.Tensor:
    x = torch.from_numpy(skdata.astronaut()).permute(2, 0, 1).float() / 255
    return match_channels(resize(x, (h, w)), channels)


IMAGES = {"rgb_64x96": _astronaut(64, 96), "gray_47x59": _astronaut(47, 59, 1), "rgb_33x17": _astronaut(33, 17),
          "gray_3x5": _astronaut(3, 5, 1)}


def assert_mask_marks_altered(x, out, mask, min_change=1 / 255):
    "Outside the mask: bit-identical. Inside: every pixel moved by >= min_change in some channel."
    assert out.shape == x.shape and mask.shape == (1, *x.shape[-2:]) and mask.dtype == torch.float32
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    m = mask[0].bool()
    assert torch.equal(out[:, ~m], x[:, ~m])
    assert bool(((out - x).abs().amax(0)[m] >= min_change).all())


def test_same_seed_same_pair():
    x = IMAGES["rgb_64x96"]
    a, b = SyntheticAnomaly(p_anomaly=1.0, seed=3), SyntheticAnomaly(p_anomaly=1.0, seed=3)
    for k in range(5):
        pa, pb = a(x), b(x)
        assert torch.equal(pa[0], pb[0]) and torch.equal(pa[1], pb[1])
        assert torch.equal(a.sample(x, k)[1], pa[1])  # the k-th call is sample(x, k)
    g = lambda: torch.Generator().manual_seed(11)
    assert torch.equal(a.sample(x, generator=g())[0], b.sample(x, generator=g())[0])
    other = [SyntheticAnomaly(p_anomaly=1.0, seed=s).sample(x, 0)[1] for s in (4, 5, 6)]
    assert any(not torch.equal(m, a.sample(x, 0)[1]) for m in other)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("name", list(IMAGES))
def test_mask_matches_altered_pixels(source, name):
    x = IMAGES[name]
    synth = SyntheticAnomaly(p_anomaly=1.0, sources=[source], seed=0)
    for k in range(8):
        out, mask = synth.sample(x, k)
        assert mask.any()
        assert_mask_marks_altered(x, out, mask)


def test_normal_pairs_are_untouched():
    x = IMAGES["gray_47x59"]
    out, mask = SyntheticAnomaly(p_anomaly=0.0)(x)
    assert torch.equal(out, x) and not mask.any()


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_anomaly_rate(p):
    x, n = IMAGES["rgb_33x17"], 200
    synth = SyntheticAnomaly(p_anomaly=p, seed=1)
    rate = sum(bool(synth(x)[1].any()) for _ in range(n)) / n
    assert abs(rate - p) <= 4 * math.sqrt(p * (1 - p) / n), rate  # exact at 0 and 1, 4 sigma otherwise


def test_flat_image_still_gets_an_anomaly():
    "A patch cut from a flat image changes nothing; the last try falls back to a shift."
    flat = torch.full((3, 9, 11), 0.5)
    out, mask = SyntheticAnomaly(p_anomaly=1.0, sources=["patch"], max_tries=2)(flat)
    assert mask.any()
    assert_mask_marks_altered(flat, out, mask)


def test_patch_pool_of_other_images():
    pool = [_astronaut(40, 40), _astronaut(80, 50, 1)]  # other sizes and channel counts are matched
    x = IMAGES["rgb_64x96"]
    synth = SyntheticAnomaly(p_anomaly=1.0, sources=["patch"], patches=pool, seed=2)
    for k in range(5):
        assert_mask_marks_altered(x, *synth.sample(x, k))


def test_inside_compose():
    x = IMAGES["rgb_64x96"]
    pipeline = v2.Compose([v2.Resize((40, 56)), SyntheticAnomaly(p_anomaly=1.0, seed=3), v2.RandomHorizontalFlip(p=1.0)])
    out, mask = pipeline(x)
    expected_input = v2.functional.horizontal_flip(v2.functional.resize(x, [40, 56]))
    assert mask.any()
    assert_mask_marks_altered(expected_input, out, mask)


def test_accepts_data_module_items():
    x = IMAGES["rgb_33x17"]
    item = {"image": x, "mask": torch.zeros(1, 33, 17), "label": 0, "defect_type": "good", "path": "a.png"}
    out, mask = SyntheticAnomaly(p_anomaly=1.0)(item)
    assert_mask_marks_altered(x, out, mask)
    with pytest.raises(UserError, match="real defect"):
        SyntheticAnomaly()({**item, "label": 1})


@pytest.mark.parametrize("kwargs, message", [
    (dict(p_anomaly=-0.1), "p_anomaly"), (dict(p_anomaly=1.5), "p_anomaly"),
    (dict(sources=["texture", "scratch"]), "unknown anomaly source"), (dict(sources=[]), "sources"),
    (dict(patches=[]), "patches is empty"), (dict(beta=(0.0, 1.0)), "beta"), (dict(beta=(0.5, 0.2)), "beta"),
    (dict(textures=["dtd_banded"]), "offline images"), (dict(min_change=0), "min_change"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(UserError, match=message):
        SyntheticAnomaly(**kwargs)


@pytest.mark.parametrize("image, message", [
    ((torch.rand(3, 8, 8) * 255).byte(), "ToDtype"), (torch.rand(4, 8, 8), "C=1 or 3"),
    (torch.rand(3, 8, 8) + 1, r"\[0, 1\]"), (torch.rand(8, 8), "C=1 or 3"),
])
def test_bad_images(image, message):
    with pytest.raises(UserError, match=message):
        SyntheticAnomaly()(image)


def test_perlin_noise_any_shape():
    for shape in [(1, 1), (5, 7), (64, 33)]:
        n = perlin_noise(shape, (2, 4), angle=0.4, generator=torch.Generator().manual_seed(0))
        assert n.shape == shape and n.abs().max() <= 1


class _Constant(Dataset):
    "The same image n times, through a transform: shows what workers do to a call-counter transform."
    def __init__(self, transform, n=4): self.transform, self.n = transform, n
    def __len__(self): return self.n
    def __getitem__(self, i): return self.transform(IMAGES["rgb_33x17"])[1]


def test_workers_do_not_repeat_each_other():
    "With 2 workers, each worker's first call must not give the same pair as the other's."
    loader = DataLoader(_Constant(SyntheticAnomaly(p_anomaly=1.0)), batch_size=1, num_workers=2,
                        generator=torch.Generator().manual_seed(0))
    masks = [m[0] for m in loader]  # items 0 and 1 are the first calls of workers 0 and 1
    assert not torch.equal(masks[0], masks[1])


def _items():
    return [{"image": _astronaut(24, 32).roll(k, -1), "mask": torch.zeros(1, 24, 32), "label": 0,
             "defect_type": "good", "path": f"{k}.png"} for k in range(6)]


def test_dataset_items_are_deterministic_whatever_the_workers():
    base = _items()
    ds = SyntheticAnomalyDataset(base, SyntheticAnomaly(p_anomaly=0.7, patches=base), seed=9)
    serial = [ds[i] for i in range(len(ds))]
    batches = list(DataLoader(ds, batch_size=2, num_workers=2, shuffle=False))
    assert torch.equal(torch.cat([b["image"] for b in batches]), torch.stack([s["image"] for s in serial]))
    assert torch.equal(torch.cat([b["mask"] for b in batches]), torch.stack([s["mask"] for s in serial]))
    for b, s in zip(base, serial):
        assert_mask_marks_altered(b["image"], s["image"], s["mask"])
        assert s["label"] == int(s["mask"].any()) and s["path"] == b["path"]
        assert s["defect_type"] == ("good" if not s["label"] else s["defect_type"]) and s["defect_type"] != ""
    ds.set_epoch(1)
    assert any(not torch.equal(ds[i]["mask"], serial[i]["mask"]) for i in range(len(ds)))
    assert type(serial[0]["image"]) is torch.Tensor  # plain tensors collate as usual


def test_generator_for_streams_are_distinct():
    draw = lambda seed, key: torch.rand(4, generator=generator_for(seed, key))
    assert torch.equal(draw(0, 3), draw(0, (3,)))
    assert not torch.equal(draw(0, (3,)), draw(0, (3, 0)))  # SeedSequence alone ignores trailing zeros
    assert not torch.equal(draw(0, (0, 3)), draw(1, (0, 3)))


def test_on_demo_category(tmp_path):
    "Integration with the data module: train items in, pool of the same category, test defects refused."
    from stfpm_nb.data import MVTecCategory
    from stfpm_nb.demo import make_demo_dataset
    root = make_demo_dataset(tmp_path / "demo", categories=["demo_gravel"], image_size=64, n_train=6,
                             n_test_good=1, n_test_defect=1)
    train = MVTecCategory(root, "demo_gravel", "train", image_size=64, cache=False)
    synth = SyntheticAnomaly(p_anomaly=1.0, patches=train, textures=["brick", "grass", "moon"])  # not gravel
    ds = SyntheticAnomalyDataset(train, synth)
    for i in range(len(ds)):
        item = ds[i]
        assert item["label"] == 1 and item["defect_type"].startswith("synthetic_")
        assert_mask_marks_altered(train[i]["image"], item["image"], item["mask"])
    test = MVTecCategory(root, "demo_gravel", "test", image_size=64, cache=False)
    defect = next(test[i] for i in range(len(test)) if test[i]["label"] == 1)
    with pytest.raises(UserError, match="real defect"):
        synth(defect)
