"""Render the documentation site into _docs/: nbdev processes every notebook (show_doc for each public name, the
directives applied), then Quarto renders the site (`nbdev_docs`) where it is installed; elsewhere each processed
notebook becomes a static HTML page with nbconvert, beside an index. Any notebook that fails to process or render
fails the build (exit status 1), naming it."""
import shutil, subprocess, sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*args: str) -> None:
    "Run a command in the repository root; stop the build with its output when it fails."
    proc = subprocess.run([str(a) for a in args], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"docs: {' '.join(map(str, args))} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")


def html_page(notebook: Path, out: Path, exporter: HTMLExporter) -> str:
    "Write one processed notebook as HTML; return its title."
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells: cell.pop("has_sd", None)       # nbdev's marker, not part of the notebook format
    title = next((c.source.splitlines()[0].lstrip("# ") for c in nb.cells if c.cell_type == "markdown" and c.source), notebook.stem)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    out.write_text(body)
    return title


def static_site(proc: Path, docs: Path) -> None:
    "Every processed notebook as an HTML page, and an index linking them in order."
    exporter, links = HTMLExporter(template_name="lab"), []
    for notebook in sorted(proc.rglob("*.ipynb")):
        rel = notebook.relative_to(proc).with_suffix(".html")
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        try: title = html_page(notebook, docs / rel, exporter)
        except Exception as e: sys.exit(f"docs: {notebook.relative_to(proc)} failed to render: {type(e).__name__}: {e}")
        links.append(f'<li><a href="{rel}">{title}</a> <code>{rel.with_suffix(".ipynb")}</code></li>')
    (docs / "contents.html").write_text("<html><head><meta charset='utf-8'><title>stfpm_nb</title></head><body>"
                                        "<h1>stfpm_nb</h1><ul>" + "\n".join(links) + "</ul></body></html>")
    print(f"docs: {len(links)} pages in {docs} (static HTML; install Quarto for the full nbdev site)")


if __name__ == "__main__":
    shutil.rmtree(ROOT / "_proc", ignore_errors=True)
    if shutil.which("quarto"):
        run(BIN / "nbdev_docs")
        print(f"docs: nbdev + Quarto site in {ROOT / '_docs'}")
    else:
        run(BIN / "nbdev_proc_nbs")
        shutil.rmtree(ROOT / "_docs", ignore_errors=True)
        static_site(ROOT / "_proc", ROOT / "_docs")
