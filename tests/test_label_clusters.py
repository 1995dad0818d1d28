"""θ clusters of label combinations (rnalib.localization.labels): every candidate definition on small hand-made label sets."""
import numpy as np
import pandas as pd
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from rnalib.localization import labels
from rnalib.data import LOC_CLASSES

A, B, C, D = "110000", "100000", "000001", "111000"  # {N,E}, {N}, {ER}, {N,E,Cy}: J(A,B)=1/2, J(A,D)=2/3, J(B,D)=1/3


def records_from(spec: list[tuple[str, int]]) -> pd.DataFrame:
    """Records carrying each 6-digit combination ``count`` times, in the order given."""
    rows = [[int(c) for c in combo] for combo, count in spec for _ in range(count)]
    frame = pd.DataFrame(rows, columns=list(LOC_CLASSES))
    return frame


@pytest.fixture
def abcd():
    return records_from([(A, 3), (B, 2), (D, 1), (C, 1)])


def counts(records, definition, theta, strict=False, **kw):
    return len(labels.cluster_members(records, definition, theta, strict=strict, **kw))


def test_jaccard_and_combination_order():
    combos, n = labels.combination_counts(np.array([[0, 1], [1, 1], [1, 1], [0, 0], [0, 1], [0, 0]]))
    assert combos.tolist() == [[1, 1], [0, 1], [0, 0]] and n.tolist() == [2, 2, 2]  # ties: binary string, desc
    sim = labels.jaccard(np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0], [0, 0, 0]]))
    assert sim[0, 1] == 0.5 and sim[0, 2] == 0.0 and sim[2, 3] == 1.0  # two empty sets count as identical
    assert labels.combination_counts(np.array([[0, 0], [1, 0]]), drop_empty=True)[0].tolist() == [[1, 0]]


@pytest.mark.parametrize("theta, expected", [
    # definition: (θ=0.3, θ=0.5, θ=0.8) on A×3, B×2, D×1, C×1
    (0.3, {"components": 2, "single_linkage": 2, "complete_linkage": 2, "average_linkage": 2,
           "average_linkage_sequences": 2, "leader_first_frequency": 2, "leader_best_frequency": 2,
           "maximal_cliques": 2, "neighbourhoods": 2}),
    (0.5, {"components": 2, "single_linkage": 2, "complete_linkage": 3, "average_linkage": 3,
           "average_linkage_sequences": 3, "leader_first_frequency": 2, "leader_best_frequency": 2,
           "maximal_cliques": 3, "neighbourhoods": 4}),
    (0.8, {d: 4 for d in labels.CLUSTER_DEFINITIONS}),
])
def test_definitions_on_hand_made_set(abcd, theta, expected):
    for definition, n in expected.items():
        assert counts(abcd, definition, theta) == n, definition


def test_details_of_hand_made_set(abcd):
    # θ = 0.3: complete linkage merges A+D (2/3) first, then B (min 1/3 ≥ 0.3); ER alone
    top = labels.cluster_members(abcd, "complete_linkage", 0.3)
    assert top["members"].tolist() == [f"{A} {B} {D}", C] and top["sequences"].tolist() == [6, 1]
    # θ = 0.5: neighbourhoods A:{A,B,D}, B:{A,B}, D:{A,D}, C:{C}; cliques {A,B}, {A,D}, {C} overlap on A
    cliques = labels.cluster_members(abcd, "maximal_cliques", 0.5)
    assert sorted(cliques["members"]) == sorted([f"{A} {B}", f"{A} {D}", C])
    # B to A+D: sequence-weighted average (3·1/2 + 1·1/3)/4 = 0.458, unweighted (1/2 + 1/3)/2 = 0.417
    assert counts(abcd, "average_linkage_sequences", 0.45) == 2 and counts(abcd, "average_linkage", 0.45) == 3
    assert counts(abcd, "average_linkage_sequences", 0.46) == 3 and counts(abcd, "average_linkage", 0.41) == 2


def test_strict_threshold(abcd):
    # J(A,B) = 0.5 exactly: joined with ≥, not with >
    assert counts(abcd, "components", 0.5) == 2 and counts(abcd, "components", 0.5, strict=True) == 3
    assert counts(abcd, "leader_first_frequency", 0.5, strict=True) == 3
    assert counts(abcd, "components", 2 / 3) == 3 and counts(abcd, "components", 2 / 3, strict=True) == 4


def test_leader_first_vs_best_and_visit_order():
    # leaders N (5) and E+Cy+R (4) are far apart; N+E+Cy (1) is 1/3 from N and 2/4 from E+Cy+R
    recs = records_from([("100000", 5), ("011100", 4), ("111000", 1)])
    first = labels.cluster_members(recs, "leader_first_frequency", 0.3)
    best = labels.cluster_members(recs, "leader_best_frequency", 0.3)
    assert set(first["members"]) == {"100000 111000", "011100"}
    assert set(best["members"]) == {"100000", "011100 111000"}
    # file order: the rare combination comes first and leads; both others join it at θ = 0.3
    recs_file = records_from([("111000", 1), ("100000", 5), ("011100", 4)])
    assert counts(recs_file, "leader_first_file", 0.3) == 1 and counts(recs_file, "leader_first_frequency", 0.3) == 2


