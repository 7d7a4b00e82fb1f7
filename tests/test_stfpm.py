"STFPM: shapes, frozen teacher, exact resume, save/load, any-size inference, recipes, user errors."
import json

import pytest
import torch

from stfpm_nb.core import UserError
from stfpm_nb.data import MVTecCategory, holdout_split
from stfpm_nb.demo import make_demo_dataset
from stfpm_nb.stfpm import (STFPM, AnomalyResult, MapSettings, anomaly_map, discrepancy, get_recipe, image_score, load_stfpm,
                            predict_dataset, save_stfpm, stfpm_loss, train_stfpm)

SIZE = 32


@pytest.fixture(autouse=True)
def one_thread():
    "Tiny tensors: one thread is much faster than two on a shared machine, and keeps runs comparable."
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = make_demo_dataset(tmp_path_factory.mktemp("demo") / "demo", categories=["demo_brick"], image_size=SIZE,
                             n_train=10, n_test_good=2, n_test_defect=1)
    train, holdout = holdout_split(MVTecCategory(root, "demo_brick", "train", image_size=SIZE), 0.2, seed=0)
    return train, holdout, MVTecCategory(root, "demo_brick", "test", image_size=SIZE)


def _recipe(epochs, **kw):
    return get_recipe("paper", epochs=epochs, batch_size=4, **kw)


