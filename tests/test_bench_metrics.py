"""The metrics benchmark runs end to end on a tiny case, writes its two files, and every metric agrees with its reference."""
import json

from stfpm_nb import bench_metrics


def test_bench_metrics_tiny(tmp_path):
    result = bench_metrics.run(tmp_path, n=6, size=48, n_normal=3, repeat=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench_metrics.json", "bench_metrics.md"]
    saved = json.loads((tmp_path / "bench_metrics.json").read_text())
    assert saved["params"]["n"] == 6 and "versions" in saved and "git_commit" in saved
    assert {r["metric"].split(" ")[0] for r in saved["rows"]} >= {"image_auroc", "pixel_auroc", "aupro", "expected_goodness"}
    assert all(r["abs_diff"] < 1e-10 for r in result["rows"]), [(r["metric"], r["abs_diff"]) for r in result["rows"]]
    assert "| aupro (continuous) |" in (tmp_path / "bench_metrics.md").read_text()
