"""The code's shape: no import cycle between the project's modules, no import hidden
inside a function to work around one (AppConfig.ready() excepted: Django's way to load
signal handlers and checks), and the floors of docs/architecture.md: `petition` stands on
the base tables and the audit recorder of `organizing`, and on nothing else of it. The
imports are read by scripts/code_shape.py, the project's one reader of its own imports."""

from __future__ import annotations

from scripts import code_shape
from scripts.code_shape import every_import, find_cycle, import_graph, imports_in_functions

# Landed with its function-local imports while this rule was being introduced; to be moved
# to the top like the rest (the cycle test below covers it already).
NOT_YET: tuple[str, ...] = ()
# The first floor (docs/architecture.md, "Floors"): what `petition` may take from
# `organizing`. `organizing.models` may be a module or a package of table modules.
FLOOR_ONE = ("organizing.models", "organizing.audit")


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


def test_no_module_imports_inside_a_function():
    hidden = imports_in_functions(code_shape.modules())
    assert [h for h in hidden if not h.startswith(NOT_YET)] == []


def test_the_project_modules_import_each_other_without_a_cycle():
    graph = import_graph(code_shape.modules())
    assert graph["petition.credentials"] >= {"petition.tasks"}  # the graph sees imports
    assert find_cycle(graph) is None


def test_petition_takes_from_organizing_only_its_tables_and_audit():
    graph = every_import(code_shape.modules())
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


def test_the_readers_see_a_cycle_and_an_import_hidden_in_a_function(tmp_path, monkeypatch):
    """The readers above can fail: on a small package written here."""
    package = tmp_path / "petition"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("from petition.c import thing\n")
    (package / "c.py").write_text("def thing():\n    from .a import x\n    return x\n")
    (package / "apps.py").write_text("class C:\n    def ready(self):\n        from . import c\n")
    monkeypatch.setattr(code_shape, "ROOT", tmp_path)
    monkeypatch.setattr(code_shape, "PACKAGES", ("petition",))
    found = code_shape.modules()
    assert imports_in_functions(found) == ["petition.c:2 imports petition.a"]
    assert find_cycle(import_graph(found)) is None  # c imports a only in a function
    assert find_cycle(every_import(found)) == [
        "petition.a",
        "petition.b",
        "petition.c",
        "petition.a",
    ]
