"""The modules under marketplace/ import each other without a cycle.

What counts as an edge A -> B (both under marketplace/), read from the source with `ast`, no import run:
- every `import` and `from ... import` in A, at module level and inside functions alike. An import deferred
  into a function still makes A need B; it only hides the loop from Python, not from the reader, so a helper
  in the wrong home is moved rather than imported late.
- not those under `if TYPE_CHECKING:`, which never run.
- `from pkg import name` is an edge to the module pkg.name when there is one, else to pkg (its __init__).
  Relative imports are resolved. Importing a.b.c is also an edge to the package a.b, whose __init__ Python runs
  first (so a blueprint package's __init__ must not import its views: create_app imports them through views.py),
  but not to marketplace/__init__.py, which every module is inside.
- a module importing its own parent package (`from . import bp` in a blueprint's routes) is not counted.
  Python has run that package's __init__ before the module in any case, so the edge adds nothing, and
  counting it would flag every blueprint: its __init__ makes `bp` and then imports its routes at the bottom
  so they attach to it, Flask's standard pattern. The package importing its submodules is counted, so a loop
  through a package that re-exports (models/, uploads/) is still found.
"""
import ast
from collections import deque
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "marketplace"


def module_names(root: Path = PACKAGE) -> dict[str, Path]:
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _runtime_imports(tree: ast.Module):
    """Every Import/ImportFrom node except those under `if TYPE_CHECKING:`."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in skipped:
            yield node


def _targets(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, modules: dict) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = importer if is_package else importer.rpartition(".")[0]
        anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
        base = ".".join(anchor + ([node.module] if node.module else []))
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]


def import_graph(root: Path = PACKAGE) -> dict[str, dict[str, int]]:
    """{importer: {imported: line}} over the modules under `root`."""
    modules = module_names(root)
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _runtime_imports(tree):
            for target in _targets(node, name, path.name == "__init__.py", modules):
                for reached in _with_packages_run(target):
                    own_parent = name.startswith(reached + ".")
                    if reached in modules and reached != name and not own_parent:
                        graph[name].setdefault(reached, node.lineno)
    return graph


def _with_packages_run(target: str) -> list[str]:
    """`target` and the packages Python runs before it: importing marketplace.vouchers.lifecycle runs
    marketplace/vouchers/__init__.py first (the root package, which every module is inside, adds nothing)."""
    parts = target.split(".")
    return [".".join(parts[:end]) for end in range(2, len(parts))] + [target]


def tangles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def shortest_cycle(graph: dict[str, dict[str, int]], start: str, within: set[str]) -> list[str]:
    """The shortest path start -> ... -> start inside one component (breadth first)."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph[node]):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if target in within and target not in came_from:
                came_from[target] = node
                queue.append(target)
    return []


def describe(graph: dict[str, dict[str, int]], component: list[str]) -> str:
    cycle = shortest_cycle(graph, component[0], set(component))
    steps = [f"  {a} -> {b} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False)]
    return f"{len(component)} modules: {', '.join(component)}\n" + "\n".join(steps)


def test_the_marketplace_modules_import_each_other_without_a_cycle():
    graph = import_graph()
    found = tangles(graph)
    assert not found, "import cycles:\n" + "\n".join(describe(graph, component) for component in found)


def test_the_graph_sees_function_level_and_relative_imports():
    """Guards the reader of the source: an import graph that missed these would pass vacuously."""
    graph = import_graph()
    assert len(graph) > 100
    assert "marketplace.config" in graph["marketplace"]  # inside create_app()
    assert "marketplace.admin.routes" in graph["marketplace.views"]  # `from .admin import (..., routes as ...)`
    assert "marketplace.admin" in graph["marketplace.views"]  # the package Python runs before its module
    assert "marketplace.vouchers" in graph["marketplace.related_parties"]  # via `from .vouchers.lifecycle import`
    assert "marketplace.admin" not in graph["marketplace.admin.routes"]  # `from . import bp`: own package
    assert "marketplace.policy" in graph["marketplace.admin.payments"]  # `from .. import policy`


def test_a_planted_loop_is_reported_with_each_step(tmp_path):
    root = tmp_path / "marketplace"
    (root / "orders").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "errors.py").write_text("def render():\n    from .orders.messages import tidy\n")
    (root / "orders" / "__init__.py").write_text("from flask import Blueprint\nbp = 1\n")
    (root / "orders" / "messages.py").write_text("from . import bp\nfrom .. import errors\n")
    (root / "policy.py").write_text("from .billing import rates\n")  # billing/__init__ runs first, importing
    (root / "billing").mkdir()  # its views, which import policy: the loop a blueprint's __init__ used to make
    (root / "billing" / "__init__.py").write_text("from . import views\n")
    (root / "billing" / "views.py").write_text("from .. import policy\n")
    (root / "billing" / "rates.py").write_text("")
    (root / "orders" / "feedback.py").write_text("from typing import TYPE_CHECKING\n"
                                                 "if TYPE_CHECKING:\n    from .. import errors\n")
    graph = import_graph(root)
    found = sorted(tangles(graph))
    assert found == [["marketplace.billing", "marketplace.billing.views", "marketplace.policy"],
                     ["marketplace.errors", "marketplace.orders.messages"]]
    assert describe(graph, found[1]).splitlines()[1:] == [
        "  marketplace.errors -> marketplace.orders.messages (line 2)",
        "  marketplace.orders.messages -> marketplace.errors (line 2)"]
