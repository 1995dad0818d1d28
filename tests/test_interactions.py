import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from rnalib import data
from rnalib.embedding import embed
from rnalib.embedding.cache import EmbeddingCache
from rnalib.interactions import sampling
from rnalib.interactions import study as interactions
from rnalib.learning import models
from rnalib.learning.train import TrainConfig


@pytest.fixture(scope="module")
def seed_csv(tmp_path_factory):
    """A small lncRNA–pseudo file in the seed's schema (interacting pairs only, as the paper's CSV)."""
    rng = np.random.default_rng(0)
    lnc = ["".join(rng.choice(list("ACGT"), rng.integers(60, 120))) for _ in range(14)]
    pseudo = ["".join(rng.choice(list("ACGT"), rng.integers(60, 120))) for _ in range(30)]
    rows = [(lnc[i], pseudo[j], "lncRNA", "pseudo") for i in range(14) for j in rng.choice(30, 6, replace=False)]
    rows.append(("A" * 1100, pseudo[0], "lncRNA", "pseudo"))  # removed by the length filter
    path = tmp_path_factory.mktemp("seed") / "lncrna_pseudo.csv"
    pd.DataFrame(rows, columns=list(data.SEED_COLUMNS)).assign(Category_Couple="lncRNA-pseudo").to_csv(path,
                                                                                                      index=False)
    return path


