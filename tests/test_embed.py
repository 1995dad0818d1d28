import argparse
import os

import numpy as np
import pytest
import torch

from rnalib.embedding import embed

TINY = dict(layers=2, embed_dim=32, ffn_embed_dim=64, attention_heads=4)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    return embed.random_rnafm_checkpoint(tmp_path_factory.mktemp("w") / "RNA-FM_tiny.pth", seed=1, **TINY)


@pytest.fixture(scope="module")
def tiny_embedder(tiny_checkpoint):
    return embed.RnaFmEmbedder(tiny_checkpoint, device="cpu", max_tokens=256)


def test_kmer_spectrum_by_hand():
    assert embed.kmer_spectrum("ACGU", 1).tolist() == [0.25] * 4
    two = embed.kmer_spectrum("AAAC", 2)  # AA, AA, AC
    names = embed.kmer_names(2)
    assert two[names.index("AA")] == pytest.approx(2 / 3) and two[names.index("AC")] == pytest.approx(1 / 3)
    assert two.sum() == pytest.approx(1)
    # windows touching N are skipped; DNA letters count as RNA
    assert embed.kmer_spectrum("AANTT", 2)[names.index("AA")] == pytest.approx(0.5)
    assert embed.kmer_spectrum("AANTT", 2)[names.index("UU")] == pytest.approx(0.5)
    assert not embed.kmer_spectrum("A", 3).any()


def test_kmer_embedder_shape_and_id():
    emb = embed.KmerEmbedder(1, 5)
    out = emb.embed(["ACGUACGU", "GGGGGG"])
    assert out.shape == (2, 4 + 16 + 64 + 256 + 1024) and out.dtype == np.float32
    assert emb.id == "kmer-k1-5-freq-v1" and embed.KmerEmbedder(2, 3).id != emb.id
    with pytest.raises(ValueError):
        embed.KmerEmbedder(3, 2)


def test_checkpoint_is_in_upstream_format(tiny_checkpoint):
    with torch.serialization.safe_globals([argparse.Namespace]):
        raw = torch.load(tiny_checkpoint, weights_only=True)
    assert set(raw) == {"args", "model"} and isinstance(raw["args"], argparse.Namespace)
    assert raw["args"].arch == "roberta_large" and raw["args"].encoder_layers == 2
    assert all(k.startswith("encoder.") for k in raw["model"])
    assert "encoder.sentence_encoder.layers.0.self_attn.k_proj.weight" in raw["model"]
    # the safe default (weights_only=True) refuses it unless Namespace is allow-listed
    with pytest.raises(Exception, match="Namespace"):
        torch.load(tiny_checkpoint, weights_only=True)


def test_loader_builds_model_from_checkpoint(tiny_checkpoint):
    model, alphabet = embed.load_rnafm_checkpoint(tiny_checkpoint)
    assert not model.training and model.args.layers == 2 and model.args.embed_dim == 32
    assert alphabet.get_idx("U") != alphabet.unk_idx


def test_loader_never_executes_pickled_code(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    path = tmp_path / "evil.pth"
    torch.save({"args": Exploit(), "model": {}}, path)
    with pytest.raises(ValueError, match="not a loadable RNA-FM checkpoint"):
        embed.load_rnafm_checkpoint(path)
    assert not marker.exists()
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="'args' and 'model'"):
        embed.load_rnafm_checkpoint(tmp_path / "other.pth")


def test_rnafm_embedding_shape_id_and_pooling(tiny_embedder, tiny_checkpoint):
    seqs = ["ACGUAGCUAGCUAGC", "GGCAU"]
    out = tiny_embedder.embed(seqs)
    assert out.shape == (2, 64) and out.dtype == np.float32 and np.isfinite(out).all()
    assert tiny_embedder.id.startswith("rnafm-L2-d64-meanmax-w1022s1022-")
    assert embed.sha256_file(tiny_checkpoint)[:16] in tiny_embedder.id
    # pooling is over nucleotides 1..L only: recompute by hand from the model's token representations
    _, _, tokens = tiny_embedder.alphabet.get_batch_converter()([("", seqs[1])])
    with torch.inference_mode():
        reps = tiny_embedder.model(tokens, repr_layers=[2])["representations"][2][0]
    real = reps[1:1 + len(seqs[1])]
    expected = torch.cat([real.mean(0), real.max(0).values]).numpy()
    np.testing.assert_allclose(out[1], expected, rtol=1e-5, atol=1e-6)
    with_ends = torch.cat([reps[:len(seqs[1]) + 2].mean(0), reps[:len(seqs[1]) + 2].max(0).values]).numpy()
    assert not np.allclose(out[1], with_ends, atol=1e-4)


