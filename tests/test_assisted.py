"""Assisted segmentation (nbs/07_assisted.ipynb): training on the demo data, frozen STFPM, save/load, resume, refusals."""
import json

import pytest
import torch
from torch.utils.data import DataLoader

from stfpm_nb.assisted import (INPUT_KINDS, AssistedParams, evaluate_pairs, load_assisted, local_max_score,
                               make_segmenter, save_assisted, train_assisted, validation_pairs)
from stfpm_nb.core import UserError
from stfpm_nb.data import MVTecCategory, holdout_split
from stfpm_nb.demo import make_demo_dataset
from stfpm_nb.scaling import fit_scaling_stats
from stfpm_nb.stfpm import STFPM, predict_dataset
from stfpm_nb.synth import SyntheticAnomaly

SIZE = 32
# tiny CPU settings; AssistedParams' defaults are for a GPU run
RUN = dict(epochs=3, steps_per_epoch=10, batch_size=8, lr=5e-3, width=16, device="cpu", progress=False)
SHORT = dict(epochs=2, steps_per_epoch=2, batch_size=4, width=8, depth=1, device="cpu", progress=False)


def same_tensors(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    "Demo category at 32 px; an STFPM with an untrained student (the head's mechanics do not need a good one)."
    root = make_demo_dataset(tmp_path_factory.mktemp("demo"), categories=["demo_brick"], image_size=64, n_train=12,
                             n_test_good=2, n_test_defect=1)
    train, holdout = holdout_split(MVTecCategory(root, "demo_brick", "train", image_size=SIZE), 0.25, seed=0)
    test = MVTecCategory(root, "demo_brick", "test", image_size=SIZE)
    stfpm = STFPM("efficientnet_lite0", image_size=SIZE).eval()
    stats = fit_scaling_stats(stfpm, DataLoader(holdout, batch_size=4), variants="layer,position")
    return stfpm, stats, train, holdout, test


@pytest.fixture(scope="module")
def run(demo, tmp_path_factory):
    stfpm, stats, train, holdout, _ = demo
    before = {k: v.clone() for k, v in stfpm.state_dict().items()}
    flags = [p.requires_grad for p in stfpm.parameters()]
    result = train_assisted(stfpm, train, tmp_path_factory.mktemp("run"), stats, holdout, **RUN)
    return result, before, flags


def test_head_trains_and_loss_falls(demo, run):
    stfpm, stats, train, holdout, _ = demo
    result = run[0]
    assert [r["epoch"] for r in result.history] == [1, 2, 3] and result.finished
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    # on the same hold-out pairs, the trained head beats the untrained one
    synth = SyntheticAnomaly(patches=[train[i] for i in range(len(train))])
    images, masks = validation_pairs(torch.stack([holdout[i]["image"] for i in range(len(holdout))]), synth, seed=7)
    untrained = make_segmenter(stfpm, stats, width=16, seed=0)
    assert (evaluate_pairs(result.segmenter, images, masks, 4)["val_loss"]
            < evaluate_pairs(untrained, images, masks, 4)["val_loss"])
    assert sorted(p.name for p in result.out_dir.iterdir()) == ["assisted.pt", "history.json", "last.pt"]
    assert json.loads((result.out_dir / "history.json").read_text()) == result.history


def test_stfpm_stays_frozen(demo, run):
    stfpm = demo[0]
    result, before, flags = run
    assert result.segmenter.stfpm is stfpm
    assert same_tensors(stfpm.state_dict(), before)          # weights and batch-norm statistics
    assert all(p.grad is None for p in stfpm.parameters())
    assert [p.requires_grad for p in stfpm.parameters()] == flags
    assert not stfpm.training and not result.segmenter.training
    result.segmenter.train()
    assert result.segmenter.head.training and not stfpm.training and not stfpm.teacher.training
    result.segmenter.eval()


def test_predict_maps_and_scores(demo, run):
    test = demo[4]
    segmenter = run[0].segmenter
    res = predict_dataset(segmenter, test)
    assert res.maps.shape == (len(test), SIZE, SIZE) and res.scores.shape == (len(test),)
    assert 0 <= res.maps.min() and res.maps.max() <= 1
    assert torch.equal(res.scores, local_max_score(res.maps, segmenter.score_window))
    assert segmenter.score_window == SIZE // 8
    assert segmenter.predict(torch.rand(1, 50, 70)).maps.shape == (1, SIZE, SIZE)   # gray, other size


def test_save_load_round_trip(demo, run, tmp_path):
    test = demo[4]
    result = run[0]
    images = torch.stack([test[i]["image"] for i in range(len(test))])
    loaded = load_assisted(result.path)
    assert loaded.config == result.segmenter.config
    assert torch.equal(loaded.predict(images).maps, result.segmenter.predict(images).maps)
    assert torch.equal(loaded.predict(images).scores, result.segmenter.predict(images).scores)
    assert loaded.checkpoint_extra["epoch"] == result.best_epoch
    save_assisted(tmp_path / "again.pt", loaded)                 # a loaded segmenter saves and loads again
    assert torch.equal(load_assisted(tmp_path / "again.pt").predict(images).maps, loaded.predict(images).maps)
    no_stats = make_segmenter(demo[0], None, inputs="teacher,discrepancy", width=8, depth=1)
    save_assisted(tmp_path / "no_stats.pt", no_stats)
    assert load_assisted(tmp_path / "no_stats.pt").stats is None


def test_finished_run_is_loaded_not_retrained(demo, run):
    stfpm, stats, train, holdout, test = demo
    result = run[0]
    stamp = result.fit.last_path.stat().st_mtime_ns
    again = train_assisted(stfpm, train, result.out_dir, stats, holdout, resume=True, **RUN)
    assert result.fit.last_path.stat().st_mtime_ns == stamp
    assert again.history == result.history and again.best_epoch == result.best_epoch
    assert same_tensors(again.segmenter.head.state_dict(), result.segmenter.head.state_dict())


def test_resume_is_bit_identical(demo, tmp_path):
    stfpm, stats, train, holdout, _ = demo
    straight = train_assisted(stfpm, train, tmp_path / "straight", stats, holdout, **SHORT)
    part = train_assisted(stfpm, train, tmp_path / "resumed", stats, holdout, stop_after=1, **SHORT)
    assert not part.finished and len(part.history) == 1 and part.path.is_file()
    resumed = train_assisted(stfpm, train, tmp_path / "resumed", stats, holdout, resume=True, **SHORT)
    assert resumed.finished
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in straight.history]
    assert [r["val_loss"] for r in resumed.history] == [r["val_loss"] for r in straight.history]
    assert same_tensors(resumed.segmenter.head.state_dict(), straight.segmenter.head.state_dict())
    last = [torch.load(d / "last.pt", weights_only=False) for d in (tmp_path / "straight", tmp_path / "resumed")]
    assert same_tensors(last[0]["module"], last[1]["module"])


