"""The house's shape: no import cycles, the layers in one direction, modules small enough to hold in one's head.

The architecture is model → sources → extract writers (noark5) → validation → packaging → the deposit layer
(project, pipeline, nha) → the faces (cli).  These tests read every module's import statements (all of them:
top level, inside functions, under TYPE_CHECKING) from the source, so a lazy import cannot hide a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "noarkpack"

#: no module may be longer than this (issue 22: "none over 700"; ~500 is the aim where a seam exists)
MAX_LINES = 700

#: top-level parts a layer must never import (the layers above it, and the faces)
FORBIDDEN = {
    "model": {"sources", "noark5", "validation", "packaging", "nha", "analysis", "project", "pipeline", "cli"},
    "sources": {"noark5", "validation", "packaging", "nha", "analysis", "project", "pipeline", "cli"},
    "noark5": {"sources", "validation", "packaging", "nha", "analysis", "project", "pipeline", "cli"},
    "validation": {"sources", "noark5", "packaging", "nha", "analysis", "project", "pipeline", "cli"},
    "packaging": {"sources", "noark5", "nha", "analysis", "project", "pipeline", "cli"},
    "analysis": {"noark5", "validation", "packaging", "nha", "project", "pipeline", "cli"},
    "project": {"pipeline", "cli", "validation", "packaging", "nha", "analysis"},
    "nha": {"pipeline", "cli"},
    "pipeline": {"cli"},
}


def _modules() -> dict[str, Path]:
    mods = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    return mods


def _imports(mods: dict[str, Path]) -> dict[str, set[str]]:
    """For each module, the modules of the package it imports anywhere in its source."""
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        is_package = path.name == "__init__.py"
        here = name.split(".") if is_package else name.split(".")[:-1]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = here[: len(here) - (node.level - 1)]
                    base = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    targets.add(sub if sub in mods else base)
        graph[name] = {t for t in targets if t in mods and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_reader_of_imports_sees_lazy_and_type_only_imports(tmp_path):
    """The graph is only as good as its reader: it must see the imports a cycle likes to hide in."""
    mods = _modules()
    graph = _imports(mods)
    assert "noarkpack.progress" in graph["noarkpack.pipeline"]  # a top-level relative import
    # a cycle written the ways one hides: lazily in a function, and under TYPE_CHECKING
    pkg = tmp_path / "noarkpack"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n")
    fake = {"noarkpack": pkg / "__init__.py", "noarkpack.a": pkg / "a.py", "noarkpack.b": pkg / "b.py"}
    assert _cycles(_imports(fake)) == [["noarkpack.a", "noarkpack.b"]]


def test_no_module_imports_another_that_imports_it_back():
    graph = _imports(_modules())
    pairs = sorted({tuple(sorted((a, b))) for a, targets in graph.items() for b in targets if a in graph[b]})
    assert pairs == [], "modules that import each other: " + ", ".join(f"{a} <-> {b}" for a, b in pairs)
    assert _cycles(graph) == [], "import cycles"


def test_layers_import_in_one_direction():
    graph = _imports(_modules())
    wrong = []
    for module, targets in sorted(graph.items()):
        forbidden = FORBIDDEN.get(_part(module), set())
        wrong += [f"{module} -> {t}" for t in sorted(targets) if _part(t) in forbidden]
    assert wrong == [], "imports against the layering: " + "; ".join(wrong)


def test_only_the_faces_print_or_exit():
    """The library never prints and never exits: output and exit codes belong to the CLI (and the web face)."""
    offenders = []
    for name, path in _modules().items():
        if _part(name) in ("cli", "web") or name.endswith("__main__"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else ""
                if called == "print" or (owner == "sys" and called == "exit") or owner == "typer":
                    offenders.append(f"{name}:{node.lineno} {owner + '.' if owner else ''}{called}")
    assert offenders == []


def test_no_module_is_over_the_limit():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in _modules().items()}
    over = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert over == {}, f"modules over {MAX_LINES} lines: {over}"
