import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn import metrics as skm

from rnalib import data
from rnalib.data import LOC_CLASSES
from rnalib.cli import newdata
from rnalib.embedding import embed
from rnalib.learning import losses, metrics, models
from rnalib.learning.train import LocasConfig
from rnalib.localization import study as localization


def reference_supcon(z, y, theta, temperature):
    """Plain O(B²) loops: the definition, written out."""
    n, total, anchors = len(z), 0.0, 0
    for i in range(n):
        positives = []
        for j in range(n):
            if j == i:
                continue
            inter = float((y[i] * y[j]).sum())
            union = float(((y[i] + y[j]) > 0).sum())
            if (inter / union if union else 1.0) >= theta:
                positives.append(j)
        if not positives:
            continue
        denom = sum(np.exp(float(z[i] @ z[k]) / temperature) for k in range(n) if k != i)
        total += -np.mean([np.log(np.exp(float(z[i] @ z[j]) / temperature) / denom) for j in positives])
        anchors += 1
    return total / anchors


@pytest.mark.parametrize("theta", [0.3, 0.5, 0.8, 1.0])
def test_supcon_matches_reference(theta):
    rng = np.random.default_rng(int(theta * 10))
    for _ in range(3):
        z = torch.nn.functional.normalize(torch.randn(24, 8, dtype=torch.float64), dim=1)
        y = torch.as_tensor(rng.integers(0, 2, (24, 6)), dtype=torch.float64)
        y[0] = torch.tensor([1, 1, 1, 1, 1, 0])  # a rare set: may have no positive at high θ
        got = losses.multilabel_supcon_loss(z, y, theta, 0.1).item()
        assert got == pytest.approx(reference_supcon(z.numpy(), y.numpy(), theta, 0.1), abs=1e-6)
        assert np.isfinite(got)


def test_supcon_without_any_positive_is_zero_not_nan():
    z = torch.nn.functional.normalize(torch.randn(3, 4), dim=1).requires_grad_()
    y = torch.eye(3, 6)
    loss = losses.multilabel_supcon_loss(z, y, 0.5)
    assert loss.item() == 0.0
    loss.backward()


def test_supcon_at_theta_one_equals_pytorch_metric_learning():
    from pytorch_metric_learning.losses import SupConLoss

    rng = np.random.default_rng(0)
    z = torch.nn.functional.normalize(torch.randn(32, 16, dtype=torch.float64), dim=1)
    y = torch.as_tensor(rng.integers(0, 2, (32, 3)), dtype=torch.float64)
    combination = torch.as_tensor([int("".join(map(str, r)), 2) for r in y.int().tolist()])
    ours = losses.multilabel_supcon_loss(z, y, theta=1.0, temperature=0.1).item()
    theirs = SupConLoss(temperature=0.1)(z, combination).item()
    assert ours == pytest.approx(theirs, abs=1e-6)


def test_jaccard_positives_by_hand():
    y = torch.tensor([[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 0], [0, 0, 0, 1]], dtype=torch.float32)
    jac = losses.jaccard_matrix(y)
    assert jac[0, 1] == pytest.approx(0.5) and jac[0, 2] == pytest.approx(2 / 3) and jac[0, 3] == 0
    assert jac[1, 2] == pytest.approx(1 / 3)
    for theta, expected in ((0.3, {1, 2}), (0.5, {1, 2}), (0.8, set())):
        assert set(np.flatnonzero((jac[0] >= theta).numpy())) - {0} == expected


def test_asymmetric_loss_reduces_to_bce_without_focusing():
    logits, targets = torch.randn(10, 6), torch.randint(0, 2, (10, 6)).float()
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
    assert losses.asymmetric_loss(logits, targets, 0, 0, 0).item() == pytest.approx(bce.item(), rel=1e-5)
    assert losses.asymmetric_loss(logits, targets).item() < bce.item()


def test_ml_decoder_shapes_and_attention_spans_tokens():
    torch.manual_seed(0)
    head = models.MLDecoder(in_dim=8, n_classes=6, d_model=16, ff_dim=32, heads=2).eval()
    h = torch.randn(5, 64)
    logits = head(models.slice_tokens(h, 8))
    assert logits.shape == (5, 6)
    weights = head.last_attention
    assert weights.shape == (5, 6, 8)
    torch.testing.assert_close(weights.sum(-1), torch.ones(5, 6))
    assert (weights.max(-1).values < 0.99).all()  # no query collapses onto a single token
    for token in (0, 3, 7):  # every token of the memory feeds the logits
        perturbed = h.clone()
        perturbed[:, token * 8:(token + 1) * 8] += 1.0
        assert not torch.allclose(head(models.slice_tokens(perturbed, 8)), logits)
    grouped = models.MLDecoder(in_dim=8, n_classes=6, d_model=16, ff_dim=32, n_groups=3, heads=2)
    assert grouped(models.slice_tokens(h, 8)).shape == (5, 6) and grouped.queries.shape == (3, 16)
    with pytest.raises(ValueError, match="divisible"):
        models.slice_tokens(torch.zeros(5, 60), 8)


