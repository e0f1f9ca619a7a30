"""The package's conventions that a reader of the book relies on.

Lines ≤ 79 characters (code shown in the book does not scroll), a module
docstring naming the equations, a docstring on every public function and
class, and CuPy imported nowhere but in backend.py, and only when asked.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "companion"
MODULES = sorted(PACKAGE.glob("**/*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_conventions(path):
    text = path.read_text(encoding="utf-8")
    long = [i + 1 for i, line in enumerate(text.splitlines())
            if len(line) > 79]
    assert not long, f"{path.name}: lines longer than 79 chars: {long}"
    tree = ast.parse(text)
    assert ast.get_docstring(tree), f"{path.name} has no module docstring"
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) \
                and not node.name.startswith("_") \
                and path.name != "__main__.py":
            assert ast.get_docstring(node), (
                f"{path.name}: public {node.name} has no docstring")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [
                getattr(node, "module", None) or ""]
            assert not any(n.split(".")[0] == "cupy" for n in names), (
                f"{path.name} imports CuPy at module level")
