"""The code's shape: no import cycle between the project's modules, no import hidden
inside a function to work around one (AppConfig.ready() excepted: Django's way to load
signal handlers and checks), and the floors of docs/architecture.md: `petition` stands on
the base tables and the audit recorder of `organizing`, and on nothing else of it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("config", "organizing", "petition")
# Landed with its function-local imports while this rule was being introduced; to be moved
# to the top like the rest (the cycle test below covers it already).
NOT_YET: tuple[str, ...] = ()
# The first floor (docs/architecture.md, "Floors"): what `petition` may take from
# `organizing`. `organizing.models` may be a module or a package of table modules.
FLOOR_ONE = ("organizing.models", "organizing.audit")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve(module: str, node: ast.ImportFrom | ast.Import, is_package: bool) -> list[str]:
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


def _imports(modules: dict[str, Path]) -> tuple[dict[str, set[str]], list[str]]:
    graph: dict[str, set[str]] = {}
    hidden: list[str] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text())
        is_package = path.name == "__init__.py"
        graph[module] = set()
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                graph[module] |= {t for t in _resolve(module, node, is_package) if t in modules}
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if function.name == "ready":
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    targets = [t for t in _resolve(module, node, is_package) if t in modules]
                    if targets:
                        hidden.append(f"{module}:{node.lineno} imports {targets[0]}")
    return graph, hidden


def _every_import(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `module` imports anywhere: at the top, in ready(), in a function."""
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found |= {t for t in _resolve(module, node, is_package) if t in modules}
    return found


def _above_floor_one(graph: dict[str, set[str]]) -> list[str]:
    """Imports from `petition` into `organizing` beyond its base tables and audit recorder.
    The package `organizing` itself is allowed: `from organizing import audit` names it."""

    def allowed(target: str) -> bool:
        return (
            not target.startswith("organizing.")
            or target in FLOOR_ONE
            or target.startswith(tuple(f"{floor}." for floor in FLOOR_ONE))
        )

    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module == "petition" or module.startswith("petition.")
        for target in targets
        if not allowed(target)
    )


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
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


def test_no_module_imports_inside_a_function():
    _graph, hidden = _imports(_modules())
    assert [h for h in hidden if not h.startswith(NOT_YET)] == []


def test_the_project_modules_import_each_other_without_a_cycle():
    graph, _hidden = _imports(_modules())
    assert graph["petition.credentials"] >= {"petition.tasks"}  # the graph sees imports
    assert _cycle(graph) is None


def test_petition_takes_from_organizing_only_its_tables_and_audit():
    modules = _modules()
    graph = {m: _every_import(m, path, modules) for m, path in modules.items()}
    assert "organizing.audit" in graph["petition.services"]  # the graph sees the floor
    assert _above_floor_one(graph) == []


def test_the_floor_rule_refuses_a_petition_module_reaching_up():
    graph = {
        "petition.services": {"organizing.models", "organizing.audit", "petition.models"},
        "petition.tables": {"organizing.models.flyers"},  # once models is a package
        "petition.views": {"organizing", "organizing.access"},
        "petition.codes": {"organizing.auditchain", "organizing.flyers.models"},
        "organizing.views": {"organizing.forms", "petition.services"},  # the floor above
    }
    assert _above_floor_one(graph) == [
        "petition.codes imports organizing.auditchain",
        "petition.codes imports organizing.flyers.models",
        "petition.views imports organizing.access",
    ]
