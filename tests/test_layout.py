"""The package's shape: no import circles, and the core reaches the backends only through
planning (type-only imports of the contract aside)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "alloy"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, bool]]:
    """``(module imported, only for type checkers)`` for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for child in node.body for n in ast.walk(child))
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        found.extend((t, id(node) in typing_only) for t in targets if t.startswith("alloy"))
    return found


def _graph(include_typing: bool) -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = {
            target
            for target, typing_only in _imports(path)
            if target in modules and target != name and (include_typing or not typing_only)
        }
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circles_even_counting_type_only_imports() -> None:
    graph = _graph(include_typing=True)
    # A package face importing its submodules (which import siblings through it) is not a
    # circle of design: drop edges from a submodule up to its own package face.
    for name, targets in graph.items():
        graph[name] = {t for t in targets if not name.startswith(f"{t}.")}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_core_reaches_the_backends_only_through_planning() -> None:
    for path in PACKAGE.glob("_*.py"):
        name = _module_name(path)
        for target, typing_only in _imports(path):
            if not target.startswith("alloy.backends"):
                continue
            contract = target == "alloy.backends.base" or target.startswith("alloy.backends.base.")
            allowed = name == "alloy._plan" or (typing_only and contract)
            assert allowed, f"{name} imports {target}"
