"""Study A end to end: one configuration under one split protocol, with baselines on the same splits.

Evaluation conventions (stated in the notebooks): the early-stopping loss uses every validation row (all
augmented copies, as in the paper); the decision threshold maximises F1 on the validation pairs in their original
orientation; headline test metrics use the test pairs in their original orientation (``test``), and the paper's
way — every augmented copy — is reported too (``test_augmented``).
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.preprocessing import StandardScaler

from . import data, metrics, models, results, sampling
from .cache import EmbeddingCache, embed_cached
from .embed import Embedder, EmbedderChoice
from .train import TrainConfig, penultimate, predict_proba, train_classifier

BASELINES = ("logistic_regression", "degree_only", "all_negative")


@dataclass
class InteractionRun:
    """Everything one run produced (``save`` writes the results contract)."""

    params: dict
    dataset: pd.DataFrame
    features: np.ndarray
    scaler: StandardScaler
    model: torch.nn.Module
    history: pd.DataFrame
    metrics: dict
    predictions: pd.DataFrame
    started: float


def pair_features(dataset: pd.DataFrame, embedder: Embedder, cache: EmbeddingCache | None = None,
                  progress: bool = True) -> np.ndarray:
    """Concatenated per-RNA embeddings [emb(x), emb(y)]; every distinct sequence (reversed ones included) is
    embedded once, through the cache."""
    seqs = pd.unique(pd.concat([dataset["seq_x"], dataset["seq_y"]], ignore_index=True))
    vectors = embed_cached(embedder, list(seqs), cache, progress=progress, desc="RNAs")
    row = {s: i for i, s in enumerate(seqs)}
    return np.hstack([vectors[dataset["seq_x"].map(row).to_numpy()], vectors[dataset["seq_y"].map(row).to_numpy()]])


def _score_block(y_val, p_val, y_test, p_test, y_aug, p_aug, threshold, n_boot, seed) -> dict:
    return {
        "threshold": float(threshold),
        "val": metrics.binary_metrics(y_val, p_val, threshold),
        "test": metrics.evaluate_binary(y_test, p_test, threshold, n_boot, seed),
        "test_augmented": metrics.binary_metrics(y_aug, p_aug, threshold),
        "confusion_test": metrics.normalized_confusion(y_test, p_test, threshold),
    }


def split_counts(dataset: pd.DataFrame, n_unique_positives: int) -> dict:
    """Pairs and RNAs per role (original orientation), and how many positives the protocol dropped."""
    orig = dataset[dataset["augmentation"] == "original"]
    out = {"unique_positive_pairs": n_unique_positives,
           "dropped_positive_pairs": n_unique_positives - int(orig["label"].sum())}
    for role, part in orig.groupby("role"):
        out[role] = {"positives": int(part["label"].sum()), "negatives": int((part["label"] == 0).sum()),
                     "rnas": int(pd.concat([part["id_x"], part["id_y"]]).nunique()),
                     "rows_with_augmentation": int((dataset["role"] == role).sum())}
    return out


def run_interactions(pairs: pd.DataFrame, choice: EmbedderChoice, config: TrainConfig, protocol: str = "C1",
                     weighting: str = "uniform", ratio: int = 20, reverse: bool = True, max_len: int = 1022,
                     max_pairs: int | None = None, workers: int = 10, n_boot: int = 200,
                     cache: EmbeddingCache | None = None, progress: bool = True,
                     pairs_csv: str | None = None) -> InteractionRun:
    """Run one configuration under one protocol; baselines see exactly the same splits, negatives and features.

    ``pairs_csv`` only records where ``pairs`` came from (None: the bundled set), so the run can be rebuilt.
    """
    started = time.time()
    seed = config.seed
    params = {"pairs_csv": pairs_csv, "protocol": protocol, "weighting": weighting, "ratio": ratio,
              "reverse": reverse, "max_len": max_len, "max_pairs": max_pairs, "workers": workers, "n_boot": n_boot,
              "config": asdict(config), "embedder": choice.as_dict()}
    positives = sampling.unique_positive_pairs(data.length_filter(pairs, max_len), max_pairs, seed)
    dataset = sampling.build_dataset(positives, protocol, ratio, weighting, reverse, seed=seed, workers=workers)
    features = pair_features(dataset, choice.embedder, cache, progress)
    role, y = dataset["role"].to_numpy(), dataset["label"].to_numpy()
    original = (dataset["augmentation"] == "original").to_numpy()
    train, val, test = role == "train", role == "val", role == "test"
    scaler = StandardScaler().fit(features[train])
    x = scaler.transform(features).astype(np.float32)

    model, history, best_epoch = train_classifier(x[train], y[train], x[val], y[val], config, progress)
    degrees = sampling.training_degrees(dataset)
    logistic = models.fit_logistic(x[train], y[train], seed)
    scores = {
        "model": predict_proba(model, x),
        "logistic_regression": logistic.predict_proba(x)[:, 1],
        "degree_only": models.degree_scores(degrees, dataset["id_x"], dataset["id_y"]),
        "all_negative": models.all_negative_scores(len(dataset)),
    }
    vo, to = val & original, test & original
    results_by_model = {}
    for name, prob in scores.items():
        threshold = 1.0 if name == "all_negative" else metrics.best_f1_threshold(y[vo], prob[vo])
        results_by_model[name] = _score_block(y[vo], prob[vo], y[to], prob[to], y[test], prob[test],
                                              threshold, n_boot, seed)
    summary = {
        "variant": None, "protocol": protocol, "weighting": weighting, "best_epoch": best_epoch,
        "epochs_run": len(history), "all_negative_accuracy_floor": ratio / (ratio + 1),
        "counts": split_counts(dataset, len(positives)), "models": results_by_model,
    }
    shown = dataset[val | test]
    predictions = pd.DataFrame({
        "rna_x_id": shown["id_x"].to_numpy(), "rna_y_id": shown["id_y"].to_numpy(),
        "label": shown["label"].to_numpy(), "role": shown["role"].to_numpy(),
        "augmentation": shown["augmentation"].to_numpy(), "prob": scores["model"][val | test],
        **{f"prob_{b}": scores[b][val | test] for b in BASELINES},
    })
    return InteractionRun(params, dataset, features, scaler, model, history, summary, predictions, started)


def save_run(run: InteractionRun, root: str | Path | None, variant: str, config_name: str) -> Path:
    """Write the results contract (plus split, history and the model) to ``<root>/results/interactions/<variant>``."""
    run.metrics["variant"], run.metrics["config"] = variant, config_name
    split = run.dataset.rename(columns={"id_x": "rna_x_id", "id_y": "rna_y_id"})[
        ["rna_x_id", "rna_y_id", "label", "role", "augmentation", "is_negative", "pair_key"]]
    state = {"state_dict": run.model.state_dict(), "scaler_mean": torch.as_tensor(run.scaler.mean_),
             "scaler_scale": torch.as_tensor(run.scaler.scale_), "in_dim": int(run.features.shape[1]),
             "config": run.params["config"]}
    manifest = results.manifest({**run.params, "config_name": config_name, "variant": variant}, run.started,
                                seed=run.params["config"]["seed"], embedder=run.params["embedder"])
    return results.write_results(root, "interactions", variant, run.metrics, run.predictions, manifest,
                                 extra_tables={"split": split, "history": run.history},
                                 extra_files={"model.pt": lambda path: torch.save(state, path)})


def load_model(folder: str | Path) -> tuple[torch.nn.Module, StandardScaler]:
    """The saved network (best weights) and its scaler, loaded with ``weights_only=True``."""
    state = torch.load(Path(folder) / "model.pt", weights_only=True)
    cfg = state["config"]
    model = models.PairMLP(state["in_dim"], cfg["layers"], cfg["width"], cfg["dropout"])
    model.load_state_dict(state["state_dict"])
    scaler = StandardScaler()
    scaler.mean_, scaler.scale_ = state["scaler_mean"].numpy(), state["scaler_scale"].numpy()
    scaler.var_, scaler.n_features_in_ = scaler.scale_ ** 2, len(scaler.mean_)
    return model.eval(), scaler


def latent(model: torch.nn.Module, scaler: StandardScaler, features: np.ndarray) -> np.ndarray:
    """Penultimate-layer activations for raw pair features."""
    return penultimate(model, scaler.transform(features).astype(np.float32))


def metrics_frame(summary: dict) -> pd.DataFrame:
    """Long table of one run's test metrics: model, metric, value, ci_low, ci_high (+ variant/config/protocol)."""
    rows = [{"model": model, "metric": metric, **stats}
            for model, block in summary["models"].items() for metric, stats in block["test"].items()]
    frame = pd.DataFrame(rows)
    for key in ("variant", "config", "protocol", "weighting"):
        frame.insert(0, key, summary.get(key))
    return frame