def test_one_error_and_coverage_conventions_by_hand():
    y = np.array([[1, 0, 0], [0, 1, 1]])
    scores = np.array([[0.9, 0.5, 0.1], [0.8, 0.7, 0.1]])
    # example 1: top label correct; example 2: top label (col 0) wrong
    assert metrics.one_error(y, scores) == 0.5
    m = metrics.multilabel_metrics(y, scores, scores >= 0.6, ("a", "b", "c"))
    # coverage: ranks needed to cover all true labels: example 1 → 1 label (rank 1), example 2 → rank 3
    assert m["coverage_sklearn"] == pytest.approx((1 + 3) / 2)
    assert m["coverage"] == pytest.approx((0 + 2) / 2)
    assert m["subset_accuracy"] == 0.5  # example 1 matches exactly, example 2 does not
    # example-based accuracy: {a} vs {a} → 1; {b,c} vs {a,b} → 1/3
    assert m["example_accuracy"] == pytest.approx((1 + 1 / 3) / 2)


def test_multilabel_metrics_match_scikit_learn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, (200, 6))
    y[y.sum(1) == 0, 0] = 1
    scores = np.clip(y * 0.4 + rng.random((200, 6)) * 0.6, 0, 1)
    pred = scores >= 0.5
    m = metrics.multilabel_metrics(y, scores, pred, LOC_CLASSES)
    assert m["average_precision"] == pytest.approx(skm.label_ranking_average_precision_score(y, scores))
    assert m["ranking_loss"] == pytest.approx(skm.label_ranking_loss(y, scores))
    assert m["hamming_loss"] == pytest.approx(skm.hamming_loss(y, pred))
    assert m["mcc_Exosome"] == pytest.approx(skm.matthews_corrcoef(y[:, 1], pred[:, 1]))
    assert m["auprc_ER"] == pytest.approx(skm.average_precision_score(y[:, 5], scores[:, 5]))
    tuned = metrics.best_mcc_thresholds(y, scores)
    for j in range(6):
        assert skm.matthews_corrcoef(y[:, j], scores[:, j] >= tuned[j]) >= skm.matthews_corrcoef(y[:, j], pred[:, j])


def toy_records(n=240, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, (n, 6))
    y[y.sum(1) == 0, 1] = 1
    seqs = ["".join(rng.choice(list("ACGU"), 40)) + ("GGGG" * 5 if r[0] else "AUAU" * 5) for r in y]
    records = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "accession": [f"NM_{i}" for i in range(n)],
                            "sequence": seqs, **{c: y[:, j] for j, c in enumerate(LOC_CLASSES)}})
    roles = np.array(["train"] * 6 + ["val"] * 2 + ["test"] * 2)
    folds = pd.DataFrame({f"fold{k}": np.roll(roles, 2 * k)[np.arange(n) % 10] for k in range(5)},
                         index=records.accession)
    return records, folds


TINY = LocasConfig(encoder_dim=64, projection_dim=16, scl_epochs=2, head_epochs=3, batch_size=64, n_tokens=8,
                   patience=2, seed=3, decoder_dim=16, decoder_ff=32, decoder_heads=2, seq_nt=64, cnn_width=4,
                   cnn_kernels=(3, 5), cnn_dim=8, cnn_pools=(2, 2), cnn_epochs=2, cnn_batch_size=32)


