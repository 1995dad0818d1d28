import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import matthews_corrcoef

from rnalib.data import LOC_CLASSES
from rnalib.localization import compare
from rnalib.localization.published import PUBLISHED_LOCAS, PUBLISHED_MCC


def test_weighted_mcc_is_the_mcc_of_the_resampled_set():
    rng = np.random.default_rng(0)
    y, pred = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
    counts = rng.multinomial(50, np.full(50, 1 / 50), size=3).astype(float)
    got = compare.weighted_mcc(y, pred, np.vstack([np.ones(50), counts]))
    assert got[0] == pytest.approx(matthews_corrcoef(y, pred))
    for k, w in enumerate(counts, start=1):
        rows = np.repeat(np.arange(50), w.astype(int))
        assert got[k] == pytest.approx(matthews_corrcoef(y[rows], pred[rows]))
    assert compare.weighted_mcc(y, np.zeros(50), np.ones((1, 50)))[0] == 0.0  # an empty margin: 0, as sklearn


def toy_predictions(n=300, folds=3, seed=0, signal=1.0):
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(folds):
        part = {"fold": k}
        for c in LOC_CLASSES:
            y = rng.integers(0, 2, n)
            prob = 1 / (1 + np.exp(-(signal * (2 * y - 1) + rng.normal(size=n))))
            part.update({f"true_{c}": y, f"prob_{c}": prob, f"pred_{c}": (prob >= 0.5).astype(int),
                         f"pred05_{c}": (prob >= 0.5).astype(int)})
        frames.append(pd.DataFrame(part))
    return pd.concat(frames, ignore_index=True)


def test_class_intervals_hold_the_fold_mean_and_bracket_it():
    preds = toy_predictions()
    table = compare.class_intervals(preds, n_boot=300)
    for c in LOC_CLASSES:
        per_fold = [matthews_corrcoef(p[f"true_{c}"], p[f"pred_{c}"]) for _, p in preds.groupby("fold")]
        assert table.at[c, "mcc"] == pytest.approx(np.mean(per_fold))
        assert table.at[c, "mcc_low"] < table.at[c, "mcc"] < table.at[c, "mcc_high"]
        assert 0.5 < table.at[c, "auroc"] < 1 and table.at[c, "auroc_sd"] > 0
    wider = compare.class_intervals(preds[preds.index % 10 == 0], n_boot=300)  # a tenth of the mRNAs
    assert ((wider.mcc_high - wider.mcc_low) > (table.mcc_high - table.mcc_low)).all()


def test_a_class_counts_as_above_only_when_its_interval_clears():
    dm3loc = dict(zip(LOC_CLASSES, PUBLISHED_MCC["DM3Loc (published)"]))
    table = pd.DataFrame({c: {"mcc": dm3loc[c] + 0.02, "mcc_low": dm3loc[c] + 0.01, "mcc_high": dm3loc[c] + 0.03,
                              "auroc": 0.7, "auprc": 0.5} for c in LOC_CLASSES}).T
    table.loc["Exosome", ["mcc", "mcc_low", "mcc_high"]] = [0.089, 0.059, 0.121]  # the audit's Exosome figure
    table.loc["ER", ["mcc", "mcc_low", "mcc_high"]] = [0.1, 0.05, 0.15]
    status = compare.versus_published(table)["status"]
    assert status["Exosome"] == "point estimate only" and status["ER"] == "below" and status["Nucleus"] == "clears"
    counts = compare.above_counts({"v": table})
    assert counts.loc["v", ["clear (interval)", "point estimate only"]].tolist() == [4, 1]
    assert "Exosome" in counts.at["v", "classes on the point estimate"]
    text = compare.counts_sentence(counts)
    assert "4 of 6 classes clear DM3Loc (published)'s MCC" in text and "1 more only on the point estimate" in text
    edcloc = compare.versus_published(table, "EDCLoc (published)")
    assert edcloc.at["Nucleus", "published AUROC"] == 0.781


def test_scarce_class_sentence_counts_negatives_in_test_and_validation():
    n = 200
    records = pd.DataFrame({"accession": [f"NM_{i}" for i in range(n)],
                            **{c: np.ones(n, dtype=int) if c == "Exosome" else np.arange(n) % 2 for c in LOC_CLASSES}})
    records.loc[::20, "Exosome"] = 0  # 10 Exosome-negatives
    roles = np.array(["train"] * 6 + ["val"] * 2 + ["test"] * 2)
    folds = pd.DataFrame({f"fold{k}": np.roll(roles, 2 * k)[np.arange(n) % 10] for k in range(2)},
                         index=records.accession)
    text = compare.scarce_sentence(records, folds, min_labels=15)  # 20 of each other class per test set
    assert text.startswith("**Exosome is nearly unmeasurable here**")
    exosome = records.set_index("accession")["Exosome"]
    test_neg = [int((exosome[folds.index[folds[f"fold{k}"] == "test"]] == 0).sum()) for k in range(2)]
    assert f"only {min(test_neg)}–{max(test_neg)} Exosome-negative test mRNAs" in text
    assert "Nucleus" not in text
    preds = pd.DataFrame({"true_Exosome": [1, 1, 0, 1], "pred_Exosome": [0, 0, 0, 1]})
    assert "call 3 test mRNAs non-Exosome, 2 of them wrongly" in compare.scarce_sentence(records, folds, preds, 15)


