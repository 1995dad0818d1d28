"""Homologues across DM3Loc-style folds (rnalib.interactions.families.fold_homologue_share), on a tiny synthetic set."""
import random

import pandas as pd
import pytest

from rnalib.interactions import families
from test_families import mutate, random_rna  # the same synthetic-sequence helpers


@pytest.fixture(scope="module")
def synthetic():
    """A and A2 (A with 2% point mutations); B unrelated; E unrelated; H = a mutated 400-nt piece of E + 200
    random nt (an alignment to E covers 2/3 of H); R unrelated."""
    rng = random.Random(11)
    a, b, e, r = (random_rna(rng, 600) for _ in range(4))
    seqs = {"A": a, "A2": mutate(rng, a, 0.02), "B": b, "E": e, "H": mutate(rng, e[:400], 0.02) + random_rna(rng, 200),
            "R": r}
    records = pd.DataFrame({"accession": list(seqs), "sequence": list(seqs.values())})
    folds = pd.DataFrame({
        #           A       A2       B        E        H       R
        "fold0": ["test", "train", "test", "train", "test", "val"],
        "fold1": ["test", "val", "train", "train", "train", "test"],
    }, index=pd.Index(list(seqs), name="accession"))
    return records, folds


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNALIB_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_mutated_copy_found_unrelated_not(synthetic, private_cache):
    records, folds = synthetic
    table = families.fold_homologue_share(records, folds, min_seq_id=0.8, coverage=0.8, loose=(0.5, 0.5))
    fold0 = table.set_index("fold").loc[0]
    # fold 0 test = A (copy A2 in train), B (nothing), H (2/3 covered by E: loose only)
    assert fold0["n_test"] == 3 and fold0["n_reference"] == 2
    assert fold0["n_close"] == 1 and fold0["share_close"] == pytest.approx(1 / 3)
    assert fold0["n_loose"] == 2 and fold0["share_loose"] == pytest.approx(2 / 3)
    # fold 1: A's copy is in val, not train; R is unrelated
    fold1 = table.set_index("fold").loc[1]
    assert fold1["n_test"] == 2 and fold1["n_close"] == 0 and fold1["n_loose"] == 0
    with_val = families.fold_homologue_share(records, folds, reference=("train", "val")).set_index("fold")
    assert with_val.loc[1, "n_close"] == 1 and with_val.loc[1, "n_reference"] == 4
    assert table.attrs["close"] == {"identity": 0.8, "query_coverage": 0.8}
    assert table.attrs["search"]["threads"] == 1


def test_one_cached_search_serves_every_fold(synthetic, private_cache, monkeypatch):
    records, folds = synthetic
    calls = []
    real = families.search_hits

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(families, "search_hits", counting)
    first = families.fold_homologue_share(records, folds)
    assert len(calls) == 1 and first.attrs["search"]["cached"] is False
    assert first.attrs["search"]["wall_seconds"] >= 0 and "mmseqs_cpu_seconds" in first.attrs["search"]
    assert list(private_cache.glob("homology/allvsall-*.csv.gz")) and list(private_cache.glob("homology/*.json"))

    def boom(*args, **kwargs):
        raise AssertionError("the cached search must be reused")

    monkeypatch.setattr(families, "search_hits", boom)
    again = families.fold_homologue_share(records, folds, min_seq_id=0.9, coverage=0.5)
    assert again.attrs["search"]["cached"] is True
    assert again["n_test"].tolist() == first["n_test"].tolist()
    # a changed sequence is a different search
    changed = records.assign(sequence=records["sequence"].where(records["accession"] != "R", "ACGT" * 150))
    with pytest.raises(AssertionError, match="cached search"):
        families.fold_homologue_share(changed, folds)


def test_test_coverage_read_from_both_directions():
    """A hit found train→test counts with the *test* sequence's coverage (tcov), one found test→train with qcov."""
    hits = pd.DataFrame({"query": ["tr1", "te2", "te3"], "target": ["te1", "tr2", "tr3"],
                         "fident": [0.95, 0.9, 0.6], "qcov": [0.3, 0.9, 0.9], "tcov": [0.9, 0.3, 0.9],
                         "bits": [100, 100, 50]})
    flags = families.homologue_flags(["te1", "te2", "te3", "te4"], ["tr1", "tr2", "tr3"], hits,
                                     [(0.8, 0.8), (0.5, 0.5)])
    assert flags["id0.8_cov0.8"].tolist() == [True, True, False, False]
    assert flags["id0.5_cov0.5"].tolist() == [True, True, True, False]
    # references outside the fold's training part do not count
    none = families.homologue_flags(["te1"], ["tr2"], hits, [(0.5, 0.5)])
    assert not none.iloc[0, 0]
