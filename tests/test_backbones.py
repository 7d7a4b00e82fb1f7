"Backbones: pyramid shapes, offline ImageNet weights, clear errors when weights are missing or wrong."
import pytest
import torch
from skimage import data as skdata

from stfpm_nb.backbones import (BACKBONES, CAT_CLASSES, _resnet18_cache, imagenet_batch, lite_classifier, make_backbone,
                                make_classifier)
from stfpm_nb.core import UserError


@pytest.mark.parametrize("name", list(BACKBONES))
def test_pyramid_strides_and_channels(name):
    net = make_backbone(name, pretrained=False).eval()
    feats = net(torch.rand(2, 3, 64, 96))
    assert [tuple(f.shape) for f in feats] == [(2, c, 64 // s, 96 // s) for c, s in zip(BACKBONES[name].channels, (4, 8, 16))]


def _top1(name, weights=None):
    with torch.no_grad():
        return int(make_classifier(name, weights=weights)(imagenet_batch(skdata.chelsea())).argmax())


@pytest.mark.parametrize("name", ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"])
def test_efficientnet_lite_teachers_are_imagenet_trained(name):
    "The offline teachers put scikit-image's chelsea in an ImageNet cat class."
    assert _top1(name) in CAT_CLASSES


# Features of the hand-written EfficientNet-Lite0 this project used before timm (commit 8dd3835), on a seeded input:
# per layer (sum, sum of absolute values, first four values). timm's network must reproduce them.
LITE0_REFERENCE = [(-3465.8509, 43317.331, [-3.38375, -14.62586, -9.82429, -21.65386]),
                   (-4697.8299, 13684.137, [-3.20729, -0.84935, -4.17537, -6.81775]),
                   (-446.6831, 6246.525, [-7.75632, -4.49513, -5.08194, -5.12723])]


def test_timm_lite0_reproduces_the_hand_written_network():
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        feats = make_backbone("efficientnet_lite0", True).eval()(x)
    for f, (total, absolute, first) in zip(feats, LITE0_REFERENCE):
        f = f.double()
        assert f.sum().item() == pytest.approx(total, abs=0.05) and f.abs().sum().item() == pytest.approx(absolute, abs=0.05)
        assert f.flatten()[:4].tolist() == pytest.approx(first, abs=1e-4)


def test_teacher_pyramid_uses_the_loaded_weights():
    "make_backbone(pretrained=True) carries the classifier's weights, not a fresh init."
    pyramid, classifier = make_backbone("efficientnet_lite0", True), make_classifier("efficientnet_lite0")
    assert torch.equal(pyramid.stem[0].weight, classifier.conv_stem.weight)
    assert not torch.equal(make_backbone("efficientnet_lite0", False).stem[0].weight, classifier.conv_stem.weight)


def test_resnet18_weights_or_clear_error():
    "With the hub cache file: a cat. Without: a UserError naming the URL, the cache path and --teacher-weights."
    path = _resnet18_cache()
    if path.is_file():
        assert _top1("resnet18") in CAT_CLASSES
    else:
        with pytest.raises(UserError) as e:
            make_backbone("resnet18", pretrained=True)
        for needle in ("resnet18-f37072fd.pth", str(path), "--teacher-weights", "https://download.pytorch.org"):
            assert needle in str(e.value)


def test_explicit_weights_file(tmp_path):
    "An explicit file is used; a missing or wrong one is a UserError naming it."
    good = tmp_path / "lite0.pth"
    torch.save(make_classifier("efficientnet_lite0").state_dict(), good)
    assert _top1("efficientnet_lite0", weights=good) in CAT_CLASSES
    with pytest.raises(UserError, match="missing.pth"):
        make_backbone("resnet18", True, weights=tmp_path / "missing.pth")
    wrong = tmp_path / "wrong.pth"
    torch.save(lite_classifier("efficientnet_lite0").state_dict(), wrong)
    with pytest.raises(UserError, match="wrong.pth"):
        make_backbone("resnet18", True, weights=wrong)


def test_unknown_backbone():
    with pytest.raises(UserError, match="--backbone must be one of"):
        make_backbone("vgg16", pretrained=False)
