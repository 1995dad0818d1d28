import numpy as np
import pandas as pd
import pytest

from rnalib import sampling


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


def test_c1_is_a_random_pair_split():
    split = sampling.split_pairs(toy_positives(), "C1", seed=0)
    counts = split.role.value_counts()
    assert counts["test"] == round(72 * 0.1) and counts["val"] == round((72 - 7) * 0.2) and "dropped" not in counts


def test_c2_every_held_out_pair_has_exactly_one_unseen_rna():
    for seed in range(5):
        split = sampling.split_pairs(toy_positives(seed=seed), "C2", seed=seed)
        train, val, test = (split[split.role == r] for r in ("train", "val", "test"))
        assert len(test) and len(val)
        seen = rnas(train) | rnas(val)
        assert all((a in seen) != (b in seen) for a, b in zip(test.id_x, test.id_y))
        assert all((a in rnas(train)) != (b in rnas(train)) for a, b in zip(val.id_x, val.id_y))


def test_c3_shares_no_rna_between_splits():
    for seed in range(5):
        split = sampling.split_pairs(toy_positives(seed=seed), "C3", seed=seed)
        train, val, test = (split[split.role == r] for r in ("train", "val", "test"))
        assert len(train) and len(val) and len(test)
        assert not rnas(test) & (rnas(train) | rnas(val))
        assert not rnas(val) & rnas(train)


def test_unknown_protocol():
    with pytest.raises(ValueError, match="unknown split protocol"):
        sampling.split_pairs(toy_positives(), "C4")


@pytest.mark.parametrize("weighting", ["uniform", "degree"])
def test_negatives_are_valid_and_independent_of_worker_count(weighting):
    pos = toy_positives()
    forbidden = set(pos.pair_key)
    one = sampling.sample_negatives(pos, forbidden, ratio=3, weighting=weighting, seed=5, workers=1,
                                    block_size=64)
    many = sampling.sample_negatives(pos, forbidden, ratio=3, weighting=weighting, seed=5, workers=7,
                                     block_size=64)
    pd.testing.assert_frame_equal(one, many)
    assert len(one) == 3 * len(pos)
    keys = [sampling.pair_key(a, b) for a, b in zip(one.id_x, one.id_y)]
    assert len(set(keys)) == len(keys) and not set(keys) & forbidden
    assert (one.id_x != one.id_y).all()
    assert set(one.id_x) <= set(pos.id_x) and set(one.id_y) <= set(pos.id_y)
    other_seed = sampling.sample_negatives(pos, forbidden, ratio=3, weighting=weighting, seed=6, block_size=64)
    assert not one.equals(other_seed)


def test_degree_weighting_follows_positive_degrees():
    rows = [("hub", f"y{j}") for j in range(20)] + [(f"x{i}", f"y{20 + i}") for i in range(40)]
    pos = pd.DataFrame(rows, columns=["id_x", "id_y"])
    pos["pair_key"] = [sampling.pair_key(a, b) for a, b in rows]
    forbidden = set(pos.pair_key)
    uniform = sampling.sample_negatives(pos, forbidden, ratio=1, weighting="uniform", seed=0)
    degree = sampling.sample_negatives(pos, forbidden, ratio=1, weighting="degree", seed=0)
    # the hub holds a third of all positive pairs: degree weighting gives it far more negatives than uniform
    assert (degree.id_x == "hub").sum() > 3 * (uniform.id_x == "hub").sum()


def test_short_supply_of_negatives_warns():
    pos = toy_positives(n_x=2, n_y=4, edges_per_x=3)
    with pytest.warns(UserWarning, match="negatives exist"):
        neg = sampling.sample_negatives(pos, set(pos.pair_key), ratio=20, seed=0, max_blocks=5, block_size=32)
    assert len(neg) == 2 * 4 - len(pos)


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


@pytest.mark.filterwarnings("ignore:.*negatives exist")  # small toy splits run short; asserted elsewhere
@pytest.mark.parametrize("protocol", sampling.PROTOCOLS)
def test_built_dataset_has_no_leakage(protocol):
    pos = toy_positives(n_x=20, n_y=60, edges_per_x=8)
    data = sampling.build_dataset(pos, protocol, ratio=4, seed=1, workers=3)
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
    assert sampling.build_dataset(pos, protocol, ratio=4, seed=1, workers=1).equals(data)


@pytest.mark.filterwarnings("ignore:.*negatives exist")
def test_training_degrees_count_original_train_positives():
    pos = toy_positives()
    data = sampling.build_dataset(pos, "C1", ratio=2, seed=0)
    degrees = sampling.training_degrees(data)
    train = pos[pos.pair_key.isin(data[(data.role == "train") & (data.label == 1)].pair_key)]
    assert degrees.sum() == 2 * len(train)
    assert degrees["x0"] == (train.id_x == "x0").sum()
