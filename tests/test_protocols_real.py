"""Split protocols and their negatives on the real bundled pairs (every positive pair ≤ 1,022 nt, seed 0)."""
import warnings

import pandas as pd
import pytest

from rnalib import data, interactions
from rnalib.interactions import sampling

PROTOCOLS = sampling.PROTOCOLS


@pytest.fixture(scope="module")
def positives():
    import os
    from pathlib import Path
    root = os.environ.get(data.DATA_ENV)
    if not root or not Path(root).is_dir():
        pytest.skip(f"{data.DATA_ENV} is not set to the bundled data folder")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.DataWarning)
        return sampling.unique_positive_pairs(data.length_filter(data.load_interactions(None), 1022))


@pytest.fixture(scope="module")
def families(positives):
    return interactions.rna_families(positives, min_seq_id=0.8, coverage=0.5)


@pytest.fixture(scope="module")
def built(positives, families):
    out = {}
    for protocol in PROTOCOLS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            out[protocol] = sampling.build_dataset(positives, protocol, seed=0, families=families)
        out[protocol].attrs["warnings"] = [str(w.message) for w in caught]
    return out


def originals(dataset):
    return sampling.original_pairs(dataset)


def seen_in_training(dataset):
    orig = originals(dataset)
    return sampling.seen_rnas(orig[(orig.role == "train") & (orig.label == 1)])


def test_seed_families_group_mirnas_with_the_same_seed(families, positives):
    seqs = dict(zip(positives.id_x, positives.seq_x))
    mirna = families[families.str.startswith("seed:")]
    assert len(mirna) == positives.id_x.nunique()  # every x partner of ncRNAInter is a miRNA
    assert all(families[i] == "seed:" + seqs[i][1:8] for i in mirna.index)
    assert mirna.nunique() < len(mirna)  # some miRNAs share a seed


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_no_pair_twice_and_never_a_positive_as_negative(built, positives, protocol):
    orig = originals(built[protocol])
    assert not orig.pair_key.duplicated().any()  # no pair in two splits (nor twice in one)
    negatives = orig[orig.label == 0]
    assert not set(negatives.pair_key) & set(positives.pair_key)
    assert (negatives.id_x != negatives.id_y).all()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_realised_ratio_per_split(built, protocol):
    structure = sampling.structure(built[protocol])
    ratio = structure["negatives per positive"].dropna()
    assert ratio["train"].item() == pytest.approx(20, abs=0.01) or any("train" in w for w in
                                                                        built[protocol].attrs["warnings"])
    assert ratio["val"].item() == pytest.approx(ratio["test"].item(), rel=0.01)  # matched prevalence
    assert ratio["test"].item() >= 7  # full data: no split falls far below the nominal 1:20
    if protocol in ("C1", "C1m"):
        assert ratio.tolist() == pytest.approx([20, 20, 20], abs=0.01)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_negatives_carry_unseen_rnas_as_often_as_positives(built, protocol):
    structure = sampling.structure(built[protocol])
    for role in sampling.ROLES:
        pos, neg = structure.loc[(role, "positive")], structure.loc[(role, "negative")]
        for share in ("both seen", "one seen", "none seen"):
            assert neg[share] == pytest.approx(pos[share], abs=0.005), (role, share)


def test_c1_test_split_has_few_unseen_rnas_in_both_classes(built):
    structure = sampling.structure(built["C1"])
    assert 0 < structure.loc[("test", "positive"), "any unseen"] < 0.15
    assert structure.loc[("test", "negative"), "any unseen"] < 0.15


def test_c2_every_held_out_pair_has_exactly_one_partner_in_training(built):
    orig = originals(built["C2"])
    seen = seen_in_training(built["C2"])
    held = orig[orig.role != "train"]
    n_seen = held.id_x.isin(seen).astype(int) + held.id_y.isin(seen).astype(int)
    assert (n_seen == 1).all() and set(held.label) == {0, 1}


@pytest.mark.parametrize("protocol", ["C3", "C4"])
def test_cold_protocols_share_no_rna_and_c4_no_family(built, families, protocol):
    orig = originals(built[protocol])
    rnas = {r: set(p.id_x) | set(p.id_y) for r, p in orig.groupby("role")}
    assert not rnas["test"] & (rnas["train"] | rnas["val"]) and not rnas["val"] & rnas["train"]
    if protocol == "C4":
        fams = {r: set(families[list(v)]) for r, v in rnas.items()}
        assert not fams["test"] & (fams["train"] | fams["val"]) and not fams["val"] & fams["train"]
    else:  # C3 is disjoint by sequence only: same-seed siblings of test miRNAs remain in training
        fams = {r: set(families[list(v)]) for r, v in rnas.items()}
        assert fams["test"] & fams["train"]


def test_c1m_trains_on_c3s_number_of_pairs(built):
    count = lambda d: int(((originals(d).role == "train") & (originals(d).label == 1)).sum())  # noqa: E731
    assert count(built["C1m"]) == count(built["C3"]) < count(built["C1"])
    test = lambda d: set(originals(d).query("role == 'test' and label == 1").pair_key)  # noqa: E731
    assert test(built["C1m"]) == test(built["C1"])


def test_same_seed_same_split(positives, built):
    again = sampling.build_dataset(positives, "C2", seed=0)
    pd.testing.assert_frame_equal(again, built["C2"])
    other = sampling.build_dataset(positives, "C2", seed=1)
    assert not set(originals(other).query("role == 'test'").pair_key) == set(
        originals(built["C2"]).query("role == 'test'").pair_key)


def test_c4_leaves_no_close_relative_in_training_c3_does(built):
    c4 = families_summary(built["C4"])
    assert c4["mirna_with_seed_sibling"] == 0
    assert c4["long_with_kmer_containment_ge"] == 0  # isoforms sharing exons are linked into one family
    assert c4["long_with_identity_coverage_ge"] == 0
    c3 = families_summary(built["C3"])
    assert c3["mirna_with_seed_sibling"] > 0.2  # C3 is disjoint by sequence only


def families_summary(dataset):
    from rnalib.interactions import families
    return families.summarize_residual(interactions.residual_similarity(dataset), containment=0.5)
