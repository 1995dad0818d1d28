"""Metrics (scikit-learn underneath): binary metrics with bootstrap intervals, threshold selection, confusion."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn import metrics as skm

BINARY_METRICS = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "auroc", "auprc", "prevalence")


def best_f1_threshold(y: np.ndarray, prob: np.ndarray) -> float:
    """The probability threshold that maximises F1 (ties: the highest threshold)."""
    precision, recall, thresholds = skm.precision_recall_curve(y, prob)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(precision),
                   where=(precision + recall) > 0)[:-1]
    if not len(thresholds):
        return 0.5
    best = np.flatnonzero(f1 == f1.max())[-1]
    return float(thresholds[best])


def binary_metrics(y: np.ndarray, prob: np.ndarray, threshold: float,
                   sample_weight: np.ndarray | None = None) -> dict[str, float]:
    """Accuracy, balanced accuracy, precision, recall, F1 at ``threshold`` (prob ≥ threshold is positive);
    AUROC and AUPRC (average precision) from the probabilities; prevalence, the share of positives (the AUPRC
    of a random classifier). With ``sample_weight`` every metric is scikit-learn's weighted one (rows of weight
    0 are dropped first; integer weights give the metrics of the data with rows repeated that often).
    Undefined values are NaN."""
    y = np.asarray(y).astype(int)
    prob = np.asarray(prob)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=float)
        if sample_weight.shape != y.shape or np.any(sample_weight < 0) or not np.all(np.isfinite(sample_weight)):
            raise ValueError("sample_weight must be finite, non-negative and one per row")
        keep = sample_weight > 0
        y, prob, sample_weight = y[keep], prob[keep], sample_weight[keep]
    if not len(y):
        return {name: np.nan for name in BINARY_METRICS}
    pred = (prob >= threshold).astype(int)
    two_classes = len(np.unique(y)) == 2
    w = sample_weight
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # one call for what precision_score, recall_score and f1_score each compute (same values)
        precision, recall, f1, _ = skm.precision_recall_fscore_support(y, pred, average="binary", zero_division=0,
                                                                       sample_weight=w)
        return {
            "accuracy": skm.accuracy_score(y, pred, sample_weight=w),
            "balanced_accuracy": skm.balanced_accuracy_score(y, pred, sample_weight=w) if two_classes else np.nan,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "auroc": skm.roc_auc_score(y, prob, sample_weight=w) if two_classes else np.nan,
            "auprc": skm.average_precision_score(y, prob, sample_weight=w) if two_classes else np.nan,
            "prevalence": float(np.average(y, weights=w)),
        }


_BATCH_CELLS = 4_000_000  # replicates × rows computed at once by evaluate_binary (bounds its memory)


def weighted_binary_metrics(y: np.ndarray, prob: np.ndarray, threshold: float,
                            weights: np.ndarray) -> dict[str, np.ndarray]:
    """``binary_metrics(y, prob, threshold, sample_weight=w)`` for every row ``w`` of ``weights`` (shape
    (replicates, rows), finite and non-negative) at once: one sort of ``prob`` and cumulative sums instead of a
    scikit-learn call per replicate, so a 200-replicate bootstrap costs about one call. AUROC is the trapezoidal
    area under the ROC curve over distinct scores and AUPRC the step-wise average precision, as scikit-learn's
    ``roc_auc_score`` and ``average_precision_score`` define them (tests check equality); a replicate without
    both classes gets NaN for AUROC, AUPRC and balanced accuracy, one of total weight 0 NaN throughout.
    Returns one array of length ``replicates`` per name of ``BINARY_METRICS``."""
    y = np.asarray(y).astype(int)
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    prob = np.asarray(prob)
    order = np.argsort(-prob.astype(float), kind="mergesort")
    ranked, pos = prob[order], y[order] == 1
    score, called = ranked.astype(float), ranked >= threshold  # called in the scores' own dtype, as binary_metrics
    w = weights[:, order]
    last = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1] if len(score) else np.empty(0, int)
    tps = np.cumsum(np.where(pos, w, 0.0), axis=1)[:, last]   # weight of positives scored ≥ each distinct score
    fps = np.cumsum(np.where(pos, 0.0, w), axis=1)[:, last]
    n_pos, n_neg = (tps[:, -1], fps[:, -1]) if len(last) else (np.zeros(len(w)), np.zeros(len(w)))
    tp, fp = np.where(pos & called, w, 0.0).sum(axis=1), np.where(~pos & called, w, 0.0).sum(axis=1)
    total = n_pos + n_neg
    with np.errstate(invalid="ignore", divide="ignore"):
        both = (n_pos > 0) & (n_neg > 0)
        tpr = np.hstack([np.zeros((len(w), 1)), tps]) / n_pos[:, None]
        fpr = np.hstack([np.zeros((len(w), 1)), fps]) / n_neg[:, None]
        auroc = np.sum(np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]) / 2, axis=1)
        precision_at = np.where(tps + fps > 0, tps / (tps + fps), 0.0)
        auprc = np.sum(np.diff(tpr, axis=1) * precision_at, axis=1)
        recall = np.where(n_pos > 0, tp / n_pos, 0.0)
        out = {
            "accuracy": (tp + n_neg - fp) / total,
            "balanced_accuracy": np.where(both, (recall + (n_neg - fp) / n_neg) / 2, np.nan),
            "precision": np.where(tp + fp > 0, tp / (tp + fp), 0.0),
            "recall": recall,
            "f1": np.where(2 * tp + fp + (n_pos - tp) > 0, 2 * tp / (2 * tp + fp + (n_pos - tp)), 0.0),
            "auroc": np.where(both, auroc, np.nan),
            "auprc": np.where(both, auprc, np.nan),
            "prevalence": n_pos / total,
        }
    empty = ~(total > 0)
    return {name: np.where(empty, np.nan, values) for name, values in out.items()}


def _cluster_index(ids: np.ndarray) -> np.ndarray:
    """Each row's cluster as an integer 0..k-1 (k distinct ids)."""
    return np.unique(np.asarray(ids), return_inverse=True)[1].ravel()