def _train(demo, out, epochs, model_seed=0, augment=(), variants=0, **kw):
    train, holdout, _ = demo
    model = STFPM("efficientnet_lite0", image_size=SIZE, seed=model_seed)
    return model, train_stfpm(model, train, holdout, out, _recipe(epochs, augment=augment, variants=variants),
                              device="cpu", precision="fp32", progress=False, **kw)


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("backbone,channels", [("efficientnet_lite0", (24, 40, 112)), ("resnet18", (64, 128, 256))])
def test_shapes(backbone, channels):
    model = STFPM(backbone, image_size=64, pretrained=backbone == "efficientnet_lite0").train()
    x = torch.rand(2, 3, 64, 64)
    teacher, student = model(x)
    assert [tuple(f.shape) for f in teacher] == [(2, c, 64 // s, 64 // s) for c, s in zip(channels, (4, 8, 16))]
    assert torch.allclose(student[2].norm(dim=1), torch.ones(2, 4, 4), atol=1e-5)
    assert [tuple(d.shape) for d in model.discrepancies(x)] == [(2, 16, 16), (2, 8, 8), (2, 4, 4)]
    loss = stfpm_loss(teacher, student)
    assert loss.ndim == 0 and 0 < loss.item() < 6 and loss.requires_grad
    result = model.eval()(x)
    assert isinstance(result, AnomalyResult) and result.maps.shape == (2, 64, 64) and result.scores.shape == (2,)
    assert torch.equal(result.scores, image_score(result.maps, "topk"))     # the default image score


def test_map_combinations():
    per_layer = [torch.rand(3, 8, 8), torch.rand(3, 4, 4), torch.rand(3, 2, 2)]
    up = [torch.nn.functional.interpolate(d[:, None], size=(16, 16), mode="bilinear")[:, 0] for d in per_layer]
    assert torch.allclose(anomaly_map(per_layer, 16, "product"), up[0] * up[1] * up[2])
    assert torch.allclose(anomaly_map(per_layer, 16, "sum"), up[0] + up[1] + up[2])
    t = torch.nn.functional.normalize(torch.randn(2, 5, 3, 3), dim=1)
    assert torch.allclose(discrepancy(t, -t), torch.full((2, 3, 3), 2.0))


def test_teacher_frozen_through_training(demo, tmp_path):
    train, holdout, _ = demo
    model = STFPM("efficientnet_lite0", image_size=SIZE)
    teacher0 = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    student0 = {k: v.clone() for k, v in model.student.state_dict().items()}
    model.train()
    assert not model.teacher.training and all(not p.requires_grad for p in model.teacher.parameters())
    # with an augmentation the teacher runs live at every step: it must still not move
    train_stfpm(model, train, holdout, tmp_path, _recipe(2, augment=("brightness", "flip")), device="cpu",
                precision="fp32", progress=False)
    assert _same(model.teacher.state_dict(), teacher0)  # weights and batch-norm statistics
    assert not _same(model.student.state_dict(), student0)
    assert not model.training


@pytest.mark.parametrize("augment,variants", [((), 0), (("brightness", "contrast", "flip"), 0),
                                              (("brightness", "contrast"), 3)])
def test_resume_is_bit_identical(demo, tmp_path, augment, variants):
    _, straight = _train(demo, tmp_path / "straight", 3, augment=augment, variants=variants)
    _train(demo, tmp_path / "cut", 3, augment=augment, variants=variants, stop_after=1)       # "interrupted" after 1
    _, resumed = _train(demo, tmp_path / "cut", 3, model_seed=99, augment=augment, variants=variants, resume=True)
    for name, key in (("last.pt", "module"), ("best.pt", "state_dict")):
        a, b = torch.load(tmp_path / "straight" / name), torch.load(tmp_path / "cut" / name)
        assert _same(a[key], b[key]), name
    assert straight.history == [dict(r, seconds=s["seconds"]) for r, s in zip(resumed.history, straight.history)]
    assert straight.best_epoch == resumed.best_epoch
    assert len(json.loads((tmp_path / "cut" / "history.json").read_text())) == 3


def test_resume_refuses_other_options_and_overwrite(demo, tmp_path):
    _train(demo, tmp_path, 1)
    with pytest.raises(UserError, match="--resume"):
        _train(demo, tmp_path, 2)
    train, holdout, _ = demo
    with pytest.raises(UserError, match="recipe.lr=0.4 but this run has recipe.lr=0.1"):
        train_stfpm(STFPM(image_size=SIZE), train, holdout, tmp_path, _recipe(1, lr=0.1), device="cpu",
                    precision="fp32", resume=True, progress=False)
    with pytest.raises(UserError, match="data"):
        _train(demo, tmp_path, 1, resume=True, data={"sha256": "other images"})
    with pytest.raises(UserError, match="augment"):
        _train(demo, tmp_path, 1, resume=True, augment=("flip",))


def test_selection_reuse_and_training_time(demo, tmp_path):
    _, cached = _train(demo, tmp_path / "a", 2)
    _, official = _train(demo, tmp_path / "c", 2, select_by="holdout_map_mean")
    assert official.best_epoch == min(official.history, key=lambda r: r["holdout_map_mean"])["epoch"]
    assert cached.best_epoch == min(cached.history, key=lambda r: r["holdout_discrepancy"])["epoch"]
    # a finished run is reused, with the training time of its epochs
    _, again = _train(demo, tmp_path / "a", 2, resume=True)
    assert again.seconds == pytest.approx(cached.seconds) and again.history == cached.history


def test_save_load_and_any_size(demo, tmp_path):
    _, _, test = demo
    model, result = _train(demo, tmp_path, 1)
    loaded = load_stfpm(result.best_path)
    assert loaded.config == model.config and not loaded.training
    a, b = predict_dataset(model, test), predict_dataset(loaded, test)
    assert torch.equal(a.maps, b.maps) and torch.equal(a.scores, b.scores)
    big = torch.nn.functional.interpolate(test[0]["image"][None], size=(100, 70), mode="bilinear")
    assert loaded.predict(big).maps.shape == (1, SIZE, SIZE)
    assert loaded.predict([big[0], test[1]["image"][:1]]).maps.shape == (2, SIZE, SIZE)  # mixed sizes, gray
    save_stfpm(tmp_path / "again.pt", loaded, note="x")
    assert load_stfpm(tmp_path / "again.pt").checkpoint_extra == {"note": "x"}


def test_map_settings_travel_with_the_model(tmp_path):
    model = STFPM(image_size=SIZE, maps=MapSettings(sigma=1.5, score="topk", topk=0.05))
    save_stfpm(tmp_path / "m.pt", model)
    loaded = load_stfpm(tmp_path / "m.pt")
    assert loaded.maps == model.maps
    x = torch.rand(2, 3, SIZE, SIZE)
    assert torch.equal(loaded.predict(x).scores, model.predict(x).scores)


def test_bf16_keeps_the_maps():
    "bf16 autocast changes the arithmetic, not the maps: a few parts in a thousand of their range."
    model = STFPM(image_size=64).eval()
    x = torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    fp32 = model.predict(x).maps
    model.precision = "bf16"
    bf16 = model.predict(x).maps
    assert (bf16 - fp32).abs().max() < 0.02 * (fp32.max() - fp32.min())


def test_user_errors(demo, tmp_path):
    train, holdout, _ = demo
    model = STFPM(image_size=SIZE)
    cases = [(lambda: model.predict(torch.rand(1, 3, 8, 8) * 255), "not ImageNet-normalised"),
             (lambda: model.predict(torch.rand(1, 2, 8, 8)), "C = 1 or 3"),
             (lambda: model.predict(torch.rand(1, 3, 8, 8), MapSettings(combine="max")), "product, sum"),
             (lambda: STFPM(image_size=16), "--image-size"),
             (lambda: STFPM("vgg", image_size=SIZE), "--backbone"),
             (lambda: STFPM(image_size=SIZE, maps=MapSettings(sigma=-2)), "sigma"),
             (lambda: load_stfpm(tmp_path / "none.pt"), "does not exist"),
             (lambda: train_stfpm(model, train, holdout, tmp_path, _recipe(0)), "epochs"),
             (lambda: train_stfpm(model, train, holdout, tmp_path, "slow"), "--recipe"),
             (lambda: train_stfpm(model, train, holdout, tmp_path, _recipe(1, augment=("blur",))), "augmentation"),
             (lambda: train_stfpm(model, train, holdout, tmp_path, _recipe(1, augment=("flip",), variants=2)), "photometric"),
             (lambda: train_stfpm(model, train, torch.utils.data.Subset(holdout, []), tmp_path, _recipe(1)), "hold-out")]
    for call, message in cases:
        with pytest.raises(UserError, match=message):
            call()
