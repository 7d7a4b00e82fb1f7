"STFPM: shapes, frozen teacher, exact resume, save/load, any-size inference, user errors."
import json

import pytest
import torch

from stfpm_nb.core import UserError
from stfpm_nb.data import MVTecCategory, holdout_split
from stfpm_nb.demo import make_demo_dataset
from stfpm_nb.stfpm import (STFPM, AnomalyResult, anomaly_map, discrepancy, load_stfpm, predict_dataset, save_stfpm,
                            stfpm_loss, train_stfpm)

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


def _train(demo, out, epochs, **kw):
    train, holdout, _ = demo
    model = STFPM("efficientnet_lite0", image_size=SIZE, seed=kw.pop("model_seed", 0))
    return model, train_stfpm(model, train, holdout, out, epochs=epochs, batch_size=4, device="cpu", progress=False, **kw)


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
    assert torch.equal(result.scores, result.maps.flatten(1).amax(1))


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
    train_stfpm(model, train, holdout, tmp_path, epochs=2, batch_size=4, device="cpu", progress=False,
                reuse_teacher_features=False)
    assert _same(model.teacher.state_dict(), teacher0)  # weights and batch-norm statistics
    assert not _same(model.student.state_dict(), student0)
    assert not model.training


def test_resume_is_bit_identical(demo, tmp_path):
    _, straight = _train(demo, tmp_path / "straight", 3)
    _train(demo, tmp_path / "cut", 1)                                     # "interrupted" after epoch 1
    _, resumed = _train(demo, tmp_path / "cut", 3, resume=True, model_seed=99)  # fresh model, other init
    for name, key in (("last.pt", "student"), ("best.pt", "state_dict")):
        a, b = torch.load(tmp_path / "straight" / name), torch.load(tmp_path / "cut" / name)
        assert _same(a[key], b[key]), name
    assert straight.history == [dict(r, seconds=s["seconds"]) for r, s in zip(resumed.history, straight.history)]
    assert straight.best_epoch == resumed.best_epoch
    assert len(json.loads((tmp_path / "cut" / "history.json").read_text())) == 3


def test_resume_refuses_other_options_and_overwrite(demo, tmp_path):
    _train(demo, tmp_path, 1)
    with pytest.raises(UserError, match="--resume"):
        _train(demo, tmp_path, 2)
    with pytest.raises(UserError, match="batch_size=4"):
        train, holdout, _ = demo
        train_stfpm(STFPM(image_size=SIZE), train, holdout, tmp_path, epochs=2, batch_size=2, device="cpu",
                    resume=True, progress=False)


def test_selection_and_reuse(demo, tmp_path):
    _, reused = _train(demo, tmp_path / "a", 2)
    _, recomputed = _train(demo, tmp_path / "b", 2, reuse_teacher_features=False)
    for r, s in zip(reused.history, recomputed.history):  # same computation, up to float rounding
        assert r["loss"] == pytest.approx(s["loss"], rel=1e-3)
    _, official = _train(demo, tmp_path / "c", 2, select_by="holdout_map_mean")
    assert official.best_epoch == min(official.history, key=lambda r: r["holdout_map_mean"])["epoch"]
    assert reused.best_epoch == min(reused.history, key=lambda r: r["holdout_discrepancy"])["epoch"]


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


def test_user_errors(demo, tmp_path):
    train, holdout, _ = demo
    model = STFPM(image_size=SIZE)
    cases = [(lambda: model.predict(torch.rand(1, 3, 8, 8) * 255), "not ImageNet-normalised"),
             (lambda: model.predict(torch.rand(1, 2, 8, 8)), "C = 1 or 3"),
             (lambda: model.predict(torch.rand(1, 3, 8, 8), combine="max"), "product, sum"),
             (lambda: STFPM(image_size=16), "--image-size"),
             (lambda: STFPM("vgg", image_size=SIZE), "--backbone"),
             (lambda: load_stfpm(tmp_path / "none.pt"), "does not exist"),
             (lambda: train_stfpm(model, train, holdout, tmp_path, epochs=0), "--epochs"),
             (lambda: train_stfpm(model, train, torch.utils.data.Subset(holdout, []), tmp_path, epochs=1), "hold-out")]
    for call, message in cases:
        with pytest.raises(UserError, match=message):
            call()