@pytest.mark.parametrize("method", localization.METHODS)
def test_every_method_runs_and_same_seed_gives_same_metrics(method, tmp_path):
    records, folds = toy_records()
    choice = embed.select_embedder("kmer", kmer_k=(1, 2))
    x = None if method == "seqcnn" else choice.embedder.embed(records.sequence)  # the CNN reads one-hot itself
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = localization.run_localization(records, folds, choice, method, TINY, n_folds=2, progress=False,
                                              cache=None, x=x)
        again = localization.run_localization(records, folds, choice, method, TINY, n_folds=2, progress=False, x=x)
    assert json.dumps(first.metrics, sort_keys=True) == json.dumps(again.metrics, sort_keys=True)
    assert set(first.metrics["mean"]["tuned"]) >= {"example_accuracy", "one_error", "mcc_ER", "auprc_Nucleus",
                                                   "auroc_Cytosol"}
    preds = first.predictions
    assert len(preds) == 2 * 48 and set(preds.fold) == {0, 1}
    assert {f"{p}_{c}" for p in ("true", "prob", "pred") for c in LOC_CLASSES} <= set(preds.columns)
    folder = localization.save_run(first, tmp_path, f"toy_{method}")
    assert {"metrics.json", "predictions.csv.gz", "manifest.json"} <= {p.name for p in folder.iterdir()}
    # wall times live in the manifest; metrics.json holds only what the seed fixes
    assert "fold_seconds" not in json.loads((folder / "metrics.json").read_text())
    assert set(json.loads((folder / "manifest.json").read_text())["fold_seconds"]) == {"0", "1"}
    if method == "scl":
        assert not first.projections.empty and first.projections.filter(like="z").shape[1] == 16
    saved = sorted(p.name for p in folder.glob("network_fold*.pt"))
    assert saved == (["network_fold0.pt", "network_fold1.pt"] if method in ("scl", "noscl", "seqcnn") else [])
    if saved:  # the saved fold-0 network reproduces that fold's test probabilities
        scaler, net = localization.load_networks(folder)[0]
        test0 = preds[preds.fold == 0]
        params = json.loads((folder / "manifest.json").read_text())["parameters"]
        x = localization.run_inputs(records.set_index("id").loc[test0.id].reset_index(), params, choice.embedder)
        again = localization.predict_proba(net, (x if scaler is None else scaler.transform(x)).astype(np.float32))
        np.testing.assert_allclose(again, test0[[f"prob_{c}" for c in LOC_CLASSES]].to_numpy(), atol=1e-5)
        fasta = tmp_path / "new.fa"
        fasta.write_text("".join(f">{r.id}\n{r.sequence}\n" for r in records.head(5).itertuples()))
        out = newdata.localize(fasta, folder, tmp_path / "loc.csv", progress=False)
        probs, thresholds = localization.predict_new(folder, localization.run_inputs(records.head(5), params,
                                                                                    choice.embedder))
        assert list(out.id) == list(records.id.head(5)) and pd.read_csv(tmp_path / "loc.csv").shape == out.shape
        np.testing.assert_allclose(out[[f"prob_{c}" for c in LOC_CLASSES]].to_numpy(), probs, atol=1e-6)
        assert (out[f"call_{LOC_CLASSES[0]}"] == (probs[:, 0] >= thresholds[0])).all()
    else:
        with pytest.raises(data.DataError, match="no saved networks"):
            newdata.localize(tmp_path / "none.fa", folder, tmp_path / "loc.csv")


