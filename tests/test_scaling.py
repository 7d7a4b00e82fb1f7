"""Discrepancy scaling (nbs/05_scaling.ipynb): streaming statistics, scaled maps, persistence, refusals."""
import pytest
import torch

from stfpm_nb.core import UserError, save_torch
from stfpm_nb.scaling import (VARIANTS, Moments, ScaledSTFPM, fit_scaling_stats, load_scaling_stats, parse_variants,
                              save_scaling_stats)
from stfpm_nb.stfpm import image_score


class SyntheticPair(torch.nn.Module):
    "Stands in for STFPM: teacher - student = nu_c + sd_c(p) * noise, the noise being the 'images' (N, D)."
    def __init__(self, nu, sd, backbone="synthetic", image_size=32):
        super().__init__()
        self.nu, self.sd, self.backbone_name, self.image_size = nu, sd, backbone, image_size
        self.anchor = torch.nn.Parameter(torch.zeros(()))

    def normalized_features(self, images):
        teachers, offset = [], 0
        for nu, sd in zip(self.nu, self.sd):
            noise = images[:, offset:offset + sd.numel()].reshape(-1, *sd.shape)
            offset += sd.numel()
            teachers.append(nu.view(1, -1, 1, 1) + sd * noise)
        return teachers, [torch.zeros_like(t) for t in teachers]


@pytest.fixture(scope="module")
def synthetic():
    g = torch.Generator().manual_seed(1)
    nu = [torch.tensor([0.4, -0.3, 0.1], dtype=torch.float64), torch.tensor([0.2, 0.0], dtype=torch.float64)]
    sd = [torch.rand(3, 5, 4, generator=g, dtype=torch.float64) + 0.1,
          torch.rand(2, 3, 2, generator=g, dtype=torch.float64) * 2 + 0.3]
    noise = torch.randn(30000, sum(s.numel() for s in sd), generator=g, dtype=torch.float64)
    return SyntheticPair(nu, sd), nu, sd, noise


@pytest.fixture(scope="module")
def stats(synthetic):
    model, _, _, noise = synthetic
    return fit_scaling_stats(model, noise.split(700))   # uneven last batch on purpose


def test_moments_stream_equals_one_shot():
    x = torch.randn(37, 3, 4, 5, dtype=torch.float64) * 10 + 1e3   # large offset: no cancellation allowed
    for size in (1, 5, 37):
        m = Moments()
        for b in x.split(size):
            m.update(b, dims=(0, 2))
        torch.testing.assert_close(m.mean, x.mean((0, 2)), rtol=0, atol=1e-10)
        torch.testing.assert_close(m.var, x.var((0, 2), unbiased=False), rtol=1e-12, atol=0)
    p = m.pooled()
    assert p.n == x.numel()
    torch.testing.assert_close(p.std, x.std(unbiased=False), rtol=1e-12, atol=0)


def test_known_mean_and_std(synthetic, stats):
    _, nu, sd, _ = synthetic
    assert stats.n_images == 30000 and stats.variants == VARIANTS
    for l in range(2):
        n2, s2 = nu[l].view(-1, 1, 1) ** 2, sd[l] ** 2
        mu, sigma = stats.location_scale("position", l)
        torch.testing.assert_close(mu, 0.5 * (n2 + s2).sum(0), rtol=0.03, atol=0)
        torch.testing.assert_close(sigma, (s2 ** 2 / 2 + n2 * s2).sum(0).sqrt(), rtol=0.03, atol=0)
        # layer = the places pooled: mean of means, variance = mean variance + variance of means
        lmu, lsigma = stats.location_scale("layer", l)
        torch.testing.assert_close(lmu, mu.mean(), rtol=1e-12, atol=0)
        torch.testing.assert_close(lsigma ** 2, (sigma ** 2).mean() + mu.var(unbiased=False), rtol=1e-10, atol=0)
        torch.testing.assert_close(stats.channel[l].mean, nu[l], rtol=0, atol=0.01)
        torch.testing.assert_close(stats.channel[l].var, s2.mean((1, 2)), rtol=0.02, atol=0)
        # with population variances measured on the same images, E[m_l] = C_l / 2 exactly
        assert abs(stats.location_scale("channel", l)[0].item() - len(nu[l]) / 2) < 1e-9


def test_batching_does_not_matter(synthetic, stats):
    model, _, _, noise = synthetic
    one_shot = fit_scaling_stats(model, [noise])
    for l in range(2):
        for v in VARIANTS:
            for a, b in zip(stats.location_scale(v, l), one_shot.location_scale(v, l)):
                torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("variant", VARIANTS)
def test_scaled_layers_are_standardised_on_fit_images(synthetic, stats, variant):
    model, _, _, noise = synthetic
    for z in ScaledSTFPM(model, stats, variant).layer_maps(noise):
        assert abs(z.mean().item()) < 1e-5
        assert abs(z.std(unbiased=False).item() - 1) < 1e-5


