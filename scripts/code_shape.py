"""Print the structure numbers of the architecture review: imports running back up inside
organizing/, import cycles between modules, noqa markers in app code, the largest function and
the largest module. Run from the repository root: `python scripts/code_shape.py`.

"Running back up" is defined on rooms: each top-level module of organizing/ is a room, and each
sub-package (flyers/, notices/, models/, views/, management/, templatetags/) is one room.
An import of module A from module B (top-level imports and AppConfig.ready()) runs back up when
A's room and B's room import each other, directly or through other rooms: no ordering of the
rooms into floors can then put every arrow downwards. Each such module pair counts once.
Migrations and tests are not counted. Reads source only (ast); imports nothing of the project.

The project's one reader of its own imports: tests/test_import_graph.py (no cycle, no import
hidden in a function, the floors) and tests/test_code_shape.py use the functions here.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("config", "organizing", "petition")


def modules() -> dict[str, Path]:
    """Dotted module name → file, for every module of the project's packages (a package is
    named by its `__init__.py`), migrations left out."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def import_targets(module: str, node: ast.Import | ast.ImportFrom, is_package: bool) -> list[str]:
    """What one import statement of `module` may name: relative imports resolved, and for
    `from x import y` both `x` and `x.y` (y may be a module or a name inside x)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = module.split(".")
    if node.level:
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    return [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]


def import_graph(found: dict[str, Path]) -> dict[str, set[str]]:
    """Module → modules it imports at the top level or in ready()."""
    graph: dict[str, set[str]] = {}
    for module, path in found.items():
        tree = ast.parse(path.read_text())
        nodes = list(tree.body)
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef) and function.name == "ready":
                nodes += list(ast.walk(function))
        graph[module] = _project_imports(module, path, nodes, found)
    return graph


def _project_imports(module: str, path: Path, nodes, found: dict[str, Path]) -> set[str]:
    """The project modules that the import statements among `nodes` name."""
    targets = set()
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in import_targets(module, node, path.name == "__init__.py"):
                # "from .models import User" names organizing.models, not a module
                # organizing.models.User; "from . import x" may name a module.
                if target in found and target != module:
                    targets.add(target)
    return targets


def every_import(found: dict[str, Path]) -> dict[str, set[str]]:
    """Module → modules it imports anywhere: at the top, in ready(), inside any function."""
    return {
        module: _project_imports(module, path, ast.walk(ast.parse(path.read_text())), found)
        for module, path in found.items()
    }


def imports_in_functions(found: dict[str, Path]) -> list[str]:
    """Project imports inside a function other than AppConfig.ready() (Django's place to load
    signal handlers and checks), as "module:line imports target": usually a cycle hidden."""
    hidden = set()
    for module, path in found.items():
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if function.name == "ready":
                continue
            for node in ast.walk(function):
                if targets := sorted(_project_imports(module, path, [node], found)):
                    hidden.add((module, node.lineno, targets[0]))
    return [f"{module}:{line} imports {target}" for module, line, target in sorted(hidden)]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as the path that closes it (["a", "b", "a"]), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def room(module: str, found: dict[str, Path]) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return module
    return ".".join(parts[:2])


def back_up_arrows(graph: dict[str, set[str]], found: dict[str, Path]) -> list[tuple[str, str]]:
    inside = {m for m in graph if m.startswith("organizing")}
    rooms: dict[str, set[str]] = {}
    arrows = []
    for a in sorted(inside):
        for b in sorted(graph[a] & inside):
            ra, rb = room(a, found), room(b, found)
            if ra != rb:
                rooms.setdefault(ra, set()).add(rb)
                arrows.append((a, b))
    return [(a, b) for a, b in arrows if room(a, found) in _reach(rooms, room(b, found))]


def arrows_inside(graph: dict[str, set[str]], found: dict[str, Path]) -> int:
    inside = {m for m in graph if m.startswith("organizing")}
    return sum(1 for a in inside for b in graph[a] & inside if room(a, found) != room(b, found))


def cycles(graph: dict[str, set[str]]) -> int:
    return sum(1 for module in graph if module in _reach(graph, module))


def noqa_markers(found: dict[str, Path]) -> int:
    return sum(path.read_text().count("# noqa") for path in found.values())


def largest_function(found: dict[str, Path]) -> tuple[int, str]:
    best = (0, "")
    for module, path in found.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                best = max(best, (length, f"{module}.{node.name}"))
    return best


def largest_module(found: dict[str, Path]) -> tuple[int, str]:
    return max((len(path.read_text().splitlines()), module) for module, path in found.items())


def main() -> int:
    found = modules()
    graph = import_graph(found)
    up = back_up_arrows(graph, found)
    print(f"arrows between rooms inside organizing/: {arrows_inside(graph, found)}")
    tangled = sorted({room(m, found) for pair in up for m in pair})
    print(f"rooms on a cycle of rooms: {len(tangled)} {tangled}")
    print(f"module pairs running back up (on a cycle of rooms): {len(up)}")
    for a, b in up:
        print(f"  {a} -> {b}")
    print(f"modules on an import cycle: {cycles(graph)}")
    print(f"noqa markers in app code: {noqa_markers(found)}")
    print("largest function: {} lines, {}".format(*largest_function(found)))
    print("largest module: {} lines, {}".format(*largest_module(found)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