@pytest.mark.parametrize("method", ["scl", "noscl"])
@pytest.mark.parametrize("kind", ["single", "windows"])
def test_memories_train_save_and_score_new_mrnas(method, kind, tmp_path):
    records, folds = toy_records()
    choice = localization.choose_embedder({"embedder": "kmer", "kmer_k_max": 2, "memory": kind, "n_windows": 3,
                                           "window_nt": 20, "n_5prime": 1})
    assert choice.fallback is False and ("windows" in choice.embedder.id) == (kind == "windows")
    cfg = LocasConfig(**{**TINY.__dict__, "memory": kind, "n_windows": 3})
    x = choice.embedder.embed(records.sequence)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = localization.run_localization(records, folds, choice, method, cfg, n_folds=1, progress=False, x=x)
    folder = localization.save_run(run, tmp_path, f"toy_{method}_{kind}")
    fasta = tmp_path / "new.fa"
    test0 = run.predictions[run.predictions.fold == 0].head(4)
    seqs = records.set_index("id").loc[test0.id, "sequence"]
    fasta.write_text("".join(f">{i}\n{s}\n" for i, s in seqs.items()) + ">allN\nNNNNNNNNNNNN\n")
    with pytest.warns(data.DataWarning, match="record allN: no 2-mer without N .*flagged, not scored"):
        out = newdata.localize(fasta, folder, tmp_path / "loc.csv", progress=False)  # rebuilds the windowed embedder
    np.testing.assert_allclose(out[[f"prob_{c}" for c in LOC_CLASSES]].to_numpy()[:4],
                               test0[[f"prob_{c}" for c in LOC_CLASSES]].to_numpy(), atol=1e-5)
    assert (out["informative_kmers"].to_numpy()[:4] > 0).all() and out["informative_kmers"].iloc[4] == 0
    flagged = pd.read_csv(tmp_path / "loc.csv").iloc[4]  # the record without information is flagged, not scored
    assert flagged["id"] == "allN" and flagged.filter(regex="^(prob|call)_").isna().all()
    # beside each probability, the run's measured figures for that class; a note where the test counts are few
    test = run.predictions[run.predictions.fold == 0]
    for c in LOC_CLASSES:
        assert (out[f"mcc_{c}"] == run.metrics["mean"]["tuned"][f"mcc_{c}"]).all()
        if 0 < test[f"true_{c}"].sum() < len(test):
            np.testing.assert_allclose(out[f"auroc_{c}"], skm.roc_auc_score(test[f"true_{c}"], test[f"prob_{c}"]))
        fewest = min(test[f"true_{c}"].sum(), (test[f"true_{c}"] == 0).sum())
        assert (out[f"note_{c}"].fillna("") != "").all() == (fewest < localization.MIN_TEST_LABELS)
    relaxed = localization.class_figures(folder, min_labels=2)  # the rule reads the counts, not the class name
    for c in LOC_CLASSES:
        pos, neg = int(test[f"true_{c}"].sum()), int((test[f"true_{c}"] == 0).sum())
        assert (relaxed.at[c, "min_positives"], relaxed.at[c, "min_negatives"]) == (pos, neg)
        assert relaxed.at[c, "reliable"] == (min(pos, neg) >= 2) == (relaxed.at[c, "note"] == "")
    assert "MCC" in (tmp_path / "loc.csv.about.txt").read_text()


def test_class_figures_say_over_how_many_folds_the_auroc_is(tmp_path):
    rng = np.random.default_rng(0)
    frames = []
    for fold in (0, 1):
        part = {"fold": fold, **{f"true_{c}": rng.integers(0, 2, 20) for c in LOC_CLASSES},
                **{f"prob_{c}": rng.uniform(size=20) for c in LOC_CLASSES}}
        frames.append(pd.DataFrame(part))
    frames[1][f"true_{LOC_CLASSES[0]}"] = 0  # no positive of the first class in fold 1's test set
    pd.concat(frames).to_csv(tmp_path / "predictions.csv.gz", index=False)
    (tmp_path / "metrics.json").write_text(json.dumps({"mean": {"tuned": {f"mcc_{c}": 0.1 for c in LOC_CLASSES}}}))
    figures = localization.class_figures(tmp_path, min_labels=2)
    first, second = LOC_CLASSES[0], LOC_CLASSES[1]
    assert (figures.at[first, "auroc_folds"], figures.at[first, "folds"]) == (1, 2)
    assert figures.at[first, "auroc"] == pytest.approx(skm.roc_auc_score(frames[0][f"true_{first}"],
                                                                         frames[0][f"prob_{first}"]))
    assert "AUROC over 1 of 2 folds" in figures.at[first, "note"]
    assert figures.at[second, "auroc_folds"] == 2 and "AUROC over" not in figures.at[second, "note"]


def test_windows_memory_features_must_split_into_windows():
    with pytest.raises(ValueError, match="embedded by window"):
        localization._tokens(LocasConfig(memory="windows", n_windows=3), 10)


def test_window_positions_reach_the_logits():
    torch.manual_seed(0)
    cfg = LocasConfig(**{**TINY.__dict__, "memory": "windows", "n_windows": 4})
    head = localization._head(cfg, 6).eval()
    h = torch.randn(3, 4, cfg.encoder_dim)
    assert not torch.allclose(head(h), head(h[:, [3, 2, 1, 0]]))  # the learned positions tell windows apart
    plain = localization._head(LocasConfig(**{**cfg.__dict__, "position": "none"}), 6).eval()
    torch.testing.assert_close(plain(h), plain(h[:, [3, 2, 1, 0]]))  # the reference decoder alone cannot
    slices = localization._head(LocasConfig(**{**TINY.__dict__, "memory": "slices"}), 6).eval()  # 8 slices of 8
    one = torch.randn(3, 1, TINY.encoder_dim)
    shuffled = one.reshape(3, 8, 8)[:, torch.randperm(8, generator=torch.Generator().manual_seed(0))].reshape(3, 1, -1)
    assert not torch.allclose(slices(one), slices(shuffled))  # slices know their place too