def test_without_holdout_is_refused(demo, tmp_path):
    "The head's epoch is selected on hold-out normal images with synthetic anomalies: without them, a clear error."
    stfpm, _, train, _, _ = demo
    with pytest.raises(UserError, match="hold-out"):
        train_assisted(stfpm, train, tmp_path / "run", None, [], inputs="teacher,student,discrepancy", **SHORT)


def test_statistics_are_optional(demo, tmp_path):
    stfpm, _, train, holdout, _ = demo
    result = train_assisted(stfpm, train, tmp_path / "run", None, holdout, inputs="teacher,student,discrepancy", **SHORT)
    assert result.segmenter.stats is None and result.finished


def test_every_single_input_kind_works(demo):
    stfpm, stats = demo[:2]
    for kind in INPUT_KINDS:
        seg = make_segmenter(stfpm, stats, inputs=kind, width=4, depth=1)
        assert seg.predict(torch.rand(2, 3, SIZE, SIZE)).maps.shape == (2, SIZE, SIZE)


def test_bad_options_are_user_errors(demo, run, tmp_path):
    stfpm, stats, train, holdout, _ = demo
    with pytest.raises(UserError, match="unknown assisted input"):
        make_segmenter(stfpm, stats, inputs="teacher,edges")
    with pytest.raises(UserError, match="unknown assisted input"):
        train_assisted(stfpm, train, tmp_path / "a", stats, holdout, inputs=["teacher", "gradient"], **SHORT)
    with pytest.raises(UserError, match="needs scaling statistics"):
        make_segmenter(stfpm, None, inputs="scaled")
    with pytest.raises(UserError, match="refit them with variants='all'"):
        make_segmenter(stfpm, stats, scaled_variant="channel")
    with pytest.raises(UserError, match="unknown assisted setting"):
        train_assisted(stfpm, train, tmp_path / "b", stats, holdout, epochz=3, **SHORT)
    with pytest.raises(UserError, match="assisted epochs"):
        train_assisted(stfpm, train, tmp_path / "c", stats, holdout, params=AssistedParams(epochs=0), device="cpu")
    with pytest.raises(UserError, match="stop_after"):
        train_assisted(stfpm, train, tmp_path / "d", stats, holdout, stop_after=0, **SHORT)
    out = run[0].out_dir
    with pytest.raises(UserError, match="--resume"):
        train_assisted(stfpm, train, out, stats, holdout, **RUN)
    with pytest.raises(UserError, match="lr="):
        train_assisted(stfpm, train, out, stats, holdout, resume=True, **(RUN | {"lr": 0.1}))
    other = STFPM("efficientnet_lite0", image_size=SIZE, seed=1)
    with pytest.raises(UserError, match="fingerprint="):
        train_assisted(other, train, out, stats, holdout, resume=True, **RUN)
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    with pytest.raises(UserError, match="not a readable checkpoint"):
        load_assisted(tmp_path / "junk.pt")
    with pytest.raises(UserError, match="does not exist"):
        load_assisted(tmp_path / "missing.pt")
