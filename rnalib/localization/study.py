"""Study B end to end: LOCAS-style multi-label localization on DM3Loc's own five folds.

Methods: ``scl`` (stage 1: encoder + projection with the multi-label supervised contrastive loss; stage 2: the
frozen encoder feeds an ML-Decoder head), ``noscl`` (encoder + ML-Decoder trained directly with the
classification loss), ``seqcnn`` (the sequence-only peer: ``learning.seqcnn.SeqCNN`` on one-hot mRNA, as DM3Loc
and EDCLoc), and the baselines ``label_prior`` and ``logistic_regression``. ``scl`` with ``encoder="seqcnn"`` is
LOCAS with the CNN as its encoder (its pooled output in stage 1, its feature map as the decoder's memory). Each
fold: scaler fit on train (embeddings), early stopping on the fold's validation set, metrics on its test set with
the fixed 0.5 threshold (the paper) and with per-class thresholds tuned on validation (max MCC).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.preprocessing import StandardScaler
from torch import nn

from rnalib import data
from rnalib.data import LOC_CLASSES
from rnalib.embedding import embed
from rnalib.embedding.cache import EmbeddingCache, embed_cached
from rnalib.embedding.embed import Embedder, EmbedderChoice, truncate_sequence
from rnalib.learning import metrics, models, seqcnn
from rnalib.learning.train import LocasConfig, fit_multilabel, predict_proba, predict_raw, train_contrastive
from rnalib.report import results

from . import memory
from .labels import combination_names
from .published import PUBLISHED_LOCAS, PUBLISHED_MCC

METHODS = ("scl", "noscl", "seqcnn", "label_prior", "logistic_regression")
CNN_CHUNK = 128
"""mRNAs per forward pass when a CNN scores a set (bounds the feature maps' memory)."""
ONE_HOT = {"requested": "none", "used": "one-hot", "fallback": False,
           "reason": "a sequence CNN reads one-hot nucleotides (no embedding)"}
"""The embedder entry of the CNN methods' headers and manifests."""
LOWER_IS_BETTER = {"coverage", "coverage_sklearn", "one_error", "ranking_loss", "hamming_loss"}


def label_matrix(records: pd.DataFrame, classes: tuple[str, ...] = LOC_CLASSES) -> np.ndarray:
    """(n, classes) 0/1 matrix."""
    return records[list(classes)].to_numpy(dtype=np.float32)


def features(records: pd.DataFrame, embedder: Embedder, truncation: str = "none", window: int | None = None,
             cache: EmbeddingCache | None = None, progress: bool = True) -> np.ndarray:
    """Per-sequence embeddings through the cache, after the truncation strategy (for windowed models)."""
    window = window or getattr(embedder, "window", None)
    seqs = [truncate_sequence(s, truncation, window) if window else s for s in records["sequence"]]
    return embed_cached(embedder, seqs, cache, progress=progress, desc="mRNAs")


def subsample(records: pd.DataFrame, max_records: int | None, seed: int = 0) -> pd.DataFrame:
    """At most ``max_records`` mRNAs drawn at random (file order kept); each keeps its DM3Loc fold roles."""
    if max_records is None or max_records >= len(records):
        return records
    return records.sample(n=max_records, random_state=seed).sort_index()


def choose_embedder(params: dict) -> EmbedderChoice:
    """The embedder notebook-06 parameters ask for; with the ``windows`` memory it embeds each window on its own
    (``embed.WindowedEmbedder``)."""
    choice = embed.select_embedder(params.get("embedder", "auto"), params.get("weights"),
                                   kmer_k=(1, params.get("kmer_k_max", 4)), pooling=params.get("pooling", "cls"))
    if params.get("memory", LocasConfig.memory) != "windows":
        return choice
    windowed = embed.WindowedEmbedder(choice.embedder, params.get("window_layout", "ends"),
                                       params.get("n_windows", LocasConfig.n_windows), params.get("window_nt", 1000),
                                       params.get("n_5prime", 1), params.get("whole_token", LocasConfig.whole_token))
    return replace(choice, embedder=windowed, reason=f"{choice.reason}; each of {windowed.n_windows} windows "
                                                      f"embedded on its own ({windowed.layout} layout)")


def warm_cache(params: dict, cache: EmbeddingCache | None = None, shard: int = 0, shards: int = 1,
               progress: bool = True) -> dict:
    """Embed the mRNAs the runs with these notebook-06 parameters use (after truncation), shard ``shard`` of
    ``shards``, so parallel jobs only read the cache."""
    choice = choose_embedder(params)
    records = subsample(data.load_dm3loc(), params.get("max_records"), params.get("seed", 0))
    mine = records.sort_values("accession").iloc[shard::shards]
    features(mine, choice.embedder, params.get("truncation", "none"), cache=cache, progress=progress)
    return {"sequences": len(mine), "embedder": choice.embedder.id, "fallback": choice.fallback}


def fold_indices(records: pd.DataFrame, folds: pd.DataFrame, fold: int) -> dict[str, np.ndarray]:
    """Row positions of the fold's train / val / test parts (DM3Loc's lists, by accession)."""
    role = folds[f"fold{fold}"].reindex(records["accession"]).to_numpy()
    return {r: np.flatnonzero(role == r) for r in ("train", "val", "test")}


@dataclass
class FoldOutput:
    """Scores on the fold's validation and test parts, plus what the figures need."""

    val_scores: np.ndarray
    test_scores: np.ndarray
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    test_projection: np.ndarray | None = None
    encoder_state: dict | None = None
    network: dict | None = None  # scaler and state of the trained network (scl, noscl, seqcnn), for ``predict_new``


def _head(cfg: LocasConfig, n_classes: int, tokens: int = 1) -> memory.MemoryHead:
    """The ML-Decoder head over this configuration's memory (``single``, ``slices``, ``windows`` or, over a CNN's
    feature map of ``tokens`` positions, ``positions``); with several tokens the decoder adds the position
    embedding ``cfg.position`` (the reference has none)."""
    slices = cfg.memory == "slices"
    in_dim = (cfg.cnn_dim if cfg.memory == "positions" else cfg.encoder_dim // cfg.n_tokens if slices
              else cfg.encoder_dim)
    decoder = models.MLDecoder(in_dim, n_classes, cfg.decoder_dim, cfg.decoder_ff, cfg.decoder_heads,
                               learn_queries=cfg.learn_queries, norm=cfg.decoder_norm,
                               position="none" if cfg.memory == "single" else cfg.position,
                               max_tokens=max(cfg.n_windows + 1, cfg.n_tokens, tokens))
    return memory.MemoryHead(decoder, cfg.memory, cfg.encoder_dim, cfg.n_tokens)


def uses_cnn(method: str, cfg: LocasConfig) -> bool:
    """Whether the method reads one-hot sequence (``seqcnn``, or LOCAS with the CNN as its encoder) instead of
    embeddings."""
    return method == "seqcnn" or (method == "scl" and cfg.encoder == "seqcnn")


def _cnn(cfg: LocasConfig, n_classes: int) -> seqcnn.SeqCNN:
    return seqcnn.SeqCNN(n_classes, cfg.cnn_width, cfg.cnn_kernels, cfg.cnn_dim, pools=cfg.cnn_pools,
                         dropout=cfg.dropout, batch_norm=cfg.cnn_norm)


def _cnn_network(method: str, cfg: LocasConfig, n_classes: int) -> nn.Module:
    """A CNN method's whole network: the CNN (seqcnn), or its feature map under the ML-Decoder (scl + seqcnn)."""
    cnn = _cnn(cfg, n_classes)
    if method == "seqcnn":
        return cnn
    return nn.Sequential(seqcnn.FeatureMap(cnn), _head(cfg, n_classes, cnn.tokens(cfg.seq_nt)))


def _tokens(cfg: LocasConfig, n_features: int) -> memory.TokenEncoder:
    """The LOCAS encoder applied to each window's block of features (one block unless the memory is windows)."""
    n = cfg.n_windows + cfg.whole_token if cfg.memory == "windows" else 1
    if n_features % n:
        raise ValueError(f"{n_features} features do not split into {n} windows: were they embedded by window?")
    return memory.TokenEncoder(models.Encoder(n_features // n, cfg.encoder_dim, cfg.dropout), n)


def run_fold(x: np.ndarray, y: np.ndarray, idx: dict[str, np.ndarray], method: str, cfg: LocasConfig,
             progress: bool = True) -> FoldOutput:
    """Train one method on one fold and score validation and test. ``x``: embeddings (scaler fit on the fold's
    training part), or for the CNN methods (``uses_cnn``) ``seqcnn.encode`` codes."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r} (choose {', '.join(METHODS)})")
    ys = {r: y[i] for r, i in idx.items()}
    if uses_cnn(method, cfg):
        return _run_cnn_fold({r: x[i].astype(np.float32) for r, i in idx.items()}, ys, method, cfg, progress)
    scaler = StandardScaler().fit(x[idx["train"]])
    xs = {r: scaler.transform(x[i]).astype(np.float32) for r, i in idx.items()}
    if method == "label_prior":
        return FoldOutput(models.label_prior_scores(ys["train"], len(xs["val"])),
                          models.label_prior_scores(ys["train"], len(xs["test"])))
    if method == "logistic_regression":
        clf = models.fit_one_vs_rest(xs["train"], ys["train"], cfg.seed)
        return FoldOutput(clf.predict_proba(xs["val"]), clf.predict_proba(xs["test"]))
    if method == "noscl":
        torch.manual_seed(cfg.seed)
        net = nn.Sequential(_tokens(cfg, x.shape[1]), _head(cfg, y.shape[1]))
        history = fit_multilabel(net, xs["train"], ys["train"], xs["val"], ys["val"], cfg.head_epochs, cfg.head_lr,
                                 cfg.batch_size, cfg.patience, cfg.loss, cfg.seed, progress)
        return FoldOutput(predict_proba(net, xs["val"]), predict_proba(net, xs["test"]), history,
                          network=_network_state(scaler, net))
    torch.manual_seed(cfg.seed)
    encoder = _tokens(cfg, x.shape[1])
    return _locas(encoder, memory.Pooled(encoder), lambda: _head(cfg, y.shape[1]), xs, ys, cfg, cfg, scaler, progress)


def _locas(tokens: nn.Module, pooled: nn.Module, make_head, xs: dict, ys: dict, stage1: LocasConfig,
           cfg: LocasConfig, scaler: StandardScaler | None, progress: bool, chunk: int = 8192) -> FoldOutput:
    """LOCAS's two stages: ``pooled`` (inputs → one vector per mRNA, sharing its weights with ``tokens``) and a
    projection trained with the supervised contrastive loss (``stage1``'s settings); then ``tokens`` (inputs →
    the decoder's memory) frozen in eval mode and a new head (``make_head()``) trained on its output (``cfg``'s
    settings)."""
    projection, scl_history = train_contrastive(pooled, xs["train"], ys["train"], xs["val"], ys["val"], stage1,
                                                progress)
    tokens.requires_grad_(False).eval()  # frozen: eval mode keeps its normalisation statistics fixed
    before = {k: v.clone() for k, v in tokens.state_dict().items()}
    h = {r: predict_raw(tokens, v, chunk) for r, v in xs.items()}
    head = make_head()
    torch.manual_seed(cfg.seed)
    head_history = fit_multilabel(head, h["train"], ys["train"], h["val"], ys["val"], cfg.head_epochs, cfg.head_lr,
                                  cfg.batch_size, cfg.patience, cfg.loss, cfg.seed, progress)
    if any(not torch.equal(before[k], v) for k, v in tokens.state_dict().items()):
        raise RuntimeError("the frozen encoder changed during stage 2")
    history = pd.concat([scl_history.assign(stage="contrastive"), head_history.assign(stage="head")])
    return FoldOutput(predict_proba(head, h["val"]), predict_proba(head, h["test"]), history,
                      predict_raw(nn.Sequential(pooled, projection), xs["test"], chunk), before,
                      _network_state(scaler, nn.Sequential(tokens, head)))


def _run_cnn_fold(xs: dict[str, np.ndarray], ys: dict[str, np.ndarray], method: str, cfg: LocasConfig,
                  progress: bool) -> FoldOutput:
    """``seqcnn``: the CNN trained with the classification loss (``cfg.loss``), early stopping on validation.
    ``scl`` + ``seqcnn``: LOCAS with the CNN's pooled output as the contrastive stage's encoder and its frozen
    feature map (positions as tokens) as the ML-Decoder's memory."""
    n_classes = ys["train"].shape[1]
    torch.manual_seed(cfg.seed)
    cnn = _cnn(cfg, n_classes)
    if method == "seqcnn":
        history = fit_multilabel(cnn, xs["train"], ys["train"], xs["val"], ys["val"], cfg.cnn_epochs, cfg.cnn_lr,
                                 cfg.cnn_batch_size, cfg.cnn_patience, cfg.loss, cfg.seed, progress, CNN_CHUNK)
        return FoldOutput(predict_proba(cnn, xs["val"], CNN_CHUNK), predict_proba(cnn, xs["test"], CNN_CHUNK),
                          history.assign(stage="classification"), network=_network_state(None, cnn))
    if cfg.memory != "positions":
        raise ValueError(f"LOCAS with the seqcnn encoder attends over the CNN's positions: memory must be "
                         f"'positions', not {cfg.memory!r}")
    stage1 = replace(cfg, encoder_dim=cnn.pooled_dim, batch_size=cfg.cnn_batch_size, scl_epochs=cfg.cnn_epochs,
                     scl_lr=cfg.cnn_lr, patience=cfg.cnn_patience)
    return _locas(seqcnn.FeatureMap(cnn), seqcnn.PooledCNN(cnn), lambda: _head(cfg, n_classes, cnn.tokens(cfg.seq_nt)),
                  xs, ys, stage1, cfg, None, progress, CNN_CHUNK)


def _network_state(scaler: StandardScaler | None, net: nn.Module) -> dict:
    """What a fold's network needs to score new mRNAs (tensors only: loads with ``weights_only=True``); the CNN
    methods have no scaler."""
    state = {"state_dict": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}}
    return {**models.scaler_state(scaler), **state} if scaler is not None else state


def load_networks(folder: str | Path) -> list[tuple[StandardScaler | None, nn.Module]]:
    """A saved run's per-fold networks (encoder + ML-Decoder head, or the CNN), each with its scaler (None for
    the CNN methods), in eval mode."""
    folder = Path(folder)
    params = json.loads((folder / "manifest.json").read_text())["parameters"]
    cfg = LocasConfig(**params["config"])
    cnn = uses_cnn(params["method"], cfg)
    out = []
    for path in sorted(folder.glob("network_fold*.pt")):
        state = torch.load(path, weights_only=True)
        if cnn:
            scaler, net = None, _cnn_network(params["method"], cfg, len(LOC_CLASSES))
        else:
            scaler = models.scaler_from_state(state)
            net = nn.Sequential(_tokens(cfg, len(scaler.mean_)), _head(cfg, len(LOC_CLASSES)))
        net.load_state_dict(state["state_dict"])
        out.append((scaler, net.eval()))
    return out


def run_inputs(records: pd.DataFrame, params: dict, embedder: Embedder | None = None,
               cache: EmbeddingCache | None = None, progress: bool = True) -> np.ndarray:
    """What a saved run's networks read (``params``: its manifest parameters): ``seqcnn.encode`` codes of the
    mRNAs for the CNN methods, else their embeddings by ``embedder`` after the run's truncation."""
    cfg = LocasConfig(**params["config"])
    if uses_cnn(params["method"], cfg):
        return seqcnn.encode(records["sequence"].tolist(), cfg.seq_nt)
    if embedder is None:
        raise ValueError("this run reads embeddings: give the embedder it was trained with")
    return features(records, embedder, params.get("truncation", "none"), cache=cache, progress=progress)


def predict_new(folder: str | Path, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class probabilities of new mRNAs (``x``: what ``run_inputs`` gives) averaged over a saved run's fold
    networks, and the thresholds the calls use: per class, the mean over folds of the thresholds tuned on
    validation."""
    networks = load_networks(folder)
    if not networks:
        raise FileNotFoundError(f"{folder}: no saved networks (network_fold*.pt; scl, noscl and seqcnn runs save "
                                f"them)")
    probs = np.mean([predict_proba(net, x.astype(np.float32), CNN_CHUNK) if scaler is None
                     else predict_proba(net, scaler.transform(x).astype(np.float32)) for scaler, net in networks],
                    axis=0)
    folds = json.loads((Path(folder) / "metrics.json").read_text())["folds"]
    thresholds = np.array([np.mean([f["thresholds"][c] for f in folds.values()]) for c in LOC_CLASSES])
    return probs, thresholds


MIN_TEST_LABELS = 50
"""Fewest positives, and fewest negatives, a class needs in every fold's test set for its measured figures to be
called reliable: below it one test mRNA moves a fold's AUROC by 1/50 or more (Exosome has about 27 negatives
per fold)."""


def class_figures(folder: str | Path, min_labels: int = MIN_TEST_LABELS) -> pd.DataFrame:
    """Per class (index): the run's measured test figures — ``auroc`` (computed from the run's test predictions,
    ``predictions.csv.gz``, per fold, and averaged over the ``auroc_folds`` of the run's ``folds`` whose test set
    has both positives and negatives), ``mcc`` (at the tuned thresholds, mean over folds, from
    ``metrics.json``) — ``min_positives`` and ``min_negatives`` (fewest in one fold's test set), ``reliable``
    (both at least ``min_labels``) and ``note`` (why not, and over how many folds the AUROC is when fewer than
    all; empty when reliable)."""
    from sklearn.metrics import roc_auc_score

    folder = Path(folder)
    mean = json.loads((folder / "metrics.json").read_text())["mean"]["tuned"]
    folds = [part for _, part in pd.read_csv(folder / "predictions.csv.gz").groupby("fold")]
    rows = {}
    for c in LOC_CLASSES:
        pos = min(int(p[f"true_{c}"].sum()) for p in folds)
        neg = min(int((p[f"true_{c}"] == 0).sum()) for p in folds)
        aurocs = [roc_auc_score(p[f"true_{c}"], p[f"prob_{c}"]) for p in folds if 0 < p[f"true_{c}"].sum() < len(p)]
        short = [f"{n} {what}" for n, what in ((pos, "positives"), (neg, "negatives")) if n < min_labels]
        rows[c] = {"auroc": float(np.mean(aurocs)) if aurocs else float("nan"), "mcc": mean[f"mcc_{c}"],
                   "auroc_folds": len(aurocs), "folds": len(folds), "min_positives": pos, "min_negatives": neg,
                   "reliable": not short, "note": _class_note(short, min_labels, len(aurocs), len(folds))}
    return pd.DataFrame.from_dict(rows, orient="index")


def _class_note(short: list[str], min_labels: int, auroc_folds: int, folds: int) -> str:
    """Why a class's measured figures are unreliable (empty when they are not)."""
    if not short:
        return ""
    note = f"unreliable: as few as {' and '.join(short)} in a fold's test set (fewer than {min_labels})"
    if auroc_folds < folds:
        note += (f"; AUROC over {auroc_folds} of {folds} folds (the others lack positives or negatives)"
                 if auroc_folds else "; no AUROC (no fold has both positives and negatives)")
    return note


def evaluate_fold(y_val: np.ndarray, s_val: np.ndarray, y_test: np.ndarray, s_test: np.ndarray,
                  classes: tuple[str, ...] = LOC_CLASSES) -> dict:
    """Test metrics at the fixed 0.5 threshold and at per-class thresholds tuned (max MCC) on validation."""
    tuned = metrics.best_mcc_thresholds(y_val, s_val)
    return {
        "fixed": metrics.multilabel_metrics(y_test, s_test, s_test >= 0.5, classes),
        "tuned": metrics.multilabel_metrics(y_test, s_test, s_test >= tuned, classes),
        "thresholds": dict(zip(classes, map(float, tuned))),
    }


def summarize(per_fold: dict[int, dict]) -> tuple[dict, dict]:
    """Mean and standard deviation over folds of every metric, for both threshold rules."""
    mean, sd = {}, {}
    for rule in ("fixed", "tuned"):
        frame = pd.DataFrame([f[rule] for f in per_fold.values()])
        mean[rule], sd[rule] = frame.mean().to_dict(), frame.std(ddof=1).fillna(0.0).to_dict()
    return mean, sd


@dataclass
class LocalizationRun:
    """One method over the folds (``save`` writes the results contract)."""

    params: dict
    metrics: dict
    predictions: pd.DataFrame
    history: pd.DataFrame
    projections: pd.DataFrame
    started: float
    networks: dict[int, dict] = field(default_factory=dict)
    fold_seconds: dict[str, float] = field(default_factory=dict)  # wall time per fold (training and scoring)


def run_localization(records: pd.DataFrame, folds: pd.DataFrame, choice: EmbedderChoice | None, method: str,
                     cfg: LocasConfig, truncation: str = "none", n_folds: int = 5,
                     cache: EmbeddingCache | None = None, progress: bool = True,
                     x: np.ndarray | None = None) -> LocalizationRun:
    """Run ``method`` on DM3Loc's folds 0..n_folds-1; ``x`` (features) may be passed in to share them. The CNN
    methods (``uses_cnn``) read one-hot sequence and need no embedder (``choice`` may be None)."""
    started = time.time()
    classes = LOC_CLASSES
    if x is None:
        x = (seqcnn.encode(records["sequence"].tolist(), cfg.seq_nt) if uses_cnn(method, cfg)
             else features(records, choice.embedder, truncation, cache=cache, progress=progress))
    y = label_matrix(records, classes)
    per_fold, rows, histories, projections, networks, seconds = {}, [], [], [], {}, {}
    for fold in range(n_folds):
        idx = fold_indices(records, folds, fold)
        start = time.time()
        out = run_fold(x, y, idx, method, cfg, progress)
        seconds[str(fold)] = round(time.time() - start, 1)
        per_fold[fold] = evaluate_fold(y[idx["val"]], out.val_scores, y[idx["test"]], out.test_scores, classes)
        tuned = np.array([per_fold[fold]["thresholds"][c] for c in classes])
        test = records.iloc[idx["test"]]
        frame = pd.DataFrame({"id": test["id"].to_numpy(), "accession": test["accession"].to_numpy(), "fold": fold})
        for j, c in enumerate(classes):
            frame[f"true_{c}"] = y[idx["test"], j].astype(int)
            frame[f"prob_{c}"] = out.test_scores[:, j]
            frame[f"pred_{c}"] = (out.test_scores[:, j] >= tuned[j]).astype(int)
            frame[f"pred05_{c}"] = (out.test_scores[:, j] >= 0.5).astype(int)
        rows.append(frame)
        if not out.history.empty:
            histories.append(out.history.assign(fold=fold))
        if out.network is not None:
            networks[fold] = out.network
        if out.test_projection is not None and fold == 0:
            projections.append(pd.DataFrame(out.test_projection).add_prefix("z").assign(
                id=test["id"].to_numpy(), combination=combination_names(test, classes)))
    mean, sd = summarize(per_fold)
    params = {"method": method, "config": asdict(cfg), "truncation": truncation, "n_folds": n_folds,
              "embedder": ONE_HOT if uses_cnn(method, cfg) else choice.as_dict()}
    summary = {"method": method, "theta": cfg.theta if method == "scl" else None, "classes": list(classes),
               "folds": {str(k): v for k, v in per_fold.items()}, "mean": mean, "sd": sd}
    return LocalizationRun(params, summary, pd.concat(rows, ignore_index=True),
                           pd.concat(histories, ignore_index=True) if histories else pd.DataFrame(),
                           pd.concat(projections, ignore_index=True) if projections else pd.DataFrame(), started,
                           networks, seconds)


def save_run(run: LocalizationRun, root: str | Path | None, variant: str) -> Path:
    """Write ``<root>/results/localization/<variant>/`` (metrics.json, predictions.csv.gz, manifest.json, ...)."""
    run.metrics["variant"] = variant
    manifest = results.manifest({**run.params, "variant": variant}, run.started, seed=run.params["config"]["seed"],
                                embedder=run.params["embedder"],  # wall times go to the manifest, not the metrics:
                                extra={"fold_seconds": run.fold_seconds})  # the same seed repeats metrics exactly
    extra = {name: table for name, table in (("history", run.history), ("projections", run.projections))
             if not table.empty}
    files = {f"network_fold{k}.pt": (lambda path, state=state: torch.save(state, path))
             for k, state in run.networks.items()}
    return results.write_results(root, "localization", variant, run.metrics, run.predictions, manifest, extra,
                                 files)


def load_results(root: str | Path | None = None, runs: list[str] | None = None) -> list[dict]:
    """Saved study-B runs' metrics (the ``runs`` named, or all), with manifest and folder."""
    out = []
    for folder in results.run_folders(root, "localization", runs):
        summary = json.loads((folder / "metrics.json").read_text())
        summary["manifest"] = json.loads((folder / "manifest.json").read_text())
        summary["folder"] = str(folder)
        out.append(summary)
    return out


def mean_table(summaries: list[dict], rule: str = "tuned") -> pd.DataFrame:
    """Variants × metrics as 'mean ± sd' strings over the folds."""
    rows = {}
    for s in summaries:
        rows[s["variant"]] = {k: f"{v:.3f} ± {s['sd'][rule][k]:.3f}" for k, v in s["mean"][rule].items()}
    return pd.DataFrame(rows).T


def mcc_comparison(summaries: list[dict], rule: str = "tuned", published: list[str] | None = None) -> pd.DataFrame:
    """Per-class MCC: published rows (``published``: their names in ``PUBLISHED_MCC``, default all; marked, NaN
    where the paper prints none) beside ours (measured, mean over folds, threshold ``rule``)."""
    rows = {name: {c: math.nan if v is None else v for c, v in zip(LOC_CLASSES, PUBLISHED_MCC[name])}
            for name in (PUBLISHED_MCC if published is None else published)}
    for s in summaries:
        rows[f"{s['variant']} (measured, {rule})"] = {c: s["mean"][rule][f"mcc_{c}"] for c in LOC_CLASSES}
    return pd.DataFrame(rows).T


def prior_vs_published(summaries: list[dict], rule: str = "fixed") -> tuple[pd.DataFrame, pd.Series]:
    """LOCAS's published summary figures beside each measured variant (mean over folds, threshold ``rule``: the
    ranking metrics do not depend on it, example accuracy and Hamming loss do), and per metric whether the
    constant label-prior predictor equals or beats the published figure (compared at the published precision;
    empty without a label-prior run)."""
    rows = {"LOCAS (published)": PUBLISHED_LOCAS}
    for s in summaries:
        rows[f"{s['variant']} (measured)"] = {m: s["mean"][rule][m] for m in PUBLISHED_LOCAS}
    table = pd.DataFrame(rows).T[list(PUBLISHED_LOCAS)]
    prior = next((s for s in summaries if s["variant"] == "label_prior"), None)
    if prior is None:
        return table, pd.Series(dtype=bool)
    ours = {m: round(prior["mean"][rule][m], 4) for m in PUBLISHED_LOCAS}
    beats = {m: ours[m] <= v if m in LOWER_IS_BETTER else ours[m] >= v for m, v in PUBLISHED_LOCAS.items()}
    return table, pd.Series(beats, name="label prior equals or beats LOCAS (published)")


# --------------------------------------------------------------------------- the paper's tables beside ours


def theta_table(summaries: list[dict], records: pd.DataFrame, rule: str = "fixed") -> pd.DataFrame:
    """LOCAS Table 3 (published) beside ours per θ: cluster counts (connected components, what the contrastive
    positives close to transitively, and the definition closest to the published counts) and the scl runs'
    metrics (mean over folds; threshold ``rule`` for the Hamming loss, the ranking metrics do not depend on it)."""
    from .labels import CLOSEST_TO_PUBLISHED, cluster_counts
    from .published import table3

    published_rows = table3(metric_names=True)
    metrics_cols = [c for c in published_rows.columns if c != "clusters"]
    thetas = tuple(published_rows.index)
    components = cluster_counts(records, ["components"], thetas).loc["components"]
    closest = cluster_counts(records, [CLOSEST_TO_PUBLISHED["definition"]], thetas,
                             CLOSEST_TO_PUBLISHED["label_set"], CLOSEST_TO_PUBLISHED["strict"]).iloc[0]
    rows = []
    for theta in thetas:
        rows.append({"θ": theta, "source": "LOCAS (published)", **published_rows.loc[theta].to_dict()})
        rows.append({"θ": theta, "source": "clusters: connected components (measured)", "clusters": components[theta]})
        rows.append({"θ": theta, "source": "clusters: complete linkage, 7-digit labels (measured)",
                     "clusters": closest[theta]})
        for s in summaries:
            if s["method"] == "scl" and s.get("theta") == theta:
                rows.append({"θ": theta, "source": f"{s['variant']} (measured)",
                             **{m: s["mean"][rule][m] for m in metrics_cols}})
    return pd.DataFrame(rows).set_index(["θ", "source"])


def load_projections(summary: dict) -> pd.DataFrame | None:
    """The fold-0 test projections a SCL run saved (z0.., id, combination), or None."""
    path = Path(summary["folder"]) / "projections.csv.gz"
    return pd.read_csv(path) if path.is_file() else None
