"""Counting honestly against published figures (notebooks 07 and 00).

- ``class_intervals``: per class, a run's mean test MCC over folds with a 95% interval from a bootstrap over test
  mRNAs within each fold (thresholds fixed as the run chose them), and its AUROC / AUPRC (mean ± sd over folds);
- ``versus_published`` / ``above_counts``: a class counts as above a published figure only when the interval's
  lower end clears it; a mean above it with an interval that does not is "point estimate only";
- ``scarce_sentence``: why a class with few test positives or negatives (Exosome: its negatives) is nearly
  unmeasurable, from the fold lists;
- ``prior_sentence``: the constant label prior against LOCAS's published ranking figures and against the trained
  models, fold by fold, from the measured numbers.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rnalib.data import LOC_CLASSES

from .published import EDCLOC_INPUT_NT, PUBLISHED_AUROC, PUBLISHED_LOCAS, PUBLISHED_MCC
from .study import LOWER_IS_BETTER, MIN_TEST_LABELS, prior_vs_published

RULE_COLUMN = {"tuned": "pred", "fixed": "pred05"}
"""Prediction columns of ``predictions.csv.gz`` per threshold rule."""
RANKING_METRICS = ("average_precision", "one_error", "ranking_loss", "coverage")
"""LOCAS's published figures that do not depend on a threshold."""