def _pigeonhole_weights(codes_x: np.ndarray, codes_y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One two-way cluster-bootstrap replicate: draw the distinct x clusters with replacement and, independently,
    the distinct y clusters; a row's weight is (times its x was drawn) × (times its y was drawn).
    ``codes_x``/``codes_y`` are the rows' cluster indices 0..k-1 (every index present)."""
    n_x, n_y = int(codes_x.max(initial=-1)) + 1, int(codes_y.max(initial=-1)) + 1
    count_x = np.bincount(rng.integers(0, n_x, n_x), minlength=n_x)
    count_y = np.bincount(rng.integers(0, n_y, n_y), minlength=n_y)
    return (count_x[codes_x] * count_y[codes_y]).astype(float)


def evaluate_binary(y: np.ndarray, prob: np.ndarray, threshold: float, n_boot: int = 200, seed: int = 0,
                    clusters: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, dict[str, float]]:
    """Each metric's value and percentile-bootstrap 95% interval (over the finite replicates).

    Without ``clusters`` the bootstrap resamples pairs (rows) with replacement, which treats pairs as
    independent. Test pairs share RNAs, though (one miRNA sits in dozens of pairs), and the errors of pairs
    sharing an RNA are correlated, so the pair bootstrap understates the uncertainty. With
    ``clusters=(ids_x, ids_y)`` (each row's x-partner and y-partner RNA id) it runs a two-way cluster
    ("pigeonhole") bootstrap for crossed designs (Owen 2007, "The pigeonhole bootstrap", Ann. Appl. Stat.):
    each replicate draws the distinct x RNAs with replacement and, independently, the distinct y RNAs, gives
    each pair the weight (draws of its x RNA) × (draws of its y RNA) and computes the weighted metrics, so both
    sources of dependence are resampled and the interval reflects how many independent RNAs the test set
    really holds. The method is mildly conservative: even with no shared RNAs (every id once per side) the
    product weights have variance ≈ 3 rather than 1, so its interval is then about √3 times the pair one.
    """
    y, prob = np.asarray(y), np.asarray(prob)
    point = binary_metrics(y, prob, threshold)
    rng = np.random.default_rng(seed)
    if clusters is not None:
        ids_x, ids_y = (np.asarray(ids) for ids in clusters)
        if ids_x.shape != y.shape or ids_y.shape != y.shape:
            raise ValueError("clusters must be two arrays of ids, one id per row")
        codes_x, codes_y = _cluster_index(ids_x), _cluster_index(ids_y)
        draw = lambda: _pigeonhole_weights(codes_x, codes_y, rng)
    else:  # a resample of rows is the data with each row weighted by how often it was drawn
        draw = lambda: np.bincount(rng.integers(0, len(y), len(y)), minlength=len(y)).astype(float)
    draws = {name: [] for name in BINARY_METRICS}
    chunk = max(1, _BATCH_CELLS // max(len(y), 1))
    for start in range(0, n_boot if len(y) else 0, chunk):
        weights = np.vstack([draw() for _ in range(min(chunk, n_boot - start))])
        for name, values in weighted_binary_metrics(y, prob, threshold, weights).items():
            draws[name].extend(values)
    out = {}
    for name in BINARY_METRICS:
        sample = np.asarray(draws[name], dtype=float)
        finite = sample[np.isfinite(sample)]
        low, high = (np.percentile(finite, [2.5, 97.5]) if finite.size else (np.nan, np.nan))
        out[name] = {"value": float(point[name]), "ci_low": float(low), "ci_high": float(high)}
    return out


def t_interval(mean: np.ndarray | float, sd: np.ndarray | float, n: np.ndarray | int,
               level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Student-t interval of a mean from its sample sd (ddof=1) and n: mean ± t(level, n-1)·sd/√n (NaN below
    two values). Over split seeds it is an interval for the mean over splits of the same RNAs, not for new RNAs."""
    from scipy import stats

    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stats.t.ppf(0.5 + level / 2, np.where(n > 1, n - 1, np.nan)) * np.asarray(sd, dtype=float) / np.sqrt(n)
    return np.asarray(mean, dtype=float) - half, np.asarray(mean, dtype=float) + half


def summarize_over_splits(frame: pd.DataFrame, by: list[str], value: str = "value") -> pd.DataFrame:
    """Mean, sd (ddof=1; NaN for a single split), n and the 95% Student-t interval of the mean (``ci_low``,
    ``ci_high``; NaN below two splits) of ``value`` per group of ``by`` — the "mean over split seeds" table. NaN
    values are left out."""
    grouped = frame.groupby(list(by), sort=True, dropna=False)[value]
    table = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    table["ci_low"], table["ci_high"] = t_interval(table["mean"], table["sd"], table["n"])
    return table


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
    """Example-based and ranking metrics plus per-class MCC, AUPRC and AUROC (NaN for a class with one label).

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
            both = 0 < y[:, j].sum() < len(y)
            out[f"auprc_{name}"] = skm.average_precision_score(y[:, j], scores[:, j]) if both else float("nan")
            out[f"auroc_{name}"] = skm.roc_auc_score(y[:, j], scores[:, j]) if both else float("nan")
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
