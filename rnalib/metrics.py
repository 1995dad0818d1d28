"""Metrics (scikit-learn underneath): binary metrics with bootstrap intervals, threshold selection, confusion."""
from __future__ import annotations

import warnings

import numpy as np
from sklearn import metrics as skm

BINARY_METRICS = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "auroc", "auprc")


def best_f1_threshold(y: np.ndarray, prob: np.ndarray) -> float:
    """The probability threshold that maximises F1 (ties: the highest threshold)."""
    precision, recall, thresholds = skm.precision_recall_curve(y, prob)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(precision),
                   where=(precision + recall) > 0)[:-1]
    if not len(thresholds):
        return 0.5
    best = np.flatnonzero(f1 == f1.max())[-1]
    return float(thresholds[best])


def binary_metrics(y: np.ndarray, prob: np.ndarray, threshold: float) -> dict[str, float]:
    """Accuracy, balanced accuracy, precision, recall, F1 at ``threshold`` (prob ≥ threshold is positive);
    AUROC and AUPRC (average precision) from the probabilities. Undefined values are NaN."""
    y = np.asarray(y).astype(int)
    pred = (np.asarray(prob) >= threshold).astype(int)
    two_classes = len(np.unique(y)) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "accuracy": skm.accuracy_score(y, pred),
            "balanced_accuracy": skm.balanced_accuracy_score(y, pred) if two_classes else np.nan,
            "precision": skm.precision_score(y, pred, zero_division=0),
            "recall": skm.recall_score(y, pred, zero_division=0),
            "f1": skm.f1_score(y, pred, zero_division=0),
            "auroc": skm.roc_auc_score(y, prob) if two_classes else np.nan,
            "auprc": skm.average_precision_score(y, prob) if two_classes else np.nan,
        }


def evaluate_binary(y: np.ndarray, prob: np.ndarray, threshold: float, n_boot: int = 200,
                    seed: int = 0) -> dict[str, dict[str, float]]:
    """Each metric's value and percentile-bootstrap 95% interval (resampling pairs with replacement)."""
    y, prob = np.asarray(y), np.asarray(prob)
    point = binary_metrics(y, prob, threshold)
    rng = np.random.default_rng(seed)
    draws = {name: [] for name in BINARY_METRICS}
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        for name, value in binary_metrics(y[idx], prob[idx], threshold).items():
            draws[name].append(value)
    out = {}
    for name in BINARY_METRICS:
        sample = np.asarray(draws[name], dtype=float)
        finite = sample[np.isfinite(sample)]
        low, high = (np.percentile(finite, [2.5, 97.5]) if finite.size else (np.nan, np.nan))
        out[name] = {"value": float(point[name]), "ci_low": float(low), "ci_high": float(high)}
    return out


def normalized_confusion(y: np.ndarray, prob: np.ndarray, threshold: float) -> list[list[float]]:
    """2×2 confusion matrix normalised over true classes (rows: true 0, 1; columns: predicted 0, 1)."""
    pred = (np.asarray(prob) >= threshold).astype(int)
    return skm.confusion_matrix(np.asarray(y).astype(int), pred, labels=[0, 1], normalize="true").tolist()


# --------------------------------------------------------------------------- multi-label (study B)

MULTILABEL_METRICS = ("example_accuracy", "subset_accuracy", "average_precision", "coverage",
                      "coverage_sklearn", "one_error", "ranking_loss", "hamming_loss")


def one_error(y: np.ndarray, scores: np.ndarray) -> float:
    """Share of examples whose top-scored label is not one of their true labels (ties: the first column)."""
    top = np.asarray(scores).argmax(axis=1)
    return float(1.0 - np.asarray(y)[np.arange(len(top)), top].mean())


def multilabel_metrics(y: np.ndarray, scores: np.ndarray, pred: np.ndarray,
                       classes: tuple[str, ...]) -> dict[str, float]:
    """Example-based and ranking metrics plus per-class MCC and AUPRC.

    - example_accuracy: sample-wise Jaccard |Y ∩ Ŷ| / |Y ∪ Ŷ| (the example-based accuracy of the papers);
    - subset_accuracy: exact match of the whole label set (what LOCAS's code computes as "accuracy");
    - average_precision: label-ranking average precision;
    - coverage: Tsoumakas' coverage (ranks to go down to cover all true labels, starting at 0);
      coverage_sklearn: scikit-learn's ``coverage_error`` = coverage + 1;
    - one_error, ranking_loss, hamming_loss: lower is better.
    """
    y, scores, pred = np.asarray(y).astype(int), np.asarray(scores, dtype=float), np.asarray(pred).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cov = skm.coverage_error(y, scores)
        out = {
            "example_accuracy": skm.jaccard_score(y, pred, average="samples", zero_division=1.0),
            "subset_accuracy": skm.accuracy_score(y, pred),
            "average_precision": skm.label_ranking_average_precision_score(y, scores),
            "coverage": cov - 1.0,
            "coverage_sklearn": cov,
            "one_error": one_error(y, scores),
            "ranking_loss": skm.label_ranking_loss(y, scores),
            "hamming_loss": skm.hamming_loss(y, pred),
        }
        for j, name in enumerate(classes):
            out[f"mcc_{name}"] = skm.matthews_corrcoef(y[:, j], pred[:, j])
            out[f"auprc_{name}"] = (skm.average_precision_score(y[:, j], scores[:, j])
                                    if 0 < y[:, j].sum() < len(y) else float("nan"))
    return {k: float(v) for k, v in out.items()}


def best_mcc_thresholds(y: np.ndarray, scores: np.ndarray, grid: int = 99) -> np.ndarray:
    """Per-class threshold maximising MCC on (validation) data, searched over score quantiles."""
    y, scores = np.asarray(y).astype(int), np.asarray(scores, dtype=float)
    thresholds = np.full(y.shape[1], 0.5)
    for j in range(y.shape[1]):
        candidates = np.unique(np.quantile(scores[:, j], np.linspace(0.005, 0.995, grid)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mcc = [skm.matthews_corrcoef(y[:, j], scores[:, j] >= c) for c in candidates]
        thresholds[j] = candidates[int(np.argmax(mcc))]
    return thresholds
