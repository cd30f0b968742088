"""The packages stay in their layers: each imports only from the layers below it, and no two
packages import each other, directly or round a circle. Read from the source (every import,
also those inside functions), so an import that only runs on some path counts too.

Layers, bottom up (the README's Layout table): foundations; checking; curriculum; the core
logic and the edges (engine, dialogue, runtime, storage); the shared service core; the
features; the dashboard across them; the app factory; the UI; the command line. Packages of
one layer may import each other one way.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tutor_app"

LAYERS = (
    {"settings", "prompting"},
    {"checking"},
    {"curriculum"},
    {"engine", "dialogue", "runtime", "storage"},
    {"service"},
    {"tutoring", "assessment", "practice", "language"},
    {"dashboard", "evals", "training", "curation", "deployment"},
    {"bootstrap", "tables"},
    {"ui"},
    {"cli"},
)
LAYER = {package: level for level, packages in enumerate(LAYERS) for package in packages}

Edges = dict[str, dict[str, list[str]]]  # package -> imported package -> where ("file:line")


def imported_packages(root: Path) -> Edges:
    """Which top-level package of ``root`` each top-level package imports, and where."""
    edges: Edges = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        source = parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for target in _targets(node, parts):
                if target != source and target:
                    edges.setdefault(source, {}).setdefault(target, []).append(f"{'/'.join(parts)}:{node.lineno}")
    return edges


def _targets(node: ast.AST, parts: tuple[str, ...]) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name.split(".")[1] for a in node.names if a.name.startswith(f"{PACKAGE.name}.")]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level == 0:
        module = node.module or ""
        return [module.split(".")[1]] if module.startswith(f"{PACKAGE.name}.") else []
    here = list(parts[:-1])  # the file's package, as a path below the root
    if node.level - 1 > len(here):
        return []
    base = here[:len(here) - (node.level - 1)]
    named = [m for m in (node.module or "").split(".") if m]
    if base:
        return [base[0]]
    if named:
        return [named[0]]
    return [alias.name for alias in node.names]  # "from . import x" at the root


def layer_violations(edges: Edges) -> list[str]:
    """Every import of a package from a higher layer, and every package left out of the layers."""
    found = []
    for source, targets in sorted(edges.items()):
        for target, where in sorted(targets.items()):
            for package in (source, target):
                if package not in LAYER:
                    found.append(f"{package} is in no layer (add it to LAYERS in tests/test_layers.py)")
            if source in LAYER and target in LAYER and LAYER[target] > LAYER[source]:
                found.append(f"{source} (layer {LAYER[source]}) imports {target} (layer {LAYER[target]}) at "
                             f"{', '.join(where)}")
    return sorted(set(found))


def cycles(edges: Edges) -> list[list[str]]:
    """Groups of packages that reach each other through imports (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


# the checks on made-up packages: they must catch what they are for -------------------------
def test_an_import_from_a_higher_layer_is_caught():
    assert layer_violations({"storage": {"tutoring": ["storage/migrations/env.py:16"]}}) == [
        "storage (layer 3) imports tutoring (layer 5) at storage/migrations/env.py:16"]
    assert layer_violations({"tutoring": {"storage": ["tutoring/store.py:3"]}}) == []
    assert layer_violations({"reports": {"storage": ["reports/x.py:1"]}}) == [
        "reports is in no layer (add it to LAYERS in tests/test_layers.py)"]


def test_two_packages_importing_each_other_are_caught():
    edges = {"assessment": {"language": ["a"]}, "language": {"service": ["b"]}, "service": {"assessment": ["c"]},
             "ui": {"service": ["d"]}}
    assert cycles(edges) == [["assessment", "language", "service"]]
    assert cycles({"ui": {"service": ["d"]}}) == []


def test_relative_and_absolute_imports_are_both_read(tmp_path):
    package = tmp_path / "tutor_app"
    (package / "ui").mkdir(parents=True)
    (package / "ui" / "page.py").write_text("from ..bootstrap import Services\nimport tutor_app.cli.parser\n"
                                            "def f():\n    from tutor_app.service import actor\n")
    (package / "bootstrap.py").write_text("from .storage.database import Database\nfrom . import tables\n")
    assert imported_packages(package) == {
        "ui": {"bootstrap": ["ui/page.py:1"], "cli": ["ui/page.py:2"], "service": ["ui/page.py:4"]},
        "bootstrap": {"storage": ["bootstrap.py:1"], "tables": ["bootstrap.py:2"]}}


# the app --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def edges() -> Edges:
    return imported_packages(PACKAGE)


def test_every_package_imports_only_from_the_layers_below(edges):
    packages = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()
                if p.name != "__init__.py" and (p.suffix == ".py" or (p / "__init__.py").exists())}
    assert packages == set(LAYER), "every package and top-level module has a layer"
    assert layer_violations(edges) == []


def test_no_two_packages_import_each_other(edges):
    assert cycles(edges) == []
