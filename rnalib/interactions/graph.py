"""Interaction graph: nodes = unique RNAs, edges = positive pairs; the paper's Table 1 statistics."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd


def interaction_graph(pairs: pd.DataFrame) -> nx.Graph:
    """Undirected graph of the positive pairs (label 1); nodes carry ``category`` and ``length``."""
    positives = pairs[pairs["label"] == 1]
    graph = nx.Graph()
    for side in ("x", "y"):
        nodes = positives[[f"id_{side}", f"Category_{side}", f"length_{side}"]].drop_duplicates(f"id_{side}")
        graph.add_nodes_from((n, {"category": c, "length": int(l)}) for n, c, l in nodes.itertuples(index=False))
    graph.add_edges_from(positives[["id_x", "id_y"]].itertuples(index=False, name=None))
    return graph


def graph_table(graph: nx.Graph) -> pd.Series:
    """Table 1 of the paper: size, density, connectivity, components and degree summary."""
    degrees = np.array([d for _, d in graph.degree()])
    components = sorted((len(c) for c in nx.connected_components(graph)), reverse=True)
    return pd.Series({
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "density": nx.density(graph),
        "connected": bool(components) and len(components) == 1,
        "components": len(components),
        "largest component (nodes)": components[0] if components else 0,
        "average degree": float(degrees.mean()) if degrees.size else 0.0,
        "median degree": float(np.median(degrees)) if degrees.size else 0.0,
        "max degree": int(degrees.max()) if degrees.size else 0,
        "min degree": int(degrees.min()) if degrees.size else 0,
        "nodes with degree 1": int((degrees == 1).sum()),
        "nodes with degree 2-5": int(((degrees >= 2) & (degrees <= 5)).sum()),
        "nodes with degree > 10": int((degrees > 10).sum()),
    }, dtype=object)


def degree_table(graph: nx.Graph) -> pd.DataFrame:
    """One row per node: id, category, degree (sorted by degree, highest first)."""
    rows = [(n, graph.nodes[n].get("category"), d) for n, d in graph.degree()]
    return (pd.DataFrame(rows, columns=["id", "category", "degree"])
            .sort_values(["degree", "id"], ascending=[False, True]).reset_index(drop=True))


def largest_components(graph: nx.Graph, k: int = 3, max_nodes: int | None = None) -> list[nx.Graph]:
    """The ``k`` largest connected components; one larger than ``max_nodes`` is cut to its top-degree nodes."""
    parts = sorted(nx.connected_components(graph), key=len, reverse=True)[:k]
    out = []
    for nodes in parts:
        sub = graph.subgraph(nodes)
        if max_nodes and sub.number_of_nodes() > max_nodes:
            top = sorted(sub.degree(), key=lambda nd: (-nd[1], nd[0]))[:max_nodes]
            sub = sub.subgraph(n for n, _ in top)
        out.append(sub.copy())
    return out
