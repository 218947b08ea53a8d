"""organizing/ keeps its floors: no two of its rooms (top-level modules and sub-packages)
import each other, directly or round about (scripts/code_shape.py defines and prints it)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _code_shape():
    spec = importlib.util.spec_from_file_location("code_shape", ROOT / "scripts/code_shape.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_inside_organizing_runs_back_up():
    shape = _code_shape()
    found = shape.modules()
    graph = shape.import_graph(found)
    assert graph["organizing.flyers.views"] >= {"organizing.access"}  # the graph sees imports
    assert shape.back_up_arrows(graph, found) == []
