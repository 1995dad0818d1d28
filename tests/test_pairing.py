import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from rnalib.data import rna_id
from rnalib.embedding.cache import EmbeddingCache
from rnalib.interactions import pairing, sampling

LET7 = "UGAGGUAGUAGGUUGUAUAGUU"  # hsa-let-7a-5p; seed nt 2-8 GAGGUAG, its target site CUACCUC


def features(mirna, target, **kw):
    return dict(zip(pairing.FEATURES, pairing.pair_interaction_features(mirna, target, **kw)))


@pytest.mark.parametrize("site, kind", [
    ("CUACCUCA", "8mer"),         # nt 2-8 + A at t1
    ("CUACCUCG", "7mer-m8"),      # nt 2-8, t1 not A
    ("GUACCUCA", "7mer-A1"),      # nt 2-7 + A, nt-8 position mismatched (G, not C)
    ("GUACCUCG", "6mer"),         # nt 2-7 only
    ("CUACCUG", "offset 6mer"),   # nt 3-8, nt-2 position mismatched (G, not C)
])
def test_each_canonical_site_type(site, kind):
    target = "GGGG" + site + "GGGG"
    sites = pairing.canonical_sites(LET7, target)
    assert [s[0] for s in sites] == [kind]
    f = features(LET7, target)
    assert f["best_site_rank"] == pairing.SITE_RANK[kind] and f["n_" + kind.replace(" ", "_").replace("-", "_").lower()] == 1
    first_matched = 6 if kind in ("7mer-A1", "6mer") else 5  # 1-based: the nt-8 (or nt-7) partner
    assert f["best_site_start"] == first_matched and f["sites_per_kb"] == pytest.approx(1000 / len(target))


def test_site_at_the_very_3_prime_end_has_no_t1():
    assert pairing.canonical_sites(LET7, "GGGGCUACCUC") == [("7mer-m8", 10)]  # would be an 8mer with an A after
    assert pairing.canonical_sites(LET7, "GGGGGUACCUC") == [("6mer", 10)]     # would be a 7mer-A1
    assert pairing.canonical_sites(LET7, "GGGGCUACCUCA") == [("8mer", 10)]


def test_overlapping_sites_keep_the_better_one_and_separate_sites_all_count():
    overlapping = "GG" + "CUACCUCUACCUCA" + "GG"  # a 7mer-m8 and an 8mer sharing one nucleotide
    assert pairing.canonical_sites(LET7, overlapping) == [("8mer", 14)]
    separate = "GG" + "CUACCUCG" + "GGGG" + "CUACCUCA" + "GG"
    assert [k for k, _ in pairing.canonical_sites(LET7, separate)] == ["7mer-m8", "8mer"]
    f = features(LET7, separate)
    assert (f["n_8mer"], f["n_7mer_m8"], f["best_site_rank"], f["best_site_start"]) == (1, 1, 5, 15)


def test_a_site_overlapping_an_n_is_not_counted():
    assert pairing.canonical_sites(LET7, "GGCUACCNCAGG") == []
    assert pairing.canonical_sites(LET7, "GGCUACCUCNGG") == []  # t1 unknown: 8mer or 7mer-m8?
    f = features(LET7, "GGCUACCNCAGG")
    assert f["best_site_rank"] == 0 and np.isnan(f["best_site_start"]) and f["n_8mer"] == 0


def test_pairs_without_a_mirna_get_nan_seed_features_not_zero():
    rng = np.random.default_rng(0)
    a, b = ("".join(rng.choice(list("ACGU"), 80)) for _ in range(2))
    f = features(a, b, cat_x="lncRNA", cat_y="pseudo")
    assert all(np.isnan(f[name]) for name in pairing.SEED_FEATURES)
    assert f["duplex_mfe"] < 0 and f["duplex_x_start"] >= 1
    assert pairing.seed_match_scores(pd.DataFrame([f]))[0] == 0.0


def test_three_prime_supplementary_pairing():
    full = pairing.revcomp(LET7)[:-1] + "A"  # pairs nt 2-22, A at t1: nt 9-22 contiguous
    kind, anchor = pairing.canonical_sites(LET7, full)[0]
    assert kind == "8mer"
    assert pairing.supplementary_3p(LET7, full, anchor) == pytest.approx(4 * 1.0 + 10 * 0.5)
    seed_only = "GGGGGGGGGGGGGGGGG" + "CUACCUCA"
    assert pairing.supplementary_3p(LET7, seed_only, pairing.canonical_sites(LET7, seed_only)[0][1]) < 1.5


def test_duplex_energy_matches_viennarna():
    # let-7a against its perfect complement. RNAduplex (the command line) is not in the viennarna wheel nor in
    # Debian's apt here; the value is ViennaRNA 2.8.0's RNA.duplexfold, the function RNAduplex runs:
    #   python -c "import RNA; print(RNA.duplexfold('UGAGGUAGUAGGUUGUAUAGUU', 'AACUAUACAACCUACUACCUCA').energy)"
    f = features(LET7, pairing.revcomp(LET7))
    assert f["duplex_mfe"] == pytest.approx(-35.6)
    assert (f["duplex_x_start"], f["duplex_x_end"], f["duplex_y_start"], f["duplex_y_end"]) == (1, 22, 1, 22)
    # inside a longer RNA: the windows find the duplex and report its place
    long = "G" * 300 + pairing.revcomp(LET7) + "G" * 300
    g = features(LET7, long)
    assert g["duplex_mfe"] <= -35.6 + 1e-6 and 295 <= g["duplex_y_start"] <= 305


def test_a_sequence_viennarna_cannot_read_names_the_pair():
    with pytest.raises(ValueError, match="pair7: ViennaRNA cannot read y"):
        pairing.pair_interaction_features(LET7, "ACGUXACGU", name="pair7")


