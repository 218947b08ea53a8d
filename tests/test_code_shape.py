"""organizing/ keeps its floors: no two of its rooms (top-level modules and sub-packages)
import each other, directly or round about (scripts/code_shape.py defines and prints it)."""

from scripts import code_shape as shape


def test_no_import_inside_organizing_runs_back_up():
    found = shape.modules()
    graph = shape.import_graph(found)
    assert graph["organizing.flyers.views"] >= {"organizing.access"}  # the graph sees imports
    assert shape.back_up_arrows(graph, found) == []


def test_two_rooms_importing_each_other_round_about_run_back_up():
    graph = {
        "organizing.access": {"organizing.models"},
        "organizing.models": set(),
        "organizing.forms": {"organizing.flyers.views", "organizing.access"},
        "organizing.flyers.views": {"organizing.access", "organizing.flyers.rules"},
        "organizing.flyers.rules": {"organizing.forms"},  # back up into forms: a loop
    }
    assert shape.back_up_arrows(graph, {}) == [
        ("organizing.flyers.rules", "organizing.forms"),
        ("organizing.forms", "organizing.flyers.views"),
    ]