def test_frozen_encoder_is_untouched_by_stage_two(monkeypatch):
    records, folds = toy_records()
    x = embed.KmerEmbedder(1, 2).embed(records.sequence)
    y = localization.label_matrix(records)
    captured = {}
    original = localization.train_contrastive

    def keep(encoder, *args, **kwargs):
        captured["encoder"] = encoder.tokens  # stage 1 trains the pooled token encoder
        return original(encoder, *args, **kwargs)

    monkeypatch.setattr(localization, "train_contrastive", keep)
    out = localization.run_fold(x, y, localization.fold_indices(records, folds, 0), "scl", TINY, progress=False)
    after = captured["encoder"].state_dict()
    assert set(after) == set(out.encoder_state)
    assert "encoder.net.1.running_mean" in after  # batch-norm statistics are part of what must not move
    for key, value in out.encoder_state.items():
        assert torch.equal(after[key], value), key
    assert all(not p.requires_grad for p in captured["encoder"].parameters())


def test_theta_table_puts_published_counts_beside_measured(bundled_data):
    records = data.load_dm3loc()
    summary = {"variant": "scl_theta0.8", "method": "scl", "theta": 0.8,
               "mean": {"fixed": {m: 0.5 for m in ("average_precision", "coverage", "one_error", "ranking_loss",
                                                   "hamming_loss")}}}
    table = localization.theta_table([summary], records)
    assert table.loc[(0.8, "LOCAS (published)"), "clusters"] == 46
    assert table.loc[(0.3, "clusters: connected components (measured)"), "clusters"] == 1
    assert table.loc[(0.8, "scl_theta0.8 (measured)"), "ranking_loss"] == 0.5
    assert (0.5, "scl_theta0.8 (measured)") not in table.index


def test_truncation_strategies():
    seq = "A" * 10 + "C" * 30
    assert embed.truncate_sequence(seq, "5prime", 8) == "A" * 8
    assert embed.truncate_sequence(seq, "3prime", 8) == "C" * 8
    assert embed.truncate_sequence(seq, "dm3loc", 8) == "AA" + "C" * 6
    assert embed.truncate_sequence("A" * 5000, "dm3loc", 4000) == "A" * 4000
    assert embed.truncate_sequence(seq, "none", 8) == seq and embed.truncate_sequence("ACG", "5prime", 8) == "ACG"
    with pytest.raises(ValueError):
        embed.truncate_sequence(seq, "middle", 8)


@pytest.fixture(scope="module")
def tiny_rinalmo(tmp_path_factory):
    pytest.importorskip("multimolecule")
    return embed.random_rinalmo_checkpoint(tmp_path_factory.mktemp("rinalmo"), seed=0)


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_rinalmo_local_checkpoint(tiny_rinalmo, pooling):
    emb = embed.RinalmoEmbedder(tiny_rinalmo, pooling=pooling, device="cpu", batch_size=4)
    seqs = ["ACGUAGCUAGCAUCG", "GGCAU"]
    out = emb.embed(seqs)
    assert out.shape == (2, 32) and np.isfinite(out).all()
    assert emb.id.startswith(f"rinalmo-{pooling}-L2-d32-") and emb.window == 1022
    np.testing.assert_allclose(emb.embed([seqs[1]])[0], out[1], atol=1e-5)  # padding never changes a vector
    assert embed.embedder_from_id(emb.id, tiny_rinalmo, "cpu").id == emb.id
    with pytest.raises(ValueError, match="at most 1022"):
        emb.embed(["A" * 1100])


def test_prior_vs_published_compares_in_each_metric_direction():
    def summary(variant, **values):
        return {"variant": variant, "mean": {"fixed": {**localization.PUBLISHED_LOCAS, **values}}}

    prior = summary("label_prior", average_precision=0.95, one_error=0.02, ranking_loss=0.0804, hamming_loss=0.2)
    table, beats = localization.prior_vs_published([prior, summary("scl_theta0.8")])
    assert list(table.index) == ["LOCAS (published)", "label_prior (measured)", "scl_theta0.8 (measured)"]
    assert table.at["label_prior (measured)", "one_error"] == 0.02
    assert beats["average_precision"] and not beats["one_error"]  # higher is better / lower is better
    assert beats["ranking_loss"] and not beats["hamming_loss"] and beats["coverage"]  # equal counts as beating
    assert localization.prior_vs_published([summary("noscl")])[1].empty
