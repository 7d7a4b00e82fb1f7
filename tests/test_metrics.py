"""Metrics against slow, obvious references written here (brute force over every threshold, scikit-image
labelling, scikit-learn), on random cases and on hand-made cases with known answers."""

import numpy as np
import pytest
import torch
from skimage.measure import label as sk_label
from sklearn.metrics import f1_score as sk_f1, jaccard_score, roc_auc_score

from stfpm_nb import metrics as M
from stfpm_nb.core import UserError


# ---------------------------------------------------------------- slow references
def ref_auroc(scores, labels):
    "Every (anomalous, normal) pair: 1 if ordered right, 1/2 if tied."
    pos, neg = scores[labels == 1], scores[labels == 0]
    return ((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (pos.size * neg.size)


def all_thresholds(x):
    "Every distinct value, descending, and one below the minimum: all distinct segmentations `x > t`."
    u = np.unique(x)[::-1]
    return np.r_[u, u[-1] - 1.0]


def ref_regions(masks):
    "Ground-truth regions per image with scikit-image, 8-connectivity: a list of boolean masks over the stack."
    regions = []
    for i, m in enumerate(masks):
        lab = sk_label(m, connectivity=2)
        for k in range(1, lab.max() + 1):
            r = np.zeros(masks.shape, bool); r[i] = lab == k
            regions.append(r)
    return regions


def ref_pro_points(maps, masks):
    "(fpr, pro) at every threshold, thresholding the whole stack each time."
    regions, normal = ref_regions(masks), ~masks
    pts = [(((maps > t) & normal).sum() / normal.sum(), np.mean([(maps[r] > t).mean() for r in regions]))
           for t in all_thresholds(maps)]
    return np.array(pts)


def ref_area(points, limit):
    "Trapezoids segment by segment; the segment crossing `limit` is cut there with linear interpolation."
    area = 0.0
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        if x0 >= limit: break
        if x1 <= limit: area += (x1 - x0) * (y0 + y1) / 2; continue
        y_lim = y0 + (y1 - y0) * (limit - x0) / (x1 - x0)
        area += (limit - x0) * (y0 + y_lim) / 2
    return area


def ref_aupro(maps, masks, limit=0.3):
    return ref_area(ref_pro_points(maps, masks), limit) / limit


def ref_goodness(maps, masks, t, kind):
    pred = maps > t
    if kind == "f1":
        tp, fp, fn = (pred & masks).sum(), (pred & ~masks).sum(), (~pred & masks).sum()
        return 2 * tp / (2 * tp + fp + fn)
    ious = [1.0 if not (p | m).any() else (p & m).sum() / (p | m).sum() for p, m in zip(pred, masks)]
    return np.mean(ious)


# ---------------------------------------------------------------- data
def random_case(seed, n=6, size=16, levels=None, p_defect=0.5):
    "Smooth-ish random maps with blob defects; `levels` quantises scores (many ties)."
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, size, size), bool)
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        if i == 0 or rng.random() < p_defect:
            for _ in range(rng.integers(1, 4)):
                cy, cx = rng.integers(0, size, 2); r = rng.uniform(0.5, size / 5)
                masks[i] |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
    masks[-1] = False  # at least one normal image
    maps = rng.random(masks.shape) + rng.uniform(0.2, 1.0) * masks
    if levels: maps = np.round(maps * levels) / levels
    return maps, masks


CASES = [random_case(s) for s in range(4)] + [random_case(s, levels=8) for s in range(4, 8)]
BIGGER = [random_case(8, n=10, size=40, levels=60), random_case(9, n=4, size=64, levels=30)]   # few distinct scores


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("maps,masks,match", [
    (np.zeros((4, 4)), np.zeros((4, 4)), "expected shape"),
    (np.zeros((2, 4, 4)), np.zeros((2, 4, 5)), "differs from maps shape"),
    (np.full((2, 4, 4), np.nan), np.eye(4)[None].repeat(2, 0), "NaN"),
    (np.full((2, 4, 4), np.inf), np.eye(4)[None].repeat(2, 0), "infinite"),
    (np.zeros((2, 4, 4)), np.eye(4)[None].repeat(2, 0) * 255, "0/255"),
    (np.zeros((2, 4, 4)), np.eye(4)[None].repeat(2, 0) * 0.5, "binary"),
    (np.zeros((2, 4, 4)), np.zeros((2, 4, 4)), "no anomalous pixel"),
    (np.zeros((2, 4, 4)), np.ones((2, 4, 4)), "no normal pixel"),
    (np.zeros((2, 4, 4), complex), np.eye(4)[None].repeat(2, 0), "real numbers"),
])
def test_validation_errors(maps, masks, match):
    for fn in (M.pixel_auroc, M.aupro, M.roc_curve, M.pro_curve, M.oracle_threshold,
               lambda a, b: M.expected_goodness(a, b, np.zeros((2, 4, 4)), n_draws=5)):
        with pytest.raises(ValueError, match=match):
            fn(maps, masks)


