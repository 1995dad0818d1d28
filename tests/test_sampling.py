import numpy as np
import pandas as pd
import pytest

from rnalib.interactions import sampling


def toy_positives(n_x=12, n_y=30, edges_per_x=6, seed=0):
    """A bipartite miRNA-like (x) / lncRNA-like (y) positive set with known ids and sequences."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_x):
        for j in rng.choice(n_y, edges_per_x, replace=False):
            rows.append({"id_x": f"x{i}", "id_y": f"y{j}", "seq_x": "ACGU" * (i + 2), "seq_y": "GGCAU" * (j + 2),
                         "cat_x": "miRNA", "cat_y": "lncRNA"})
    frame = pd.DataFrame(rows)
    frame["pair_key"] = [sampling.pair_key(a, b) for a, b in zip(frame.id_x, frame.id_y)]
    return frame


def rnas(frame):
    return set(frame.id_x) | set(frame.id_y)


def test_unique_positive_pairs_dedupes_both_orders_and_self_pairs():
    pairs = pd.DataFrame({"id_x": ["a", "b", "a", "c"], "id_y": ["b", "a", "a", "d"], "label": [1, 1, 1, 0],
                          "RNA_sequence_x": "A", "RNA_sequence_y": "C", "Category_x": "p", "Category_y": "q"})
    out = sampling.unique_positive_pairs(pairs)
    assert out[["id_x", "id_y"]].values.tolist() == [["a", "b"]]


def test_induced_subset_keeps_all_pairs_among_chosen_rnas():
    pos = toy_positives()
    sub = sampling.induced_subset(pos, 20, seed=3)
    assert len(sub) >= 20
    chosen = rnas(sub)
    inside = pos[pos.id_x.isin(chosen) & pos.id_y.isin(chosen)]
    assert len(inside) == len(sub)


def split_roles(split):
    return (split[split.role == r] for r in ("train", "val", "test"))


def test_c1_is_a_random_pair_split():
    split = sampling.split_pairs(toy_positives(), "C1", seed=0)
    counts = split.role.value_counts()
    assert counts["test"] == round(72 * 0.1) and counts["val"] == round((72 - 7) * 0.2) and "dropped" not in counts


def test_c2_every_held_out_pair_has_exactly_one_partner_in_a_training_pair():
    for seed in range(5):
        split = sampling.split_pairs(toy_positives(seed=seed), "C2", seed=seed)
        train, val, test = split_roles(split)
        assert len(test) and len(val)
        seen = rnas(train)  # seen = in a training pair; validation RNAs are not seen
        for held in (val, test):
            assert all((a in seen) != (b in seen) for a, b in zip(held.id_x, held.id_y))


def test_c3_shares_no_rna_between_splits():
    for seed in range(5):
        split = sampling.split_pairs(toy_positives(seed=seed), "C3", seed=seed)
        train, val, test = split_roles(split)
        assert len(train) and len(val) and len(test)
        assert not rnas(test) & (rnas(train) | rnas(val))
        assert not rnas(val) & rnas(train)


def test_c4_holds_out_whole_families():
    pos = toy_positives(n_x=20, n_y=60, edges_per_x=8)
    families = pd.Series({r: f"fam{int(r[1:]) // 3}{r[0]}" for r in rnas(pos)})  # families of three RNAs
    for seed in range(3):
        split = sampling.split_pairs(pos, "C4", seed=seed, families=families)
        train, val, test = split_roles(split)
        assert len(train) and len(val) and len(test)
        fam = lambda part: set(families[list(rnas(part))])  # noqa: E731
        assert not fam(test) & (fam(train) | fam(val)) and not fam(val) & fam(train)
    with pytest.raises(ValueError, match="needs RNA families"):
        sampling.split_pairs(pos, "C4")
    with pytest.raises(ValueError, match="have no family"):
        sampling.split_pairs(pos, "C4", families=families.iloc[1:])


def test_c1m_is_c1_with_c3_training_size():
    pos = toy_positives(n_x=20, n_y=60, edges_per_x=8)
    c1, c1m, c3 = (sampling.split_pairs(pos, p, seed=2) for p in ("C1", "C1m", "C3"))
    assert (c1m.role == "train").sum() == (c3.role == "train").sum() < (c1.role == "train").sum()
    for role in ("val", "test"):
        assert c1m[c1m.role == role].pair_key.equals(c1[c1.role == role].pair_key)
    assert set(c1m[c1m.role == "train"].pair_key) <= set(c1[c1.role == "train"].pair_key)


def test_unknown_protocol():
    with pytest.raises(ValueError, match="unknown split protocol"):
        sampling.split_pairs(toy_positives(), "C9")


def negatives_of(pos, protocol="C1", ratio=3, weighting="uniform", seed=5, families=None):
    split = sampling.split_pairs(pos, protocol, seed=seed, families=families)
    return split, sampling.sample_negatives(split, set(pos.pair_key), ratio, weighting, seed)


@pytest.mark.filterwarnings("ignore:.*negatives per positive")
@pytest.mark.parametrize("weighting", ["uniform", "degree"])
def test_negatives_are_valid_unique_and_seeded(weighting):
    pos = toy_positives(n_x=20, n_y=60, edges_per_x=8)
    split, neg = negatives_of(pos, weighting=weighting)
    keys = [sampling.pair_key(a, b) for a, b in zip(neg.id_x, neg.id_y)]
    assert len(set(keys)) == len(keys)  # never twice, not even in two splits
    assert not set(keys) & set(pos.pair_key) and (neg.id_x != neg.id_y).all()
    for role in sampling.ROLES:  # x partners from the split's x side, y partners from its y side
        part, negs = split[split.role == role], neg[neg.role == role]
        assert set(negs.id_x) <= set(part.id_x) and set(negs.id_y) <= set(part.id_y)
    assert negatives_of(pos, weighting=weighting)[1].equals(neg)
    assert not negatives_of(pos, weighting=weighting, seed=6)[1].equals(neg)


@pytest.mark.filterwarnings("ignore:.*negatives per positive")
@pytest.mark.parametrize("protocol", ["C1", "C2", "C3"])
def test_negatives_follow_the_positives_seen_structure(protocol):
    pos = toy_positives(n_x=30, n_y=200, edges_per_x=10)
    split, neg = negatives_of(pos, protocol, ratio=2)
    seen = rnas(split[split.role == "train"])
    for role in sampling.ROLES:
        part, negs = split[split.role == role], neg[neg.role == role]
        strata = lambda f: pd.Series([(a in seen, b in seen) for a, b in zip(f.id_x, f.id_y)])  # noqa: E731
        ratio = len(negs) / len(part)
        # every stratum (x seen?, y seen?) holds the split's ratio of negatives per positive
        assert (strata(negs).value_counts() == (strata(part).value_counts() * ratio).round()).all(), role


def test_resolve_gives_contested_pairs_to_held_out_splits_whatever_the_order():
    rng = np.random.default_rng(0)
    codes = [rng.permutation(50)[:40] for _ in range(3)]  # train, val, test rankings over 50 pairs
    needs, ranks, ids = [15, 10, 12], [0, 1, 2], [0, 5, 9]
    picks = sampling._resolve(codes, needs, ranks, ids, seed=1)
    flipped = sampling._resolve(codes[::-1], needs[::-1], ranks[::-1], ids[::-1], seed=1)[::-1]
    chosen = [set(c[p]) for c, p in zip(codes, picks)]
    assert chosen == [set(c[p]) for c, p in zip(codes, flipped)]

    def first(ranking, n, taken):
        return set([c for c in ranking if c not in taken][:n])

    assert chosen[2] == set(codes[2][:12])  # test keeps its own first choices, as if sampled alone
    assert chosen[1] == first(codes[1], 10, chosen[2])
    assert chosen[0] == first(codes[0], 15, chosen[1] | chosen[2])


def test_degree_weighting_follows_positive_degrees():
    rows = [("hub", f"y{j}") for j in range(20)] + [(f"x{i}", f"y{20 + i}") for i in range(40)]
    pos = pd.DataFrame(rows, columns=["id_x", "id_y"]).assign(role="train")
    pos["pair_key"] = [sampling.pair_key(a, b) for a, b in rows]
    uniform = sampling.sample_negatives(pos, set(pos.pair_key), ratio=1, weighting="uniform", seed=0)
    degree = sampling.sample_negatives(pos, set(pos.pair_key), ratio=1, weighting="degree", seed=0)
    # the hub holds a third of all positive pairs: degree weighting gives it far more negatives than uniform
    assert (degree.id_x == "hub").sum() > 3 * (uniform.id_x == "hub").sum()


def test_short_supply_cuts_val_and_test_to_a_common_ratio():
    pos = toy_positives(n_x=6, n_y=10, edges_per_x=4)
    with pytest.warns(UserWarning, match="negatives per positive"):
        split, neg = negatives_of(pos, "C3", ratio=20, seed=1)
    ratios = {r: (neg.role == r).sum() / (split.role == r).sum() for r in sampling.ROLES}
    assert ratios["val"] == pytest.approx(ratios["test"], abs=0.5) and ratios["test"] < 20


def test_augmentation_variants():
    rows = toy_positives().head(2).assign(label=1, is_negative=False)
    aug = sampling.augment(rows)
    assert aug.augmentation.value_counts().to_dict() == {a: 2 for a in sampling.AUGMENTATIONS}
    first = rows.iloc[0]
    by = {r.augmentation: r for r in aug[aug.pair_key == first.pair_key].itertuples()}
    assert (by["swapped"].seq_x, by["swapped"].seq_y) == (first.seq_y, first.seq_x)
    assert (by["reversed"].seq_x, by["reversed"].seq_y) == (first.seq_x[::-1], first.seq_y[::-1])
    assert (by["swapped_reversed"].seq_x, by["swapped_reversed"].seq_y) == (first.seq_y[::-1], first.seq_x[::-1])
    assert by["reversed"].id_x != first.id_x and by["swapped"].id_x == first.id_y
    assert set(sampling.augment(rows, reverse=False).augmentation) == {"original", "swapped"}


@pytest.mark.filterwarnings("ignore:.*negatives per positive")  # small toy splits run short; asserted elsewhere
@pytest.mark.parametrize("protocol", sampling.PROTOCOLS)
def test_built_dataset_has_no_leakage(protocol):
    pos = toy_positives(n_x=20, n_y=60, edges_per_x=8)
    families = pd.Series({r: f"fam{int(r[1:]) // 3}{r[0]}" for r in rnas(pos)})
    data = sampling.build_dataset(pos, protocol, ratio=4, seed=1, families=families)
    orig = data[data.augmentation == "original"]
    positives = set(pos.pair_key)
    negatives = orig[orig.label == 0]
    assert not set(negatives.pair_key) & positives  # never a positive in either order
    assert all(a != b for a, b in zip(negatives.id_x, negatives.id_y))
    # every augmented copy of a pair stays in its pair's split
    assert (data.groupby("pair_key").role.nunique() == 1).all()
    for role in sampling.ROLES:
        part = orig[orig.role == role]
        assert set(part[part.label == 0].id_x) | set(part[part.label == 0].id_y) <= rnas(part[part.label == 1])
        assert (data[data.role == role].augmentation.value_counts() == len(part)).all()
    if protocol == "C3":
        assert not rnas(orig[orig.role == "test"]) & rnas(orig[orig.role != "test"])
    # negatives get the same augmentations as positives: no transformation marks a class
    assert data.groupby("augmentation").label.mean().nunique() == 1
    assert sampling.build_dataset(pos, protocol, ratio=4, seed=1, families=families).equals(data)
    # reversed copies keep their original ids in src_x / src_y
    rev = data[data.augmentation == "reversed"]
    assert (rev.id_x != rev.src_x).all() and set(rev.src_x) <= set(orig.id_x)


@pytest.mark.filterwarnings("ignore:.*negatives per positive")
def test_training_degrees_count_original_train_positives():
    pos = toy_positives()
    data = sampling.build_dataset(pos, "C1", ratio=2, seed=0)
    degrees = sampling.training_degrees(data)
    train = pos[pos.pair_key.isin(data[(data.role == "train") & (data.label == 1)].pair_key)]
    assert degrees.sum() == 2 * len(train)
    assert degrees["x0"] == (train.id_x == "x0").sum()


def test_negative_pool_use_counts_the_pairs_a_split_could_draw():
    """Test RNAs m3, m4 x l3, l4 (none seen): 4 candidate pairs less the 2 positives; 1 negative drawn -> 1/2.
    Train: m1, m2 x l1, l2 (both seen) less 2 positives -> 2 candidates, both drawn. A known positive that the
    protocol dropped (m4-l3) is not a candidate either: the test pool shrinks to 1."""
    rows = [("m1", "l1", 1, "train"), ("m2", "l2", 1, "train"), ("m1", "l2", 0, "train"), ("m2", "l1", 0, "train"),
            ("m3", "l3", 1, "test"), ("m4", "l4", 1, "test"), ("m3", "l4", 0, "test")]
    dataset = pd.DataFrame(rows, columns=["id_x", "id_y", "label", "role"]).assign(augmentation="original")
    known = {sampling.pair_key(a, b) for a, b, label, _ in rows if label}
    use = sampling.negative_pool_use(dataset, known).set_index("role")
    assert use.loc["test", ["negatives", "candidates", "share"]].tolist() == [1, 2, 0.5]
    assert use.loc["train", ["negatives", "candidates", "share"]].tolist() == [2, 2, 1.0]
    assert np.isnan(use.loc["val", "share"]) and use.loc["val", "candidates"] == 0
    dropped = sampling.negative_pool_use(dataset, known | {sampling.pair_key("m4", "l3")}).set_index("role")
    assert dropped.loc["test", "candidates"] == 1


@pytest.mark.filterwarnings("ignore:.*negatives per positive")
def test_negative_pools_are_what_the_sampler_exhausts():
    """With a ratio no pool can meet, a split of one stratum takes every candidate pair: as many as
    negative_pools counts, each once (unordered), never a forbidden one."""
    split = pd.DataFrame({"id_x": ["m1", "m2", "m3", "m1"], "id_y": ["l1", "l2", "l1", "m2"], "role": "train"})
    forbidden = {sampling.pair_key(a, b) for a, b in zip(split.id_x, split.id_y)} | {"l2|m3"}
    negatives = sampling.sample_negatives(split, forbidden, ratio=50)
    pools = sampling.negative_pools(split, forbidden).set_index("role")
    keys = {sampling.pair_key(a, b) for a, b in zip(negatives.id_x, negatives.id_y)}
    assert len(keys) == len(negatives) == pools.loc["train", "candidates"] and not keys & forbidden


@pytest.mark.filterwarnings("ignore:.*negatives per positive")
def test_negative_pool_use_bounds_the_sampler_and_fills_up_under_c3():
    pos = toy_positives(n_x=30, n_y=200, edges_per_x=10)
    use = {p: sampling.negative_pool_use(sampling.build_dataset(pos, p, ratio=5, seed=0),
                                         set(pos.pair_key)).set_index("role") for p in ("C1", "C3")}
    for table in use.values():
        assert (table["negatives"] <= table["candidates"]).all() and (table["share"] > 0).all()
    # C3's test split draws from its own few RNAs, C1's from nearly all of them
    assert use["C3"].loc["test", "share"] > 2 * use["C1"].loc["test", "share"]
