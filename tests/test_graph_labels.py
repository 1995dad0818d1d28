import networkx as nx
import pandas as pd
import pytest

from rnalib import data
from rnalib.interactions import graph
from rnalib.localization import labels


def pairs_frame(edges, negatives=()):
    rows = [(a, b, 1) for a, b in edges] + [(a, b, 0) for a, b in negatives]
    frame = pd.DataFrame(rows, columns=["id_x", "id_y", "label"])
    frame["Category_x"], frame["Category_y"] = "miRNA", "lncRNA"
    frame["length_x"], frame["length_y"] = 22, 500
    return frame


def test_graph_table_by_hand():
    # a star m1 -> l1..l4, a separate edge m2 - l5; a negative pair adds nothing
    frame = pairs_frame([("m1", "l1"), ("m1", "l2"), ("m1", "l3"), ("m1", "l4"), ("m2", "l5")],
                        negatives=[("m2", "l9")])
    g = graph.interaction_graph(frame)
    table = graph.graph_table(g)
    assert table["nodes"] == 7 and table["edges"] == 5
    assert table["density"] == pytest.approx(5 / (7 * 6 / 2))
    assert table["connected"] is False and table["components"] == 2 and table["largest component (nodes)"] == 5
    assert table["average degree"] == pytest.approx(10 / 7) and table["median degree"] == 1
    assert table["max degree"] == 4 and table["min degree"] == 1
    assert table["nodes with degree 1"] == 6 and table["nodes with degree 2-5"] == 1
    assert table["nodes with degree > 10"] == 0
    assert g.nodes["m1"]["category"] == "miRNA" and g.nodes["l1"]["length"] == 500


def test_degree_table_and_components():
    frame = pairs_frame([("m1", f"l{i}") for i in range(12)] + [("m2", "x1"), ("m2", "x2")])
    g = graph.interaction_graph(frame)
    degrees = graph.degree_table(g)
    assert degrees.iloc[0].tolist() == ["m1", "miRNA", 12]
    assert graph.graph_table(g)["nodes with degree > 10"] == 1
    parts = graph.largest_components(g, k=2, max_nodes=5)
    assert [p.number_of_nodes() for p in parts] == [5, 3]
    assert "m1" in parts[0]
    assert all(isinstance(p, nx.Graph) for p in parts)


def test_label_statistics():
    records = pd.DataFrame({"accession": ["a", "b", "c"], "Nucleus": [1, 1, 0], "Exosome": [1, 0, 1],
                            "Cytosol": [0, 0, 1], "Ribosome": 0, "Membrane": 0, "ER": [0, 0, 1]})
    assert labels.class_counts(records).tolist() == [2, 2, 1, 0, 0, 1]
    assert labels.labels_per_sequence(records).to_dict() == {1: 1, 2: 1, 3: 1}
    co = labels.cooccurrence(records)
    assert co.loc["Nucleus", "Exosome"] == 1 and co.loc["Exosome", "Cytosol"] == 1 and co.loc["ER", "ER"] == 1
    assert (co.to_numpy() == co.to_numpy().T).all()
    assert labels.label_combinations(records).to_dict() == {"Nucleus+Exosome": 1, "Nucleus": 1,
                                                            "Exosome+Cytosol+ER": 1}
    folds = pd.DataFrame({"fold0": ["train", "test", "val"]}, index=["a", "b", "c"])
    sizes = labels.fold_class_sizes(records, folds)
    assert sizes.loc[("fold0", "train"), "Nucleus"] == 1 and sizes.loc[("fold0", "test"), "Exosome"] == 0
    assert sizes["total"].tolist() == [1, 1, 1]
    assert list(sizes.columns[:6]) == list(data.LOC_CLASSES)
