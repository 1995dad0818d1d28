import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from rnalib import data
from rnalib.embedding import embed
from rnalib.embedding.cache import EmbeddingCache, embed_cached


class Counting(embed.KmerEmbedder):
    """k-mer embedder that records what it computes and can fail after a number of calls."""

    def __init__(self, fail_after_calls=None):
        super().__init__(1, 2)
        self.seen, self.calls, self.fail_after_calls = [], 0, fail_after_calls

    def embed(self, seqs):
        if self.fail_after_calls is not None and self.calls >= self.fail_after_calls:
            raise KeyboardInterrupt("killed")
        self.calls += 1
        self.seen.extend(seqs)
        return super().embed(seqs)


SEQS = ["".join(np.random.default_rng(i).choice(list("ACGU"), 30 + i)) for i in range(20)]


def test_roundtrip_order_and_duplicates(tmp_path):
    store, emb = EmbeddingCache(tmp_path), Counting()
    seqs = [SEQS[0], SEQS[1].lower().replace("u", "t"), SEQS[0]]
    out = embed_cached(emb, seqs, store, progress=False)
    assert len(emb.seen) == 2  # the duplicate (and its DNA spelling) embedded once
    np.testing.assert_array_equal(out, embed.KmerEmbedder(1, 2).embed([SEQS[0], SEQS[1], SEQS[0]]))
    again = Counting()
    np.testing.assert_array_equal(embed_cached(again, seqs, store, progress=False), out)
    assert again.seen == []
    assert store.path(emb.id, data.rna_id(SEQS[0])).is_file()


def test_interrupted_run_resumes_without_recomputing(tmp_path):
    store = EmbeddingCache(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        embed_cached(Counting(fail_after_calls=2), SEQS, store, chunk_size=4, progress=False)
    resumed = Counting()
    out = embed_cached(resumed, SEQS, store, chunk_size=4, progress=False)
    assert len(resumed.seen) == len(SEQS) - 8
    assert set(resumed.seen) == set(data.normalize_sequence(s) for s in SEQS[8:])
    np.testing.assert_array_equal(out, embed.KmerEmbedder(1, 2).embed(SEQS))


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "wrong_dim"])
def test_corrupt_entry_is_recomputed_never_returned(tmp_path, damage):
    store, emb = EmbeddingCache(tmp_path), Counting()
    key = data.rna_id(SEQS[3])
    good = embed_cached(emb, [SEQS[3]], store, progress=False)
    path = store.path(emb.id, key)
    blob = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(blob[:-7])
    elif damage == "flip":
        path.write_bytes(blob[:-3] + bytes([blob[-3] ^ 0xFF]) + blob[-2:])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        store.put(emb.id, key, np.zeros(5, dtype=np.float32))
    assert store.get(emb.id, key, emb.dim) is None and not path.exists()
    redo = Counting()
    np.testing.assert_array_equal(embed_cached(redo, [SEQS[3]], store, progress=False), good)
    assert len(redo.seen) == 1 and store.corrupt_dropped == 1


def test_writes_are_atomic(tmp_path, monkeypatch):
    store = EmbeddingCache(tmp_path)
    def crash(*args):
        raise OSError("disk gone")
    monkeypatch.setattr(data.os, "replace", crash)  # the rename of data.write_atomically, which put uses
    with pytest.raises(OSError):
        store.put("e", "rna_00", np.ones(3, dtype=np.float32))
    assert store.get("e", "rna_00") is None  # a half-written temporary file is never an entry
    assert not list(tmp_path.rglob("*.tmp"))  # nor is it left behind


def test_default_root_follows_cache_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
    assert EmbeddingCache().root == tmp_path / "embeddings"


def test_killed_process_resumes(tmp_path):
    """SIGKILL a real embedding run half-way; the rerun computes only what is missing."""
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(os.path.dirname(__file__))!r})
        from test_cache import SEQS, Counting
        from rnalib.embedding.cache import EmbeddingCache, embed_cached
        class Slow(Counting):
            def embed(self, seqs):
                time.sleep(0.2)
                return super().embed(seqs)
        embed_cached(Slow(), SEQS, EmbeddingCache({str(tmp_path)!r}), chunk_size=2, progress=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 60
    done = lambda: len(list(tmp_path.rglob("rna_*.npy")))  # noqa: E731
    while done() < 6 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = done()
    assert 6 <= finished < len(SEQS), finished
    resumed = Counting()
    out = embed_cached(resumed, SEQS, EmbeddingCache(tmp_path), progress=False)
    assert len(resumed.seen) == len(SEQS) - finished
    np.testing.assert_array_equal(out, embed.KmerEmbedder(1, 2).embed(SEQS))


def test_pack_serves_many_keys_from_one_file_and_a_corrupt_pack_is_dropped(tmp_path):
    store = EmbeddingCache(tmp_path)
    keys = [f"{i:064x}" for i in range(6)]
    for i, key in enumerate(keys):
        store.put("feat-v1", key, np.full(3, i, dtype=np.float32))
    path = store.pack("feat-v1", {key: store.get("feat-v1", key) for key in keys[:4]})
    assert store.pack("feat-v1", {key: np.zeros(3) for key in reversed(keys[:4])}) == path  # same keys: kept
    for key in keys[:4]:
        store.path("feat-v1", key).unlink()
    reader = EmbeddingCache(tmp_path)
    got = reader.get_many("feat-v1", keys + ["e" * 64])
    assert sorted(got) == keys  # four from the pack, two single entries, the absent key left out
    for i, key in enumerate(keys):
        np.testing.assert_array_equal(got[key], np.full(3, i, dtype=np.float32))
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # inside the stored arrays
    path.write_bytes(bytes(blob))
    fresh = EmbeddingCache(tmp_path)
    assert sorted(fresh.get_many("feat-v1", keys)) == keys[4:] and fresh.corrupt_dropped == 1 and not path.exists()


def test_a_pack_of_another_length_is_replaced_and_never_served(tmp_path):
    store = EmbeddingCache(tmp_path)
    keys = [f"{i:064x}" for i in range(3)]
    path = store.pack("feat-v1", {k: np.zeros(2) for k in keys})  # an older, narrower pack of the same keys
    for i, key in enumerate(keys):
        store.put("feat-v1", key, np.full(3, i, dtype=np.float32))
    reader = EmbeddingCache(tmp_path)
    assert all(v.shape == (3,) for v in reader.get_many("feat-v1", keys, 3).values())  # single entries, not the pack
    assert store.pack("feat-v1", {k: reader.get("feat-v1", k, 3) for k in keys}) == path
    assert {v.shape for v in EmbeddingCache(tmp_path).get_many("feat-v1", keys, 3).values()} == {(3,)}
    with np.load(path) as packed:
        assert packed["vectors"].shape == (3, 3)
