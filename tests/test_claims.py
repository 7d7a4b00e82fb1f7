"""What the notebooks claim, on seeded offline demo data: STFPM separates defective from good images, and
brightness matching makes the maps blind to a change of exposure. (Scaling's standardisation and the assisted head's
improvement with training are asserted in test_scaling.py and test_assisted.py.)"""
import pytest
import torch

from stfpm_nb.convergence import stack_items
from stfpm_nb.data import MVTecCategory, holdout_split
from stfpm_nb.demo import make_demo_dataset
from stfpm_nb.metrics import image_auroc, pixel_auroc
from stfpm_nb.stfpm import STFPM, get_recipe, load_stfpm, predict_dataset, train_stfpm

SIZE = 64


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    "The default (fast) recipe for 8 epochs on a demo category at 64 px, seed 0, float32, the Lite0 teacher (as the notebooks' demos)."
    torch.set_num_threads(1)
    root = make_demo_dataset(tmp_path_factory.mktemp("demo") / "demo", categories=["demo_brick"], image_size=SIZE,
                             n_train=24, n_test_good=10, n_test_defect=10)
    train, holdout = holdout_split(MVTecCategory(root, "demo_brick", "train", image_size=SIZE), 0.2, seed=0)
    test = MVTecCategory(root, "demo_brick", "test", image_size=SIZE)
    model = STFPM("efficientnet_lite0", image_size=SIZE, seed=0)
    untrained = predict_dataset(model.eval(), test)
    result = train_stfpm(model, train, holdout, tmp_path_factory.mktemp("run"), get_recipe("fast", epochs=8),
                         seed=0, device="cpu", precision="fp32", progress=False)
    return model, result, train, test, untrained


def test_stfpm_beats_chance(trained):
    # measured for seeds 0, 1, 2: image AUROC 0.91, 0.81, 0.73; pixel AUROC 0.97, 0.96, 0.96 (with the default
    # Lite2 teacher, weaker on 64-px images: 0.82, 0.80, 0.86 and 0.91, 0.94, 0.95)
    model, _, _, test, untrained = trained
    truth, res = stack_items(test), predict_dataset(model, test)
    image, pixel = image_auroc(res.scores.numpy(), truth.labels), pixel_auroc(res.maps.numpy(), truth.masks)
    assert image >= 0.7 and pixel >= 0.9, (image, pixel)
    assert pixel > pixel_auroc(untrained.maps.numpy(), truth.masks) + 0.1     # it is the training that separates them


def test_brightness_matching_removes_a_global_gain(trained, tmp_path):
    model, result, train, test, _ = trained
    images = torch.stack([train[i]["image"] for i in range(len(train))])
    assert model.grey_target == pytest.approx(images.mean().item(), abs=1e-5)      # the training images' mean grey
    x = test[len(test) - 1]["image"][None]
    assert torch.allclose(model.predict(x).maps, model.predict(x * 0.8).maps, atol=1e-5)
    loaded = load_stfpm(result.best_path)
    assert loaded.grey_target == model.grey_target
    assert torch.equal(loaded.predict(x * 0.9).maps, model.predict(x * 0.9).maps)


def test_paper_recipe_keeps_images_as_photographed(trained, tmp_path):
    _, _, train, _, _ = trained
    model = STFPM("efficientnet_lite0", image_size=SIZE, seed=0)
    train_stfpm(model, train, train, tmp_path, get_recipe("paper", epochs=1, batch_size=8), device="cpu",
                precision="fp32", progress=False)
    assert model.grey_target is None and get_recipe("paper").brightness == "none"