def test_agglomerative_matches_scipy_without_ties():
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(3, 12))
        dist = squareform(rng.random(n * (n - 1) // 2))
        sim = 1 - dist
        ones = np.ones(n, dtype=int)
        for method in ("single", "complete", "average"):
            z = linkage(squareform(dist, checks=False), method=method)
            for theta in (0.2, 0.5, 0.7):
                ours = labels.CLUSTER_DEFINITIONS[f"{method}_linkage"](sim, ones, theta, False)
                assert len(ours) == len(set(fcluster(z, t=1 - theta, criterion="distance"))), (method, theta)


def test_sequence_weighted_average_is_average_over_sequences():
    """Weighting combinations by counts equals UPGMA on the sequences themselves (duplicates at distance 0)."""
    rng = np.random.default_rng(5)
    combos = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [1, 1, 1], [0, 0, 1]])
    sim = labels.jaccard(combos)
    for _ in range(10):
        n = rng.integers(1, 5, size=len(combos))
        expanded = np.repeat(np.arange(len(combos)), n)
        # tiny jitter breaks ties the same way for both (distances between distinct combinations only)
        jitter = squareform(rng.random(len(combos) * (len(combos) - 1) // 2) * 1e-6)
        s = sim - jitter
        d_seq = 1 - s[np.ix_(expanded, expanded)]
        np.fill_diagonal(d_seq, 0)
        d_seq[expanded[:, None] == expanded[None, :]] = 0
        z = linkage(squareform(d_seq, checks=False), method="average")
        for theta in (0.3, 0.45, 0.6):
            ours = labels.CLUSTER_DEFINITIONS["average_linkage_sequences"](s, n, theta, False)
            assert len(ours) == len(set(fcluster(z, t=1 - theta, criterion="distance"))), theta


def test_min_size_and_counts_table(abcd):
    table = labels.cluster_counts(abcd, ["components", "complete_linkage"], thetas=(0.3, 0.5, 0.8))
    assert table.loc["components"].tolist() == [2, 2, 4] and table.loc["complete_linkage"].tolist() == [2, 3, 4]
    big = labels.cluster_counts(abcd, ["complete_linkage"], thetas=(0.5, 0.8), min_size=2)
    assert big.loc["complete_linkage"].tolist() == [2, 2]  # at 0.8: A (3) and B (2); D and C have 1 sequence


def test_label_sets_from_raw_label7():
    # label7 = Nu Ex Cytosol Cytoplasm Ri Me ER; six-class Cytosol = Cytosol | Cytoplasm
    recs = pd.DataFrame({"label7": ["1011000", "1001000", "0100000", "0000000"]})
    recs[list(LOC_CLASSES)] = [[1, 0, 1, 0, 0, 0], [1, 0, 1, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]]
    assert len(labels.combination_counts(labels.label_set_matrix(recs, "6"))[0]) == 3
    assert len(labels.combination_counts(labels.label_set_matrix(recs, "7"))[0]) == 4
    only = labels.label_set_matrix(recs, "6_cytosol_only")
    assert only.tolist()[1] == [1, 0, 0, 0, 0, 0]  # Cytoplasm-only record loses its cytosol flag
    assert counts(recs, "components", 0.8, label_set="7") == 4
    assert counts(recs, "components", 0.8, label_set="7", drop_empty=True) == 3
    with pytest.raises(ValueError, match="label7"):
        labels.label_set_matrix(recs.drop(columns="label7"), "7")
    with pytest.raises(ValueError, match="unknown label set"):
        labels.label_set_matrix(recs, "5")
    with pytest.raises(ValueError, match="unknown cluster definition"):
        labels.cluster_members(recs, "kmeans", 0.5)


def test_cluster_search_finds_a_planted_target(abcd):
    found = labels.cluster_search(abcd, target={0.3: 2, 0.5: 3, 0.8: 4}, label_sets=("6",), min_sizes=(1, 2))
    hits = found[found["match"]]
    assert {"complete_linkage", "average_linkage", "maximal_cliques"} <= set(hits["definition"])
    assert "components" not in set(hits.loc[~hits["strict"], "definition"])
    assert found["abs_error"].is_monotonic_increasing and (found["distinct"] == 4).all()


def test_folds_scope():
    recs = records_from([(A, 2), (B, 2), (C, 2)]).assign(accession=[f"a{k}" for k in range(6)])
    folds = pd.DataFrame({"fold0": ["train", "test", "train", "val", "train", "train"]},
                         index=pd.Index([f"a{k}" for k in range(6)], name="accession"))
    found = labels.cluster_search(recs, folds, target={0.8: 3}, label_sets=("6",), min_sizes=(1,),
                                  definitions=("components",))
    assert set(found["scope"]) == {"all", "fold0:train", "fold0:train+val"}
    train = found[(found["scope"] == "fold0:train") & ~found["strict"]]
    assert train["θ=0.8"].tolist() == [3] and train["distinct"].tolist() == [3]


def test_real_data_bound_and_components(bundled_data):
    """On DM3Loc's data: 43 distinct six-class combinations (< 46, Table 3's count at θ = 0.8); connected
    components of close combinations give one cluster at θ = 0.3 and 0.5."""
    from rnalib import data

    recs = data.load_dm3loc()
    assert len(labels.combination_counts(labels.label_set_matrix(recs, "6"))[0]) == 43
    assert len(labels.combination_counts(labels.label_set_matrix(recs, "7"))[0]) == 58
    table = labels.cluster_counts(recs, ["components"])
    assert table.loc["components"].tolist() == [1, 1, 29]


def test_tie_order_counts(abcd):
    # A, B, D, C: no ties in J that change complete linkage here, so every order gives the same counts
    table = labels.tie_order_counts(abcd, "complete_linkage", "6", orders=20)
    assert len(table) == 1 and table.loc[0, "orders"] == 20
    assert [table.loc[0, f"θ={t}"] for t in (0.3, 0.5, 0.8)] == [2, 3, 4]
