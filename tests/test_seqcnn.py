import numpy as np
import pytest
import torch
from sklearn.metrics import matthews_corrcoef

from rnalib.learning import seqcnn
from rnalib.learning.train import LocasConfig, fit_multilabel, predict_proba
from rnalib.localization import study as localization


def test_layout_keeps_both_ends_in_place():
    codes = seqcnn.encode(["ACGU", "ACGUNACGUUUA", "acgtR"], 8)  # head = 2 nt from the 5' end
    empty = seqcnn.EMPTY
    assert codes.dtype == np.uint8 and codes.shape == (3, 8)
    assert codes[0].tolist() == [0, 1, empty, empty, empty, empty, 2, 3]  # 5' pair left, the rest right-aligned
    assert codes[1].tolist() == [0, 1, 1, 2, 3, 3, 3, 0]  # 12 nt: first 2 and last 6 (ACGUUUA's last 6)
    assert codes[2].tolist() == [0, 1, empty, empty, empty, 2, 3, 4]  # lower case, T as U, R as N
    hot = seqcnn.one_hot(torch.as_tensor(codes[:1]))
    assert hot.shape == (1, 5, 8) and hot[0, :, 2].sum() == 0 and hot[0, 3, 7] == 1  # empty: all-zero
    with pytest.raises(ValueError, match="too short"):
        seqcnn.encode(["ACGU"], 2)


def _window(net: seqcnn.SeqCNN, token: int) -> range:
    """The input positions a feature-map token can see, derived layer by layer."""
    (p1, p2), k2, k1 = net.pools, net.conv_kernel, max(net.kernels)
    low = (token * p2 - k2 // 2) * p1 - k1 // 2
    high = ((token * p2 + p2 - 1 + k2 // 2) * p1 + p1 - 1) + k1 // 2
    return range(low, high + 1)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_output_shape_and_receptive_field_on_a_hand_made_sequence(batch_norm):
    torch.manual_seed(0)
    net = seqcnn.SeqCNN(n_classes=3, width=8, kernels=(3, 7), dim=16, conv_kernel=3, pools=(2, 2),
                        batch_norm=batch_norm).eval()
    seq = "ACGUUGCAAUGCCGUA" * 4  # 64 nt
    codes = torch.as_tensor(seqcnn.encode([seq], 64)).float()
    assert net(codes).shape == (1, 3)
    fmap = net.feature_map(codes)
    assert fmap.shape == (1, net.tokens(64), 16) == (1, 16, 16) and net.pooled(codes).shape == (1, net.pooled_dim)
    assert net.receptive_field() == 7 + 1 + 2 * 2 + 1 * 2 == len(_window(net, 8))
    token, seen = 8, set()
    for pos in range(64):  # change each position to every other letter: which positions move token 8?
        for letter in range(4):
            if letter == codes[0, pos]:
                continue
            other = codes.clone()
            other[0, pos] = letter
            if not torch.allclose(net.feature_map(other)[0, token], fmap[0, token]):
                seen.add(pos)
    assert seen <= set(_window(net, token)) and len(seen) == net.receptive_field()


def test_a_planted_motif_near_the_3prime_end_is_learned():
    rng = np.random.default_rng(0)
    n, length, motif = 600, 48, "GACUAG"
    y = rng.integers(0, 2, n)
    seqs = []
    for label in y:
        s = list(rng.choice(list("ACGU"), length))
        if label:  # the class: the 6-mer somewhere in the last 30 nt
            at = length - 30 + rng.integers(0, 16)
            s[at:at + len(motif)] = motif
        seqs.append("".join(s))
    x = seqcnn.encode(seqs, length).astype(np.float32)
    labels = y[:, None].astype(np.float32)
    torch.manual_seed(0)
    net = seqcnn.SeqCNN(n_classes=1, width=16, kernels=(7,), dim=16, pools=(4, 2), dropout=0.0)
    fit_multilabel(net, x[:360], labels[:360], x[360:450], labels[360:450], epochs=30, lr=5e-3, batch_size=32,
                   patience=5, progress=False)
    prob = predict_proba(net, x[450:])[:, 0]
    assert matthews_corrcoef(y[450:], prob >= 0.5) > 0.9


def test_the_decoder_memory_moves_where_the_input_moves():
    cfg = LocasConfig(memory="positions", seq_nt=64, cnn_width=4, cnn_kernels=(3, 5), cnn_dim=8, cnn_pools=(2, 2),
                      decoder_dim=16, decoder_ff=32, decoder_heads=2, position="sinusoidal")
    torch.manual_seed(0)
    net = localization._cnn_network("scl", cfg, 6).eval()
    feature_map, head = net
    codes = torch.as_tensor(seqcnn.encode(["ACGUUGCAAUGCCGUA" * 4], 64)).float()
    other = codes.clone()
    other[0, 30] = (other[0, 30] + 1) % 4
    before, after = (head.decoder.memory(head.memory(feature_map(c))) for c in (codes, other))
    assert before.shape == (1, 16, 16)
    moved = {t for t in range(16) if not torch.allclose(before[0, t], after[0, t])}
    reach = {t for t in range(16) if 30 in _window(feature_map.cnn, t)}
    assert moved and moved <= reach  # a change at nt 30 moves the tokens that can see it, and only those
    assert not torch.allclose(net(codes), net(other))


def test_the_cnn_encoder_needs_the_positions_memory():
    y = np.zeros((10, 6), dtype=np.float32)
    y[::2, 0] = 1
    idx = {"train": np.arange(6), "val": np.arange(6, 8), "test": np.arange(8, 10)}
    x = seqcnn.encode(["ACGU" * 16] * 10, 64)
    with pytest.raises(ValueError, match="memory must be 'positions'"):
        localization.run_fold(x, y, idx, "scl", LocasConfig(encoder="seqcnn", seq_nt=64), progress=False)


def test_locas_with_the_cnn_encoder_saves_reloads_and_localizes(tmp_path):
    from test_localization import TINY, toy_records

    from rnalib.cli import newdata
    from rnalib.data import LOC_CLASSES
    from rnalib.embedding import embed

    records, folds = toy_records()
    cfg = LocasConfig(**{**TINY.__dict__, "encoder": "seqcnn", "memory": "positions", "position": "sinusoidal"})
    choice = embed.select_embedder("kmer", kmer_k=(1, 2))
    run = localization.run_localization(records, folds, choice, "scl", cfg, n_folds=2, progress=False)
    assert set(run.history.stage) == {"contrastive", "head"} and run.projections.filter(like="z").shape[1] == 16
    folder = localization.save_run(run, tmp_path, "toy_scl_seqcnn")
    for fold, (scaler, net) in enumerate(localization.load_networks(folder)):  # weights_only=True
        test = run.predictions[run.predictions.fold == fold]
        x = seqcnn.encode(records.set_index("id").loc[test.id, "sequence"].tolist(), cfg.seq_nt).astype(np.float32)
        assert scaler is None
        np.testing.assert_allclose(predict_proba(net, x), test[[f"prob_{c}" for c in LOC_CLASSES]], atol=1e-5)
    fasta = tmp_path / "new.fa"
    fasta.write_text("".join(f">{r.id}\n{r.sequence}\n" for r in records.head(3).itertuples()))
    out = newdata.localize(fasta, folder, tmp_path / "loc.csv", progress=False)
    probs, _ = localization.predict_new(folder, seqcnn.encode(records.sequence.head(3).tolist(), cfg.seq_nt))
    np.testing.assert_allclose(out[[f"prob_{c}" for c in LOC_CLASSES]].to_numpy(), probs, atol=1e-6)