def test_prior_sentence_is_generated_from_the_numbers():
    def run(method, variant, per_fold):
        folds = {str(k): {"fixed": values} for k, values in enumerate(per_fold)}
        mean = {m: float(np.mean([v[m] for v in per_fold])) for m in per_fold[0]}
        return {"method": method, "variant": variant, "folds": folds, "mean": {"fixed": mean}}

    base = {**PUBLISHED_LOCAS, "average_precision": 0.9450, "one_error": 0.0079, "ranking_loss": 0.0800,
            "coverage": 2.307}
    prior = run("label_prior", "label_prior", [base, base])
    model = run("scl", "scl_theta0.8", [{**base, "average_precision": 0.9464, "ranking_loss": 0.075, "coverage": 2.2},
                                        {**base, "average_precision": 0.9476, "ranking_loss": 0.073, "coverage": 2.25}])
    text = compare.prior_sentence([prior, model])
    assert "equals or beats LOCAS's published average precision, one-error and ranking loss but not coverage " \
           "(2.307 vs 2.126)" in text
    assert "Average precision: better on every fold for every trained model (1) (+0.0014 to +0.0026)." in text
    assert "Ranking loss: better on every fold for every trained model (1) (−0.005 to −0.007)." in text
    assert "One-error: identical on every fold for every trained model (1) (0.0079)." in text
    mixed = run("noscl", "noscl", [{**base, "average_precision": 0.94}, {**base, "average_precision": 0.95}])
    lower = run("lr", "logistic_regression", [{**base, "average_precision": 0.944, "one_error": 0.009}] * 2)
    text = compare.prior_sentence([prior, model, mixed, lower])
    assert ("Average precision: better on every fold for scl_theta0.8 (+0.0014 to +0.0026); better on only some "
            "folds for noscl (1 of 2); never better for logistic_regression (−0.001 to −0.001).") in text
    assert "One-error: identical on every fold for scl_theta0.8, noscl (0.0079); never better for " \
           "logistic_regression (+0.0011 to +0.0011)." in text
    assert compare._signed(-0.0077, -9.1e-05, "ranking_loss") == "−0.000091 to −0.0077"
    assert compare._signed(0.0, 0.001, "average_precision") == "0 to +0.001"
    alien = {**model, "variant": "alien", "folds": {"9": model["folds"]["0"]}}  # no fold shared with the prior
    assert "alien" not in compare.prior_sentence([prior, model, alien])
    assert compare.prior_sentence([model]) == ""


def test_cnn_scale_sentence_reads_the_runs_parameters_and_histories(tmp_path):
    def run(variant, method, encoder, seq_nt, best_per_fold, stage):
        folder = tmp_path / variant
        folder.mkdir()
        rows = [{"epoch": e, "train_loss": 1.0, "val_loss": abs(e - best) + 0.1, "stage": stage, "fold": k}
                for k, best in enumerate(best_per_fold) for e in range(4)]
        rows += [{"epoch": 0, "train_loss": 1.0, "val_loss": 0.0, "stage": "head", "fold": 0}]  # not the CNN's stage
        pd.DataFrame(rows).to_csv(folder / "history.csv.gz", index=False)
        config = {"encoder": encoder, "seq_nt": seq_nt, "cnn_width": 16, "cnn_epochs": 4}
        return {"variant": variant, "method": method, "folder": str(folder),
                "manifest": {"parameters": {"config": config}}}

    cnn = run("seqcnn", "seqcnn", "mlp", 500, [3, 1, 3], "classification")
    locas = run("scl_theta0.8_seqcnn", "scl", "seqcnn", 500, [0, 3, 2], "contrastive")
    kmer = run("scl_theta0.5", "scl", "mlp", 500, [3, 3, 3], "contrastive")
    assert compare.cnn_runs([cnn, locas, kmer]) == [cnn, locas]
    epochs = compare.cnn_best_epochs(locas)
    assert epochs.best_epoch.tolist() == [0, 3, 2] and epochs.best_is_last.tolist() == [False, True, False]
    text = compare.cnn_scale_sentence([cnn, locas, kmer])
    assert text.startswith("EDCLoc reads 8,000 nt. `seqcnn` reads 500 nt of each mRNA with 16 filters per first-layer "
                           "kernel and at most 4 epochs; it ran all of them on 3 of 3 folds, its best validation epoch "
                           "the last (still improving) on 2; `scl_theta0.8_seqcnn` reads 500 nt")
    assert "on 3 of 3 folds, its best validation epoch the last (still improving) on 1." in text
    assert "These rows say" in text and "no such run" in text
    assert "This row says" in compare.cnn_scale_sentence([cnn])  # the report profile's one CNN row
    full = run("seqcnn_full", "seqcnn", "mlp", 8000, [1], "classification")
    assert "no such run" not in compare.cnn_scale_sentence([full]) and compare.cnn_scale_sentence([kmer]) == ""
