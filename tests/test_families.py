"""RNA families (miRNA seeds, MMseqs2 clusters) and the residual-similarity report, on synthetic sequences."""
import random

import numpy as np
import pandas as pd
import pytest

from rnalib.interactions import families


def random_rna(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ACGU") for _ in range(n))


def mutate(rng: random.Random, seq: str, rate: float) -> str:
    return "".join(rng.choice([b for b in "ACGU" if b != c]) if rng.random() < rate else c for c in seq)


@pytest.fixture(scope="module")
def abc():
    """A; A' (2% point mutations); B unrelated; C = B[100:500], a 400-nt piece of B."""
    rng = random.Random(7)
    a, b = random_rna(rng, 600), random_rna(rng, 600)
    return {"A": a, "A2": mutate(rng, a, 0.02), "B": b, "C": b[100:500]}


@pytest.fixture(scope="module", params=["search", "easy-cluster"])
def method(request):
    return request.param


@pytest.fixture(scope="module")
def abc_clusters(abc, method):
    return families.cluster_sequences(list(abc), list(abc.values()), method=method)


def test_seed_is_nucleotides_2_to_8_in_rna_letters():
    assert families.seed("UGAGGUAGUAGGUUGUAUAGUU") == "GAGGUAG"
    assert families.seed("tgaggtagtaggttgtatagtt") == "GAGGUAG"
    with pytest.raises(ValueError, match="shorter than 8"):
        families.seed("ACGU")


def test_is_mirna_uses_category_then_length():
    assert families.is_mirna("A" * 200, "miRNA")
    assert not families.is_mirna("A" * 20, "lncRNA")
    assert families.is_mirna("A" * 22, None) and not families.is_mirna("A" * 31, None)
    assert families.is_mirna("A" * 22, float("nan")) and families.is_mirna("A" * 22, pd.NA)


def test_mmseqs_failure_names_the_command():
    with pytest.raises(RuntimeError, match=r"mmseqs failed .*easy-cluster.*: .+"):
        families.run_mmseqs(["easy-cluster", "/nonexistent/in.fasta", "/nonexistent/res", "/nonexistent/tmp"])


def test_cluster_joins_near_copies_and_contained_pieces(abc_clusters):
    assert set(abc_clusters) == {"A", "A2", "B", "C"}
    assert abc_clusters["A"] == abc_clusters["A2"] == "A"  # longest member (tie: smallest id) represents
    assert abc_clusters["B"] != abc_clusters["A"]
    # Coverage of either sequence: C is fully covered by its alignment to B, so C joins B's family (no leak).
    assert abc_clusters["C"] == abc_clusters["B"] == "B"


def test_cluster_is_deterministic_and_keeps_singletons(abc, abc_clusters, method):
    shuffled = list(reversed(list(abc)))
    again = families.cluster_sequences(shuffled, [abc[i] for i in shuffled], threads=2, method=method)
    assert again == abc_clusters
    rng = random.Random(1)
    lone = families.cluster_sequences(["x", "y"], [random_rna(rng, 300), random_rna(rng, 300)], method=method)
    assert lone == {"x": "x", "y": "y"}
    assert families.cluster_sequences([], [], method=method) == {}


def test_cluster_input_errors():
    with pytest.raises(ValueError, match="duplicate id 'x'"):
        families.cluster_sequences(["x", "x"], ["ACGU" * 20, "ACGU" * 20])
    with pytest.raises(ValueError, match="unknown clustering method 'cdhit'"):
        families.cluster_sequences(["x"], ["ACGU" * 20], method="cdhit")


def test_clusters_are_closed_transitively(method):
    """X and Z each contain 500 of Y's 600 nt (83% of Y: linked to Y) but share only 400 nt with each other (44%
    of either: not linked directly); the chain still puts all three in one cluster."""
    rng = random.Random(5)
    y = random_rna(rng, 600)
    x, z = y[:500] + random_rna(rng, 400), y[100:] + random_rna(rng, 400)
    direct = families.cluster_sequences(["X", "Z"], [x, z], method=method)
    assert direct == {"X": "X", "Z": "Z"}
    chain = families.cluster_sequences(["X", "Y", "Z"], [x, y, z], method=method)
    assert chain == {"X": "X", "Y": "X", "Z": "X"}  # longest members X, Z (900 nt): smallest id represents


def test_assign_families_mixed(abc):
    ids = ["m1", "m2", "m3", *abc, "A"]
    seqs = ["UGAGGUAGUAGGUUGUAUAGUU", "UGAGGUAGUAGUUUGUGCUGUU", "UAGCUUAUCAGACUGAUGUUGA", *abc.values(), abc["A"]]
    fam = families.assign_families(ids, seqs, categories=["miRNA"] * 3 + ["lncRNA"] * 5)
    assert list(fam.index) == ["m1", "m2", "m3", "A", "A2", "B", "C"]  # duplicate "A" (same sequence) kept once
    assert fam["m1"] == fam["m2"] == "seed:GAGGUAG"
    assert fam["m3"] == "seed:AGCUUAU"
    assert fam["A"] == fam["A2"] == "clu:A" and fam["B"] == fam["C"] == "clu:B"
    no_categories = families.assign_families(ids, seqs)  # miRNAs by length (<= 30 nt)
    assert no_categories.equals(fam)


def test_assign_families_rejects_an_id_with_two_sequences():
    with pytest.raises(ValueError, match="'r1'"):
        families.assign_families(["r1", "r1"], ["ACGU" * 50, "UGCA" * 50])


def test_kmer_containment_counts_the_best_single_target():
    rng = random.Random(3)
    t1, t2 = random_rna(rng, 200), random_rna(rng, 200)
    query = t1[:100] + t2[:60]  # 70 of its 31-mers from t1, 30 from t2, 30 spanning the junction
    got = families.kmer_containment({"q": query, "short": "ACGU"}, {"t1": t1, "t2": t2})
    assert got["q"] == pytest.approx(70 / 130)
    assert got["short"] == 0.0


def test_residual_similarity_finds_close_relatives():
    rng = random.Random(11)
    train = {"L1": random_rna(rng, 700), "L2": random_rna(rng, 500),
             "m1": "UGAGGUAGUAGGUUGUAUAGUU", "m2": "UAGCUUAUCAGACUGAUGUUGA"}
    test = {"T_copy": mutate(rng, train["L1"], 0.01), "T_new": random_rna(rng, 650),
            "t_sib": "AGAGGUAGUAGGUUGUAUAGUC", "t_new": "ACCCUGUAGAUCCGAAUUUGUG"}
    frame = families.residual_similarity(list(test), list(train), {**train, **test}).set_index("id")
    assert list(frame.index) == list(test)
    assert frame.loc[["T_copy", "T_new"], "kind"].eq("long").all()
    assert frame.loc["T_copy", "best_identity"] > 0.95 and frame.loc["T_copy", "best_coverage"] > 0.95
    assert frame.loc["T_copy", "best_hit"] == "L1"
    assert frame.loc["T_copy", "kmer31_containment"] > 0.5  # 0.99 ** 31 ~ 0.73 expected
    assert frame.loc["T_new", "best_identity"] == 0.0 and frame.loc["T_new", "kmer31_containment"] == 0.0
    assert frame.loc["t_sib", "same_seed_in_train"] is True
    assert frame.loc["t_new", "same_seed_in_train"] is False
    assert frame.loc["T_copy", "same_seed_in_train"] is None
    assert np.isnan(frame.loc["t_sib", "kmer31_containment"])
    summary = families.summarize_residual(frame.reset_index())
    assert summary["mirna_with_seed_sibling"] == 0.5
    assert summary["long_with_kmer_containment_ge"] == 0.5
    assert summary["long_with_best_hit_identity_ge"] == summary["long_with_any_alignment_identity_ge"] == 0.5
    assert summary["long_with_identity_coverage_ge"] == 0.5
    assert (summary["n_mirna"], summary["n_long"]) == (2, 2)


def test_residual_similarity_counts_any_alignment_beside_the_best_hit():
    """The best hit ranks by identical residues (identity x coverage): a long 88%-identical relative outranks a
    160-nt exact copy of another training RNA, whose alignment still counts as a close relative."""
    rng = random.Random(5)
    train = {"A": random_rna(rng, 600), "B": random_rna(rng, 700)}
    test = {"T": train["A"][100:260] + mutate(rng, train["B"][:600], 0.12)}
    frame = families.residual_similarity(["T"], list(train), {**train, **test}).set_index("id")
    assert frame.loc["T", "best_hit"] == "B" and 0.8 < frame.loc["T", "best_identity"] < 0.95
    assert frame.loc["T", "max_identity"] == 1.0
    summary = families.summarize_residual(frame.reset_index(), identity=0.95)
    assert summary["long_with_any_alignment_identity_ge"] == 1.0
    assert summary["long_with_best_hit_identity_ge"] == 0.0


def test_residual_similarity_without_any_hit():
    rng = random.Random(13)
    seqs = {"train": random_rna(rng, 400), "test": random_rna(rng, 400)}
    frame = families.residual_similarity(["test"], ["train"], seqs)
    assert frame[["best_identity", "best_coverage", "max_identity", "kmer31_containment"]].iloc[0].tolist() == [0.0] * 4
    with pytest.raises(ValueError, match="no sequence for id 'other'"):
        families.residual_similarity(["other"], ["train"], seqs)


def test_best_hit_prefers_full_length_relative_over_short_perfect_fragment():
    hits = pd.DataFrame({"query": ["q", "q"], "target": ["frag", "full"], "fident": [1.0, 0.85],
                         "qcov": [0.1, 1.0], "tcov": [1.0, 1.0], "bits": [200.0, 150.0]})
    assert families.best_hits(hits).loc["q", "target"] == "full"


def test_kmer_containment_links_isoforms_that_share_exons():
    """Two 'transcripts' sharing two exons in a different order: each aligned piece covers < 50% of either
    RNA, so alignments alone keep them apart; 31-mer containment (> 0.5) links them."""
    rng = random.Random(3)
    e1, e2, u1, u2 = (random_rna(rng, n) for n in (220, 220, 260, 260))
    iso = {"T1": e1 + u1 + e2, "T2": e2 + u2 + e1}
    apart = families.cluster_sequences(list(iso), list(iso.values()), min_seq_id=0.8, coverage=0.5)
    assert apart["T1"] != apart["T2"]
    joined = families.cluster_sequences(list(iso), list(iso.values()), min_seq_id=0.8, coverage=0.5,
                                        min_kmer_containment=0.3)
    assert joined["T1"] == joined["T2"]
    assert families.kmer_containment({"T1": iso["T1"]}, {"T2": iso["T2"]})["T1"] == pytest.approx(
        (2 * (220 - 30)) / (700 - 30), abs=0.01)
