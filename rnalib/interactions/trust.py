"""Scores a biologist can trust: which protocol a new pair falls under, how well that protocol did, and
calibrated probabilities.

- **Case of a pair**: an RNA is *seen* when it appears in one of the model's training pairs (the saved run's
  ``split.csv.gz``, role ``train``; validation RNAs are not seen); both seen is a C1 case, exactly one a C2 case,
  none a C3 case, and none whose *family* (``families.assign_families``: miRNA seed, linked long RNAs) has a
  training member a C4 case.
- **Protocol figures**: the network's test AUROC and AUPRC of the runs of the model's setting under each
  protocol (same results root and tag, every manifest parameter equal but protocol, split seed and settings
  that do not change the model): mean and a 95% Student-t interval over their split seeds (clipped to [0, 1]).
  They are the figures of *other* models (the runs trained under that protocol, on their own split and
  training size), and AUPRC holds only at the test pairs' ratio of negatives.
- **Calibration**: isotonic regression (scikit-learn) of the labels on the network's scores over the
  validation pairs (original orientation), or Platt scaling below ``MIN_ISOTONIC_POSITIVES`` validation
  positives, stored as plain tensors in ``calibration.pt`` beside ``model.pt``; its probability is the chance
  of an interaction at the validation prevalence. Equal probabilities are calibrator ties: ranks come from
  the raw score.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.special import expit
from sklearn.calibration import calibration_curve
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from rnalib.data import normalize_sequence, rna_id
from rnalib.learning import metrics
from rnalib.report import results

from . import families

CALIBRATION_FILE = "calibration.pt"
PAIR_CALIBRATION_FILE = "calibration_pair.pt"
"""The calibrator of the network on [emb(x); emb(y); pair features] (``network_pair``), when a run trained it."""
RNAS_FILE = "rnas.csv.gz"
CASE_PROTOCOLS = ("C1", "C2", "C3", "C4")
"""The protocols a new pair can fall under (C1m is C1 at a smaller training size: not a case of its own)."""


# --------------------------------------------------------------------------- calibration


MIN_ISOTONIC_POSITIVES = 50
"""Fewest validation positives for an isotonic calibrator; below it isotonic regression is a handful of flat
steps reaching 0 or 1 (overconfident ties), so Platt scaling (a logistic curve of the score) is used."""


def fit_calibrator(y: np.ndarray, score: np.ndarray, min_positives: int = MIN_ISOTONIC_POSITIVES) -> dict:
    """Calibrator of labels ``y`` (0/1, shape (n,)) on raw scores ``score`` (shape (n,)), as plain tensors and
    numbers: isotonic regression (scikit-learn; ``x``, ``y`` float64 knots of the step function, interpolated
    between, clipped outside) with at least ``min_positives`` positives, else Platt scaling (scikit-learn
    ``LogisticRegression`` on the raw score, practically unpenalised; ``coef``, ``intercept``). Both with
    ``method``, ``prevalence`` (mean of ``y``), ``n`` pairs and ``positives``."""
    y, score = np.asarray(y, dtype=float), np.asarray(score, dtype=float)
    about = {"prevalence": float(y.mean()), "n": int(len(y)), "positives": int(y.sum())}
    if about["positives"] >= min_positives or len(np.unique(y)) < 2:
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score, y)
        return {"method": "isotonic", "x": torch.tensor(iso.X_thresholds_, dtype=torch.float64),
                "y": torch.tensor(iso.y_thresholds_, dtype=torch.float64), **about}
    platt = LogisticRegression(C=1e6).fit(score.reshape(-1, 1), y.astype(int))
    return {"method": "platt", "coef": torch.tensor(platt.coef_.ravel(), dtype=torch.float64),
            "intercept": torch.tensor(platt.intercept_, dtype=torch.float64), **about}


def calibrate(calibrator: dict, score: np.ndarray) -> np.ndarray:
    """Calibrated probabilities (shape of ``score``) of raw scores under a ``fit_calibrator`` result."""
    score = np.asarray(score, dtype=float)
    if calibrator["method"] == "platt":
        return expit(calibrator["coef"].item() * score + calibrator["intercept"].item())
    return np.interp(score, calibrator["x"].numpy(), calibrator["y"].numpy())


def validation_calibrator(predictions: pd.DataFrame, column: str = "prob") -> dict:
    """The calibrator of a run's network from its predictions table (``predictions.csv.gz``; ``column``: the
    network's scores, ``prob_network_pair`` for the network with pair features): the validation pairs in their
    original orientation — those the decision threshold is chosen on."""
    val = predictions[(predictions["role"] == "val") & (predictions["augmentation"] == "original")]
    return fit_calibrator(val["label"].to_numpy(), val[column].to_numpy())


def save_calibrator(calibrator: dict, path: Path) -> None:
    """Write a calibrator with ``torch.save`` (tensors, numbers and a string only: loads with ``weights_only``)."""
    torch.save(calibrator, path)


def load_calibrator(folder: str | Path, pair: bool = False) -> dict | None:
    """A run's saved calibrator (``weights_only=True``; ``pair``: the network with pair features'), or None for
    a run saved without one."""
    path = Path(folder) / (PAIR_CALIBRATION_FILE if pair else CALIBRATION_FILE)
    return torch.load(path, weights_only=True) if path.is_file() else None


def calibrate_saved_run(folder: str | Path) -> Path:
    """Add ``calibration.pt`` to a run saved before calibrators were written, from its own validation
    predictions; nothing else of the folder changes."""
    folder = Path(folder)
    calibrator = validation_calibrator(pd.read_csv(folder / "predictions.csv.gz"))
    tmp = folder / f".{CALIBRATION_FILE}.tmp"
    save_calibrator(calibrator, tmp)
    tmp.replace(folder / CALIBRATION_FILE)
    return folder / CALIBRATION_FILE


def reliability(y: np.ndarray, prob: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Reliability diagram data (scikit-learn's ``calibration_curve``, quantile bins): per non-empty bin the
    mean predicted probability, the observed share of interactions, and its ``pairs`` and ``positives``.
    Calibrator ties collapse quantile bins, so there can be fewer than ``n_bins``."""
    y, prob = np.asarray(y, dtype=float), np.asarray(prob, dtype=float)
    observed, predicted = calibration_curve(y, prob, n_bins=n_bins, strategy="quantile")
    edges = np.percentile(prob, np.linspace(0, 100, n_bins + 1))  # calibration_curve's own quantile bins
    bins = np.searchsorted(edges[1:-1], prob)
    pairs, positives = np.bincount(bins, minlength=n_bins), np.bincount(bins, weights=y, minlength=n_bins)
    keep = pairs > 0
    return pd.DataFrame({"predicted": predicted, "observed": observed, "pairs": pairs[keep],
                         "positives": positives[keep].astype(int)})


