"""Write the README's results tables from reports/real/results_<metric>.md (made by `stfpm-nb table`).

Usage: python tools/readme_results.py  (from the repository root). The tables sit between the markers
`<!-- results:start -->` and `<!-- results:end -->` in README.md; nothing else of the README is touched.
"""
from pathlib import Path

METRICS = {"image_auroc": "Image AUROC:", "pixel_auroc": "Pixel AUROC:", "aupro": "AU-PRO (FPR up to 0.3):",
           "aupimo": "AUPIMO (per defective image, the share of its defect found at thresholds that flag 1e-5 to 1e-4 of the normal test pixels; mean over images):",
           "egs": "EGS (pooled pixel F1 at thresholds set from normal images, averaged over their uncertainty):"}
START, END = "<!-- results:start -->", "<!-- results:end -->"


def table(metric: str, folder: Path = Path("reports/real")) -> str:
    "The table of `results_<metric>.md` without its heading line."
    lines = (folder / f"results_{metric}.md").read_text().strip().splitlines()
    return "\n".join(lines[1:]).strip()


def main(readme: Path = Path("README.md")) -> None:
    text = readme.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    body = "\n\n".join(f"{title}\n\n{table(m)}" for m, title in METRICS.items())
    readme.write_text(f"{head}{START}\n{body}\n{END}{tail}")


if __name__ == "__main__":
    main()