def test_save_load_identical_maps(synthetic, stats, tmp_path):
    model, _, _, noise = synthetic
    save_scaling_stats(tmp_path / "scaling_stats.pt", stats)
    loaded = load_scaling_stats(tmp_path / "scaling_stats.pt")
    assert (loaded.backbone, loaded.image_size, loaded.layer_shapes, loaded.n_images, loaded.source) == \
        (stats.backbone, stats.image_size, stats.layer_shapes, stats.n_images, "holdout")
    for v in VARIANTS:
        a = ScaledSTFPM(model, stats, v, score="topk").predict(noise[:50])
        b = ScaledSTFPM(model, loaded, v, score="topk").predict(noise[:50])
        assert torch.equal(a.maps, b.maps) and torch.equal(a.scores, b.scores)
        assert a.maps.shape == (50, 32, 32)


def test_refuses_other_model(synthetic, stats):
    _, nu, sd, _ = synthetic
    with pytest.raises(UserError, match="backbone 'synthetic' but the model uses 'resnet18'"):
        ScaledSTFPM(SyntheticPair(nu, sd, backbone="resnet18"), stats)
    with pytest.raises(UserError, match="image size 32 but the model uses 64"):
        ScaledSTFPM(SyntheticPair(nu, sd, image_size=64), stats)
    # same name and size but other feature shapes: refused at the first prediction
    other = SyntheticPair(nu, [s[:, :2] for s in sd])
    with pytest.raises(UserError, match="refit"):
        ScaledSTFPM(other, stats).predict(torch.randn(2, 100, dtype=torch.float64))


def test_refuses_bad_names_and_files(synthetic, stats, tmp_path):
    model = synthetic[0]
    with pytest.raises(UserError, match="unknown scaling variant"):
        ScaledSTFPM(model, stats, "pixel")
    with pytest.raises(UserError, match="unknown scaling variant"):
        parse_variants("layer,channels")
    assert parse_variants("all") == VARIANTS and parse_variants(" position , layer") == ("layer", "position")
    with pytest.raises(UserError, match="image score"):
        ScaledSTFPM(model, stats, score="mean")
    with pytest.raises(UserError, match="not found"):
        load_scaling_stats(tmp_path / "none.pt")
    save_torch(tmp_path / "model.pt", {"state_dict": {}})
    with pytest.raises(UserError, match="not a scaling-statistics file"):
        load_scaling_stats(tmp_path / "model.pt")
    save_scaling_stats(tmp_path / "s.pt", stats)
    d = torch.load(tmp_path / "s.pt", weights_only=True) | {"version": 99}
    save_torch(tmp_path / "v99.pt", d)
    with pytest.raises(UserError, match="format version 99"):
        load_scaling_stats(tmp_path / "v99.pt")


def test_topk_score():
    maps = torch.arange(200.).view(2, 10, 10)
    assert torch.equal(image_score(maps, "topk", 0.05), torch.tensor([97., 197.]))
    assert torch.equal(image_score(maps, "max"), torch.tensor([99., 199.]))


def test_real_stfpm_fit_save_load_predict(tmp_path):
    "End to end on a (randomly initialised) STFPM: fit on 'normal' images, save, load, predict, refuse others."
    from torch.utils.data import DataLoader, TensorDataset
    from stfpm_nb.stfpm import STFPM
    g = torch.Generator().manual_seed(0)
    normal = torch.rand(12, 3, 40, 40, generator=g) * 0.2 + 0.4
    model = STFPM("efficientnet_lite0", image_size=32)
    stats = fit_scaling_stats(model, DataLoader(TensorDataset(normal), batch_size=5))
    assert stats.layer_shapes == [(24, 8, 8), (40, 4, 4), (112, 2, 2)] and stats.n_images == 12
    save_scaling_stats(tmp_path / "scaling_stats.pt", stats)
    loaded = load_scaling_stats(tmp_path / "scaling_stats.pt")
    for variant in VARIANTS:
        detector = ScaledSTFPM(model, loaded, variant, score="topk")
        for z in detector.layer_maps(normal):
            assert abs(z.mean().item()) < 1e-3 and abs(z.std(unbiased=False).item() - 1) < 0.05
        a, b = ScaledSTFPM(model, stats, variant).predict(normal[:3]), ScaledSTFPM(model, loaded, variant).predict(normal[:3])
        assert a.maps.shape == (3, 32, 32) and torch.equal(a.maps, b.maps) and torch.equal(a.scores, b.scores)
    with pytest.raises(UserError, match="image size 32 but the model uses 64"):
        ScaledSTFPM(STFPM("efficientnet_lite0", image_size=64), loaded, "layer")
    with pytest.raises(UserError, match="backbone 'efficientnet_lite0' but the model uses 'resnet18'"):
        ScaledSTFPM(STFPM("resnet18", image_size=32, pretrained=False), loaded, "layer")