def test_validation_image_level_and_parameters():
    with pytest.raises(ValueError, match="3 labels for 2 scores"): M.image_auroc([0.1, 0.2], [0, 1, 1])
    with pytest.raises(ValueError, match="no anomalous image"): M.image_auroc([0.1, 0.2], [0, 0])
    with pytest.raises(ValueError, match="no normal image"): M.image_auroc([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="1-d"): M.image_auroc([[0.1, 0.2]], [[0, 1]])
    maps, masks = CASES[0]
    with pytest.raises(ValueError, match="fpr_limit"): M.aupro(maps, masks, fpr_limit=0)
    with pytest.raises(ValueError, match="goodness"): M.goodness_curve(maps, masks, [0.5], goodness="dice")
    with pytest.raises(ValueError, match="alpha_range"): M.expected_goodness(maps, masks, maps[-1:], alpha_range=(0.1, 0.01))
    with pytest.raises(ValueError, match="normal_maps"): M.threshold_from_normal(np.zeros((4, 4)))
    with pytest.raises(UserError): M.threshold_from_normal(np.full((1, 4, 4), np.nan))  # also a UserError for the CLI


def test_torch_and_channel_axis_accepted():
    maps, masks = CASES[1]
    ref = M.aupro(maps, masks)
    assert M.aupro(torch.tensor(maps, dtype=torch.float32)[:, None], torch.tensor(masks)[:, None]) == pytest.approx(ref, abs=1e-6)
    assert M.pixel_auroc(torch.tensor(maps), torch.tensor(masks, dtype=torch.uint8)) == pytest.approx(M.pixel_auroc(maps, masks))
    assert M.image_auroc(torch.tensor([0.1, 0.9]), torch.tensor([0, 1])) == 1.0
    assert M.pixel_auroc(torch.tensor(maps).half(), masks) == pytest.approx(M.pixel_auroc(maps, masks), abs=1e-2)


# ---------------------------------------------------------------- AUROC and ROC
@pytest.mark.parametrize("maps,masks", CASES)
def test_pixel_auroc_matches_references(maps, masks):
    ours = M.pixel_auroc(maps, masks)
    assert ours == pytest.approx(roc_auc_score(masks.ravel(), maps.ravel()), abs=1e-12)
    assert ours == pytest.approx(ref_auroc(maps.ravel(), masks.ravel()), abs=1e-12)
    assert M.roc_curve(maps, masks).auroc == pytest.approx(ours, abs=1e-12)


def test_image_auroc_random_and_hand_cases():
    rng = np.random.default_rng(0)
    for _ in range(20):
        s, l = np.round(rng.random(30), 1), rng.random(30) < 0.4
        l[:2] = [True, False]
        assert M.image_auroc(s, l) == pytest.approx(roc_auc_score(l, s), abs=1e-12)
    assert M.image_auroc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0            # perfect
    assert M.image_auroc([4, 3, 2, 1], [0, 0, 1, 1]) == 0.0            # inverted
    assert M.image_auroc([1, 1, 1, 1], [0, 1, 0, 1]) == 0.5            # all tied
    assert M.image_auroc([1, 2, 2, 3], [0, 0, 1, 1]) == 0.875          # one tie


@pytest.mark.parametrize("maps,masks", CASES[::3])
def test_roc_curve_points_are_brute_force_points(maps, masks):
    c = M.roc_curve(maps, masks)
    pts = {(((maps > t) & ~masks).sum() / (~masks).sum(), ((maps > t) & masks).sum() / masks.sum())
           for t in all_thresholds(maps)}
    assert {(f, t) for f, t in zip(c.fpr, c.tpr)} <= pts                # every kept point is a real point
    for f, t, th in zip(c.fpr, c.tpr, c.thresholds):                    # and its threshold reproduces it
        assert ((maps > th) & ~masks).sum() / (~masks).sum() == f and ((maps > th) & masks).sum() / masks.sum() == t
    assert (c.fpr[0], c.tpr[0], c.fpr[-1], c.tpr[-1]) == (0, 0, 1, 1)


# ---------------------------------------------------------------- AU-PRO
@pytest.mark.parametrize("maps,masks", CASES + BIGGER)
@pytest.mark.parametrize("limit", [0.3, 0.05, 1.0])
def test_aupro_matches_brute_force(maps, masks, limit):
    assert M.aupro(maps, masks, limit) == pytest.approx(ref_aupro(maps, masks, limit), abs=1e-4)
    assert M.aupro(maps, masks, limit) == pytest.approx(ref_aupro(maps, masks, limit), abs=1e-10)  # in fact exact


@pytest.mark.parametrize("maps,masks", CASES[:2] + CASES[-2:])
def test_pro_curve_points_reproduced_by_thresholds(maps, masks):
    c = M.pro_curve(maps, masks)
    regions = ref_regions(masks)
    assert len(c.region_sizes) == len(regions)
    for f, p, t in zip(c.fpr, c.pro, c.thresholds):
        assert ((maps > t) & ~masks).sum() / (~masks).sum() == pytest.approx(f, abs=1e-12)
        assert np.mean([(maps[r] > t).mean() for r in regions]) == pytest.approx(p, abs=1e-12)
    assert c.fpr[-1] >= 0.3 and (c.fpr[:-1] < 0.3).all() and np.all(np.diff(c.fpr) >= 0)


def test_pro_curve_thinned_but_exact():
    rng = np.random.default_rng(10)                         # weak defects: anomalous scores interleave the normal ones
    masks = np.zeros((12, 128, 128), bool); masks[:8, 20:100, 20:100] = True
    maps = rng.random(masks.shape) + 0.2 * masks
    full, kept = M._pro_curve(maps, masks, 0.3, np.sort(maps[~masks]), max_vertices=10**9), M.pro_curve(maps, masks)
    assert full.fpr.size > 2 * M.ROC_VERTICES and kept.fpr.size <= M.ROC_VERTICES + 2
    assert kept.aupro == full.aupro                         # the area never depends on the kept vertices
    assert full.aupro == pytest.approx(ref_area(np.column_stack([full.fpr, full.pro]), 0.3) / 0.3, abs=1e-12)
    assert (kept.fpr[-1], kept.pro[-1]) == (full.fpr[-1], full.pro[-1]) and kept.fpr[-1] >= 0.3
    regions = ref_regions(masks)
    for i in np.linspace(0, kept.fpr.size - 1, 12).astype(int):   # kept points are real points of the curve
        t = kept.thresholds[i]
        assert ((maps > t) & ~masks).sum() / (~masks).sum() == pytest.approx(kept.fpr[i], abs=1e-12)
        assert np.mean([(maps[r] > t).mean() for r in regions]) == pytest.approx(kept.pro[i], abs=1e-12)


def test_aupro_hand_cases():
    g = np.zeros((3, 10, 10), bool)
    g[0, 1, 1] = True                          # one-pixel defect
    g[0, 5:8, 5:8] = True                      # 9-pixel defect
    g[1, ::3, ::3] = True                      # many components (16) in one image
    assert M.aupro(g.astype(float), g) == pytest.approx(1.0, abs=1e-12)   # perfect
    assert M.aupro(-g.astype(float), g) == 0.0                            # inverted
    assert M.aupro(np.zeros(g.shape), g) == pytest.approx(0.15)               # all tied: the diagonal, 0.3^2/2/0.3
    assert M.aupro(np.zeros(g.shape), g, fpr_limit=1.0) == pytest.approx(0.5)
    assert len(M.pro_curve(g.astype(float), g).region_sizes) == 18
    # only the one-pixel defect is found before any false positive: PRO 1/18 on [0, 0.3]
    m = np.where(g, 0.0, 0.5); m[0, 1, 1] = 2.0
    assert M.aupro(m, g) == pytest.approx(1 / 18)
    assert M.aupro(m, g) == pytest.approx(ref_aupro(m, g), abs=1e-12)


def test_eight_connectivity():
    g = np.zeros((1, 6, 6), bool); g[0, 0, 0] = g[0, 1, 1] = g[0, 2, 2] = True; g[0, 5, 5] = True
    assert len(M.pro_curve(g.astype(float), g).region_sizes) == 2    # the diagonal is one region
    m = np.where(g, 0.0, 0.5); m[0, 5, 5] = 1.0                       # finds the isolated pixel only
    assert M.aupro(m, g) == pytest.approx(0.5)                        # two regions weigh the same (4-connected: 1/4)


# ---------------------------------------------------------------- thresholds and segmentation
def test_thresholds_from_normal():
    v = np.random.default_rng(3).random((7, 13, 11))
    for a in (0.0, 1e-3, 0.01, 0.0371, 0.2, 0.5):
        t = M.threshold_from_normal(v, a)
        assert t == np.quantile(v, 1 - a, method="inverted_cdf")
        assert (v > t).mean() <= a and (v >= t).mean() > a
    assert M.threshold_max_normal(v) == v.max()
    assert M.threshold_max_normal(v, q=0.5) == np.quantile(v.max(axis=(1, 2)), 0.5, method="inverted_cdf")


@pytest.mark.parametrize("maps,masks", CASES[::2])
def test_segmentation_scores_match_sklearn(maps, masks):
    for t in np.quantile(maps, [0.1, 0.5, 0.9, 0.99]):
        s = M.segmentation_scores(maps, masks, t)
        assert s.f1 == pytest.approx(sk_f1(masks.ravel(), (maps > t).ravel()), abs=1e-12)
        assert s.iou == pytest.approx(jaccard_score(masks.ravel(), (maps > t).ravel()), abs=1e-12)
        assert s.mean_image_iou == pytest.approx(ref_goodness(maps, masks, t, "iou"), abs=1e-12)
        assert M.f1_score(maps, masks, t) == s.f1 and M.iou_score(maps, masks, t) == s.iou


@pytest.mark.parametrize("maps,masks", CASES)
@pytest.mark.parametrize("kind", ["f1", "iou"])
def test_goodness_curve_and_oracle_match_brute_force(maps, masks, kind):
    ts = all_thresholds(maps)
    taus = np.r_[ts, ts[:-1] - 1e-3, maps.max() + 1, np.random.default_rng(0).random(20)]
    brute = np.array([ref_goodness(maps, masks, t, kind) for t in taus])
    assert np.allclose(M.goodness_curve(maps, masks, taus, kind), brute, atol=1e-12)
    oracle = M.oracle_threshold(maps, masks, kind)
    assert ref_goodness(maps, masks, oracle, kind) == pytest.approx(brute.max(), abs=1e-12)


def test_goodness_float32_maps_float64_thresholds():
    maps, masks = CASES[2]
    m32 = maps.astype(np.float32)
    taus = np.unique(m32).astype(np.float64)[::7] + 1e-9     # just above float32 values
    brute = [ref_goodness(m32.astype(np.float64), masks, t, "f1") for t in taus]
    assert np.allclose(M.goodness_curve(m32, masks, taus), brute, atol=1e-12)


# ---------------------------------------------------------------- EGS
def test_bootstrap_thresholds_are_quantiles_of_resampled_images():
    v = np.random.default_rng(5).random((9, 12, 12)) ** 2
    taus, alphas = M.bootstrap_thresholds(v, n_draws=40, alpha_range=(1e-3, 0.2), seed=7)
    rng = np.random.default_rng(7); rng.uniform(size=40)
    counts = rng.multinomial(9, np.full(9, 1 / 9), size=40)
    assert np.all((alphas >= 1e-3) & (alphas <= 0.2))
    for t, a, c in zip(taus, alphas, counts):
        assert t == np.quantile(np.repeat(v, c, axis=0), 1 - a, method="inverted_cdf")


def test_egs_perfect_map_is_one():
    g = np.zeros((6, 20, 20), bool); g[0, 3:9, 3:9] = True; g[1, 10, 10] = True; g[2, ::4, ::4] = True
    normal = np.random.default_rng(0).random((4, 20, 20)) * 0.5
    for kind in ("f1", "iou"):
        r = M.expected_goodness(g * 1.0, g, normal, n_draws=200, goodness=kind)
        assert (r.value, r.ci_low, r.ci_high, r.oracle, r.regret) == (1.0, 1.0, 1.0, 1.0, 0.0)


def calibrated_vs_hot_spot(seed=0):
    """Two detectors with exactly equal pixel AUROC (1 - 1/32) on the same test set.

    calibrated: 10 of the 320 defect pixels score below every normal pixel, the rest above; normal pixels of test
    and validation images alike are U(0, 1). hot spot: every defect pixel scores above the normal bulk, but 31 pixels
    per image (a structure the detector always fires on, 3 % of each image, in validation images too) score above
    every defect; 310 of 9920 normal test pixels = 1/32. Thresholds from normal images land below the defects for the
    first and inside the hot spots for the second."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((10, 32, 32), bool); masks[:5, 10:18, 10:18] = True
    hot = np.zeros((32, 32), bool); hot[0, :31] = True
    def detector(n, masks, hot_spot):
        maps = rng.random((n, 32, 32))
        if hot_spot: maps[:, hot] = rng.uniform(4, 5, (n, hot.sum()))
        maps[masks] = rng.uniform(2, 3, masks.sum())
        if not hot_spot and masks.any(): maps.reshape(-1)[np.flatnonzero(masks)[:10]] = rng.uniform(-2, -1, 10)
        return maps
    no_defect = np.zeros((8, 32, 32), bool)
    return {name: (detector(10, masks, h), detector(8, no_defect, h)) for name, h in (("calibrated", False), ("hot", True))}, masks


@pytest.mark.parametrize("kind", ["f1", "iou"])
def test_egs_ranks_findable_threshold_above_equal_auroc_map(kind):
    det, masks = calibrated_vs_hot_spot()
    auc = {k: M.pixel_auroc(test, masks) for k, (test, _) in det.items()}
    assert auc["calibrated"] == pytest.approx(1 - 1 / 32, abs=1e-12) and auc["hot"] == pytest.approx(1 - 1 / 32, abs=1e-12)
    egs = {k: M.expected_goodness(test, masks, val, n_draws=300, goodness=kind, seed=1) for k, (test, val) in det.items()}
    if kind == "f1":   # pooled F1: every drawn threshold lies above all defects of the hot-spot map
        assert egs["calibrated"].value > 0.9 and egs["hot"].value == 0.0
        assert egs["hot"].regret > egs["calibrated"].regret
    assert egs["calibrated"].value > egs["hot"].value + 0.25   # per-image IoU: normal test images weigh in for both


def test_egs_properties():
    maps, masks = CASES[3]
    normal = np.random.default_rng(9).random((5, *maps.shape[1:]))
    r = M.expected_goodness(maps, masks, normal, n_draws=200, seed=3)
    assert r.value <= r.oracle + 1e-12 and r.regret == pytest.approx(r.oracle - r.value)
    assert r.thresholds.shape == r.alphas.shape == r.draws.shape == (200,)
    assert r.value == pytest.approx(np.mean([ref_goodness(maps, masks, t, "f1") for t in r.thresholds]), abs=1e-12)
    assert ref_goodness(maps, masks, r.oracle_threshold, "f1") == pytest.approx(r.oracle, abs=1e-12)
    assert np.allclose(r.curve, [ref_goodness(maps, masks, t, "f1") for t in r.taus], atol=1e-12)
    assert np.all((r.alphas >= 1e-4) & (r.alphas <= 1e-2))
    same = M.expected_goodness(maps, masks, normal, n_draws=200, seed=3)
    assert same.value == r.value and np.array_equal(same.thresholds, r.thresholds)        # seeded
    assert M.expected_goodness(maps, masks, normal, n_draws=200, seed=4).value != r.value
    mono = M.expected_goodness(np.exp(3 * maps), masks, np.exp(3 * normal), n_draws=200, seed=3)
    assert mono.value == pytest.approx(r.value, abs=1e-12) and mono.oracle == pytest.approx(r.oracle, abs=1e-12)
    s = r.summary()
    assert {"egs", "egs_oracle", "egs_regret", "egs_ci_low", "egs_ci_high"} <= set(s)


def test_evaluate_summary():
    maps, masks = CASES[4]
    e = M.evaluate(maps, masks, normal_maps=maps[-1:], n_draws=50)
    s = e.summary()
    assert {"image_auroc", "pixel_auroc", "aupro", "egs", "egs_oracle", "egs_regret"} <= set(s)
    assert s["pixel_auroc"] == pytest.approx(roc_auc_score(masks.ravel(), maps.ravel()), abs=1e-12)
    assert s["image_auroc"] == pytest.approx(roc_auc_score(masks.any((1, 2)), maps.max((1, 2))), abs=1e-12)
    assert "egs" not in M.evaluate(maps, masks).summary()
