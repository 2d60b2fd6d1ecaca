"""The package's layers (docs/architecture.md): imports point down only, and no module imports
itself back through others, lazy imports inside functions included. Imports under
`if TYPE_CHECKING:` are annotations only (never executed) and are not counted."""

from __future__ import annotations

import ast
from pathlib import Path

import parley

ROOT = Path(parley.__file__).resolve().parent

LAYERS = {
    "parley.core": 0,
    "parley.io": 1,
    "parley.store": 1,
    "parley.models": 2,
    "parley.analysis": 3,
    "parley.backtest": 3,
    "parley.draft": 3,
    "parley.present": 4,
    "parley.cli": 5,
    "parley.web": 5,
    "parley": 6,  # the package root and __main__: the public API on top of everything
}
"""Layer of each folder; a module may import its own layer and the layers below it."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def layer(name: str) -> int:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if name == prefix or name.startswith(prefix + "."):
            return LAYERS[prefix]
    raise AssertionError(f"{name} is in no layer: add its folder to LAYERS and docs/architecture.md")


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skip.update(id(n) for n in ast.walk(child))
    return skip


def imports(name: str) -> set[str]:
    """parley modules `name` imports anywhere in its file (TYPE_CHECKING blocks aside)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    package = name if MODULES[name].name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            if not base.startswith("parley"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in MODULES else base)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("parley"))
    return {m for m in out if m in MODULES and m != name}


GRAPH = {name: imports(name) for name in MODULES}


def test_every_module_is_in_a_layer() -> None:
    for name in MODULES:
        layer(name)


def test_imports_point_down_only() -> None:
    upward = [f"{a} (layer {layer(a)}) imports {b} (layer {layer(b)})"
              for a, targets in sorted(GRAPH.items()) for b in sorted(targets)
              if layer(b) > layer(a)]
    assert not upward, "\n".join(upward)


def test_no_import_cycle() -> None:
    """Tarjan's strongly connected components over the import graph: every one is a single module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    import sys

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in GRAPH:
        if v not in index:
            visit(v)
    assert not cycles, "import circles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_core_types_do_not_reach_presentation() -> None:
    """The rule the old layout broke: Scenario, Forecast and the leaderboard imported the notebook."""
    for name in ("parley.core.scenario", "parley.analysis.forecast", "parley.backtest.leaderboard"):
        assert not any(layer(m) >= LAYERS["parley.present"] for m in GRAPH[name]), GRAPH[name]