def weighted_mcc(y: np.ndarray, pred: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """MCC of 0/1 labels ``y`` and calls ``pred`` (n,) under each row of ``weights`` (B, n) (bootstrap counts);
    0 where a margin is empty (scikit-learn's convention)."""
    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    tp, fp = weights @ (y * pred), weights @ ((1 - y) * pred)
    fn, tn = weights @ (y * (1 - pred)), weights @ ((1 - y) * (1 - pred))
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return np.divide(tp * tn - fp * fn, denominator, out=np.zeros_like(tp), where=denominator > 0)


def class_intervals(predictions: pd.DataFrame, rule: str = "tuned", n_boot: int = 1000, seed: int = 0,
                    level: float = 0.95) -> pd.DataFrame:
    """Per class (index): ``mcc`` (mean over folds of the test MCC at the run's thresholds, ``rule``),
    ``mcc_low`` / ``mcc_high`` (percentile interval of that mean when each fold's test mRNAs are resampled with
    replacement, ``n_boot`` times), ``auroc`` / ``auprc`` with their ``_sd`` over folds, and the fewest test
    ``positives`` and ``negatives`` in a fold. ``predictions``: a run's ``predictions.csv.gz``."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(seed)
    folds = [part for _, part in predictions.groupby("fold")]
    weights = [rng.multinomial(len(p), np.full(len(p), 1 / len(p)), size=n_boot).astype(float) for p in folds]
    rows = {}
    for c in LOC_CLASSES:
        truth = [p[f"true_{c}"].to_numpy() for p in folds]
        calls = [p[f"{RULE_COLUMN[rule]}_{c}"].to_numpy() for p in folds]
        point = np.mean([weighted_mcc(y, q, np.ones((1, len(y))))[0] for y, q in zip(truth, calls)])
        boot = np.mean([weighted_mcc(y, q, w) for y, q, w in zip(truth, calls, weights)], axis=0)
        both = [(y, p[f"prob_{c}"].to_numpy()) for y, p in zip(truth, folds) if 0 < y.sum() < len(y)]
        auroc = [roc_auc_score(y, s) for y, s in both]
        auprc = [average_precision_score(y, s) for y, s in both]
        rows[c] = {"mcc": point, "mcc_low": np.quantile(boot, (1 - level) / 2),
                   "mcc_high": np.quantile(boot, (1 + level) / 2), **_mean_sd("auroc", auroc),
                   **_mean_sd("auprc", auprc), "positives": min(int(y.sum()) for y in truth),
                   "negatives": min(int((y == 0).sum()) for y in truth)}
    return pd.DataFrame.from_dict(rows, orient="index")


def _mean_sd(name: str, values: list[float]) -> dict[str, float]:
    return {name: float(np.mean(values)) if values else np.nan,
            f"{name}_sd": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}


def load_intervals(summary: dict, rule: str = "tuned", n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """``class_intervals`` of a saved run (a ``load_results`` summary)."""
    return class_intervals(pd.read_csv(Path(summary["folder"]) / "predictions.csv.gz"), rule, n_boot, seed)


def versus_published(intervals: pd.DataFrame, reference: str = "DM3Loc (published)") -> pd.DataFrame:
    """Per class: the published MCC (``PUBLISHED_MCC[reference]``; AUROC too where published), our mean and
    interval, and ``status``: ``clears`` (the interval's lower end is above the published figure), ``point
    estimate only`` (the mean is above, the interval reaches it) or ``below``; no status where nothing is
    published."""
    published = dict(zip(LOC_CLASSES, PUBLISHED_MCC[reference]))
    auroc = dict(zip(LOC_CLASSES, PUBLISHED_AUROC.get(reference, (None,) * len(LOC_CLASSES))))
    rows = {}
    for c in LOC_CLASSES:
        row, ref = intervals.loc[c], published[c]
        status = ("" if ref is None else "clears" if row["mcc_low"] > ref
                  else "point estimate only" if row["mcc"] > ref else "below")
        rows[c] = {"published MCC": np.nan if ref is None else ref, "MCC": row["mcc"], "low": row["mcc_low"],
                   "high": row["mcc_high"], "status": status, "AUROC": row["auroc"],
                   "published AUROC": np.nan if auroc[c] is None else auroc[c], "AUPRC": row["auprc"]}
    return pd.DataFrame.from_dict(rows, orient="index")


def above_counts(intervals: dict[str, pd.DataFrame], reference: str = "DM3Loc (published)") -> pd.DataFrame:
    """Per variant (``intervals``: variant → ``class_intervals``): how many classes clear the published MCC with
    their interval, how many reach it only on the point estimate, and which."""
    rows = {}
    for variant, table in intervals.items():
        status = versus_published(table, reference)["status"]
        clears, point = list(status[status == "clears"].index), list(status[status == "point estimate only"].index)
        rows[variant] = {"clear (interval)": len(clears), "point estimate only": len(point),
                         "classes clearing": ", ".join(clears), "classes on the point estimate": ", ".join(point)}
    return pd.DataFrame.from_dict(rows, orient="index")


def counts_sentence(counts: pd.DataFrame, reference: str = "DM3Loc (published)", link=None) -> str:
    """One line per variant: classes of six that clear ``reference``'s MCC with the interval, and those above it
    on the point estimate only."""
    lines = []
    for variant, row in counts.iterrows():
        name = link(variant) if link else f"`{variant}`"
        point = (f"; {row['point estimate only']} more only on the point estimate "
                 f"({row['classes on the point estimate']})" if row["point estimate only"] else "")
        clear = f" ({row['classes clearing']})" if row["clear (interval)"] else ""
        lines.append(f"- {name}: {row['clear (interval)']} of {len(LOC_CLASSES)} classes clear {reference}'s MCC "
                     f"with their 95% interval{clear}{point}.")
    return "\n".join(lines)


def scarce_sentence(records: pd.DataFrame, folds: pd.DataFrame, predictions: pd.DataFrame | None = None,
                    min_labels: int = MIN_TEST_LABELS) -> str:
    """Why a class is nearly unmeasurable: per class with fewer than ``min_labels`` test positives or negatives in
    a fold, their range over the folds (test and validation, where thresholds are tuned) and, given a run's
    ``predictions``, how many test mRNAs its tuned thresholds call the rarer side and how many of those wrongly."""
    n_folds = sum(col.startswith("fold") for col in folds.columns)
    sentences = []
    for c in LOC_CLASSES:
        label = records.set_index("accession")[c]
        counts = {}
        for role in ("test", "val"):
            per_fold = []
            for k in range(n_folds):
                members = folds.index[folds[f"fold{k}"] == role]
                y = label.reindex(members).dropna()
                per_fold.append((int(y.sum()), int((y == 0).sum())))
            counts[role] = per_fold
        pos, neg = zip(*counts["test"])
        if min(min(pos), min(neg)) >= min_labels:
            continue
        side, index = ("negatives", 1) if min(neg) < min(pos) else ("positives", 0)
        test = [n[index] for n in counts["test"]]
        val = [n[index] for n in counts["val"]]
        text = (f"**{c} is nearly unmeasurable here**: only {_span(test)} {c}-{side[:-1]} test mRNAs per "
                f"fold ({_span(val)} in validation, where the threshold is tuned), so one mRNA moves a "
                f"fold's MCC visibly and the threshold rests on a handful of examples")
        if predictions is not None:  # the rarer side's calls: how many, and how many wrongly
            want = 0 if side == "negatives" else 1
            called = predictions[predictions[f"pred_{c}"] == want]
            wrong = int((called[f"true_{c}"] != want).sum())
            text += (f"; over the folds the tuned thresholds call {len(called):,} test mRNAs "
                     f"{'non-' if want == 0 else ''}{c}, {wrong:,} of them wrongly")
        sentences.append(text + ".")
    return " ".join(sentences)


def cnn_runs(summaries: list[dict]) -> list[dict]:
    """The runs whose model is the sequence CNN: the CNN alone (method ``seqcnn``) or as LOCAS's encoder."""
    return [s for s in summaries if s["method"] == "seqcnn"
            or s["manifest"]["parameters"]["config"].get("encoder") == "seqcnn"]


def cnn_best_epochs(summary: dict) -> pd.DataFrame:
    """Per fold of a CNN run (``cnn_runs``), the epoch with the lowest validation loss of the stage that trains the
    CNN (``classification`` for seqcnn, ``contrastive`` when it is LOCAS's encoder) and the epochs run, from the
    run's ``history.csv.gz``; columns fold, best_epoch, epochs_run, best_is_last. Epochs count from 0."""
    history = pd.read_csv(Path(summary["folder"]) / "history.csv.gz")
    stage = "classification" if summary["method"] == "seqcnn" else "contrastive"
    rows = [{"fold": fold, "best_epoch": int(part.loc[part.val_loss.idxmin(), "epoch"]), "epochs_run": len(part)}
            for fold, part in history[history.stage == stage].groupby("fold")]
    out = pd.DataFrame(rows, columns=["fold", "best_epoch", "epochs_run"])
    return out.assign(best_is_last=out.best_epoch == out.epochs_run - 1)


def cnn_scale_sentence(summaries: list[dict]) -> str:
    """What the measured CNN rows are, from the runs' own parameters and histories: per CNN run, the input length
    against EDCLoc's 8,000 nt, filters per first-layer kernel, the epoch budget, on how many folds every epoch of
    it ran and on how many the best epoch was the last; whether any run was at EDCLoc's scale (else its
    full-profile target is not measured). Empty without a CNN run."""
    runs = cnn_runs(summaries)
    if not runs:
        return ""
    parts = []
    for s in runs:
        c, e = s["manifest"]["parameters"]["config"], cnn_best_epochs(s)
        parts.append(f"`{s['variant']}` reads {c['seq_nt']:,} nt of each mRNA with {c['cnn_width']} filters per "
                     f"first-layer kernel and at most {c['cnn_epochs']} epochs; it ran all of them on "
                     f"{int((e.epochs_run >= c['cnn_epochs']).sum())} of {len(e)} folds, its best validation epoch "
                     f"the last (still improving) on {int(e.best_is_last.sum())}")
    text = f"EDCLoc reads {EDCLOC_INPUT_NT:,} nt. " + "; ".join(parts) + "."
    if max(s["manifest"]["parameters"]["config"]["seq_nt"] for s in runs) < EDCLOC_INPUT_NT:
        text += (f" {'These rows say' if len(runs) > 1 else 'This row says'} what a CNN of this size reaches in this "
                 "budget, not what EDCLoc's design reaches at its own scale: no such run (the full profile, meant for "
                 "a GPU) is in these results.")
    return text


def _span(values: list[int]) -> str:
    return f"{min(values)}" if min(values) == max(values) else f"{min(values)}–{max(values)}"


def _name(metric: str) -> str:
    return metric.replace("_", " ").replace("one error", "one-error")


def prior_sentence(summaries: list[dict], rule: str = "fixed") -> str:
    """The label prior (a run with method ``label_prior``) against LOCAS's published ranking figures and against
    every trained run, fold by fold, in words generated from the measured numbers; empty without a prior run."""
    prior = next((s for s in summaries if s["method"] == "label_prior"), None)
    if prior is None:
        return ""
    ours = {m: prior["mean"][rule][m] for m in RANKING_METRICS}
    beats = prior_vs_published(summaries, rule)[1]  # compared at the published precision
    beaten = [m for m in RANKING_METRICS if beats[m]]
    missed = [m for m in RANKING_METRICS if m not in beaten]
    text = ("The label prior, which scores every mRNA with the training class frequencies and never reads a "
            "sequence, " + (f"equals or beats LOCAS's published {_join([_name(m) for m in beaten])}" if beaten
                            else "beats none of LOCAS's published ranking figures"))
    if beaten and missed:
        text += " but not " + _join([f"{_name(m)} ({ours[m]:.3f} vs {PUBLISHED_LOCAS[m]:.3f})" for m in missed])
    text += "."
    trained = [s for s in summaries if s["method"] != "label_prior"]
    if not trained:
        return text
    parts = [f"{_name(m).capitalize()}: " + "; ".join(_against_prior(prior, trained, m, rule, ours[m])) + "."
             for m in RANKING_METRICS]
    return text + " Fold by fold, the trained models against it. " + " ".join(parts)


def _against_prior(prior: dict, trained: list[dict], metric: str, rule: str, prior_value: float) -> list[str]:
    """The trained runs grouped by how they compare with the prior on ``metric`` over the folds both have (folds
    where either value is NaN left out; a run with no such fold is left out): better on every fold (with the range
    of differences), identical on every fold, never better, or better on only some folds (with the count);
    "every trained model (n)" when one group holds them all."""
    groups: dict[str, list[tuple[str, np.ndarray]]] = {}
    for s in trained:
        d = np.array([fold[rule][metric] - prior["folds"][k][rule][metric]
                      for k, fold in s["folds"].items() if k in prior["folds"]], dtype=float)
        d = d[~np.isnan(d)]
        if not len(d):
            continue
        gain = -d if metric in LOWER_IS_BETTER else d
        outcome = ("identical" if np.all(np.abs(d) < 1e-9) else "better" if np.all(gain > 0)
                   else "never better" if np.all(gain <= 1e-9) else "some")
        groups.setdefault(outcome, []).append((s["variant"], d))
    out = []
    for outcome in ("better", "identical", "some", "never better"):
        runs = groups.get(outcome, [])
        if not runs:
            continue
        names = (f"every trained model ({len(trained)})" if len(runs) == len(trained)
                 else ", ".join(v for v, _ in runs))
        d = np.concatenate([x for _, x in runs])
        if outcome == "better":
            out.append(f"better on every fold for {names} ({_signed(d.min(), d.max(), metric)})")
        elif outcome == "identical":
            out.append(f"identical on every fold for {names} ({prior_value:.4f})")
        elif outcome == "never better":
            out.append(f"never better for {names} ({_signed(d.min(), d.max(), None)})")
        else:
            out.append("better on only some folds for " + ", ".join(
                f"{v} ({int(((-x if metric in LOWER_IS_BETTER else x) > 0).sum())} of {len(x)})" for v, x in runs))
    return out


def _signed(low: float, high: float, metric: str | None) -> str:
    """A range of differences, smaller improvement first, with signs (−0.005 to −0.007 for a loss; two significant
    digits, never in exponent notation); for a range of losses (``metric`` None) the smaller value first."""
    a, b = (high, low) if metric in LOWER_IS_BETTER else (low, high)

    def two(x: float) -> str:
        if x == 0:
            return "0"
        text = f"{x:+.2g}"
        return f"{x:+.{1 - int(np.floor(np.log10(abs(x))))}f}" if "e" in text else text

    return f"{two(a)} to {two(b)}".replace("-", "−")


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
