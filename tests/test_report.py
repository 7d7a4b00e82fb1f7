"""Report tables and files (nbs/08_report.ipynb) from fixture metrics.json files, one or several seeds."""
import math

import numpy as np
import pandas as pd
import pytest

from stfpm_nb.core import UserError, write_json
from stfpm_nb.report import (METRICS, STATUS_FILE, collect_runs, make_report, metric_table, residual_shrinkage,
                             shrinkage_table, to_latex, to_markdown, write_tables)

FIXTURE_METRICS = ("image_auroc", "pixel_auroc", "aupro", "egs")   # what the fixture runs report (no AUPIMO)
RUNS = {  # category -> method -> (image_auroc, pixel_auroc, aupro, egs); None: the method does not report it
    "bottle": {"stfpm": (0.90, 0.96, 0.80, 0.50), "scaled:layer": (0.95, 0.97, 0.85, 0.60),
               "assisted": (0.93, 0.98, None, None)},
    "screw": {"stfpm": (0.70, 0.90, 0.60, 0.20), "scaled:layer": (0.76, 0.88, 0.55, 0.30),
              "assisted": (0.79, 0.95, None, None)},
}


def write_run(root, offset=0.0):
    for category, methods in RUNS.items():
        write_json(root/category/"metrics.json", {
            "category": category, "params": {"epochs": 1}, "versions": {}, "git_commit": "abc",
            "methods": {m: {k: v + offset for k, v in zip(FIXTURE_METRICS, vals) if v is not None} | {"egs_ci": [0.1, 0.9]}
                        for m, vals in methods.items()}})
    write_json(root/STATUS_FILE, {"categories": {"bottle": {"status": "ok"}, "screw": {"status": "ok"},
                                                 "cable": {"status": "failed", "error": "ValueError: bad\nline"}}})
    write_json(root/".cable.work"/"metrics.json", {"methods": {"stfpm": {"image_auroc": 0.0}}})
    return root


@pytest.fixture
def run_dir(tmp_path):
    return write_run(tmp_path/"seed0")


@pytest.fixture
def seeds(tmp_path):
    return [write_run(tmp_path/"seed0", -0.02), write_run(tmp_path/"seed1", 0.0), write_run(tmp_path/"seed2", 0.02)]


def test_collect_runs_keeps_absent_metrics_absent(run_dir):
    df = collect_runs(run_dir)
    assert df.category.tolist() == ["bottle"] * 3 + ["screw"] * 3 + ["cable"]
    assert df.status.tolist() == ["ok"] * 6 + ["failed"]
    assert df.query("method == 'assisted'").aupro.isna().all() and df.query("method == 'assisted'").egs.isna().all()
    assert "egs_ci" not in df                                         # non-numeric extras are not table material
    assert df.set_index(["category", "method"]).loc[("screw", "scaled:layer"), "pixel_auroc"] == 0.88


def test_metric_table_values_mean_and_spread(seeds):
    table = metric_table(collect_runs(seeds), "image_auroc")
    assert table.index.tolist() == ["stfpm", "scaled:layer", "assisted"]
    assert table.columns.tolist() == ["bottle", "screw", "mean"]
    assert table.loc["stfpm", "mean"] == pytest.approx(0.80)
    assert table.loc["assisted", "screw"] == pytest.approx(0.79)
    assert table.attrs["runs"] == 3
    assert table.attrs["std"].loc["stfpm", "bottle"] == pytest.approx(0.02)          # sample s.d. of -0.02, 0, +0.02
    assert table.attrs["std"].loc["stfpm", "mean"] == pytest.approx(0.02)
    assert table.attrs["failed"] == {"cable": "ValueError: bad\nline"}
    assert metric_table(collect_runs(seeds), "aupro").index.tolist() == ["stfpm", "scaled:layer"]


def test_shrinkage_from_the_mean_aurocs(seeds):
    shrink = shrinkage_table(metric_table(collect_runs(seeds), "image_auroc"))
    assert shrink.loc["scaled:layer", "bottle"] == pytest.approx(0.5)
    assert shrink.loc["assisted", "screw"] == pytest.approx(0.3)
    assert shrink.loc["scaled:layer", "mean"] == pytest.approx((0.855 - 0.80) / 0.20)
    assert residual_shrinkage(0.9, 0.99) == pytest.approx(0.9)
    assert math.isnan(residual_shrinkage(1.0, 0.99))                 # no residual to shrink


def test_mean_is_empty_when_a_category_lacks_the_value(run_dir):
    df = collect_runs(run_dir)
    df.loc[(df.category == "screw") & (df.method == "stfpm"), "egs"] = np.nan
    table = metric_table(df, "egs")
    assert math.isnan(table.loc["stfpm", "mean"])
    assert table.loc["scaled:layer", "mean"] == pytest.approx(0.45)


def test_markdown_and_latex(seeds):
    table = metric_table(collect_runs(seeds), "image_auroc")
    md, tex = to_markdown(table), to_latex(table)
    assert "### image AUROC" in md
    assert "| scaled:layer | **0.950 ± 0.020** | 0.760 ± 0.020 | 0.855 ± 0.020 |" in md
    assert r"\textbf{0.950 $\pm$ 0.020}" in tex
    assert "Mean ± standard deviation over 3 seeds" in md
    assert "Failed, not in the table: cable (ValueError: bad line)" in md and "% Failed, not in the table: cable" in tex
    shrink_md = to_markdown(shrinkage_table(table))
    assert "residual shrinkage against stfpm" in shrink_md and "| scaled:layer | **+50.0%** |" in shrink_md


def test_write_tables_and_make_report(seeds, tmp_path_factory):
    table = metric_table(collect_runs(seeds), "pixel_auroc")
    out = tmp_path_factory.mktemp("tables")
    paths = write_tables(table, out, stem="t")
    assert sorted(p.name for p in out.iterdir()) == ["t.csv", "t.md", "t.tex"]
    back = pd.read_csv(paths["csv"], index_col=0)
    np.testing.assert_allclose(back[["bottle", "screw", "mean"]].to_numpy(), table.to_numpy())
    assert "mean std" in back and r"\toprule" in paths["tex"].read_text()
    written = make_report(seeds, out)
    assert {"md", "png", "image_auroc_md", "pixel_auroc_shrinkage_md"} <= set(written)
    assert written["png"].read_bytes()[:4] == b"\x89PNG"
    text = written["md"].read_text()
    assert text.count("### ") == len(FIXTURE_METRICS) + 2                 # a table per metric, a shrinkage table per AUROC
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]   # atomic writes left nothing behind


def test_single_run_report(run_dir):
    written = make_report(run_dir)
    assert "One run" in written["md"].read_text() and "±" not in written["image_auroc_md"].read_text()


def test_user_errors(run_dir, tmp_path_factory):
    with pytest.raises(UserError, match="stfpm, scaled:layer, assisted"):
        shrinkage_table(metric_table(collect_runs(run_dir), "image_auroc", baseline="padim"))
    with pytest.raises(UserError, match="no run in"):
        collect_runs(tmp_path_factory.mktemp("empty"))
    with pytest.raises(UserError, match="f1"):
        metric_table(collect_runs(run_dir), "f1")
    (run_dir/"bottle"/"metrics.json").write_text("{")
    with pytest.raises(UserError, match="bottle"):
        collect_runs(run_dir)
