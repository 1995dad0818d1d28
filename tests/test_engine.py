import numpy as np
import pytest
import torch

from rnalib.embedding import embed, engine
from rnalib.embedding.cache import EmbeddingCache, embed_cached

TINY = dict(layers=2, embed_dim=32, ffn_embed_dim=64, attention_heads=4)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = embed.random_rnafm_checkpoint(tmp_path_factory.mktemp("w") / "tiny.pth", seed=2, **TINY)
    model, alphabet = embed.load_rnafm_checkpoint(path)
    return path, model, alphabet


def random_seqs(lengths, seed=0):
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGU"), n)) for n in lengths]


def test_plan_windows_cover_every_nucleotide():
    windows = engine.plan_windows([5, 10, 23], window=10, stride=6)
    assert [w for w in windows if w.seq < 2] == [engine.Window(0, 0, 5), engine.Window(1, 0, 10)]
    long = [(w.start, w.end) for w in windows if w.seq == 2]
    assert long == [(0, 10), (6, 16), (12, 22), (13, 23)]
    covered = np.zeros(23, int)
    for s, e in long:
        covered[s:e] += 1
    assert covered.min() >= 1
    with pytest.raises(ValueError):
        engine.plan_windows([5], window=10, stride=11)


def test_token_batches_respect_the_budget():
    windows = engine.plan_windows([3, 50, 7, 20, 48, 5, 1000], window=1000, stride=1000)
    batches = engine.token_batches(windows, max_tokens=120)
    assert sorted(i for b in batches for i in b) == list(range(len(windows)))
    for b in batches:
        longest = max(windows[i].length for i in b) + 2
        assert len(b) * longest <= 120 or len(b) == 1
    assert batches[0] == [6]  # longer than the budget: alone


def test_sdpa_path_reproduces_rnafm_attention(tiny):
    _, model, alphabet = tiny
    seqs = random_seqs([40, 17, 3])
    _, _, tokens = alphabet.get_batch_converter()([("", s) for s in seqs])  # padded batch
    with torch.inference_mode():
        reference = model(tokens, repr_layers=[2])["representations"][2]
        fused = engine.sdpa_forward(model, tokens)
    real = tokens.ne(alphabet.padding_idx)
    torch.testing.assert_close(fused[real], reference[real], atol=1e-5, rtol=1e-5)


def test_short_sequences_identical_with_chunking_on_or_off(tiny):
    _, model, alphabet = tiny
    seqs = random_seqs([30, 5, 90, 12], seed=1)
    on = engine.RnaFmEngine(model, alphabet, "cpu", window=100, chunking=True, max_tokens=64).embed(seqs)
    off = engine.RnaFmEngine(model, alphabet, "cpu", window=100, chunking=False, max_tokens=64).embed(seqs)
    np.testing.assert_array_equal(on, off)


@pytest.mark.parametrize("sdpa", [True, False])
def test_long_sequence_is_the_coverage_average_of_its_windows(tiny, sdpa):
    _, model, alphabet = tiny
    seq = random_seqs([47], seed=3)[0]
    window, stride = 20, 12
    eng = engine.RnaFmEngine(model, alphabet, "cpu", window=window, stride=stride, max_tokens=1000, sdpa=sdpa)
    got = eng.embed([seq])[0]
    # by hand, with rna-fm's own forward, one window at a time
    convert = alphabet.get_batch_converter()
    total, count = torch.zeros(47, 32), torch.zeros(47, 1)
    for start in (0, 12, 24, 27):
        _, _, tokens = convert([("", seq[start:start + window])])
        with torch.inference_mode():
            reps = model(tokens, repr_layers=[2])["representations"][2][0, 1:window + 1]
        total[start:start + window] += reps
        count[start:start + window] += 1
    per_nt = total / count
    expected = torch.cat([per_nt.mean(0), per_nt.amax(0)]).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)


def test_order_and_batch_invariance(tiny):
    _, model, alphabet = tiny
    seqs = random_seqs([8, 60, 25, 130, 3, 60, 41], seed=4)
    eng = engine.RnaFmEngine(model, alphabet, "cpu", window=50, stride=30, max_tokens=150, group_nt=100)
    together = eng.embed(seqs)
    for i, s in enumerate(seqs):
        np.testing.assert_allclose(eng.embed([s])[0], together[i], atol=1e-5)
    streamed = dict(eng.stream(seqs))
    assert sorted(streamed) == list(range(len(seqs)))


def test_cache_keeps_streamed_vectors_when_a_run_dies(tiny, tmp_path):
    path, _, _ = tiny
    emb = embed.RnaFmEmbedder(path, device="cpu", max_tokens=64)
    seqs = random_seqs([10, 11, 12, 13, 14, 15], seed=5)
    stream = emb.engine.stream

    def dies_after_three(pieces):
        for k, item in enumerate(stream(pieces)):
            if k == 3:
                raise KeyboardInterrupt("killed")
            yield item

    emb.stream = dies_after_three
    with pytest.raises(KeyboardInterrupt):
        embed_cached(emb, seqs, EmbeddingCache(tmp_path), progress=False)
    assert len(list(tmp_path.rglob("rna_*.npy"))) == 3
    computed = []
    emb.stream = lambda pieces: (computed.append(len(pieces)) or stream(pieces))
    out = embed_cached(emb, seqs, EmbeddingCache(tmp_path), progress=False)
    assert computed == [3]
    np.testing.assert_allclose(out, emb.engine.embed(seqs), atol=1e-6)


def test_cpu_defaults_are_fp32_and_threads_are_set(tiny):
    _, model, alphabet = tiny
    eng = engine.RnaFmEngine(model, alphabet, "cpu", threads=1)
    assert not eng.autocast and torch.get_num_threads() == 1
    engine.RnaFmEngine(model, alphabet, "cpu")
    assert torch.get_num_threads() == engine.default_threads()


def test_bf16_autocast_branch_stays_close_to_fp32(tiny):
    """The GPU path's bf16 autocast, exercised on CPU (CUDA itself cannot run here)."""
    path, model, alphabet = tiny
    seqs = random_seqs([30, 200, 64], seed=6)
    fp32 = engine.RnaFmEngine(model, alphabet, "cpu", window=100, stride=60).embed(seqs)
    bf16 = engine.RnaFmEngine(model, alphabet, "cpu", window=100, stride=60, autocast=True).embed(seqs)
    assert bf16.dtype == np.float32 and np.isfinite(bf16).all()
    assert np.corrcoef(fp32.ravel(), bf16.ravel())[0, 1] > 0.999
    np.testing.assert_allclose(bf16, fp32, atol=0.1)
    emb = embed.RnaFmEmbedder(path, device="cpu")
    emb.engine.autocast = True
    assert "-bf16-" in emb.id
