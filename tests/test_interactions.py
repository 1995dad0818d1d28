import json
import warnings

import numpy as np
import pandas as pd
import pytest

from rnalib import data
from rnalib.embedding import embed
from rnalib.embedding.cache import EmbeddingCache
from rnalib.interactions import sampling
from rnalib.interactions import study as interactions
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
    assert first.metrics["all_negative_accuracy_floor"] == 0.75
    assert set(first.predictions.role) == {"val", "test"}
    assert first.features.shape[1] == 2 * (4 + 16)


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
        interactions.predict_proba(model, scaler.transform(result.features[test]).astype(np.float32)),
        result.predictions.loc[result.predictions.role == "test", "prob"].to_numpy(), rtol=1e-5)
    assert interactions.latent(model, scaler, result.features[:3]).shape == (3, 16)


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
    assert diff["mean"].item() == pytest.approx(0.075) and diff["n"].item() == 2
    matched = interactions.over_splits(long, matched=True).set_index("model")
    everything = interactions.over_splits(long).set_index("model")
    assert matched.loc["degree_only", "n"] == 2 and matched.loc["degree_only", "mean"] == pytest.approx(0.625)
    assert everything.loc["degree_only", "n"] == 3 and matched.loc["N", "n"] == 2


def test_protocol_sentences_name_the_best_network_and_the_baselines():
    rows = [{"tag": "", "protocol": p, "weighting": "uniform", "split_seed": s, "config": c, "model": m,
             "metric": "auroc", "value": v, "test_prevalence": 0.05}
            for p, s, c, m, v in [("C3", 0, "A", "model", 0.55), ("C3", 1, "A", "model", 0.57),
                                  ("C3", 0, "B", "model", 0.60), ("C3", 1, "B", "model", 0.62),
                                  ("C3", 0, "A", "degree_only", 0.5), ("C3", 1, "A", "degree_only", 0.5),
                                  ("C1", 0, "A", "degree_only", 0.7)]]
    lines = interactions.protocol_sentences(interactions.over_splits(pd.DataFrame(rows), matched=True))
    assert len(lines) == 1 and lines[0].startswith(f"**{sampling.PROTOCOL_LABELS['C3']}**")  # C1 has no network
    assert "network 0.610 ± 0.014 (n=2)" in lines[0] and "degree-only 0.500" in lines[0]
    assert "logistic regression n/a" in lines[0]
    linked = interactions.protocol_sentences(interactions.over_splits(pd.DataFrame(rows), matched=True),
                                             link=lambda p: f"[{p} pages](x_{p}.html)")
    assert linked[0] == lines[0] + " ([C3 pages](x_C3.html))"


def _long(values):
    return pd.DataFrame([{"tag": "", "protocol": "C3", "weighting": "uniform", "split_seed": seed, "config": "N",
                          "model": model, "metric": "auroc", "value": value, "test_prevalence": 0.05}
                         for model, seeds in values.items() for seed, value in enumerate(seeds)])


def test_protocol_winner_is_decided_on_paired_intervals():
    clear = interactions.protocol_winner(_long({"hgb_pair": [0.70, 0.72, 0.71], "model": [0.55, 0.58, 0.56],
                                                "seed_match": [0.60, 0.61, 0.61]}), "C3")
    assert clear.startswith("C3: hgb_pair leads (auroc 0.710") and "it wins" in clear
    close = interactions.protocol_winner(_long({"hgb_pair": [0.70, 0.60, 0.66], "model": [0.50, 0.50, 0.51],
                                                "seed_match": [0.62, 0.66, 0.64]}), "C3")
    assert "hgb_pair leads" in close and "a tie with seed_match" in close and "N" not in close.split("tie with")[1]
    assert interactions.protocol_winner(_long({"model": [0.5]}), "C4") == "C4: no runs."


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
