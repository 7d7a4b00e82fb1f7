"""ONNX export on real MVTec AD images: the graph's maps and scores equal PyTorch's within 1e-4 on every test image,
and within float32's accuracy (5e-5 of the largest map value; a mean summed in float32 once made it 1e-4 to 5e-4)."""
from pathlib import Path

import numpy as np
import pytest
import torch

from stfpm_nb.data import MVTecCategory
from stfpm_nb.predict import Detector, export_detector, normal_thresholds, run_exported
from stfpm_nb.stfpm import STFPM

MVTEC = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mvtec_ad"


@pytest.mark.skipif(not MVTEC.is_dir(), reason=f"real MVTec AD data not found at {MVTEC}")
@pytest.mark.parametrize("category", ["bottle", "screw"])
def test_onnx_maps_equal_pytorch_on_real_images(category, tmp_path):
    torch.manual_seed(0)
    model = STFPM("efficientnet_lite0", image_size=256).eval()   # the ImageNet teacher: real features
    model.student.load_state_dict(model.teacher.state_dict())       # a student near the teacher, as after training:
    with torch.no_grad():                                           # discrepancies of a trained model's size
        for p in model.student.parameters(): p.add_(0.02 * p.std().nan_to_num() * torch.randn_like(p))
    model.grey_target = 0.5                                       # brightness matching inside the graph too
    det = Detector(model, "stfpm", normal_thresholds(np.zeros(4), np.zeros((1, 8, 8))), 256)
    path = export_detector(det, tmp_path / "stfpm.onnx")
    test = MVTecCategory(MVTEC, category, "test", image_size=256)
    for start in range(0, len(test), 32):
        x = torch.stack([test[i]["image"] for i in range(start, min(start + 32, len(test)))])
        ref = det.predict(x)
        maps, scores = run_exported(path, x)
        worst = max(np.abs(maps - ref.maps.numpy()).max(), np.abs(scores - ref.scores.numpy()).max())
        assert worst < 1e-4 and worst < 5e-5 * ref.maps.abs().max().item()