def run(path, cache_dir, protocol="C1"):
    pairs = data.load_interactions(path)
    cfg = TrainConfig(layers=2, width=16, dropout=0.1, lr=1e-3, batch_size=64, warmup_epochs=1, max_epochs=3,
                      seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return interactions.run_interactions(pairs, embed.select_embedder("kmer", kmer_k=(1, 2)), cfg, protocol,
                                             ratio=3, n_boot=10, cache=EmbeddingCache(cache_dir),
                                             progress=False)


def test_user_csv_runs_and_same_seed_gives_same_metrics(seed_csv, tmp_path):
    first = run(seed_csv, tmp_path / "cache")
    second = run(seed_csv, tmp_path / "cache")
    assert json.dumps(first.metrics, sort_keys=True) == json.dumps(second.metrics, sort_keys=True)
    counts = first.metrics["counts"]
    assert counts["unique_positive_pairs"] == 14 * 6  # the 1,100-nt pair is filtered out
    assert counts["train"]["negatives"] == 3 * counts["train"]["positives"]
    assert set(first.metrics["models"]) == {"model", *interactions.BASELINES, *interactions.PAIR_MODELS} - {"network_pair"}
    assert set(first.fit_seconds) >= {"model", "pairing_features", "logistic_pair", "hgb_pair"}
    assert {"best_site_rank", "sites", "duplex_mfe", "prob_seed_match", "prob_hgb_pair"} <= set(first.predictions.columns)
    test = first.metrics["models"]["all_negative"]["test"]
    orig_test = first.predictions[(first.predictions.role == "test") & (first.predictions.augmentation == "original")]
    assert test["accuracy"]["value"] == pytest.approx(1 - orig_test.label.mean())
    # the floor is the realised share of negatives among original test pairs (here the nominal 1:3 is reached)
    assert first.metrics["all_negative_accuracy_floor"] == test["accuracy"]["value"] == 0.75
    assert first.metrics["nominal_negative_ratio"] == 3
    assert set(first.predictions.role) == {"val", "test"}
    assert first.features.width == first.features.matrix().shape[1] == 2 * (4 + 16)


def test_pair_embeddings_scale_like_a_scaler_fitted_on_the_matrix(seed_csv, tmp_path):
    """The scaler fitted on the distinct embeddings (weighted by use) and the matrix gathered from the scaled table
    equal StandardScaler fitted on, and applied to, the materialised [emb(x); emb(y)] matrix."""
    pairs = data.load_interactions(seed_csv)
    dataset = interactions.make_dataset(pairs, {"split_seed": 0, "max_len": 1022, "max_pairs": None,
                                                "min_seq_id": 0.8, "coverage": 0.5, "min_kmer_containment": 0.3,
                                                "protocol": "C1", "ratio": 3, "weighting": "uniform",
                                                "reverse": True})[2]
    emb = interactions.PairEmbeddings.of(dataset, embed.KmerEmbedder(1, 2), EmbeddingCache(tmp_path), progress=False)
    train = (dataset["role"] == "train").to_numpy()
    matrix = emb.matrix()
    assert matrix.shape == (len(dataset), 2 * (4 + 16)) and len(emb.table) < len(dataset)
    reference = StandardScaler().fit(matrix[train])
    fitted = emb.fit_scaler(train)
    np.testing.assert_allclose(fitted.mean_, reference.mean_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fitted.scale_, reference.scale_, rtol=1e-10)
    np.testing.assert_array_equal(emb.scaled(fitted), fitted.transform(matrix).astype(np.float32))
    np.testing.assert_allclose(emb.scaled(fitted), reference.transform(matrix), rtol=1e-5, atol=1e-6)


def test_pair_embeddings_match_the_matrix_with_constant_columns_and_one_sided_rnas():
    """A constant column, a k-mer absent from every training RNA, RNAs used on one side only or only by test
    rows: the weighted scaler equals StandardScaler on the training rows of the matrix, and ``scaled`` equals its
    transform, in the table's dtype and in float64 (as ``with_pair_features`` scales [emb; pair features]),
    element for element."""
    rng = np.random.default_rng(0)
    table = rng.random((12, 5)).astype(np.float32) * np.float32(0.5) + np.float32(0.25)
    table[:, 0] = 0.1                   # constant
    table[:8, 1], table[8:, 1] = 0, 1  # absent from the RNAs the training rows use (0-7), present in the others
    ix = np.concatenate([rng.integers(0, 4, 300), rng.integers(8, 12, 40)])  # x side: RNAs 0-3 (8-11 in test only)
    iy = np.concatenate([rng.integers(4, 8, 300), rng.integers(8, 12, 40)])  # y side: RNAs 4-7
    train = np.arange(340) < 300
    emb = interactions.PairEmbeddings(table, ix, iy)
    matrix = emb.matrix()
    reference = StandardScaler().fit(matrix[train])
    fitted = emb.fit_scaler(train)
    np.testing.assert_allclose(fitted.mean_, reference.mean_, rtol=1e-12)
    np.testing.assert_allclose(fitted.scale_, reference.scale_, rtol=1e-12)
    assert fitted.scale_[[0, 1, 5, 6]].tolist() == [1.0] * 4  # constant on the training rows: left unscaled
    np.testing.assert_array_equal(emb.scaled(fitted), fitted.transform(matrix).astype(np.float32))
    pair_part = rng.random((340, 3))
    part_scaler = StandardScaler().fit(pair_part[train])
    old = models.concatenated_scaler(fitted, part_scaler).transform(np.hstack([matrix, pair_part])).astype(np.float32)
    new = emb.with_pair_features(fitted, pair_part, part_scaler)
    assert new.dtype == np.float32
    np.testing.assert_array_equal(new, old)
    with pytest.raises(ValueError, match="expected"):
        emb.scaled(fitted, out=np.empty((340, 10), dtype=np.float64))
    assert not np.array_equal(emb.scaled(fitted), new[:, :10])  # float32 scaling differs in the last bits


def test_accuracy_floor_is_the_realised_share_of_negatives_when_supply_is_short(seed_csv, tmp_path):
    """C3's held-out RNAs cannot supply 1:40: the ratio is cut, and the floor stored is the all-negative
    predictor's test accuracy, below the nominal 40/41."""
    pairs = data.load_interactions(seed_csv)
    with pytest.warns(UserWarning, match="negatives per positive exist"):
        result = interactions.run_interactions(pairs, embed.select_embedder("kmer", kmer_k=(1, 2)), TrainConfig(),
                                               "C3", ratio=40, n_boot=10, cache=EmbeddingCache(tmp_path),
                                               progress=False, train_network=False)
    floor = result.metrics["all_negative_accuracy_floor"]
    assert floor == result.metrics["models"]["all_negative"]["test"]["accuracy"]["value"]
    assert floor == pytest.approx(1 - result.metrics["test_prevalence"]) and floor < 40 / 41 - 0.01


def test_saved_run_follows_the_contract_and_reloads(seed_csv, tmp_path):
    result = run(seed_csv, tmp_path / "cache", protocol="C3")
    folder = interactions.save_run(result, tmp_path / "reports", "Tiny__C3", "Tiny")
    assert {p.name for p in folder.iterdir()} == {"metrics.json", "predictions.csv.gz", "manifest.json",
                                                  "split.csv.gz", "history.csv.gz", "model.pt", "calibration.pt",
                                                  "rnas.csv.gz"}
    rnas = pd.read_csv(folder / "rnas.csv.gz")  # every RNA of the pairs once, with its family and seen status
    assert list(rnas.columns) == ["id", "family", "seen", "sequence"] and rnas["id"].is_unique
    preds = pd.read_csv(folder / "predictions.csv.gz")
    assert {"rna_x_id", "rna_y_id", "label", "prob", "role"} <= set(preds.columns)
    split = pd.read_csv(folder / "split.csv.gz")
    assert {"rna_x_id", "rna_y_id", "label", "role", "augmentation", "is_negative"} <= set(split.columns)
    assert set(split.role) == {"train", "val", "test"}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["parameters"]["protocol"] == "C3" and manifest["embedder"]["used"] == "kmer-k1-2-freq-v1"
    model, scaler = interactions.load_model(folder)
    test = (result.dataset.role == "test").to_numpy()
    np.testing.assert_allclose(
        interactions.predict_proba(model, scaler.transform(result.features.matrix(test)).astype(np.float32)),
        result.predictions.loc[result.predictions.role == "test", "prob"].to_numpy(), rtol=1e-5)
    assert interactions.latent(model, scaler, result.features.matrix(slice(0, 3))).shape == (3, 16)


def test_family_degree_counts_training_interactions_of_relatives():
    """A held-out RNA with no training pair gets degree 0, but its family's training interactions count."""
    dataset = pd.DataFrame({
        "id_x": ["m1", "m1", "m2", "m3"], "id_y": ["l1", "l2", "l3", "l4"], "src_x": ["m1", "m1", "m2", "m3"],
        "src_y": ["l1", "l2", "l3", "l4"], "label": [1, 1, 1, 1], "role": ["train", "train", "test", "test"],
        "augmentation": "original"})
    fams = pd.Series({"m1": "seed:A", "m2": "seed:A", "m3": "seed:B", "l1": "c1", "l2": "c2", "l3": "c3",
                      "l4": "c4"})
    scores = interactions.family_degree_scores(dataset, fams)
    assert scores[2] > 0 and scores[3] == 0  # m2 shares m1's seed family; m3's family never trains
    degree_only = interactions.models.degree_scores(sampling.training_degrees(dataset), dataset.src_x, dataset.src_y)
    assert degree_only[2] == degree_only[3] == 0


def test_paired_differences_and_matched_splits():
    rows = []
    for seed, (net, deg) in enumerate([(0.8, 0.7), (0.6, 0.55), (None, 0.9)]):
        if net is not None:
            rows.append({"tag": "", "protocol": "C1", "weighting": "uniform", "split_seed": seed, "config": "N",
                         "model": "model", "metric": "auroc", "value": net, "test_prevalence": 0.05})
        rows.append({"tag": "", "protocol": "C1", "weighting": "uniform", "split_seed": seed, "config": "N",
                     "model": "degree_only", "metric": "auroc", "value": deg, "test_prevalence": 0.05})
    long = pd.DataFrame(rows)
    diff = interactions.paired_differences(long)
    assert diff["mean"].item() == pytest.approx(0.075) and diff["n"].item() == 2 and diff["n_ahead"].item() == 2
    # differences 0.10 and 0.05: sd 0.0354, t(0.975, 1) = 12.706 -> half-width 0.318
    assert (diff["ci_low"].item(), diff["ci_high"].item()) == pytest.approx((0.075 - 0.3177, 0.075 + 0.3177),
                                                                            abs=1e-3)
    matched = interactions.over_splits(long, matched=True).set_index("model")
    everything = interactions.over_splits(long).set_index("model")
    assert matched.loc["degree_only", "n"] == 2 and matched.loc["degree_only", "mean"] == pytest.approx(0.625)
    assert everything.loc["degree_only", "n"] == 3 and matched.loc["N", "n"] == 2


def _auroc_rows(values: dict) -> pd.DataFrame:
    return pd.DataFrame([{"tag": "", "protocol": p, "weighting": "uniform", "split_seed": s, "config": "A",
                          "model": m, "metric": "auroc", "value": v, "test_prevalence": 0.05}
                         for (p, m), vs in values.items() for s, v in enumerate(vs)])


def test_protocol_sentences_come_from_intervals_not_point_estimates():
    values = {("C3", "model"): [0.55, 0.57, 0.50, 0.53, 0.56], ("C3", "degree_only"): [0.5] * 5,
              ("C3", "family_degree"): [0.60, 0.61, 0.62, 0.60, 0.63], ("C1", "degree_only"): [0.7]}
    line = interactions.protocol_sentences(_auroc_rows(values))
    assert len(line) == 1  # C1 has no network: no line
    # family-degree is ahead of both others on every paired interval: named best
    assert line[0].startswith(f"**{sampling.PROTOCOL_LABELS['C3']}** (5 splits): best family-degree 0.612 [0.596, "
                              "0.628], ahead of every other model on paired differences")
    # the network: mean 0.542, its interval [0.508, 0.576] clears 0.5, behind family-degree on all five splits
    assert "network A 0.542 [0.508, 0.576]; minus family-degree on the same splits -0.070 [" in line[0]
    assert "ahead on 0 of 5" in line[0] and "chance" not in line[0]
    # logistic regression 0.002 behind on average, its paired interval covers 0: no model is named best
    tied = interactions.protocol_sentences(_auroc_rows(
        {**values, ("C3", "logistic_regression"): [0.59, 0.63, 0.60, 0.61, 0.62]}))[0]
    assert "highest mean family-degree 0.612 [0.596, 0.628], not told apart from logistic regression -0.002 [" in tied
    assert "so no model is named best" in tied and "best family-degree" not in tied
    noisy = _auroc_rows({("C4", "model"): [0.45, 0.62, 0.55], ("C4", "degree_only"): [0.5, 0.5, 0.5]})
    line = interactions.protocol_sentences(noisy)[0]
    assert "highest mean network A 0.540 [" in line and ", not distinguishable from chance" in line
    assert "not told apart from degree-only" in line
    linked = interactions.protocol_sentences(_auroc_rows(values), link=lambda p: f"[{p} pages](x_{p}.html)")
    assert linked[0] == interactions.protocol_sentences(_auroc_rows(values))[0] + " ([C3 pages](x_C3.html))"


def test_protocol_sentences_name_no_best_model_from_one_split():
    line = interactions.protocol_sentences(_auroc_rows({("C1", "model"): [0.8], ("C1", "degree_only"): [0.7]}))[0]
    assert line == (f"**{sampling.PROTOCOL_LABELS['C1']}** (one split): highest network A 0.800; one split gives no "
                    "interval, so no model is named best")
    # a model seen on one split only is no paired evidence against the repeated leader
    rows = _auroc_rows({("C1", "model"): [0.8, 0.82, 0.81], ("C1", "degree_only"): [0.6, 0.62, 0.61]})
    extra = rows.iloc[:1].assign(model="logistic_regression", value=0.9)
    line = interactions.protocol_sentences(pd.concat([rows, extra]))[0]
    assert "highest mean network A 0.810 [" in line and "logistic regression (no paired interval)" in line


def test_both_seen_scores_keep_only_test_pairs_with_two_seen_partners():
    rows = [("m1", "l1", 1, "train"), ("m2", "l2", 1, "train"),
            ("m1", "l2", 1, "test"), ("m2", "l1", 0, "test"),  # both partners seen
            ("m1", "l9", 1, "test"), ("m9", "l1", 0, "test")]  # one partner unseen
    dataset = pd.DataFrame(rows, columns=["id_x", "id_y", "label", "role"]).assign(
        src_x=lambda t: t.id_x, src_y=lambda t: t.id_y, augmentation="original")
    scores = {"model": np.array([0.9, 0.9, 0.8, 0.1, 0.1, 0.7]), "all_negative": np.zeros(6)}
    out = interactions.both_seen_scores(dataset, scores)
    assert out["share_of_test_pairs"] == 0.5 and (out["pairs"], out["positives"]) == (2, 1)
    assert out["auroc"] == {"model": 1.0}  # on all four test pairs it would be 0.5


def test_weighting_differences_pair_degree_and_uniform_runs_of_the_same_split():
    rows = [{"tag": "", "protocol": "C1", "weighting": w, "split_seed": s, "config": "A", "model": m,
             "metric": "auroc", "value": v, "test_prevalence": 0.05}
            for w, s, m, v in [("uniform", 0, "model", 0.80), ("uniform", 1, "model", 0.70), ("uniform", 2, "model", 0.9),
                               ("degree", 0, "model", 0.75), ("degree", 1, "model", 0.72),
                               ("uniform", 0, "degree_only", 0.8), ("degree", 0, "degree_only", 0.6)]]
    table = interactions.weighting_differences(pd.DataFrame(rows)).set_index("model")
    assert table.loc["A", "n"] == 2 and table.loc["A", "mean"] == pytest.approx(-0.015)  # split 2 has no pair
    assert table.loc["A", "n_ahead"] == 1 and table.loc["degree_only", "mean"] == pytest.approx(-0.2)
    # networks that kept warmup weights on split 0 left out: the network's difference is split 1's alone
    kept = interactions.weighting_differences(pd.DataFrame(rows), skip=frozenset({("C1", 0, "model")})).set_index("model")
    assert kept.loc["A", "n"] == 1 and kept.loc["A", "mean"] == pytest.approx(0.02)
    assert kept.loc["degree_only", "mean"] == pytest.approx(-0.2)


def _summary(config, protocol, seed, best, run, auroc, degree, warmup=2, max_epochs=12, cosine_epochs=None):
    block = lambda v, lo, hi: {"test": {"auroc": {"value": v, "ci_low": lo, "ci_high": hi}}}  # noqa: E731
    return {"config": config, "protocol": protocol, "weighting": "uniform", "split_seed": seed, "variant": config,
            "best_epoch": best, "epochs_run": run, "warmup_epochs": warmup,
            "manifest": {"parameters": {"config": {"max_epochs": max_epochs, "patience": 4,
                                                   "cosine_epochs": cosine_epochs}}},
            "models": {"model": block(*auroc), "degree_only": block(*degree)}}


def test_training_status_flags_unconverged_and_warmup_runs():
    status = interactions.training_status([_summary("A", "C1", 0, 11, 12, (0.9, 0.8, 1), (0.7, 0.6, 0.8)),
                                           _summary("A", "C3", 0, 0, 5, (0.5, 0.4, 0.6), (0.5, 0.5, 0.5)),
                                           _summary("A", "C1m", 0, 6, 11, (0.8, 0.7, 0.9), (0.7, 0.6, 0.8)),
                                           _summary("A", "C2", 0, 10, 12, (0.8, 0.7, 0.9), (0.7, 0.6, 0.8)),
                                           _summary("A", "C4", 0, 9, 14, (0.8, 0.7, 0.9), (0.7, 0.6, 0.8),
                                                    max_epochs=20, cosine_epochs=8)])
    status = status.set_index("protocol")
    assert status["best_is_last"].tolist() == [True, False, False, False, False]
    # C2 peaked at epoch 10 of 12, but early stopping never fired: the budget ended it; C4 stopped on the floor
    assert status["used_budget"].tolist() == [True, False, False, True, False]
    assert status["inside_warmup"].tolist() == [False, True, False, False, False]
    assert status.loc["C1", "max_epochs"] == 12 and status.loc["C1", "patience"] == 4
    assert pd.isna(status.loc["C1", "cosine_epochs"]) and status.loc["C4", "cosine_epochs"] == 8
    assert set(status["network"]) == {"embeddings"} and status.loc["C3", "warmup_epochs"] == 2
    # no warmup (the report's C3 / C4 schedule): a best epoch of 0 comes from the full learning rate
    cold = interactions.training_status([_summary("A", "C3", 1, 0, 5, (0.5, 0.4, 0.6), (0.5, 0.5, 0.5), warmup=0)])
    assert cold["inside_warmup"].tolist() == [False] and cold["warmup_epochs"].tolist() == [0]


def test_training_status_has_a_row_for_the_pair_network_and_says_which_kept_warmup_weights():
    runs = [{**_summary("A", "C3", seed, best, best + 5, (0.6, 0.5, 0.7), (0.5, 0.5, 0.5)),
             "network_pair_training": {"best_epoch": pair_best, "epochs_run": pair_best + 5}}
            for seed, best, pair_best in [(0, 0, 0), (1, 3, 1), (2, 0, 4)]]
    status = interactions.training_status(runs + [_summary("A", "C1", 0, 11, 12, (0.9, 0.8, 1), (0.7, 0.6, 0.8))])
    pair = status[status.network == "embeddings + pair features"]
    assert pair["best_epoch"].tolist() == [0, 1, 4] and pair["epochs_run"].tolist() == [5, 6, 9]
    assert pair["inside_warmup"].tolist() == [True, True, False] and len(status) == 7
    assert interactions.training_caveats(status) == [
        "C3 (uniform negatives): the network on embeddings kept weights from inside its warmup (best epoch 0, 0) "
        "on 2 of 3 splits",
        "C3 (uniform negatives): the network on embeddings + pair features kept weights from inside its warmup "
        "(best epoch 0, 1) on 2 of 3 splits",
        "C1 (uniform negatives): the network on embeddings used its whole budget (12 epochs) on 1 of 1 splits, "
        "early stopping never firing; its best epoch was the last on 1: still improving when the budget ended"]
    assert interactions.training_caveats(status[status.protocol == "C3"].assign(inside_warmup=False)) == []
    # a run saved before the pair network's epochs were: a row without epochs, and a sentence that says so
    old = {**_summary("A", "C4", 0, 0, 5, (0.6, 0.5, 0.7), (0.5, 0.5, 0.5))}
    old["models"]["network_pair"] = old["models"]["model"]
    status = interactions.training_status([old])
    assert status.recorded.tolist() == [True, False] and status.best_epoch.isna().tolist() == [False, True]
    assert interactions.training_caveats(status)[1] == (
        "C4 (uniform negatives): the network on embeddings + pair features: its epochs were not recorded by these "
        "runs (1 splits; saved before they were), so whether it left its warmup is not shown")


def test_recent_gain_is_the_fall_of_the_best_validation_loss_over_the_last_epochs():
    history = pd.DataFrame({"val_loss": [0.5, 0.3, 0.2, 0.25, 0.21, 0.22, 0.19, 0.2]})
    assert interactions.recent_gain(history, epochs=3) == pytest.approx(1 - 0.19 / 0.2)
    assert interactions.recent_gain(history, epochs=2) == pytest.approx(0.05)
    assert np.isnan(interactions.recent_gain(history.iloc[:3], epochs=3))  # no epochs before the last three
    assert interactions.recent_gain(pd.DataFrame({"val_loss": [0.5, 0.3, 0.31, 0.32, 0.33, 0.34, 0.35]})) == 0
    with_nan = pd.DataFrame({"val_loss": [0.5, np.nan, 0.2, 0.25, 0.21, 0.22, 0.19, np.nan]})
    assert interactions.recent_gain(with_nan, epochs=3) == pytest.approx(1 - 0.19 / 0.2)


def test_training_caveats_say_how_much_each_unstopped_run_still_gained(tmp_path):
    losses = {0: [0.4, 0.3, 0.25, 0.2, 0.19, 0.185, 0.184, 0.18],  # budget used, best the last: 28% over 5 epochs
              1: [0.4, 0.3, 0.2, 0.21, 0.22, 0.23, 0.24, 0.25],  # budget used, best long before: 0
              2: [0.4, 0.3, 0.29, 0.28, 0.27, 0.265, 0.26, 0.25],  # budget used, best the last, history missing
              3: [0.4, 0.3, 0.2, 0.21, 0.22, 0.23]}  # early stopping after 6 of 8: no gain
    runs = []
    for seed, loss in losses.items():
        folder = tmp_path / f"run{seed}"
        folder.mkdir()
        if seed != 2:
            pd.DataFrame({"epoch": range(len(loss)), "val_loss": loss}).to_csv(folder / "history.csv.gz", index=False)
        best = int(np.argmin(loss))
        runs.append({**_summary("A", "C1", seed, best, len(loss), (0.9, 0.8, 1), (0.7, 0.6, 0.8), max_epochs=8),
                     "folder": str(folder), "network_pair_training": {"best_epoch": best, "epochs_run": len(loss)}})
    status = interactions.training_status(runs)
    own = status[status.network == "embeddings"]
    assert own.recent_gain.tolist()[:2] == pytest.approx([1 - 0.18 / 0.25, 0.0])
    assert own.recent_gain.isna().tolist() == [False, False, True, True]
    assert status[status.network != "embeddings"].recent_gain.isna().all()  # its losses are not kept
    assert own.best_is_last.tolist() == [True, False, True, False]
    assert own.used_budget.tolist() == [True, True, True, False]
    assert interactions.training_caveats(own) == [
        "C1 (uniform negatives): the network on embeddings used its whole budget (8 epochs) on 3 of 4 splits, "
        "early stopping never firing; its best epoch was the last on 2: still improving when the budget ended; "
        "best validation loss over the last 5 epochs: 28.0% lower on split 0 (1 not read)"]


def test_table2_intervals_say_which_configurations_separate():
    runs = [_summary("Wide", "C1", 0, 5, 9, (0.70, 0.45, 0.86), (0.68, 0.50, 0.83)),
            _summary("Deep", "C1", 0, 4, 9, (0.65, 0.40, 0.85), (0.68, 0.50, 0.83)),
            _summary("Tiny", "C1", 0, 4, 9, (0.30, 0.20, 0.39), (0.68, 0.50, 0.83))]
    table = interactions.run_intervals(runs)
    assert table["model"].tolist() == ["Wide", "degree-only", "Deep", "Tiny"]  # the baseline once per split
    assert set(interactions.separable_pairs(table)) == {("Wide", "Tiny"), ("degree-only", "Tiny"), ("Deep", "Tiny")}
    assert interactions.separable_pairs(table[table.model != "Tiny"]) == []
    overlaps = interactions.interval_overlaps(table[table.model != "Tiny"])
    # degree-only [0.50, 0.83] lies inside Deep [0.40, 0.85] and Wide [0.45, 0.86] (share 1); Deep and Wide
    # overlap by 0.40 of Wide's 0.41, the smallest share
    assert {overlaps.a[0], overlaps.b[0]} == {"Deep", "Wide"} and overlaps.share_of_narrower[1:].tolist() == [1, 1]
    assert overlaps.overlap[0] == pytest.approx(0.40) and overlaps.share_of_narrower[0] == pytest.approx(0.40 / 0.41)
    assert interactions.interval_overlaps(table).set_index(["a", "b"]).loc[("Deep", "Tiny"), "overlap"] == 0.0
    point = pd.DataFrame({"model": ["A", "A", "B"], "value": [0.5, 0.7, 0.9], "ci_low": [0.4, 0.7, 0.9],
                          "ci_high": [0.6, 0.7, 0.9]})  # a name twice (no split columns: one split), two zero-width
    shares = interactions.interval_overlaps(point).set_index(["a", "b"])["share_of_narrower"]
    assert shares.tolist() == [0.0, 0.0, 0.0] and interactions.interval_overlaps(point.head(1)).empty
    assert interactions.interval_overlaps(point.assign(ci_high=[0.8, 0.7, 0.9])).share_of_narrower.tolist()[-1] == 1.0


def test_table2_intervals_over_several_splits_compare_within_each_split():
    runs = [_summary("Wide", "C1", 0, 5, 9, (0.90, 0.85, 0.95), (0.60, 0.50, 0.70)),
            _summary("Deep", "C1", 0, 4, 9, (0.62, 0.55, 0.69), (0.60, 0.50, 0.70)),
            _summary("Wide", "C1", 1, 5, 9, (0.58, 0.52, 0.64), (0.61, 0.55, 0.67)),
            _summary("Deep", "C1", 1, 4, 9, (0.60, 0.54, 0.66), (0.61, 0.55, 0.67))]
    table = interactions.run_intervals(runs)
    assert table["model"].tolist() == ["Wide (C1 split 0)", "degree-only (C1 split 0)", "Deep (C1 split 0)",
                                       "Wide (C1 split 1)", "degree-only (C1 split 1)", "Deep (C1 split 1)"]
    assert table["network"].tolist() == [True, False, True, True, False, True]  # the configurations' own rows
    # Wide on split 0 clears both rows of its split; its interval also lies above every split-1 row, which is
    # not an ordering (other test pairs) and is not reported
    assert sorted(interactions.separable_pairs(table)) == [("Wide (C1 split 0)", "Deep (C1 split 0)"),
                                                           ("Wide (C1 split 0)", "degree-only (C1 split 0)")]
    overlaps = interactions.interval_overlaps(table)
    assert len(overlaps) == 6  # 3 pairs within each split, none across
    assert not any(a.split("split ")[1] != b.split("split ")[1] for a, b in zip(overlaps.a, overlaps.b))
    text = interactions.table2_sentences(runs)[0]
    assert text.startswith("Test AUROC of the configurations: 0.580–0.900 (their 95% intervals run from 0.52 to 0.95); "
                           "degree-only on the same splits: 0.600–0.610. ")
    assert text.endswith("Non-overlapping intervals on the same split support only: Wide (C1 split 0) above "
                         "degree-only (C1 split 0), Wide (C1 split 0) above Deep (C1 split 0) (a paired test on "
                         "the same pairs was not run).")


def test_table2_sentences_count_only_runs_that_trained_and_their_own_splits():
    trained = _summary("Wide", "C1", 0, 1, 9, (0.70, 0.55, 0.84), (0.65, 0.50, 0.80))  # warmup 2: epoch 1 inside
    baselines_only = _summary("Wide", "C1", 1, -1, 0, (0.5, 0.5, 0.5), (0.95, 0.90, 0.99))
    del baselines_only["models"]["model"]
    stopping = interactions.table2_stopping([trained, baselines_only])
    assert stopping.index.tolist() == [("Wide", 0)] and stopping["best epoch inside warmup"].tolist() == [True]
    first, warmup = interactions.table2_sentences([trained, baselines_only])
    assert "degree-only on the same split: 0.650. " in first  # not split 1's 0.95, where no network trained
    assert "order no configuration against another or against degree-only on this split**" in first
    assert warmup.startswith("**1 of 1 configurations kept weights from inside their warmup**: these figures")
    assert interactions.table2_stopping([baselines_only]).empty
    assert interactions.table2_sentences([baselines_only])[0].startswith("No Table-2 run trained a network")


def _long(values):
    return pd.DataFrame([{"tag": "", "protocol": "C3", "weighting": "uniform", "split_seed": seed, "config": "N",
                          "model": model, "metric": "auroc", "value": value, "test_prevalence": 0.05}
                         for model, seeds in values.items() for seed, value in enumerate(seeds)])


def test_protocol_sentences_rank_models_with_pair_features_on_paired_intervals():
    clear = interactions.protocol_sentences(_long({"hgb_pair": [0.70, 0.72, 0.71], "model": [0.55, 0.58, 0.56],
                                                   "seed_match": [0.60, 0.61, 0.61]}))[0]
    assert "best gradient boosting on pair features 0.710 [" in clear and "ahead of every other model" in clear
    assert "network N 0.563 [" in clear and "minus seed-match on the same splits -0.043 [" in clear
    close = interactions.protocol_sentences(_long({"hgb_pair": [0.70, 0.60, 0.66], "model": [0.50, 0.50, 0.51],
                                                   "seed_match": [0.62, 0.66, 0.64]}))[0]
    assert "highest mean gradient boosting on pair features 0.653 [" in close
    assert "not told apart from seed-match" in close and "so no model is named best" in close


def test_site_enrichment_compares_positives_and_negatives_per_split():
    table = pd.DataFrame({"label": [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0], "sites": 0, "duplex_mfe": -10.0,
                          "best_site_rank": [5, 4, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]}).assign(
        tag="", protocol="C3", weighting="uniform", split_seed=0)
    out = interactions.site_enrichment(table).set_index("site")
    assert list(out.index) == ["8mer", "7mer-m8", "none"]
    assert out.at["8mer", "positives"] == 0.25 and out.at["8mer", "negatives"] == 0.125
    assert out.at["8mer", "enrichment"] == pytest.approx(2.0) and np.isnan(out.at["7mer-m8", "enrichment"])


def test_fit_seconds_table_averages_manifest_timings_per_protocol():
    summaries = [{"protocol": "C3", "manifest": {"fit_seconds": {"model": 10.0, "network_pair": 30.0}}},
                 {"protocol": "C3", "manifest": {"fit_seconds": {"model": 20.0}}},
                 {"protocol": "C1", "manifest": {}}]
    table = interactions.fit_seconds_table(summaries)
    assert table.loc["C3", "model"] == 15.0 and table.loc["C3", "network_pair"] == 30.0 and "C1" not in table.index
    assert interactions.fit_seconds_table(summaries[2:]).empty


def test_augmentation_differences_pair_x4_runs_with_their_no_reverse_runs_on_the_same_split():
    rows = [{"tag": t, "protocol": "C3", "weighting": "uniform", "split_seed": s, "config": "A", "model": m,
             "metric": "auroc", "value": v, "test_prevalence": 0.05, "variant": f"A__C3__s{s}" + suffix}
            for t, suffix, s, m, v in [("", "", 0, "model", 0.60), ("", "", 1, "model", 0.58), ("", "", 2, "model", 0.7),
                                       ("ablation", "__norev__ablation", 0, "model", 0.55),
                                       ("ablation", "__norev__ablation", 1, "model", 0.59),
                                       ("", "", 0, "seed_match", 0.61),
                                       ("ablation", "__norev__ablation", 0, "seed_match", 0.61),
                                       ("other", "__other", 1, "model", 0.1),  # another tag: not the x4 side
                                       ("other", "__norev__other", 1, "model", 0.9)]]  # nor the no-reverse side
    table = interactions.augmentation_differences(pd.DataFrame(rows)).set_index("model")
    assert table.loc["A", "n"] == 2 and table.loc["A", "mean"] == pytest.approx(0.02)  # split 2 has no pair
    assert table.loc["A", "n_ahead"] == 1 and table.loc["A", "with_reversed"] == pytest.approx(0.59)
    assert table.loc["A", "without_reversed"] == pytest.approx(0.57)
    assert "seed_match" not in table.index  # identical on both sides by construction: left out


def test_pair_feature_effects_and_the_aim_come_from_paired_splits():
    values = {("C3", "model"): [0.50, 0.55, 0.53], ("C3", "network_pair"): [0.60, 0.62, 0.63],
              ("C3", "logistic_regression"): [0.52, 0.52, 0.52], ("C3", "logistic_pair"): [0.52, 0.53, 0.51],
              ("C3", "seed_match"): [0.61, 0.60, 0.62], ("C3", "hgb_pair"): [0.64, 0.66, 0.65],
              ("C4", "model"): [0.55, 0.56], ("C4", "seed_match"): [0.66, 0.70]}
    effects = interactions.pair_feature_effects(_auroc_rows(values)).set_index(["protocol", "model"])
    # a second configuration's runs of the same splits: its network_pair meets its own network only
    other = _auroc_rows({("C3", "model"): [0.40, 0.40, 0.40], ("C3", "network_pair"): [0.45, 0.45, 0.45]})
    two = interactions.pair_feature_effects(pd.concat([_auroc_rows(values), other.assign(config="B")]))
    nets = two[two.model == "network_pair"].set_index("other")
    assert nets.loc["A", "mean"] == pytest.approx(0.09) and nets.loc["B", "mean"] == pytest.approx(0.05)
    assert list(effects.index) == [("C3", "hgb_pair"), ("C3", "logistic_pair"), ("C3", "network_pair")]
    assert effects.loc[("C3", "network_pair"), "other"] == "A"  # the paper's network of the same configuration
    assert effects.loc[("C3", "network_pair"), "mean"] == pytest.approx(0.09)
    assert effects.loc[("C3", "network_pair"), "n_ahead"] == 3 and effects.loc[("C3", "network_pair"), "ci_low"] > 0
    assert effects.loc[("C3", "logistic_pair"), "mean"] == pytest.approx(0.0)
    assert effects.loc[("C3", "hgb_pair"), "mean"] == pytest.approx(0.04)
    c3, c4 = interactions.aim_sentences(_auroc_rows(values), aim=0.65)
    assert c3.startswith(f"**{sampling.PROTOCOL_LABELS['C3']}**: highest mean of 6 models gradient boosting on pair "
                         "features 0.650 [")
    assert c3.endswith("(3 splits); the aim of 0.65 is not settled: the interval covers it (the mean above it by "
                       "0.000)")
    assert "highest mean of 2 models seed-match 0.680 [" in c4 and "is not settled: the interval covers it" in c4
    low = interactions.aim_sentences(_auroc_rows({("C3", "model"): [0.60, 0.61, 0.62]}), aim=0.65)[0]
    assert low.endswith("(3 splits); the aim of 0.65 is missed: the interval lies below it (the mean by 0.040)")
    high = interactions.aim_sentences(_auroc_rows({("C3", "model"): [0.70, 0.71, 0.72]}), aim=0.65)[0]
    assert high.endswith("is reached: the interval clears it")
    one = interactions.aim_sentences(_auroc_rows({("C4", "model"): [0.9], ("C4", "seed_match"): [0.7]}), aim=0.65)
    assert one == [f"**{sampling.PROTOCOL_LABELS['C4']}**: no model has two splits, so no interval: the aim of 0.65 "
                   "is not judged"]


def test_rna_families_are_computed_once_per_set_of_rnas_and_settings(monkeypatch, tmp_path):
    from rnalib import data
    from rnalib.interactions import families

    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
    positives = pd.DataFrame({"id_x": ["m1", "m2"], "seq_x": ["UGAGGUAGUAGGUUGUAUAGUU", "UGAGGUAGUAGGUUGUGUGGUU"],
                              "cat_x": ["miRNA", "miRNA"], "id_y": ["l1", "l2"], "seq_y": ["ACGU" * 40, "GGCA" * 40],
                              "cat_y": ["lncRNA", None]})
    calls = []
    real = families.assign_families
    monkeypatch.setattr(families, "assign_families", lambda *a, **k: calls.append(a) or real(*a, **k))
    first = interactions.rna_families(positives)
    again = interactions.rna_families(positives)
    assert len(calls) == 1 and again.equals(first) and again.name == first.name == "family"
    assert again.index.name == "id" and again.loc["m1"] == again.loc["m2"]  # one seed, one family
    interactions.rna_families(positives, min_seq_id=0.9)  # other settings: computed again
    interactions.rna_families(positives.iloc[:1])  # other RNAs: computed again
    assert len(calls) == 3 and len(list((tmp_path / "families").glob("*.json"))) == 3
    assert not list((tmp_path / "families").glob(".*.tmp"))  # written whole
    interactions.rna_families(positives, cache=False)
    assert len(calls) == 4
