import numpy as np
import pytest
import torch
from torch import nn

from rnalib.embedding import embed
from rnalib.localization import memory
from rnalib.embedding.cache import EmbeddingCache, embed_cached


def test_ends_layout_keeps_both_ends_in_order():
    seq = "".join("ACGU"[i % 4] for i in range(3000))
    wins = embed.window_sequences(seq, "ends", n_windows=5, window=400, n_5prime=2)
    assert wins == [seq[0:400], seq[400:800], seq[1800:2200], seq[2200:2600], seq[2600:3000]]


def test_ends_layout_slides_windows_inward_in_a_short_sequence():
    seq = "ACGUACGUAC" * 50  # 500 nt, 4 windows of 200 would need 800
    wins = embed.window_sequences(seq, "ends", n_windows=4, window=200, n_5prime=2)
    assert [len(w) for w in wins] == [200] * 4
    assert wins[0] == seq[:200] and wins[1] == seq[200:400]
    assert wins[-1] == seq[300:] and wins[-2] == seq[100:300]
    tiny = embed.window_sequences("ACGUA", "ends", n_windows=3, window=200, n_5prime=1)
    assert tiny == ["ACGUA"] * 3  # shorter than one window: every window is the whole sequence


def test_segments_layout_covers_the_sequence_once():
    seq = "ACGU" * 251  # 1,004 nt
    wins = embed.window_sequences(seq, "segments", n_windows=8)
    assert "".join(wins) == seq and len(wins) == 8
    assert max(map(len, wins)) - min(map(len, wins)) <= 1


@pytest.mark.parametrize("kwargs", [dict(layout="middle"), dict(n_windows=0), dict(n_5prime=9), dict(window=0)])
def test_bad_window_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        embed.window_sequences("ACGU", **{"layout": "ends", "n_windows": 8, "window": 10, **kwargs})


def test_windowed_embedder_blocks_are_the_windows_spectra(tmp_path):
    base = embed.KmerEmbedder(1, 2)
    emb = embed.WindowedEmbedder(base, "ends", n_windows=3, window=6, n_5prime=1, whole=False)
    seqs = ["AAAAAACCCCCCGGGGGGUUUUUU", "ACGUACGUAC"]
    out = embed_cached(emb, seqs, EmbeddingCache(tmp_path), progress=False)
    assert out.shape == (2, 3 * base.dim) == (2, emb.dim)
    blocks = out[0].reshape(3, base.dim)
    np.testing.assert_allclose(blocks[0], base.embed(["AAAAAA"])[0])
    np.testing.assert_allclose(blocks[1], base.embed(["GGGGGG"])[0])
    np.testing.assert_allclose(blocks[2], base.embed(["UUUUUU"])[0])
    assert emb.id != embed.WindowedEmbedder(base, "ends", 3, 6, 2, whole=False).id != base.id
    with_whole = embed.WindowedEmbedder(base, "ends", n_windows=3, window=6, n_5prime=1, whole=True)
    both = with_whole.embed(seqs)
    assert both.shape == (2, 4 * base.dim) and with_whole.id != emb.id
    np.testing.assert_allclose(both[:, :base.dim], base.embed(seqs))  # the global token comes first
    np.testing.assert_allclose(both[:, base.dim:], out)
    again = embed_cached(emb, seqs, EmbeddingCache(tmp_path), progress=False)  # from the cache
    np.testing.assert_array_equal(out, again)


class _Mean(nn.Module):
    """A stand-in decoder: mean over the memory's tokens of a nonlinear map (order-free, like cross-attention)."""

    def __init__(self, dim):
        super().__init__()
        self.out = nn.Linear(dim, 2)

    def forward(self, mem):
        return torch.tanh(self.out(mem)).mean(1)


def test_token_encoder_applies_one_encoder_to_each_block():
    torch.manual_seed(0)
    enc = nn.Linear(5, 4)
    enc.dim = 4
    tokens = memory.TokenEncoder(enc, n_tokens=3)
    x = torch.randn(2, 15)
    h = tokens(x)
    assert h.shape == (2, 3, 4)
    torch.testing.assert_close(h[1, 2], enc(x[1, 10:15]))
    torch.testing.assert_close(memory.Pooled(tokens)(x), h.mean(1))


def test_slices_cut_one_encoding_into_tokens():
    head = memory.MemoryHead(_Mean(4), "slices", dim=16, n_slices=4)
    torch.testing.assert_close(head(h := torch.randn(2, 1, 16)), head.decoder(h.reshape(2, 4, 4)))
    h = torch.arange(32, dtype=torch.float32).reshape(2, 1, 16)
    torch.testing.assert_close(head.memory(h)[1, 3], h[1, 0, 12:16])
    with pytest.raises(ValueError):
        memory.MemoryHead(_Mean(4), "slices", dim=16, n_slices=5)


@pytest.mark.parametrize("embedder", [embed.WindowedEmbedder(embed.KmerEmbedder(1, 3), "ends", 6, 250, 2, True),
                                      embed.WindowedEmbedder(embed.KmerEmbedder(2, 2), "segments", 5, whole=False)])
def test_windowed_embedder_is_rebuilt_from_its_id(embedder):
    again = embed.embedder_from_id(embedder.id)
    assert again.id == embedder.id and again.n_tokens == embedder.n_tokens
    seq = ["ACGUAGGCUAGCUAGCAUCGAUCGAUCGA"]
    np.testing.assert_array_equal(again.embed(seq), embedder.embed(seq))


def test_whole_token_is_cut_to_the_base_models_input_limit():
    class Limited(embed.KmerEmbedder):
        window = 8  # like RiNALMo / RNA-FM: at most 8 nt per input

        def embed(self, seqs):
            assert all(len(s) <= self.window for s in seqs), [len(s) for s in seqs]
            return super().embed(seqs)

    base = Limited(1, 1)
    seq = "AAAACCCCGGGGUUUUUUUU"
    emb = embed.WindowedEmbedder(base, "ends", n_windows=2, window=4, n_5prime=1, whole=True)
    assert emb.windows(seq) == [embed.truncate_sequence(seq, "dm3loc", 8), "AAAA", "UUUU"]
    assert emb.embed([seq]).shape == (1, 3 * base.dim)