def test_padding_never_enters_pooling(tiny_embedder):
    short, longer = "ACGUUGCA", "ACGUUGCAGGCAUCGAUCGAUGCAUGCAUGCAGUCAGUCGAUG"
    alone = tiny_embedder.embed([short])
    batched = tiny_embedder.embed([longer, short])  # one padded batch under the token budget
    np.testing.assert_allclose(batched[1], alone[0], atol=1e-5)


def test_rnafm_long_sequences_are_chunked_unless_chunking_is_off(tiny_embedder, tiny_checkpoint):
    assert tiny_embedder.embed(["ACGU" * 300]).shape == (1, 64)
    strict = embed.RnaFmEmbedder(tiny_checkpoint, device="cpu", chunking=False)
    with pytest.raises(ValueError, match="chunking is off"):
        strict.embed(["A" * 1023])


def test_full_rnafm_architecture_shapes(tmp_path):
    path = embed.random_rnafm_checkpoint(tmp_path / "RNA-FM_random.pth", seed=0)
    model, _ = embed.load_rnafm_checkpoint(path)
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(99.5e6, rel=0.01)
    assert len(model.layers) == 12 and model.args.embed_dim == 640 and model.args.attention_heads == 20
    emb = embed.RnaFmEmbedder(path, device="cpu")
    assert emb.dim == 1280 and emb.window == 1022
    assert emb.embed(["ACGUACGUAGCUAGCUAGCAUCGAUCG"]).shape == (1, 1280)


def test_select_embedder(monkeypatch, tiny_checkpoint, tmp_path):
    monkeypatch.delenv(embed.WEIGHTS_ENV, raising=False)
    choice = embed.select_embedder("auto")
    assert isinstance(choice.embedder, embed.KmerEmbedder) and choice.fallback
    assert "FALLBACK" in choice.reason and embed.WEIGHTS_ENV in choice.reason
    assert choice.as_dict()["used"] == "kmer-k1-4-freq-v1"  # embed.KMER_K, the one default
    missing = embed.select_embedder("auto", weights=tmp_path / "missing.pth")
    assert missing.fallback and "not found" in missing.reason
    assert not embed.select_embedder("kmer").fallback
    monkeypatch.setenv(embed.WEIGHTS_ENV, str(tiny_checkpoint))
    found = embed.select_embedder("auto", device="cpu")
    assert isinstance(found.embedder, embed.RnaFmEmbedder) and not found.fallback
    assert f"({tiny_checkpoint.name})" in found.reason and str(tiny_checkpoint.parent) not in found.reason  # no paths
    with pytest.raises(ValueError, match="unknown embedder"):
        embed.select_embedder("bert")


def test_embedder_from_id_roundtrip(tiny_checkpoint, tmp_path):
    assert embed.embedder_from_id("kmer-k2-4-freq-v1").id == "kmer-k2-4-freq-v1"
    rebuilt = embed.embedder_from_id(embed.RnaFmEmbedder(tiny_checkpoint, device="cpu").id, tiny_checkpoint, "cpu")
    assert isinstance(rebuilt, embed.RnaFmEmbedder)
    other = embed.random_rnafm_checkpoint(tmp_path / "other.pth", seed=9, **TINY)
    with pytest.raises(ValueError, match="cannot be rebuilt"):
        embed.embedder_from_id(rebuilt.id, other, "cpu")
    with pytest.raises(ValueError, match="unknown embedder id"):
        embed.embedder_from_id("bert-1")
