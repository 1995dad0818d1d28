"""Multi-label localization labels: counts, label-set sizes, co-occurrence, per-fold class sizes, and candidate
definitions of LOCAS's θ clusters of label combinations (``cluster_counts``, ``cluster_search``)."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from rnalib.data import LOC_CLASSES


def class_counts(records: pd.DataFrame, classes: tuple[str, ...] = LOC_CLASSES) -> pd.Series:
    """Number of sequences carrying each class."""
    return records[list(classes)].sum().astype(int).rename("sequences")


def labels_per_sequence(records: pd.DataFrame, classes: tuple[str, ...] = LOC_CLASSES) -> pd.Series:
    """How many sequences have 1, 2, ... labels."""
    return records[list(classes)].sum(axis=1).value_counts().sort_index().rename_axis("labels").rename("sequences")


def cooccurrence(records: pd.DataFrame, classes: tuple[str, ...] = LOC_CLASSES) -> pd.DataFrame:
    """Class × class counts of sequences carrying both (the diagonal is the class count)."""
    y = records[list(classes)].astype(int)
    return y.T @ y


def combination_name(flags, classes: tuple[str, ...] = LOC_CLASSES) -> str:
    """A label set written as 'Nucleus+Exosome' (``flags``: one truth value per class; 'none' when empty)."""
    return "+".join(c for c, on in zip(classes, flags) if on) or "none"


def combination_names(records: pd.DataFrame, classes: tuple[str, ...] = LOC_CLASSES) -> np.ndarray:
    """Each row's label set, named by ``combination_name``."""
    return np.array([combination_name(row, classes) for row in records[list(classes)].to_numpy().astype(bool)])


def label_combinations(records: pd.DataFrame, classes: tuple[str, ...] = LOC_CLASSES) -> pd.Series:
    """Distinct label sets, written as 'Nucleus+Exosome', with their sequence counts."""
    return pd.Series(combination_names(records, classes)).value_counts().rename("sequences")


def fold_class_sizes(records: pd.DataFrame, folds: pd.DataFrame,
                     classes: tuple[str, ...] = LOC_CLASSES) -> pd.DataFrame:
    """Sequences per class in each fold's train / val / test part (rows fold × role, columns classes)."""
    y = records.set_index("accession")[list(classes)]
    blocks = {}
    for fold in [c for c in folds.columns if c.startswith("fold")]:
        for role in ("train", "val", "test"):
            members = folds.index[folds[fold] == role]
            block = y.loc[members].sum()
            block["total"] = len(members)
            blocks[(fold, role)] = block
    return pd.DataFrame(blocks).T.rename_axis(["fold", "role"]).astype(int)


# --------------------------------------------------------------------------- θ clusters of label combinations
#
# LOCAS (Table 3) reports 13 / 18 / 46 "clusters" at θ = 0.3 / 0.5 / 0.8 without defining them. The functions
# below count clusters of the distinct label combinations under several candidate definitions, so that one
# search (``cluster_search``) can tell which definition, if any, reproduces those counts on this data.

LABEL_SETS = {
    "6": None,  # the six paper classes (``classes``, default LOC_CLASSES; Cytosol = Cytosol ∪ Cytoplasm)
    "7": (0, 1, 2, 3, 4, 5, 6),  # DM3Loc's raw 7-digit label (Nu, Ex, Cytosol, Cytoplasm, Ri, Me, ER)
    "6_cytosol_only": (0, 1, 2, 4, 5, 6),  # raw label without Cytoplasm: Cytosol = the 7-digit Cytosol column
}
"""Label sets a combination is read from: name -> positions in the 7-digit ``label7`` string (None: class columns)."""

PUBLISHED_CLUSTER_COUNTS = {0.3: 13, 0.5: 18, 0.8: 46}
"""LOCAS Table 3 (published): number of clusters per θ."""

CLOSEST_TO_PUBLISHED = {"definition": "complete_linkage", "label_set": "7", "strict": False}
"""The option set closest to LOCAS's 13 / 18 / 46 (no exact match: see ``cluster_search``): complete linkage
(distance 1 − J cut at 1 − θ) of DM3Loc's raw 7-digit label combinations, J ≥ θ. Ties in J make its counts depend
on the merge order (``tie_order_counts``); with the six paper classes there are only 43 distinct combinations, so
no partition of them reaches 46."""

_TOL = 1e-9


def label_set_matrix(records: pd.DataFrame, label_set: str = "6",
                     classes: tuple[str, ...] = LOC_CLASSES) -> np.ndarray:
    """(n, L) 0/1 matrix of each record's labels in ``label_set`` (see ``LABEL_SETS``)."""
    if label_set not in LABEL_SETS:
        raise ValueError(f"unknown label set {label_set!r} (choose {', '.join(LABEL_SETS)})")
    positions = LABEL_SETS[label_set]
    if positions is None:
        return records[list(classes)].to_numpy().astype(np.int8)
    if "label7" not in records:
        raise ValueError(f"label set {label_set!r} needs the raw 7-digit 'label7' column")
    raw = np.array([[int(c) for c in str(s)] for s in records["label7"]], dtype=np.int8)
    return raw[:, list(positions)]