def _tiny_pairs(n=30, seed=0):
    rng = np.random.default_rng(seed)
    mirnas = ["".join(rng.choice(list("ACGU"), 22)) for _ in range(6)]
    rows = []
    for i in range(n):
        mir = mirnas[i % 6]
        target = "".join(rng.choice(list("ACGU"), int(rng.integers(150, 300))))
        target = target[:50] + pairing.revcomp(mir[1:8]) + "A" + target[50:]
        rows.append((mir, target))
    return rows


def test_augmented_copies_keep_the_original_features(tmp_path):
    rows = _tiny_pairs()
    pos = pd.DataFrame({"seq_x": [r[0] for r in rows], "seq_y": [r[1] for r in rows]})
    pos = pos.assign(id_x=pos["seq_x"].map(rna_id), id_y=pos["seq_y"].map(rna_id), cat_x="miRNA", cat_y="lncRNA")
    pos["pair_key"] = [sampling.pair_key(a, b) for a, b in zip(pos["id_x"], pos["id_y"])]
    pos = pos.drop_duplicates("pair_key").reset_index(drop=True)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = sampling.build_dataset(pos, "C1", ratio=1, seed=0)
    feats = pairing.for_dataset(dataset, EmbeddingCache(tmp_path), progress=False)
    assert set(dataset["augmentation"]) == set(sampling.AUGMENTATIONS)
    for _, group in feats.groupby(dataset["pair_key"].to_numpy()):
        assert (group.nunique(dropna=False) == 1).all()
    swapped = dataset["augmentation"] == "swapped"
    direct = pairing.pair_interaction_features(dataset.loc[swapped, "seq_y"].iloc[0], dataset.loc[swapped, "seq_x"].iloc[0])
    np.testing.assert_allclose(feats[swapped].iloc[0].to_numpy(), direct.astype(np.float32), equal_nan=True)


def test_cache_returns_identical_features_and_computes_nothing_the_second_time(tmp_path):
    rows = _tiny_pairs(12)
    xs, ys = [r[0] for r in rows], [r[1] for r in rows]
    first_cache = EmbeddingCache(tmp_path)
    first = pairing.interaction_features_cached(xs, ys, cache=first_cache, progress=False)
    assert first_cache.written == len(set(rows))
    second_cache = EmbeddingCache(tmp_path)
    second = pairing.interaction_features_cached(xs, ys, cache=second_cache, progress=False)
    assert second_cache.written == 0
    pd.testing.assert_frame_equal(first, second)


def test_seed_match_baseline_ranks_pairs_built_with_sites_first():
    rng = np.random.default_rng(3)
    mirnas = ["".join(rng.choice(list("ACGU"), 22)) for _ in range(8)]
    rows, labels = [], []
    for i in range(80):
        mir = mirnas[i % 8]
        target = "".join(rng.choice(list("ACGU"), 400))
        if i % 2 == 0:  # a positive: one 8mer site
            target = target[:200] + pairing.revcomp(mir[1:8]) + "A" + target[200:]
        rows.append(pairing.pair_interaction_features(mir, target))
        labels.append(1 - i % 2)
    table = pd.DataFrame(rows, columns=list(pairing.FEATURES))
    auroc = roc_auc_score(labels, pairing.seed_match_scores(table))
    assert auroc > 0.9
    assert pairing.model_matrix(table).shape == (80, len(pairing.MODEL_FEATURES) + 2)


def test_warm_job_computes_every_combination_once(tmp_path):
    import warnings

    from rnalib.interactions import study

    rng = np.random.default_rng(7)
    mirnas = ["".join(rng.choice(list("ACGU"), 22)) for _ in range(3)]
    lncs = ["".join(rng.choice(list("ACGU"), 120)) for _ in range(4)]
    rows = [(m, l, "miRNA", "lncRNA") for i, m in enumerate(mirnas) for l in lncs[i:i + 2]]  # 6 positives
    path = tmp_path / "pairs.csv"
    pd.DataFrame(rows, columns=["RNA_sequence_x", "RNA_sequence_y", "Category_x", "Category_y"]).to_csv(path, index=False)
    params = {"pairs_csv": str(path), "split_seeds": [0, 1], "max_pairs": None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = study.warm_pair_features(params, EmbeddingCache(tmp_path / "c"), progress=False)
        second = study.warm_pair_features(params, EmbeddingCache(tmp_path / "c"), progress=False)
        halves = [study.warm_pair_features(params, EmbeddingCache(tmp_path / "d"), shard=s, shards=2, progress=False)
                  for s in (0, 1)]
    assert first["pairs"] == first["computed"] == 3 * 4 and second["computed"] == 0
    assert sorted(h["pairs"] for h in halves) == [6, 6] and sum(h["computed"] for h in halves) == 12
    # the warm job packs its shard: a page then reads the pack, not one file per pair
    packs = sorted((tmp_path / "d" / pairing.FEATURE_VERSION / "packs").glob("*.npz"))
    assert len(packs) == 2
    singles = [p for p in (tmp_path / "d" / pairing.FEATURE_VERSION).glob("??/*.npy")]
    expected = pairing.interaction_features_cached([m for m in mirnas for _ in lncs], lncs * 3, ["miRNA"] * 12,
                                                   ["lncRNA"] * 12, EmbeddingCache(tmp_path / "d"), progress=False)
    for p in singles:
        p.unlink()
    reader = EmbeddingCache(tmp_path / "d")
    from_packs = pairing.interaction_features_cached([m for m in mirnas for _ in lncs], lncs * 3, ["miRNA"] * 12,
                                                     ["lncRNA"] * 12, reader, progress=False)
    assert reader.written == 0
    pd.testing.assert_frame_equal(from_packs, expected)
