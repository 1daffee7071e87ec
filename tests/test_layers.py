"""The package's layers, read from its imports (function-level ones included): no import
cycle, and every import goes down, never up (nothing below the CLI imports it)."""
from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

SRC = ROOT / "src" / "jmo_schedule"

# Lower numbers are lower layers; a module may import its own layer's package and below.
LAYERS = {
    "printable": -1, "_version": 0, "errors": 0,
    "core": 1,
    "generators": 2,
    "platforms": 3,
    "pipeline": 4,
    "sync": 5, "local": 5,
    "trigger": 6, "audit_run": 6, "schedule_manager": 6, "workflow_generators": 6,
    "commands": 7,
    "cli": 8,
    "__init__": 9, "__main__": 9,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Every module of the package and the package modules it imports, anywhere in it."""
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                candidates = [f"{target}.{a.name}" for a in node.names] + [target]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jmo_schedule"):
                candidates = [f"{node.module}.{a.name}" for a in node.names] + [node.module or ""]
            elif isinstance(node, ast.Import):
                candidates = [a.name for a in node.names if a.name.startswith("jmo_schedule")]
            else:
                continue
            for candidate in candidates:
                if candidate in modules and candidate != name:
                    graph[name].add(candidate)
                    break
    return graph


def layer(module: str) -> tuple[int, str]:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return LAYERS[top], top


def test_no_import_cycle() -> None:
    graph = imports()
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> None:
        if node in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(node):] + [node]))
        if node in done:
            return
        path.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        path.pop()
        done.add(node)

    for module in sorted(graph):
        visit(module)


def test_imports_go_down_the_layers() -> None:
    upward = []
    for module, targets in sorted(imports().items()):
        (rank, top) = layer(module)
        for target in sorted(targets):
            (target_rank, target_top) = layer(target)
            if target_rank > rank or (target_rank == rank and target_top != top):
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_every_module_has_a_layer() -> None:
    assert {layer(m)[1] for m in imports()} <= set(LAYERS)
