"""The package's architecture (README, Layout): imports run one way, command line → studies → report machinery,
embedding, learning → data, and no module imports a module that imports it back, directly or through others."""
from pathlib import Path

import networkx as nx
import pytest

from rnalib.report.pages import PACKAGE_ROOT, module_file, rnalib_imports

WINGS = {"data": 0, "embedding": 1, "learning": 1, "report": 1, "interactions": 2, "localization": 2, "cli": 3,
         "__main__": 4, "__init__": 4}
"""A wing's rank: a module imports only from lower ranks and from its own wing."""


def dotted(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> nx.DiGraph:
    """Module files → the module files they import (at the top or inside functions). A package's own
    ``__init__`` and those above it are left out: Python runs them before any module inside them."""
    graph = nx.DiGraph()
    for path in sorted(root.rglob("*.py")):
        name = dotted(path, root)
        graph.add_node(path)
        above = {".".join(name.split(".")[:k]) for k in range(1, name.count(".") + 2)}
        for imported in rnalib_imports(path.read_text(), name, path.name == "__init__.py"):
            parts = imported.split(".")
            for k in range(1, len(parts) + 1):
                target = ".".join(parts[:k])
                target_file = module_file(target, root)
                if target not in above and target_file is not None and target_file != path:
                    graph.add_edge(path, target_file)
    return graph


def wing(path: Path, root: Path) -> str:
    first = path.relative_to(root).parts[0]
    return first.removesuffix(".py")


def test_no_module_imports_a_module_that_imports_it_back():
    graph = import_graph(PACKAGE_ROOT)
    assert graph.number_of_edges() > 40  # the walk sees the package's imports
    cycles = [[str(p.relative_to(PACKAGE_ROOT)) for p in c] for c in nx.simple_cycles(graph)]
    assert cycles == []


def upward(graph: nx.DiGraph, root: Path) -> list[str]:
    """Imports from a wing into another wing of the same or a higher rank."""
    return [f"{a.relative_to(root)} imports {b.relative_to(root)}" for a, b in graph.edges
            if wing(a, root) != wing(b, root) and WINGS[wing(a, root)] <= WINGS[wing(b, root)]]


def test_imports_run_one_way_between_wings():
    graph = import_graph(PACKAGE_ROOT)
    assert set(WINGS) == {wing(p, PACKAGE_ROOT) for p in graph}, "a new wing needs its rank here"
    assert upward(graph, PACKAGE_ROOT) == []


def test_the_walk_finds_a_cycle_through_a_lazy_import_and_an_upward_import(tmp_path):
    root = tmp_path / "rnalib"
    (root / "embedding").mkdir(parents=True)
    (root / "interactions").mkdir()
    for init in (root / "__init__.py", root / "embedding" / "__init__.py", root / "interactions" / "__init__.py"):
        init.write_text("")
    (root / "data.py").write_text("")
    (root / "embedding" / "embed.py").write_text("from rnalib import data\n\ndef f():\n    from .windows import g\n")
    (root / "embedding" / "windows.py").write_text("from .embed import f\nfrom rnalib.interactions import study\n")
    (root / "interactions" / "study.py").write_text("from rnalib.embedding.embed import f\n")
    graph = import_graph(root)
    cycles = {frozenset(p.name for p in c) for c in nx.simple_cycles(graph)}
    assert frozenset({"embed.py", "windows.py"}) in cycles
    assert frozenset({"embed.py", "windows.py", "study.py"}) in cycles
    assert upward(graph, root) == ["embedding/windows.py imports interactions/__init__.py",
                                   "embedding/windows.py imports interactions/study.py"]
    assert not graph.has_edge(root / "embedding" / "embed.py", root / "__init__.py")  # the package above is not an edge


@pytest.mark.parametrize("name", ["interactions", "localization", "report", "embedding", "learning"])
def test_each_wing_exposes_what_its_notebooks_use(name):
    import importlib

    package = importlib.import_module(f"rnalib.{name}")
    assert package.__doc__ and package.__all__
    assert all(callable(getattr(package, n)) or not n.islower() for n in package.__all__)