def load_results(root: str | Path | None = None) -> tuple[list[dict], pd.DataFrame, pd.DataFrame]:
    """Every saved study-A run under ``<root>/results/interactions``: summaries, long metrics, histories."""
    base = results.results_root(root) / "results" / "interactions"
    summaries, frames, histories = [], [], []
    for folder in sorted(p for p in base.glob("*") if (p / "metrics.json").is_file()):
        summary = json.loads((folder / "metrics.json").read_text())
        summary["manifest"] = json.loads((folder / "manifest.json").read_text())
        summary["folder"] = str(folder)
        summaries.append(summary)
        frames.append(metrics_frame(summary))
        history = pd.read_csv(folder / "history.csv.gz")
        history["variant"], history["config"], history["protocol"] = (summary["variant"], summary["config"],
                                                                       summary["protocol"])
        histories.append(history)
    if not summaries:
        return [], pd.DataFrame(), pd.DataFrame()
    return summaries, pd.concat(frames, ignore_index=True), pd.concat(histories, ignore_index=True)


def config_table(summaries: list[dict]) -> pd.DataFrame:
    """The paper's Table 2 as run: one row per configuration."""
    rows = {}
    for s in summaries:
        c = s["manifest"]["parameters"]["config"]
        rows[s["config"]] = {"hidden layers": c["layers"], "width": c["width"], "dropout": c["dropout"],
                             "learning rate": c["lr"], "batch size": c["batch_size"], "warmup epochs": c["warmup_epochs"]}
    return pd.DataFrame(rows).T.rename_axis("configuration")


def rebuild_dataset(folder: str | Path, pairs: pd.DataFrame) -> pd.DataFrame:
    """Recreate a saved run's split (same parameters and seed) and check it equals the saved ``split.csv.gz``."""
    params = json.loads((Path(folder) / "manifest.json").read_text())["parameters"]
    positives = sampling.unique_positive_pairs(data.length_filter(pairs, params["max_len"]), params["max_pairs"],
                                               params["config"]["seed"])
    dataset = sampling.build_dataset(positives, params["protocol"], params["ratio"], params["weighting"],
                                     params["reverse"], seed=params["config"]["seed"], workers=params["workers"])
    saved = pd.read_csv(Path(folder) / "split.csv.gz")
    if not (saved["rna_x_id"].equals(dataset["id_x"]) and saved["rna_y_id"].equals(dataset["id_y"])):
        raise ValueError(f"{folder}: the rebuilt split differs from split.csv.gz (other data or code version)")
    return dataset


def probabilities(model: torch.nn.Module, scaler: StandardScaler, features: np.ndarray) -> np.ndarray:
    """Predicted interaction probabilities for raw pair features."""
    return predict_proba(model, scaler.transform(features).astype(np.float32))
