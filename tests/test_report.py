"""Thesis tables and report files (nbs/08_report.ipynb) from fixture metrics.json files."""
import math

import numpy as np
import pandas as pd
import pytest

from stfpm_nb.core import UserError, write_json
from stfpm_nb.report import (METRICS, STATUS_FILE, collect_runs, make_report, residual_shrinkage, thesis_table,
                             to_latex, to_markdown, write_tables)

RUNS = {  # category -> method -> (image_auroc, pixel_auroc, aupro, egs); None: the method does not report it
    "bottle": {"stfpm": (0.90, 0.96, 0.80, 0.50), "scaled:layer": (0.95, 0.97, 0.85, 0.60),
               "assisted": (0.93, 0.98, None, None)},
    "screw": {"stfpm": (0.70, 0.90, 0.60, 0.20), "scaled:layer": (0.76, 0.88, 0.55, 0.30),
              "assisted": (0.79, 0.95, None, None)},
}


@pytest.fixture
def run_dir(tmp_path):
    for category, methods in RUNS.items():
        write_json(tmp_path/category/"metrics.json", {
            "category": category, "params": {"epochs": 1}, "versions": {}, "git_commit": "abc",
            "methods": {m: {k: v for k, v in zip(METRICS, vals) if v is not None} | {"egs_ci": [0.1, 0.9]}
                        for m, vals in methods.items()}})
    write_json(tmp_path/STATUS_FILE, {"categories": {"bottle": {"status": "ok"}, "screw": {"status": "ok"},
                                                     "cable": {"status": "failed", "error": "ValueError: bad\nline"}}})
    write_json(tmp_path/".cable.tmp-abc"/"metrics.json", {"methods": {"stfpm": {"image_auroc": 0.0}}})
    return tmp_path


def test_collect_runs_keeps_absent_metrics_absent(run_dir):
    df = collect_runs(run_dir)
    assert df.category.tolist() == ["bottle"] * 3 + ["screw"] * 3 + ["cable"]
    assert df.status.tolist() == ["ok"] * 6 + ["failed"]
    assert df.query("method == 'assisted'").aupro.isna().all() and df.query("method == 'assisted'").egs.isna().all()
    assert "egs_ci" not in df                                         # non-numeric extras are not table material
    assert df.set_index(["category", "method"]).loc[("screw", "scaled:layer"), "pixel_auroc"] == 0.88


def test_thesis_table_values_mean_and_shrinkage(run_dir):
    table = thesis_table(collect_runs(run_dir))
    assert table.index.tolist() == ["bottle", "screw", "mean"]
    assert table.columns.unique(level=0).tolist() == ["stfpm", "scaled:layer", "assisted"]
    assert table["stfpm"].columns.tolist() == list(METRICS)
    assert table["assisted"].columns.tolist() == ["image_auroc", "image_auroc_shrinkage",
                                                  "pixel_auroc", "pixel_auroc_shrinkage"]
    assert table.loc["screw", ("scaled:layer", "aupro")] == pytest.approx(0.55)
    assert table.loc["mean", ("stfpm", "image_auroc")] == pytest.approx(0.80)
    assert table.loc["mean", ("assisted", "pixel_auroc")] == pytest.approx(0.965)
    # ((1 - base) - (1 - auc)) / (1 - base) per category, and from the mean AUROCs on the mean row
    assert table.loc["bottle", ("scaled:layer", "image_auroc_shrinkage")] == pytest.approx(0.5)
    assert table.loc["screw", ("scaled:layer", "pixel_auroc_shrinkage")] == pytest.approx(-0.2)
    assert table.loc["bottle", ("assisted", "pixel_auroc_shrinkage")] == pytest.approx(0.5)
    assert table.loc["mean", ("scaled:layer", "image_auroc_shrinkage")] == pytest.approx((0.855 - 0.80) / 0.20)
    assert table.attrs["failed"] == {"cable": "ValueError: bad\nline"}


def test_residual_shrinkage_edge_cases():
    assert residual_shrinkage(0.9, 0.99) == pytest.approx(0.9)
    assert residual_shrinkage(0.9, 0.9) == pytest.approx(0.0)
    assert math.isnan(residual_shrinkage(1.0, 0.99))                 # no residual to shrink


def test_mean_is_empty_when_a_category_lacks_the_value(run_dir):
    df = collect_runs(run_dir)
    df.loc[(df.category == "screw") & (df.method == "stfpm"), "egs"] = np.nan
    table = thesis_table(df)
    assert math.isnan(table.loc["mean", ("stfpm", "egs")])
    assert table.loc["mean", ("scaled:layer", "egs")] == pytest.approx(0.45)


def test_bold_marks_the_best_in_markdown_and_latex(run_dir):
    table = thesis_table(collect_runs(run_dir))
    md, tex = to_markdown(table), to_latex(table)
    bottle = next(line for line in md.splitlines() if line.startswith("| bottle"))
    assert bottle == ("| bottle | 0.900 | 0.960 | 0.800 | 0.500 | **0.950** | **+50.0%** | 0.970 | +25.0% | **0.850** "
                      "| **0.600** | 0.930 | +30.0% | **0.980** | **+50.0%** |")
    assert r"\textbf{0.950} & \textbf{+50.0\%}" in tex and r"\multicolumn{6}{c}{scaled:layer}" in tex
    assert "Failed, not in the table: cable (ValueError: bad line)" in md
    assert "% Failed, not in the table: cable" in tex


def test_write_tables_and_make_report(run_dir, tmp_path_factory):
    table = thesis_table(collect_runs(run_dir), baseline=None)
    out = tmp_path_factory.mktemp("tables")
    paths = write_tables(table, out, stem="t")
    assert sorted(p.name for p in out.iterdir()) == ["t.csv", "t.md", "t.tex"]
    back = pd.read_csv(paths["csv"], header=[0, 1], index_col=0)
    np.testing.assert_allclose(back.to_numpy(), table.to_numpy())
    assert "**" in paths["md"].read_text() and r"\toprule" in paths["tex"].read_text()
    written = make_report(run_dir)
    assert {k for k in written if "_" not in k} == {"csv", "md", "png", "tex"}
    per_metric = pd.read_csv(written["pixel_auroc_csv"], header=[0, 1], index_col=0)
    assert set(per_metric.columns.get_level_values(1)) == {"pixel_auroc", "pixel_auroc_shrinkage"}
    np.testing.assert_allclose(per_metric[("stfpm", "pixel_auroc")], table[("stfpm", "pixel_auroc")])
    assert written["png"].read_bytes()[:4] == b"\x89PNG"
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]   # atomic writes left nothing behind


def test_user_errors(run_dir, tmp_path_factory):
    with pytest.raises(UserError, match="stfpm, scaled:layer, assisted"):
        thesis_table(collect_runs(run_dir), baseline="padim")
    with pytest.raises(UserError, match="no run in"):
        collect_runs(tmp_path_factory.mktemp("empty"))
    (run_dir/"bottle"/"metrics.json").write_text("{")
    with pytest.raises(UserError, match="bottle"):
        collect_runs(run_dir)