def reliability_on_test(summaries: list[dict], n_bins: int = 10) -> pd.DataFrame:
    """Reliability of calibrated probabilities on the test pairs (original orientation) of saved runs (each
    summary with its ``folder``, as ``load_results`` gives): every run's network is calibrated on its own
    validation pairs. Rows: protocol, split_seed, config, predicted, observed, pairs, positives (of the bin)."""
    frames = []
    for s in summaries:
        if "model" not in s["models"]:
            continue
        pred = pd.read_csv(Path(s["folder"]) / "predictions.csv.gz")
        test = pred[(pred["role"] == "test") & (pred["augmentation"] == "original")]
        prob = calibrate(validation_calibrator(pred), test["prob"].to_numpy())
        frames.append(reliability(test["label"].to_numpy(), prob, n_bins).assign(
            protocol=s["protocol"], split_seed=s["split_seed"], config=s["config"]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["predicted", "observed", "pairs", "positives", "protocol", "split_seed", "config"])


# --------------------------------------------------------------------------- the run's RNAs


def run_rnas(dataset: pd.DataFrame, fams: pd.Series) -> pd.DataFrame:
    """The RNAs of a run's pairs (original orientation): ``id``, ``family``, ``seen`` (in a training pair) and
    ``sequence``; saved as ``rnas.csv.gz`` so a new RNA's family can be told later."""
    orig = dataset[dataset["augmentation"] == "original"]
    train = orig[orig["role"] == "train"]
    seen = set(train["id_x"]) | set(train["id_y"])
    rnas = pd.concat([orig[[f"id_{s}", f"seq_{s}"]].set_axis(["id", "sequence"], axis=1) for s in ("x", "y")])
    rnas = rnas.drop_duplicates("id").reset_index(drop=True)
    return rnas.assign(family=rnas["id"].map(fams), seen=rnas["id"].isin(seen))[["id", "family", "seen", "sequence"]]


def seen_ids(folder: str | Path) -> set[str]:
    """Ids of the RNAs in a saved run's training pairs (``split.csv.gz``, role train, original orientation)."""
    train = _train_pairs(folder)
    return set(train["rna_x_id"]) | set(train["rna_y_id"])


def training_pair_keys(folder: str | Path) -> set[frozenset]:
    """The saved run's training pairs (any label, original orientation) as unordered id pairs."""
    train = _train_pairs(folder)
    return {frozenset(p) for p in zip(train["rna_x_id"], train["rna_y_id"])}


def _train_pairs(folder: str | Path) -> pd.DataFrame:
    """Rows of a saved run's ``split.csv.gz`` with role train, original orientation."""
    split = pd.read_csv(Path(folder) / "split.csv.gz", usecols=["rna_x_id", "rna_y_id", "role", "augmentation"])
    return split[(split["role"] == "train") & (split["augmentation"] == "original")]


def family_seen(seqs: list[str], rnas: pd.DataFrame, params: dict, threads: int = 1) -> list[bool]:
    """Per sequence, whether its family has a training member, by the rules that made the run's families: a
    known RNA keeps its family; a miRNA (at most ``families.MIRNA_MAX_LEN`` nt: a new RNA has no category, so
    length decides, where the run used the category; the same on the bundled data) shares its seed; a long RNA
    joins the family of any long RNA of the run (training, validation or test: families are connected
    components over all of them) it is linked to by shared 31-mers (``min_kmer_containment`` of either) or an
    MMseqs2 hit (identity >= ``min_seq_id`` over ``coverage`` of either)."""
    seen_fams = set(rnas.loc[rnas["seen"], "family"])
    by_id = rnas.set_index("id")["family"]
    out: dict[int, bool] = {}
    long_query: dict[str, str] = {}
    for i, seq in enumerate(seqs):
        key = rna_id(seq)
        if key in by_id.index:
            out[i] = by_id[key] in seen_fams
        elif families.is_mirna(seq, None):
            out[i] = len(normalize_sequence(seq)) >= families.SEED_END and f"seed:{families.seed(seq)}" in seen_fams
        else:
            long_query[str(i)] = normalize_sequence(seq)
    if long_query:
        run_long = rnas[~rnas["family"].astype(str).str.startswith("seed:")]
        links = families.cross_links(long_query, dict(zip(run_long["id"], run_long["sequence"])),
                                     params["min_seq_id"], params["coverage"], params.get("min_kmer_containment"),
                                     threads)
        out.update((int(q), any(by_id[t] in seen_fams for lq, t in links if lq == q)) for q in long_query)
    return [out[i] for i in range(len(seqs))]


FAMILIES_UNKNOWN = "C3 or C4"
"""The case of a pair of two unseen RNAs when the run was saved without ``rnas.csv.gz`` (families unknown)."""


def pair_cases(seq_x: list[str], seq_y: list[str], folder: str | Path, threads: int = 1) -> pd.DataFrame:
    """Per pair (sequences of x and y): ``in_training`` (the pair itself, either orientation, is a training pair
    of the saved run: its score is in-sample), ``seen_x``, ``seen_y`` (in a training pair), ``family_seen_x``,
    ``family_seen_y`` (its family has a training member; empty for a run saved without ``rnas.csv.gz``) and
    ``protocol``: C1 both seen, C2 one, C3 none, C4 no family seen, ``FAMILIES_UNKNOWN`` for none seen when
    the families are unknown."""
    folder = Path(folder)
    seen = seen_ids(folder)
    ids_x, ids_y = [rna_id(s) for s in seq_x], [rna_id(s) for s in seq_y]
    train_keys = training_pair_keys(folder)
    out = pd.DataFrame({"in_training": [frozenset(p) in train_keys for p in zip(ids_x, ids_y)],
                        "seen_x": [i in seen for i in ids_x], "seen_y": [i in seen for i in ids_y]})
    if (folder / RNAS_FILE).is_file():
        rnas = pd.read_csv(folder / RNAS_FILE)
        params = json.loads((folder / "manifest.json").read_text())["parameters"]
        fam = family_seen(list(seq_x) + list(seq_y), rnas, params, threads)
        out["family_seen_x"] = pd.array(fam[:len(seq_x)], dtype="boolean")
        out["family_seen_y"] = pd.array(fam[len(seq_x):], dtype="boolean")
    else:
        out["family_seen_x"] = out["family_seen_y"] = pd.array([pd.NA] * len(out), dtype="boolean")
    n_seen = out["seen_x"].astype(int) + out["seen_y"].astype(int)
    unknown = out["family_seen_x"].isna() | out["family_seen_y"].isna()
    no_family = (~out["family_seen_x"].fillna(True)) & (~out["family_seen_y"].fillna(True))
    out["protocol"] = np.select([n_seen == 2, n_seen == 1, unknown.to_numpy(), no_family.to_numpy()],
                                ["C1", "C2", FAMILIES_UNKNOWN, "C4"], "C3")
    return out


# --------------------------------------------------------------------------- protocol figures


SIBLING_FREE = ("protocol", "split_seed", "variant", "n_boot", "threads", "progress", "pair_network")
"""Manifest parameters sibling runs may differ in: the protocol and split seed measured, the folder name,
settings that do not change the model (bootstrap resamples, threads, progress bars), and whether a second network
on pair features was trained beside it (``pair_network``)."""
SCHEDULE = ("lr", "warmup_epochs", "max_epochs", "cosine_epochs", "patience")
"""Network settings a profile may choose per protocol (the report profile: ``params/interactions/
report_large.yaml`` for C1 and C2, ``c1m_schedule.yaml`` for C1m, ``cold_schedule.yaml`` for C3 and C4): sibling
runs may differ in them; ``protocol_figures`` shows each one's."""


def sibling_runs(folder: str | Path) -> dict[str, list[Path]]:
    """Per protocol, the saved runs of the model's setting (same results root, tag, a trained network, and every
    manifest parameter equal but ``SIBLING_FREE``: embedder, ratio, pairs file, lengths, family rules, network
    configuration ...), one per split seed: a second folder of the same (protocol, split seed) is left out with
    a warning."""
    folder = Path(folder)
    own, own_params = _run_identity(folder)
    out: dict[str, list[Path]] = {}
    taken: dict[tuple, Path] = {}
    for other in sorted(results.run_folders(folder.parent.parent.parent, "interactions")):
        m, params = _run_identity(other)
        if not ("model" in m["models"] and m.get("tag") == own.get("tag") and params == own_params):
            continue
        key = (m["protocol"], m.get("split_seed"))
        if key in taken:
            warnings.warn(f"{other}: same setting, protocol and split seed as {taken[key]}; left out of the "
                          "protocol figures", UserWarning, stacklevel=2)
            continue
        taken[key] = other
        out.setdefault(m["protocol"], []).append(other)
    return out


def _run_identity(folder: Path) -> tuple[dict, dict]:
    """A run's metrics and its manifest parameters less ``SIBLING_FREE`` (and less the network's ``SCHEDULE``)."""
    m = json.loads((folder / "metrics.json").read_text())
    params = json.loads((folder / "manifest.json").read_text())["parameters"]
    params = {k: v for k, v in params.items() if k not in SIBLING_FREE}
    if isinstance(params.get("config"), dict):
        params["config"] = {k: v for k, v in params["config"].items() if k not in SCHEDULE}
    return m, params


def _schedule(folder: Path) -> str:
    """A run's network schedule as text, e.g. ``lr 0.001, warmup 2, 40 epochs, patience 10``, ``lr 0.0001, no
    warmup, 40 epochs, patience 4`` or, with the cosine ending before the budget, ``lr 0.003, warmup 2, 100 epochs
    (cosine to 60), patience 4``."""
    config = json.loads((folder / "manifest.json").read_text())["parameters"].get("config") or {}
    if "lr" not in config:
        return ""
    cosine, warmup, patience = config.get("cosine_epochs"), config.get("warmup_epochs"), config.get("patience")
    return (f"lr {config['lr']:g}, " + ("no warmup, " if warmup == 0 else f"warmup {warmup}, " if warmup else "")
            + f"{config.get('max_epochs')} epochs" + (f" (cosine to {cosine})" if cosine else "")
            + (f", patience {patience}" if patience else ""))


def mean_interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95% Student-t interval of the mean over split seeds, clipped to [0, 1] where AUROC and AUPRC
    live (NaN interval with fewer than two)."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if len(v) == 0:
        return np.nan, np.nan, np.nan
    if len(v) < 2:
        return float(v.mean()), np.nan, np.nan
    low, high = metrics.t_interval(v.mean(), v.std(ddof=1), len(v))
    return float(v.mean()), float(max(low, 0.0)), float(min(high, 1.0))


def _finite(value) -> bool:
    """Whether a metric value read from ``metrics.json`` is a finite number (not null, NaN or infinite)."""
    return value is not None and bool(np.isfinite(float(value)))


def protocol_figures(folder: str | Path, model: str = "model") -> pd.DataFrame:
    """One row per protocol of ``CASE_PROTOCOLS``: the network's (``model``: its name in ``metrics.json``) test
    AUROC and AUPRC over the sibling runs' split seeds whose test AUROC and AUPRC are both finite (``auroc``,
    ``auroc_low``, ``auroc_high``, the same for ``auprc``), ``runs`` (how many such seeds: the values the means
    use) and ``run_folders`` (their names, ``;``-separated) and ``schedule`` (the networks' learning rate and
    epoch budget, which a profile may set per protocol); a protocol never measured has ``runs`` 0 and no figures."""
    siblings = sibling_runs(folder)
    rows = []
    for protocol in CASE_PROTOCOLS:
        blocks = {f: json.loads((f / "metrics.json").read_text())["models"] for f in sorted(siblings.get(protocol, []))}
        tests = {f: block[model]["test"] for f, block in blocks.items() if model in block}
        used = [f for f, t in tests.items() if all(_finite(t[m]["value"]) for m in ("auroc", "auprc"))]
        row = {"protocol": protocol, "runs": len(used), "run_folders": ";".join(f.name for f in used),
               "schedule": "; ".join(sorted({_schedule(f) for f in used}))}
        for metric in ("auroc", "auprc"):
            mean, low, high = mean_interval([tests[f][metric]["value"] for f in used])
            row |= {metric: mean, f"{metric}_low": low, f"{metric}_high": high}
        rows.append(row)
    return pd.DataFrame(rows)