def combination_counts(labels: np.ndarray, drop_empty: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a 0/1 matrix and their counts, most frequent first (ties: the binary string, descending).
    ``drop_empty`` leaves out the all-zero combination."""
    labels = np.asarray(labels).astype(np.int8)
    if drop_empty:
        labels = labels[labels.sum(axis=1) > 0]
    if len(labels) == 0:
        return np.zeros((0, labels.shape[1]), dtype=np.int8), np.zeros(0, dtype=int)
    combos, counts = np.unique(labels, axis=0, return_counts=True)
    keys = ["".join(map(str, row)) for row in combos]
    order = sorted(range(len(combos)), key=lambda k: (-counts[k], tuple(-int(c) for c in keys[k])))
    return combos[order], counts[order]


def jaccard(combos: np.ndarray) -> np.ndarray:
    """Pairwise Jaccard index of 0/1 rows (LOCAS Algorithm 1: Σmin/Σmax); two empty sets count as 1."""
    import torch

    from rnalib.learning.losses import jaccard_matrix  # the contrastive loss's own definition, in float64

    return jaccard_matrix(torch.as_tensor(np.asarray(combos), dtype=torch.float64)).numpy()


def _close(sim, theta: float, strict: bool):
    """Similarity passes θ: ``>= θ`` (Algorithm 1), or ``> θ`` when ``strict``; tolerant of rounding."""
    return sim > theta + _TOL if strict else sim >= theta - _TOL


def _components(sim, counts, theta, strict, order=None):
    graph = nx.from_numpy_array(_close(sim, theta, strict).astype(int))
    return [sorted(c) for c in nx.connected_components(graph)]


def _agglomerative(linkage: str, weighted: bool):
    """Agglomerative clustering in similarity space (distance 1 − J), stopped before the first merge whose
    linkage similarity fails θ. Linkage ``single`` (max), ``complete`` (min), ``average`` (mean over member pairs,
    each combination counted once or, ``weighted``, once per sequence carrying it). Ties: the pair with the
    smallest indices in the frequency order merges first."""

    def run(sim, counts, theta, strict, order=None):
        n = len(sim)
        clusters = {k: [k] for k in range(n)}
        size = np.asarray(counts, dtype=float).copy() if weighted else np.ones(n)
        link = np.array(sim, dtype=float)  # cluster × cluster linkage similarity (Lance-Williams updates)
        alive = np.ones(n, dtype=bool)
        while alive.sum() > 1:
            masked = np.where(np.triu(np.outer(alive, alive), k=1), np.round(link, 12), -np.inf)
            a, b = np.unravel_index(int(np.argmax(masked)), masked.shape)  # first maximum: smallest (a, b)
            if not _close(link[a, b], theta, strict):
                break
            if linkage == "single":
                merged = np.maximum(link[a], link[b])
            elif linkage == "complete":
                merged = np.minimum(link[a], link[b])
            else:
                merged = (size[a] * link[a] + size[b] * link[b]) / (size[a] + size[b])
            link[a, :], link[:, a] = merged, merged
            size[a] += size[b]
            alive[b] = False
            clusters[a] = sorted(clusters[a] + clusters.pop(b))
        return [clusters[k] for k in sorted(clusters)]

    return run


def _leader(rule: str, order_by: str):
    """Greedy leader clustering: combinations are visited in ``order_by`` order (``frequency``: most sequences
    first; ``file``: first appearance in the records); each joins the ``first`` leader (in creation order) — or
    the ``best`` (most similar; ties: earliest) — whose Jaccard passes θ, else it becomes a new leader."""

    def run(sim, counts, theta, strict, order=None):
        visit = list(range(len(sim))) if order_by == "frequency" or order is None else list(order)
        leaders: list[int] = []
        members: dict[int, list[int]] = {}
        for k in visit:
            ok = [ld for ld in leaders if _close(sim[k, ld], theta, strict)]
            if not ok:
                leaders.append(k)
                members[k] = [k]
                continue
            target = ok[0] if rule == "first" else max(ok, key=lambda ld: (sim[k, ld], -leaders.index(ld)))
            members[target].append(k)
        return [sorted(members[ld]) for ld in leaders]

    return run


def _cliques(sim, counts, theta, strict, order=None):
    """Maximal cliques of the θ graph (they overlap: a combination can sit in several)."""
    graph = nx.from_numpy_array(_close(sim, theta, strict).astype(int))
    graph.remove_edges_from(nx.selfloop_edges(graph))
    return [sorted(c) for c in nx.find_cliques(graph)]


def _neighbourhoods(sim, counts, theta, strict, order=None):
    """Distinct positive sets: combinations grouped by the set of combinations within θ of them (Algorithm 1's
    P(i), up to i itself)."""
    close = _close(sim, theta, strict)
    groups: dict[tuple, list[int]] = {}
    for k in range(len(sim)):
        groups.setdefault(tuple(np.flatnonzero(close[k])), []).append(k)
    return list(groups.values())


CLUSTER_DEFINITIONS = {
    "components": _components,
    "single_linkage": _agglomerative("single", False),
    "complete_linkage": _agglomerative("complete", False),
    "average_linkage": _agglomerative("average", False),
    "average_linkage_sequences": _agglomerative("average", True),
    "leader_first_frequency": _leader("first", "frequency"),
    "leader_best_frequency": _leader("best", "frequency"),
    "leader_first_file": _leader("first", "file"),
    "leader_best_file": _leader("best", "file"),
    "maximal_cliques": _cliques,
    "neighbourhoods": _neighbourhoods,
}
"""Candidate definitions of LOCAS's θ clusters, each a function of the combinations' Jaccard matrix.

``components``: connected components of the graph joining combinations with J ≥ θ (what
``localization.theta_clusters`` does; identical to ``single_linkage`` and to components over sequences, since
identical label sets have J = 1). ``*_linkage``: agglomerative clustering with distance 1 − J cut at 1 − θ
(``average_linkage_sequences``: every sequence is a point, i.e. combinations weighted by their counts).
``leader_*``: greedy leader clustering. ``maximal_cliques``: maximal sets of pairwise-close combinations
(overlapping). ``neighbourhoods``: combinations with the same positive set."""


def _combination_clusters(labels: np.ndarray, drop_empty: bool = False):
    """What the definitions need from a 0/1 matrix: combinations, counts, binary keys, Jaccard matrix and the
    order of first appearance in the records."""
    combos, counts = combination_counts(labels, drop_empty)
    keys = ["".join(map(str, row)) for row in combos]
    position = {k: n for n, k in enumerate(keys)}
    rows = labels if not drop_empty else labels[labels.sum(axis=1) > 0]
    seen = dict.fromkeys("".join(map(str, row)) for row in np.asarray(rows).astype(np.int8))
    return combos, counts, keys, jaccard(combos), [position[k] for k in seen]


def _cluster_frame(prepared, definition: str, theta: float, strict: bool) -> pd.DataFrame:
    if definition not in CLUSTER_DEFINITIONS:
        raise ValueError(f"unknown cluster definition {definition!r} (choose {', '.join(CLUSTER_DEFINITIONS)})")
    combos, counts, keys, sim, order = prepared
    groups = CLUSTER_DEFINITIONS[definition](sim, counts, theta, strict, order)
    rows = [{"combinations": len(g), "sequences": int(counts[g].sum()), "members": " ".join(keys[k] for k in g)}
            for g in groups]
    frame = pd.DataFrame(rows, columns=["combinations", "sequences", "members"])
    return frame.sort_values(["sequences", "members"], ascending=[False, True]).reset_index(drop=True)


def cluster_members(records: pd.DataFrame, definition: str, theta: float, label_set: str = "6",
                    strict: bool = False, drop_empty: bool = False,
                    classes: tuple[str, ...] = LOC_CLASSES) -> pd.DataFrame:
    """The clusters of one definition (``CLUSTER_DEFINITIONS``) at θ: one row per cluster with its number of
    combinations, sequences (summed over its combinations) and member combinations (binary strings in the label
    set's order), largest first. ``strict``: similarity must exceed θ (J > θ) instead of reaching it (J ≥ θ);
    ``drop_empty``: leave out records without any label."""
    if definition not in CLUSTER_DEFINITIONS:
        raise ValueError(f"unknown cluster definition {definition!r} (choose {', '.join(CLUSTER_DEFINITIONS)})")
    prepared = _combination_clusters(label_set_matrix(records, label_set, classes), drop_empty)
    return _cluster_frame(prepared, definition, theta, strict)


def cluster_counts(records: pd.DataFrame, definitions: tuple[str, ...] | list[str] | None = None,
                   thetas: tuple[float, ...] = (0.3, 0.5, 0.8), label_set: str = "6", strict: bool = False,
                   min_size: int = 1, drop_empty: bool = False,
                   classes: tuple[str, ...] = LOC_CLASSES) -> pd.DataFrame:
    """Number of clusters per definition (rows) and θ (columns), counting only clusters of at least
    ``min_size`` sequences (see ``cluster_members`` for the other options)."""
    definitions = list(definitions or CLUSTER_DEFINITIONS)
    prepared = _combination_clusters(label_set_matrix(records, label_set, classes), drop_empty)
    table = {theta: {d: int((_cluster_frame(prepared, d, theta, strict)["sequences"] >= min_size).sum())
                     for d in definitions} for theta in thetas}
    return pd.DataFrame(table).rename_axis(index="definition", columns="θ")


def cluster_search(records: pd.DataFrame, folds: pd.DataFrame | None = None,
                   target: dict[float, int] | None = None, label_sets: tuple[str, ...] = ("6", "7", "6_cytosol_only"),
                   min_sizes: tuple[int, ...] = (1, 2, 3, 5, 10, 20), scopes: tuple[str, ...] | None = None,
                   definitions: tuple[str, ...] | list[str] | None = None,
                   classes: tuple[str, ...] = LOC_CLASSES) -> pd.DataFrame:
    """Cluster counts under every combination of options, compared with ``target`` (default: LOCAS Table 3).

    Options: ``scope`` (``all`` records, or with ``folds`` (``data.load_dm3loc_folds``) ``fold<k>:train`` or
    ``fold<k>:train+val``), label set, strict (J > θ) or not (J ≥ θ), the all-zero combination kept or dropped
    (only where one exists), definition, and the minimum cluster size in sequences. One row per option set with
    the counts per θ, ``distinct`` (combinations in scope), ``abs_error`` (summed |count − target|) and
    ``match`` (all equal), best first."""
    target = dict(target or PUBLISHED_CLUSTER_COUNTS)
    thetas = tuple(target)
    if scopes is None:
        scopes = ("all",) if folds is None else ("all", *(f"fold{k}:{part}" for k in range(
            sum(c.startswith("fold") for c in folds.columns)) for part in ("train", "train+val")))
    rows = []
    for scope in scopes:
        if scope == "all":
            subset = records
        else:
            if folds is None:
                raise ValueError(f"scope {scope!r} needs folds")
            fold, part = scope.split(":")
            roles = folds[fold].reindex(records["accession"]).to_numpy()
            subset = records[np.isin(roles, part.split("+"))]
        for label_set in label_sets:
            if LABEL_SETS[label_set] is not None and "label7" not in subset:
                continue
            labels = label_set_matrix(subset, label_set, classes)
            has_empty = bool((labels.sum(axis=1) == 0).any())
            for drop_empty in ((False, True) if has_empty else (False,)):
                prepared = _combination_clusters(labels, drop_empty)
                distinct = len(prepared[0])
                for strict in (False, True):
                    for definition in (definitions or CLUSTER_DEFINITIONS):
                        sizes = {t: _cluster_frame(prepared, definition, t, strict)["sequences"].to_numpy()
                                 for t in thetas}
                        for min_size in min_sizes:
                            counts = {t: int((sizes[t] >= min_size).sum()) for t in thetas}
                            rows.append({"scope": scope, "label_set": label_set, "strict": strict,
                                         "drop_empty": drop_empty, "definition": definition,
                                         "min_size": min_size, "distinct": distinct,
                                         **{f"θ={t}": counts[t] for t in thetas},
                                         "abs_error": sum(abs(counts[t] - target[t]) for t in thetas),
                                         "match": all(counts[t] == target[t] for t in thetas)})
    frame = pd.DataFrame(rows)
    return frame.sort_values(["abs_error", "scope", "label_set", "definition", "min_size"],
                             kind="stable").reset_index(drop=True)


def tie_order_counts(records: pd.DataFrame, definition: str = "complete_linkage", label_set: str = "7",
                     thetas: tuple[float, ...] = (0.3, 0.5, 0.8), strict: bool = False, orders: int = 300,
                     seed: int = 0, classes: tuple[str, ...] = LOC_CLASSES) -> pd.DataFrame:
    """How much the counts of an order-dependent definition (agglomerative with tied J, leader) move when the
    combinations are visited in ``orders`` random orders: one row per distinct count tuple with how many orders
    gave it, most frequent first."""
    combos, counts, keys, sim, _ = _combination_clusters(label_set_matrix(records, label_set, classes))
    rng = np.random.default_rng(seed)
    seen: dict[tuple[int, ...], int] = {}
    for _ in range(orders):
        p = rng.permutation(len(combos))
        sub = sim[np.ix_(p, p)]
        key = tuple(len(CLUSTER_DEFINITIONS[definition](sub, counts[p], t, strict, list(range(len(p)))))
                    for t in thetas)
        seen[key] = seen.get(key, 0) + 1
    rows = [{**{f"θ={t}": k for t, k in zip(thetas, key)}, "orders": n} for key, n in seen.items()]
    return pd.DataFrame(rows).sort_values("orders", ascending=False).reset_index(drop=True)
