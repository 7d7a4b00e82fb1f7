"Benchmark plumbing (fast): one in-process measurement, the summary and the Markdown table."
import torch

from stfpm_nb.bench_model import MODES, cache_mb_per_image, markdown_report, measure, summarize
from stfpm_nb.core import run_info


def test_measure_and_report():
    before = torch.get_num_threads()
    try:
        results = [measure("efficientnet_lite0", mode, image_size=32, batch_size=2, n_images=4, device="cpu", threads=1)
                   for mode in MODES]
    finally:
        torch.set_num_threads(before)
    assert all(r["img_per_s"] > 0 and r["peak_rss_mb"] > 0 for r in results)
    assert results[0]["cache_seconds"] > 0 and results[1]["cache_seconds"] == 0
    summary = summarize(results)["efficientnet_lite0/fp32"]
    assert summary["reuse_speedup"] == results[0]["img_per_s"] / results[1]["img_per_s"]
    report = {**run_info({"image_size": 32, "batch_size": 2, "n_images": 4, "device": "cpu"}), "device": "cpu",
              "threads": 1, "load_average": [0.0, 0.0], "summary": {"efficientnet_lite0": summary},
              "cache_mb_per_image": {"efficientnet_lite0": cache_mb_per_image("efficientnet_lite0", 32)}}
    text = markdown_report(report)
    assert "| efficientnet_lite0 |" in text and "reuse speed-up" in text and "Load average" in text
    assert "glibc keeps freed memory for reuse (`reuse_freed_memory`, 00_core; `bench_memory.md` measures it): yes." in text
