"""The notebooks as committed: small, free of execution residue, self-contained, and safe for nbdev's docs pass."""
import ast, re
from pathlib import Path

import nbformat
import pytest

NBS = Path(__file__).resolve().parent.parent / "nbs"
NOTEBOOKS = sorted(p for p in NBS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
SHOWN = {"export", "exports", "exporti", "exec_doc"}


def code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def parsed(source: str) -> ast.Module:
    "The cell's Python, with IPython magics and shell lines blanked out."
    return ast.parse("\n".join("pass" if l.lstrip().startswith(("%", "!")) else l for l in source.splitlines()))


def test_notebooks_are_lean():
    size = sum(p.stat().st_size for p in NOTEBOOKS)
    assert size < 2.5e6, f"nbs/ holds {size / 1e6:.2f} MB of notebooks; keep figures small (figure.dpi, JPEG)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(NBS)))
def test_no_widget_residue(path):
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata, f"{path.name}: widget state in the notebook metadata"
    for cell in code_cells(path):
        for out in cell.get("outputs", []):
            assert not any("widget" in k for k in out.get("data", {})), f"{path.name}: widget output in {cell.source[:60]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(NBS)))
def test_imports_in_cells_of_their_own(path):
    "nbdev's docs pass executes every cell that imports: such a cell must hold nothing that needs earlier cells."
    for cell in code_cells(path):
        if set(re.findall(r"^#\|\s*(\w+)", cell.source, re.M)) & SHOWN: continue
        tree = parsed(cell.source)
        imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        others = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
        assert not (imports and others), f"{path.name}: a cell mixes imports and other code: {cell.source[:80]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(NBS)))
def test_no_references_outside_the_repository(path):
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    for pattern in (r"\bDESIGN\b", r"\bSTYLE(\.md)?\b", r"shared/DESIGN"):
        assert not re.search(pattern, text), f"{path.name} cites a document outside the repository ({pattern})"
