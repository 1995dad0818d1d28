"""Study A end to end: one configuration under one split protocol, with baselines on the same splits.

Evaluation conventions (stated in the notebooks): the early-stopping loss uses every validation row (all
augmented copies, as in the paper); the decision threshold maximises F1 on the validation pairs in their original
orientation; headline test metrics use the test pairs in their original orientation (``test``), and the paper's
way — every augmented copy — is reported too (``test_augmented``).
"""
from __future__ import annotations

import hashlib
import itertools
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from rnalib import data
from rnalib.embedding import embed
from rnalib.embedding.cache import EmbeddingCache, embed_cached
from rnalib.embedding.embed import Embedder, EmbedderChoice
from rnalib.learning import metrics, models
from rnalib.learning.train import TrainConfig, penultimate, predict_proba, train_classifier
from rnalib.report import results

from . import families, pairing, sampling, trust

BASELINES = ("logistic_regression", "degree_only", "family_degree", "seed_match", "length_only", "all_negative")
"""Reference scores beside the paper's network (``seed_match`` and ``length_only``: ``pairing.seed_match_scores``
and ``length_only_scores``)."""
PAIR_MODELS = ("network_pair", "logistic_pair", "hgb_pair")
"""Models that see the pair (``run_interactions``): the network and logistic regression on
[emb(x); emb(y); pair features], and histogram gradient boosting on the pair features alone."""
_SPLIT = ["tag", "protocol", "weighting", "split_seed"]  # what identifies one split of one study


@dataclass
class InteractionRun:
    """Everything one run produced (``save`` writes the results contract)."""

    params: dict
    dataset: pd.DataFrame
    features: PairEmbeddings
    scaler: StandardScaler
    model: torch.nn.Module | None
    history: pd.DataFrame
    metrics: dict
    predictions: pd.DataFrame
    started: float
    families: pd.Series | None = None
    pairing: pd.DataFrame | None = None
    pair_model: torch.nn.Module | None = None
    pair_scaler: StandardScaler | None = None
    fit_seconds: dict | None = None


def pair_features(dataset: pd.DataFrame, embedder: Embedder, cache: EmbeddingCache | None = None,
                  progress: bool = True) -> np.ndarray:
    """Concatenated per-RNA embeddings [emb(x), emb(y)], shape (rows, 2 d); every distinct sequence (reversed ones
    included) is embedded once, through the cache."""
    return PairEmbeddings.of(dataset, embedder, cache, progress).matrix()


@dataclass
class PairEmbeddings:
    """[emb(x); emb(y)] of every row of a dataset without the (rows, 2 d) matrix in memory: one embedding per
    distinct sequence (``table``, (n, d), the embedder's dtype) and each row's two indices into it (``ix``,
    ``iy``). A study-A run holds 10^5-10^6 rows of a few hundred distinct RNAs, so scaling the table and gathering
    rows is cheaper than scaling the matrix. Relies on ``StandardScaler.transform`` scaling in its input's dtype
    (scikit-learn 1.9, pinned; ``test_pair_embeddings_*`` checks it)."""

    table: np.ndarray
    ix: np.ndarray
    iy: np.ndarray

    @classmethod
    def of(cls, dataset: pd.DataFrame, embedder: Embedder, cache: EmbeddingCache | None = None,
           progress: bool = True) -> "PairEmbeddings":
        seqs = pd.unique(pd.concat([dataset["seq_x"], dataset["seq_y"]], ignore_index=True))
        table = embed_cached(embedder, list(seqs), cache, progress=progress, desc="RNAs")
        row = {s: i for i, s in enumerate(seqs)}
        return cls(table, dataset["seq_x"].map(row).to_numpy(), dataset["seq_y"].map(row).to_numpy())

    @property
    def width(self) -> int:
        """Columns of the pair matrix (2 d)."""
        return 2 * self.table.shape[1]

    def matrix(self, rows=slice(None)) -> np.ndarray:
        """The unscaled pair matrix of ``rows`` (a mask, indices or slice), shape (rows, 2 d)."""
        return np.hstack([self.table[self.ix[rows]], self.table[self.iy[rows]]])

    def fit_scaler(self, rows: np.ndarray) -> StandardScaler:
        """The StandardScaler that fitting on ``matrix(rows)`` gives (equal up to rounding): each side's columns
        fitted on the distinct embeddings weighted by how often ``rows`` use them."""
        sides = [StandardScaler().fit(self.table, sample_weight=np.bincount(i[rows], minlength=len(self.table)))
                 for i in (self.ix, self.iy)]
        return models.concatenated_scaler(*sides)

    def scaled(self, scaler: StandardScaler, dtype=np.float32, compute=None, out: np.ndarray | None = None
               ) -> np.ndarray:
        """``scaler.transform(matrix().astype(compute)).astype(dtype)``, element for element (StandardScaler
        transforms in its input's dtype: ``compute``, default the table's), gathered from the scaled table.
        ``out``: an array of shape (rows, width) and dtype ``dtype`` to write into (e.g. the first columns of a
        wider matrix) instead of a new one."""
        d, halves = self.table.shape[1], []
        for sl in (slice(0, d), slice(d, 2 * d)):
            half = self.table.astype(compute or self.table.dtype)  # a copy, scaled in place as transform does
            half -= scaler.mean_[sl].astype(half.dtype)
            half /= scaler.scale_[sl].astype(half.dtype)
            halves.append(half.astype(dtype, copy=False))
        if out is None:
            out = np.empty((len(self.ix), 2 * d), dtype=dtype)
        elif out.shape != (len(self.ix), 2 * d) or out.dtype != np.dtype(dtype):
            raise ValueError(f"out has shape {out.shape} and dtype {out.dtype}; expected {(len(self.ix), 2 * d)} "
                             f"and {np.dtype(dtype)}")
        np.take(halves[0], self.ix, axis=0, out=out[:, :d], mode="clip")  # indices valid by construction
        np.take(halves[1], self.iy, axis=0, out=out[:, d:], mode="clip")
        return out

    def with_pair_features(self, scaler: StandardScaler, pair_part: np.ndarray, part_scaler: StandardScaler
                           ) -> np.ndarray:
        """[emb(x); emb(y); pair features] in float32, shape (rows, width + pair_part's columns), scaled as
        ``concatenated_scaler(scaler, part_scaler).transform(np.hstack([matrix(), pair_part]))`` scales it: in
        pair_part's dtype (float64), the way the saved pair network's inputs are made (``cli.newdata``). Built in
        one allocation (a fresh 1-2 GB array costs seconds of page faults)."""
        out = np.empty((len(self.ix), self.width + pair_part.shape[1]), dtype=np.float32)
        self.scaled(scaler, compute=pair_part.dtype, out=out[:, :self.width])
        out[:, self.width:] = part_scaler.transform(pair_part)
        return out


def _positive_sets(params: dict) -> list[pd.DataFrame]:
    """The unique positive pairs of each of ``split_seeds`` that runs with these notebook-02 parameters use."""
    pairs = data.length_filter(data.load_interactions(params.get("pairs_csv"), params.get("ambiguous_to_n", False)),
                               params.get("max_len", 1022))
    return [sampling.unique_positive_pairs(pairs, params.get("max_pairs"), seed) for seed in params.get("split_seeds", [0])]


def warm_cache(params: dict, cache: EmbeddingCache | None = None, shard: int = 0, shards: int = 1,
               progress: bool = True) -> dict:
    """Embed every sequence the runs with these notebook-02 parameters ask for (the RNAs of the positive pairs
    of each of ``split_seeds`` within ``max_len``, reversed copies included): shard ``shard`` of ``shards``
    (sequences sorted, every ``shards``-th), so parallel training jobs only read the cache."""
    choice = embed.select_embedder(params.get("embedder", "auto"), params.get("weights"),
                                   kmer_k=(1, params.get("kmer_k_max", 4)))
    seqs: set[str] = set()
    for positives in _positive_sets(params):
        seqs |= set(positives["seq_x"]) | set(positives["seq_y"])
    if params.get("reverse_augmentation", True):
        seqs |= {s[::-1] for s in seqs}
    mine = sorted(seqs)[shard::shards]
    embed_cached(choice.embedder, mine, cache, progress=progress, desc=f"RNAs (shard {shard + 1}/{shards})")
    return {"sequences": len(mine), "embedder": choice.embedder.id, "fallback": choice.fallback}


def warm_pair_features(params: dict, cache: EmbeddingCache | None = None, shard: int = 0, shards: int = 1,
                       progress: bool = True) -> dict:
    """Compute ``pairing`` features for every pair the runs with these notebook-02 parameters can use, shard
    ``shard`` of ``shards`` (pairs sorted by their ids, every ``shards``-th): per split seed, every
    (x-side RNA, y-side RNA) combination of its positive pairs in their orientation, since positives are among
    them and every protocol draws its negatives from them (``sampling.sample_negatives``). On the bundled set
    that is 266 × 1,053 = 280,098 pairs, a superset of the ~2.7 × 10^5 that 5 protocols × 5 split seeds draw."""
    combos: dict[str, tuple[str, str, str, str]] = {}
    for positives in _positive_sets(params):
        xs = positives.drop_duplicates("id_x")[["id_x", "seq_x", "cat_x"]].to_numpy()
        ys = positives.drop_duplicates("id_y")[["id_y", "seq_y", "cat_y"]].to_numpy()
        for ix, sx, cx in xs:
            for iy, sy, cy in ys:
                if ix != iy:
                    combos.setdefault(f"{ix}|{iy}", (sx, sy, cx, cy))
    mine = [combos[k] for k in sorted(combos)[shard::shards]]
    cache = cache or EmbeddingCache()
    started = time.perf_counter()
    pairing.interaction_features_cached(*([m[i] for m in mine] for i in range(4)), cache, progress,
                                        desc=f"pairs (shard {shard + 1}/{shards})", pack=True)
    return {"pairs": len(mine), "computed": cache.written, "feature_version": pairing.FEATURE_VERSION,
            "seconds": round(time.perf_counter() - started, 1)}


def _score_block(y_val, p_val, y_test, p_test, y_aug, p_aug, threshold, n_boot, seed, clusters) -> dict:
    return {
        "threshold": float(threshold),
        "val": metrics.binary_metrics(y_val, p_val, threshold),
        "test": metrics.evaluate_binary(y_test, p_test, threshold, n_boot, seed, clusters=clusters),
        "test_augmented": metrics.binary_metrics(y_aug, p_aug, threshold),
        "confusion_test": metrics.normalized_confusion(y_test, p_test, threshold),
    }


def both_seen_scores(dataset: pd.DataFrame, scores: dict[str, np.ndarray]) -> dict:
    """Test AUROC of every model on the original test pairs whose two partners are both seen in training (in a
    training positive pair), beside the share of test pairs that are: separates composition from data size when
    two protocols differ in how many test pairs hold an unseen RNA (C1 against C1m). AUROC is NaN when the subset
    lacks a class."""
    seen = sampling.seen_rnas(dataset[(dataset["role"] == "train") & (dataset["label"] == 1)
                                      & (dataset["augmentation"] == "original")])
    test = ((dataset["role"] == "test") & (dataset["augmentation"] == "original")).to_numpy()
    both = test & dataset["src_x"].isin(seen).to_numpy() & dataset["src_y"].isin(seen).to_numpy()
    y = dataset["label"].to_numpy()[both]
    ranked = len(np.unique(y)) == 2
    return {"share_of_test_pairs": float(both.sum() / max(test.sum(), 1)), "pairs": int(both.sum()),
            "positives": int(y.sum()),
            "auroc": {m: float(roc_auc_score(y, p[both])) if ranked else float("nan")
                      for m, p in scores.items() if m != "all_negative"}}


def split_counts(dataset: pd.DataFrame, n_unique_positives: int) -> dict:
    """Pairs and RNAs per role (original orientation), and how many positives the protocol dropped."""
    orig = sampling.original_pairs(dataset)
    out = {"unique_positive_pairs": n_unique_positives,
           "dropped_positive_pairs": n_unique_positives - int(orig["label"].sum())}
    for role, part in orig.groupby("role"):
        out[role] = {"positives": int(part["label"].sum()), "negatives": int((part["label"] == 0).sum()),
                     "rnas": int(pd.concat([part["id_x"], part["id_y"]]).nunique()),
                     "rows_with_augmentation": int((dataset["role"] == role).sum())}
    return out


def rna_families(positives: pd.DataFrame, min_seq_id: float = 0.8, coverage: float = 0.5,
                 min_kmer_containment: float | None = 0.3, threads: int = 1, cache: bool = True) -> pd.Series:
    """Family of every RNA of the positive pairs: miRNAs by seed, long RNAs by MMseqs2 alignments (identity
    ``min_seq_id`` over ``coverage`` of either RNA) or shared 31-mers (``min_kmer_containment``), transitively.

    With ``cache``, the labels are stored under ``$RNALIB_CACHE_DIR/families/`` (written whole or not at all),
    keyed by the RNAs (ids, sequences, categories), the three settings and the source of
    ``rnalib.interactions.families``: every page of a profile that uses the same pairs computes them once."""
    rnas = pd.concat([positives[[f"id_{s}", f"seq_{s}", f"cat_{s}"]].set_axis(["id", "seq", "cat"], axis=1)
                      for s in ("x", "y")]).drop_duplicates("id")
    path = _families_path(rnas, min_seq_id, coverage, min_kmer_containment) if cache else None
    if path is not None and path.exists():
        return pd.Series(json.loads(path.read_text()), name="family", dtype=object).rename_axis("id")
    fams = families.assign_families(list(rnas["id"]), list(rnas["seq"]), list(rnas["cat"]), min_seq_id, coverage,
                                    threads, min_kmer_containment=min_kmer_containment)
    if path is not None:
        data.write_atomically(path, lambda tmp: tmp.write_text(json.dumps(fams.to_dict())))
    return fams


def _families_path(rnas: pd.DataFrame, *settings) -> Path:
    """Where ``rna_families`` keeps one set of labels: a sha256 of what decides them."""
    digest = hashlib.sha256(Path(families.__file__).read_bytes())
    digest.update(json.dumps([list(rnas["id"]), list(rnas["seq"]), [None if c != c else c for c in rnas["cat"]],
                              list(settings)]).encode())
    return data.cache_dir() / "families" / f"{digest.hexdigest()}.json"


def family_degree_scores(dataset: pd.DataFrame, fams: pd.Series) -> np.ndarray:
    """Family-degree baseline: like degree-only, with each RNA's family's training interactions (a held-out
    miRNA whose seed siblings interact a lot in training scores high). No sequence is compared."""
    degrees = sampling.training_degrees(dataset)
    counts = degrees.groupby(degrees.index.map(fams)).sum()
    return models.degree_scores(counts, dataset["src_x"].map(fams), dataset["src_y"].map(fams))


def length_only_scores(dataset: pd.DataFrame, train: np.ndarray, seed: int = 0) -> np.ndarray:
    """Length-only baseline: logistic regression on the two partners' log10 lengths (standardised on the training
    rows), fitted on the training rows; it never reads a nucleotide. Returns P(interaction) per row."""
    lengths = np.log10(np.column_stack([dataset["seq_x"].str.len(), dataset["seq_y"].str.len()]).astype(float))
    scaler = StandardScaler().fit(lengths[train])
    fitted = models.fit_logistic(scaler.transform(lengths[train]), dataset["label"].to_numpy()[train], seed)
    return fitted.predict_proba(scaler.transform(lengths))[:, 1]


def boosting_scores(features: pd.DataFrame, y: np.ndarray, fit_rows: np.ndarray, seed: int = 0) -> np.ndarray:
    """scikit-learn's ``HistGradientBoostingClassifier`` (defaults, ``random_state=seed``; NaN handled natively)
    on ``pairing.MODEL_FEATURES`` alone (those not NaN throughout the fitted rows: pairs without a miRNA have no
    seed features), fitted on ``fit_rows``; P(interaction) per row."""
    part = features[list(pairing.MODEL_FEATURES)].to_numpy(float)
    part = part[:, ~np.isnan(part[fit_rows]).all(axis=0)]
    fitted = HistGradientBoostingClassifier(random_state=seed).fit(part[fit_rows], y[fit_rows])
    return fitted.predict_proba(part)[:, 1]


def make_dataset(pairs: pd.DataFrame, params: dict, threads: int = 1) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Unique positives, RNA families and the split dataset of a run, from its recorded ``params`` (the keys
    ``run_interactions`` writes to the manifest): the one place a run's data is made, so it can be rebuilt."""
    seed = params["split_seed"]
    positives = sampling.unique_positive_pairs(data.length_filter(pairs, params["max_len"]), params["max_pairs"], seed)
    fams = rna_families(positives, params["min_seq_id"], params["coverage"], params["min_kmer_containment"], threads)
    dataset = sampling.build_dataset(positives, params["protocol"], params["ratio"], params["weighting"],
                                     params["reverse"], seed=seed, families=fams)
    return positives, fams, dataset


def residual_similarity(dataset: pd.DataFrame, threads: int = 1) -> pd.DataFrame:
    """Each test RNA unseen in training and its closest relative among the training RNAs (``rnalib.interactions.families``)."""
    orig = sampling.original_pairs(dataset)
    train = orig[(orig["role"] == "train") & (orig["label"] == 1)]
    test = orig[(orig["role"] == "test") & (orig["label"] == 1)]
    seen = sampling.seen_rnas(train)
    seqs = dict(zip(orig["id_x"], orig["seq_x"])) | dict(zip(orig["id_y"], orig["seq_y"]))
    cats = dict(zip(orig["id_x"], orig["cat_x"])) | dict(zip(orig["id_y"], orig["cat_y"]))
    unseen = sorted((set(test["id_x"]) | set(test["id_y"])) - seen)
    if not unseen:
        return pd.DataFrame()
    return families.residual_similarity(unseen, sorted(seen), seqs, cats, threads=threads)


def run_interactions(pairs: pd.DataFrame, choice: EmbedderChoice, config: TrainConfig, protocol: str = "C1",
                     weighting: str = "uniform", ratio: int = 20, reverse: bool = True, max_len: int = 1022,
                     max_pairs: int | None = None, n_boot: int = 200, cache: EmbeddingCache | None = None,
                     progress: bool = True, pairs_csv: str | None = None, split_seed: int = 0,
                     train_network: bool = True, min_seq_id: float = 0.8, coverage: float = 0.5,
                     min_kmer_containment: float | None = 0.3, threads: int = 1,
                     ambiguous_to_n: bool = False, pairing_features: bool = True,
                     pair_network: bool = False) -> InteractionRun:
    """Run one configuration under one protocol and one split seed; baselines see exactly the same splits,
    negatives and features. ``train_network=False`` scores the baselines only.

    ``split_seed`` draws the split and the negatives; ``config.seed`` the network's initialisation and batches.
    Families (``rna_families``: ``min_seq_id``, ``coverage``, ``min_kmer_containment``) make C4's groups and the
    family-degree baseline.
    ``pairs_csv`` only records where ``pairs`` came from (None: the bundled set), so the run can be rebuilt;
    ``ambiguous_to_n`` (recorded only when True) how it was read.

    ``pairing_features`` (``rnalib.interactions.pairing``, through the same cache) adds the baselines
    ``seed_match`` and ``length_only`` and the models ``logistic_pair`` (logistic regression on [emb(x); emb(y);
    pair features]) and ``hgb_pair`` (gradient boosting on pair features alone, fitted on the training pairs in
    their original orientation, since augmented copies repeat their features); ``pair_network`` also trains the
    network on [emb(x); emb(y); pair features] (``network_pair``, same configuration). Augmented copies keep
    their original's pair features. ``fit_seconds`` holds the wall time of each trained model and of the pair
    features (written to the manifest: a time is not a metric, and metrics repeat exactly with the same seed).
    """
    started = time.time()
    params = {"pairs_csv": pairs_csv, "protocol": protocol, "weighting": weighting, "ratio": ratio,
              "reverse": reverse, "max_len": max_len, "max_pairs": max_pairs, "n_boot": n_boot,
              "split_seed": split_seed, "train_network": train_network, "min_seq_id": min_seq_id,
              "coverage": coverage, "min_kmer_containment": min_kmer_containment, "config": asdict(config),
              "embedder": choice.as_dict(), **({"ambiguous_to_n": True} if ambiguous_to_n else {}),
              **({"pairing_features": pairing.FEATURE_VERSION, "pair_network": pair_network} if pairing_features else {})}
    positives, fams, dataset = make_dataset(pairs, params, threads)
    features = PairEmbeddings.of(dataset, choice.embedder, cache, progress)
    role, y = dataset["role"].to_numpy(), dataset["label"].to_numpy()
    original = (dataset["augmentation"] == "original").to_numpy()
    train, val, test = role == "train", role == "val", role == "test"
    scaler = features.fit_scaler(train)
    x = features.scaled(scaler)

    model, history, best_epoch = None, pd.DataFrame(columns=["epoch", "train_loss", "val_loss", "lr"]), -1
    scores, seconds = {}, {}
    clock = time.perf_counter()
    x_train = x[train]  # one copy for both models (a fresh 1-2 GB array costs seconds of page faults)
    if train_network:
        model, history, best_epoch = train_classifier(x_train, y[train], x[val], y[val], config, progress)
        scores["model"] = predict_proba(model, x)
        seconds["model"], clock = time.perf_counter() - clock, time.perf_counter()
    logistic = models.fit_logistic(x_train, y[train], split_seed)
    del x_train
    scores |= {
        "logistic_regression": logistic.predict_proba(x)[:, 1],
        "degree_only": models.degree_scores(sampling.training_degrees(dataset), dataset["src_x"], dataset["src_y"]),
        "family_degree": family_degree_scores(dataset, fams),
        "all_negative": models.all_negative_scores(len(dataset)),
    }
    seconds["logistic_regression"], clock = time.perf_counter() - clock, time.perf_counter()
    pf, pair_model, pair_scaler, pair_training = None, None, None, {}
    if pairing_features:
        pf = pairing.for_dataset(dataset, cache, progress)
        seconds["pairing_features"], clock = time.perf_counter() - clock, time.perf_counter()
        scores |= {"seed_match": pairing.seed_match_scores(pf),
                   "length_only": length_only_scores(dataset, train, split_seed)}
        pair_part = pairing.model_matrix(pf)  # the embeddings' columns keep their scaler; only these are fitted
        part_scaler = StandardScaler().fit(pair_part[train])
        pair_scaler = models.concatenated_scaler(scaler, part_scaler)
        xp = features.with_pair_features(scaler, pair_part, part_scaler)
        xp_train = xp[train]
        if pair_network:
            pair_model, pair_history, pair_best = train_classifier(xp_train, y[train], xp[val], y[val], config,
                                                                   progress)
            pair_training = {"best_epoch": pair_best, "epochs_run": len(pair_history)}
            scores["network_pair"] = predict_proba(pair_model, xp)
            seconds["network_pair"], clock = time.perf_counter() - clock, time.perf_counter()
        pair_logistic = models.fit_logistic(xp_train, y[train], split_seed, init=logistic)  # warm start
        del xp_train
        scores["logistic_pair"] = pair_logistic.predict_proba(xp)[:, 1]
        seconds["logistic_pair"], clock = time.perf_counter() - clock, time.perf_counter()
        scores["hgb_pair"] = boosting_scores(pf, y, train & original, split_seed)
        seconds["hgb_pair"], clock = time.perf_counter() - clock, time.perf_counter()
    vo, to = val & original, test & original
    clusters = (dataset["src_x"].to_numpy()[to], dataset["src_y"].to_numpy()[to])
    results_by_model = {}
    for name, prob in scores.items():
        threshold = 1.0 if name == "all_negative" else metrics.best_f1_threshold(y[vo], prob[vo])
        results_by_model[name] = _score_block(y[vo], prob[vo], y[to], prob[to], y[test], prob[test],
                                              threshold, n_boot, split_seed, clusters)
    residual = residual_similarity(dataset, threads)
    summary = {
        "variant": None, "protocol": protocol, "weighting": weighting, "split_seed": split_seed,
        "max_pairs": max_pairs, "best_epoch": best_epoch, "epochs_run": len(history),
        "warmup_epochs": config.warmup_epochs, "nominal_negative_ratio": ratio,
        **({"network_pair_training": pair_training} if pair_training else {}),
        "all_negative_accuracy_floor": float(1 - y[to].mean()),  # realised: cut ratios leave it below ratio/(ratio+1)
        "test_prevalence": float(y[to].mean()), "val_prevalence": float(y[vo].mean()),
        "counts": split_counts(dataset, len(positives)),
        "negative_pool": sampling.negative_pool_use(dataset, set(positives["pair_key"])).to_dict("records"),
        "both_seen_test": both_seen_scores(dataset, scores),
        "structure": sampling.structure(dataset).reset_index().to_dict("records"),
        "families": int(fams.nunique()),
        "residual_similarity": families.summarize_residual(residual) if len(residual) else {},
        "models": results_by_model,
    }
    shown = dataset[val | test]
    predictions = pd.DataFrame({
        "rna_x_id": shown["id_x"].to_numpy(), "rna_y_id": shown["id_y"].to_numpy(),
        "src_x_id": shown["src_x"].to_numpy(), "src_y_id": shown["src_y"].to_numpy(),
        "label": shown["label"].to_numpy(), "role": shown["role"].to_numpy(),
        "augmentation": shown["augmentation"].to_numpy(),
        **{("prob" if m == "model" else f"prob_{m}"): p[val | test] for m, p in scores.items()},
    })
    if pf is not None:
        shown_pf = pf[val | test]
        predictions["best_site_rank"] = shown_pf["best_site_rank"].to_numpy()
        predictions["sites"] = pairing.site_counts(shown_pf).to_numpy()
        predictions["duplex_mfe"] = shown_pf["duplex_mfe"].to_numpy()
    return InteractionRun(params, dataset, features, scaler, model, history, summary, predictions, started, fams,
                          pf, pair_model, pair_scaler, {k: round(v, 2) for k, v in seconds.items()})


def variant_name(config_name: str, protocol: str, split_seed: int, weighting: str = "uniform",
                 reverse: bool = True, tag: str = "") -> str:
    """The results folder of one run: ``<config>__<protocol>__s<seed>[__degneg][__norev][__<tag>]``."""
    return "__".join([config_name, protocol, f"s{split_seed}"] + (["degneg"] if weighting == "degree" else [])
                     + ([] if reverse else ["norev"]) + ([tag] if tag else []))


def save_run(run: InteractionRun, root: str | Path | None, variant: str, config_name: str, tag: str = "") -> Path:
    """Write the results contract (plus split, history, the run's RNAs with their families, and the model with
    its validation calibrator, ``trust``) to ``<root>/results/interactions/<variant>``."""
    run.metrics["variant"], run.metrics["config"], run.metrics["tag"] = variant, config_name, tag
    split = run.dataset.rename(columns={"id_x": "rna_x_id", "id_y": "rna_y_id"})[
        ["rna_x_id", "rna_y_id", "label", "role", "augmentation", "is_negative", "stratum", "pair_key"]]
    manifest = results.manifest({**run.params, "config_name": config_name, "variant": variant}, run.started,
                                seed=run.params["config"]["seed"], embedder=run.params["embedder"],
                                extra={"fit_seconds": run.fit_seconds} if run.fit_seconds else None)
    extra_files = {}
    if run.model is not None:
        state = {"state_dict": run.model.state_dict(), **models.scaler_state(run.scaler), "in_dim": run.features.width,
                 "config": run.params["config"]}
        extra_files["model.pt"] = lambda path: torch.save(state, path)
        calibrator = trust.validation_calibrator(run.predictions)
        extra_files[trust.CALIBRATION_FILE] = lambda path: trust.save_calibrator(calibrator, path)
    if run.pair_model is not None:
        pair_state = {"state_dict": run.pair_model.state_dict(), **models.scaler_state(run.pair_scaler),
                      "in_dim": int(run.pair_scaler.n_features_in_), "config": run.params["config"],
                      "pairing_features": pairing.FEATURE_VERSION}
        extra_files[PAIR_MODEL_FILE] = lambda path: torch.save(pair_state, path)
        pair_calibrator = trust.validation_calibrator(run.predictions, "prob_network_pair")
        extra_files[trust.PAIR_CALIBRATION_FILE] = lambda path: trust.save_calibrator(pair_calibrator, path)
    tables = {"split": split, "history": run.history}
    if run.families is not None:
        tables["rnas"] = trust.run_rnas(run.dataset, run.families)
    return results.write_results(root, "interactions", variant, run.metrics, run.predictions, manifest,
                                 extra_tables=tables, extra_files=extra_files)


PAIR_MODEL_FILE = "model_pair.pt"


def load_model(folder: str | Path, pair: bool = False) -> tuple[torch.nn.Module, StandardScaler]:
    """The saved network (best weights) and its scaler, loaded with ``weights_only=True``; ``pair``: the network
    on [emb(x); emb(y); ``pairing.model_matrix``] (``PAIR_MODEL_FILE``, saved by runs with ``pair_network``)."""
    state = torch.load(Path(folder) / (PAIR_MODEL_FILE if pair else "model.pt"), weights_only=True)
    cfg = state["config"]
    model = models.PairMLP(state["in_dim"], cfg["layers"], cfg["width"], cfg["dropout"])
    model.load_state_dict(state["state_dict"])
    scaler = models.scaler_from_state(state)
    return model.eval(), scaler


def latent(model: torch.nn.Module, scaler: StandardScaler, features: np.ndarray) -> np.ndarray:
    """Penultimate-layer activations for raw pair features."""
    return penultimate(model, scaler.transform(features).astype(np.float32))


def metrics_frame(summary: dict) -> pd.DataFrame:
    """Long table of one run's test metrics: model, metric, value, ci_low, ci_high (+ variant/config/protocol)."""
    rows = [{"model": model, "metric": metric, **stats}
            for model, block in summary["models"].items() for metric, stats in block["test"].items()]
    for model, block in summary["models"].items():  # AUPRC over prevalence: comparable across prevalences
        prevalence = block["test"]["prevalence"]["value"]
        rows.append({"model": model, "metric": "auprc_lift",
                     **{k: v / prevalence for k, v in block["test"]["auprc"].items()}})
    frame = pd.DataFrame(rows)
    for key in ("variant", "config", "tag", "protocol", "weighting", "split_seed", "test_prevalence"):
        frame.insert(0, key, summary.get(key))
    return frame


def load_results(root: str | Path | None = None, runs: list[str] | None = None
                 ) -> tuple[list[dict], pd.DataFrame, pd.DataFrame]:
    """Saved study-A runs under ``<root>/results/interactions`` (the ``runs`` named, or all): summaries, long
    metrics, histories."""
    summaries, frames, histories = [], [], []
    for folder in results.run_folders(root, "interactions", runs):
        summary = json.loads((folder / "metrics.json").read_text())
        summary["manifest"] = json.loads((folder / "manifest.json").read_text())
        summary["folder"] = str(folder)
        summaries.append(summary)
        frames.append(metrics_frame(summary))
        history = pd.read_csv(folder / "history.csv.gz")
        for key in ("variant", "config", "tag", "protocol", "split_seed"):
            history[key] = summary.get(key)
        histories.append(history)
    if not summaries:
        return [], pd.DataFrame(), pd.DataFrame()
    return summaries, pd.concat(frames, ignore_index=True), pd.concat(histories, ignore_index=True)


def _named(long: pd.DataFrame, matched: bool) -> pd.DataFrame:
    """Networks named by configuration; each baseline once per split; with ``matched``, only the splits on
    which a network was trained."""
    nets = long[long["model"] == "model"].assign(model=lambda t: t["config"])
    base = long[long["model"] != "model"].drop_duplicates(_SPLIT + ["model", "metric"])
    if matched:
        base = base.merge(nets[_SPLIT].drop_duplicates(), on=_SPLIT)
    return pd.concat([nets, base], ignore_index=True)


def over_splits(long: pd.DataFrame, matched: bool = False) -> pd.DataFrame:
    """Mean, sd, number of splits and 95% t-interval of the mean of every (tag, protocol, weighting, model, metric)
    (``metrics.summarize_over_splits``); the network is named by
    its configuration, and each baseline counts once per split (every configuration run on a split scores the
    same baselines). ``matched=True`` keeps only the splits on which a network was trained, so networks and
    baselines are averaged over the same splits."""
    keys = ["tag", "protocol", "weighting", "model", "metric"]
    table = metrics.summarize_over_splits(_named(long, matched), keys)
    prevalence = long.groupby(["tag", "protocol", "weighting"])["test_prevalence"].mean().rename("prevalence")
    return table.join(prevalence, on=["tag", "protocol", "weighting"])


MODEL_LABELS = {"logistic_regression": "logistic regression", "degree_only": "degree-only",
                "family_degree": "family-degree", "all_negative": "all-negative", "seed_match": "seed-match",
                "length_only": "length-only", "network_pair": "network on [emb; pair features]",
                "logistic_pair": "logistic regression on [emb; pair features]",
                "hgb_pair": "gradient boosting on pair features"}


def model_label(name: str) -> str:
    """A model's name on the pages: baselines and models with pair features in words, the paper's network by its
    configuration."""
    return MODEL_LABELS.get(name, f"network {name}")


def _paired(left: pd.DataFrame, right: pd.DataFrame, on: list[str], suffix: str = "_other") -> pd.DataFrame:
    """``left`` and ``right`` values on rows matched by ``on`` (one split each): their ``difference`` and whether
    ``left`` is ``ahead``."""
    both = left.merge(right, on=on, suffixes=("", suffix)).dropna(subset=["value", f"value{suffix}"])
    both = both.assign(difference=both["value"] - both[f"value{suffix}"],
                       ahead=(both["value"] > both[f"value{suffix}"]).astype(int))
    return both


def _summarise_paired(both: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per ``by``: mean, sd, n and 95% t-interval of the paired ``difference``, and ``n_ahead``."""
    table = metrics.summarize_over_splits(both, by, value="difference")
    ahead = both.groupby(by, dropna=False)["ahead"].sum().rename("n_ahead").reset_index()
    return table.merge(ahead, on=by, how="left")


def _ranked(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rows of ``metric`` for every model that ranks pairs (the all-negative predictor left out)."""
    return table[(table["metric"] == metric) & (table["model"] != "all_negative")]


def model_differences(long: pd.DataFrame, metric: str = "auroc") -> pd.DataFrame:
    """Every model minus every other on the same split (networks named by configuration, each baseline once per
    split, the all-negative predictor left out), summarised over the splits both ran on: ``mean``, ``sd``, ``n``,
    the 95% Student-t interval of the mean difference (``ci_low``, ``ci_high``) and ``n_ahead``, the splits on
    which ``model`` scored higher than ``other``. One row per (tag, protocol, weighting, model, other)."""
    part = _ranked(_named(long, matched=False), metric)[_SPLIT + ["model", "value"]]
    both = _paired(part, part, _SPLIT).rename(columns={"model_other": "other"})
    return _summarise_paired(both[both["model"] != both["other"]], ["tag", "protocol", "weighting", "model", "other"])


def paired_differences(long: pd.DataFrame, metric: str = "auroc") -> pd.DataFrame:
    """Network minus each baseline on the same split, then mean, sd, n, 95% t-interval and ``n_ahead`` over
    splits, per (tag, protocol, weighting, configuration, baseline): a paired comparison, free of split-to-split
    difficulty (``model_differences`` restricted to networks against baselines)."""
    nets = set(long.loc[long["model"] == "model", "config"])
    table = model_differences(long, metric)
    table = table[table["model"].isin(nets) & table["other"].isin(BASELINES)]
    return table.rename(columns={"model": "config", "other": "baseline"}).reset_index(drop=True)


def weighting_differences(long: pd.DataFrame, metric: str = "auroc",
                          skip: frozenset[tuple[str, int, str]] = frozenset()) -> pd.DataFrame:
    """Degree-weighted minus uniform negatives for every model on the same split (same protocol and split seed),
    summarised over splits: mean, sd, n, 95% t-interval, ``n_ahead`` (splits where degree-weighted scored higher).
    One row per (tag, protocol, model); networks named by configuration. ``skip``: (protocol, split seed, model as
    in ``metrics.json``) left out on both sides, e.g. networks that kept weights from inside their warmup."""
    if skip:
        keys = zip(long["protocol"], long["split_seed"], long["model"])
        long = long[[k not in skip for k in keys]]
    part = _ranked(_named(long, matched=False), metric)
    on = ["tag", "protocol", "split_seed", "model"]
    both = _paired(part[part["weighting"] == "degree"][on + ["value"]],
                   part[part["weighting"] == "uniform"][on + ["value"]], on)
    return _summarise_paired(both, ["tag", "protocol", "model"])


def augmentation_differences(long: pd.DataFrame, metric: str = "auroc", headline_tag: str = "",
                             ablation_tag: str = "ablation") -> pd.DataFrame:
    """The paper's x4 augmentation (original, swapped, reversed, swapped-reversed) minus the same run without the
    reversed copies (variants ``__norev`` tagged ``ablation_tag``: original and swapped only) for every model on
    the same split (same protocol, weighting and split seed; the x4 runs are those tagged ``headline_tag``),
    summarised over splits: mean, sd, n, 95% t-interval, ``n_ahead`` (splits where x4 scored higher), and each
    side's mean (``with_reversed``, ``without_reversed``). Splits and negatives are the same on both sides, so a
    model that does not train on the augmented rows differs by exactly 0; such models are left out. Reversed
    copies keep their original's pair features, so a difference is what the reversed copies, with that choice of
    their features, add. One row per (protocol, weighting, model)."""
    part = _ranked(_named(long, matched=False), metric)
    norev = part["variant"].str.contains("__norev", na=False)
    tag = part["tag"].fillna("")
    on = ["protocol", "weighting", "split_seed", "model"]
    both = _paired(part[~norev & (tag == headline_tag)][on + ["value"]],
                   part[norev & (tag == ablation_tag)][on + ["value"]], on)
    by = ["protocol", "weighting", "model"]
    moved = both.groupby(by)["difference"].transform(lambda d: (d != 0).any())
    both = both[moved.astype(bool)]
    table = _summarise_paired(both, by)
    sides = both.groupby(by)[["value", "value_other"]].mean().rename(
        columns={"value": "with_reversed", "value_other": "without_reversed"}).reset_index()
    return table.merge(sides, on=by, how="left")


PAIR_FEATURE_STEPS = (("network_pair", "network", "the network, given the pair features"),
                      ("logistic_pair", "logistic_regression", "logistic regression, given the pair features"),
                      ("hgb_pair", "seed_match", "gradient boosting on all pair features, against the seed-match "
                                                 "rule (sites only, no training)"))
"""What each pair-feature model adds to its counterpart: (model, counterpart, words). The first two add the pair
features to the embeddings; the third learns from every pair feature (sites, duplex energies) where the
seed-match rule ranks by site type and count alone. ``network`` stands for the paper's network of the same
configuration."""


def pair_feature_effects(long: pd.DataFrame, metric: str = "auroc") -> pd.DataFrame:
    """By how much the pair features (``pairing``) moved each model, on the same splits: every step of
    ``PAIR_FEATURE_STEPS`` per protocol and network configuration (each configuration's runs alone, so its
    ``network_pair`` meets its own network; baselines are the same in every run of a split), from
    ``model_differences``: mean, sd, n, 95% t-interval, ``n_ahead``, and the ``step`` in words. ``long``: the runs
    of one study (uniform, untagged). Protocols without a model that sees the pair are absent."""
    rows = []
    for config in sorted(set(long["config"].dropna())):  # network_pair belongs to its run's configuration
        diffs = model_differences(long[long["config"] == config], metric)
        for model, other, words in PAIR_FEATURE_STEPS:
            part = diffs[(diffs["model"] == model) & (diffs["other"] == (config if other == "network" else other))]
            rows.append(part.assign(step=words))
    if not rows:
        return pd.DataFrame()
    order = {p: i for i, p in enumerate(sampling.PROTOCOLS)}
    return pd.concat(rows, ignore_index=True).sort_values(
        ["protocol", "step"], key=lambda c: c.map(order) if c.name == "protocol" else c).reset_index(drop=True)


def aim_sentences(long: pd.DataFrame, aim: float, protocols: tuple[str, ...] = ("C3", "C4"),
                  metric: str = "auroc") -> list[str]:
    """One line per protocol: the model with the highest mean ``metric`` over at least two of the splits the
    network trained on, its 95% t-interval, and a verdict on ``aim`` (a goal set by this project, not a published
    figure) from the interval alone: *reached* when the interval clears it, *missed* when the interval lies below
    it, otherwise *not settled*. The top of several models' means is favoured by the choice itself, so a mean just
    above the aim is no evidence. ``long``: the runs of one study (uniform, untagged)."""
    part = _ranked(over_splits(long, matched=True), metric)
    lines = []
    for protocol in [p for p in protocols if p in set(part["protocol"])]:
        label = sampling.PROTOCOL_LABELS[protocol]
        rows = part[(part["protocol"] == protocol) & (part["n"] >= 2)].set_index("model")
        if rows.empty:
            lines.append(f"**{label}**: no model has two splits, so no interval: the aim of {aim:.2f} is not judged")
            continue
        top = rows["mean"].idxmax()
        mean, low, high = rows.loc[top, ["mean", "ci_low", "ci_high"]]
        if low >= aim:
            verdict = "reached: the interval clears it"
        elif high < aim:
            verdict = f"missed: the interval lies below it (the mean by {aim - mean:.3f})"
        else:
            verdict = f"not settled: the interval covers it (the mean {'above' if mean >= aim else 'below'} it by " \
                      f"{abs(mean - aim):.3f})"
        lines.append(f"**{label}**: highest mean of {len(rows)} models {model_label(top)} "
                     f"{_interval(mean, low, high)} ({int(rows.loc[top, 'n'])} splits); the aim of {aim:.2f} is "
                     f"{verdict}")
    return lines


def _interval(mean: float, low: float, high: float, signed: bool = False) -> str:
    fmt = "{:+.3f}" if signed else "{:.3f}"
    inner = f" [{fmt.format(low)}, {fmt.format(high)}]" if np.isfinite(low) else " (one split: no interval)"
    return fmt.format(mean) + inner


def protocol_sentences(long: pd.DataFrame, metric: str = "auroc", link=None, chance: float | None = 0.5
                       ) -> list[str]:
    """One line per protocol on which a network trained, from intervals, never from point estimates. On the splits
    the network trained on: the model with the highest mean over at least two splits, with its 95% t-interval; it
    is called *best* only when its paired difference to every other model has an interval above 0, otherwise the
    line names the models it cannot be told apart from (an interval covering 0, or fewer than two common splits);
    each network's mean, whether its interval covers ``chance`` (AUROC: 0.5; None to skip), and its paired
    difference to the strongest baseline with the number of splits it was ahead on. ``long``: the runs of one
    study (uniform, untagged). ``link(protocol)``, when given, is appended to the protocol's line."""
    part = _ranked(over_splits(long, matched=True), metric)
    diffs = model_differences(long, metric)
    lines = []
    for protocol in [p for p in sampling.PROTOCOLS if p in set(part["protocol"])]:
        rows = part[part["protocol"] == protocol].set_index("model")
        nets = [m for m in rows.index if m not in BASELINES + PAIR_MODELS]
        if not nets:
            continue
        d = diffs[diffs["protocol"] == protocol].set_index(["model", "other"])
        label, tail = sampling.PROTOCOL_LABELS[protocol], f" ({link(protocol)})" if link else ""

        def covers_chance(m: str) -> str:
            low, high = rows.at[m, "ci_low"], rows.at[m, "ci_high"]
            return (", not distinguishable from chance" if chance is not None and np.isfinite(low)
                    and low <= chance <= high else "")

        def cell(m: str) -> str:
            return _interval(rows.at[m, "mean"], rows.at[m, "ci_low"], rows.at[m, "ci_high"])

        def ahead(a: str, b: str) -> bool:  # a's paired interval over b lies above 0
            return (a, b) in d.index and np.isfinite(d.at[(a, b), "ci_low"]) and d.at[(a, b), "ci_low"] > 0

        repeated = rows[rows["n"] >= 2]
        if repeated.empty:
            best = rows["mean"].idxmax()
            lines.append(f"**{label}** (one split): highest {model_label(best)} {rows.at[best, 'mean']:.3f}; one "
                         "split gives no interval, so no model is named best" + tail)
            continue
        top = repeated["mean"].idxmax()
        tied = [m for m in rows.index if m != top and not ahead(top, m)]
        head = f"**{label}** ({int(rows.at[top, 'n'])} splits): "
        if not tied:
            text = [head + f"best {model_label(top)} {cell(top)}{covers_chance(top)}, ahead of every other model "
                           "on paired differences"]
        else:
            def versus(m: str) -> str:
                if (m, top) not in d.index or not np.isfinite(d.at[(m, top), "ci_low"]):
                    return f"{model_label(m)} (no paired interval)"
                return f"{model_label(m)} {_interval(*d.loc[(m, top), ['mean', 'ci_low', 'ci_high']], signed=True)}"

            text = [head + f"highest mean {model_label(top)} {cell(top)}{covers_chance(top)}, not told apart from "
                           + ", ".join(versus(m) for m in tied) + " (paired differences to it), so no model is "
                           "named best"]
        base = [m for m in rows.index if m in BASELINES]
        strongest = max(base, key=lambda m: rows.at[m, "mean"]) if base else None
        for net in [n for n in nets if n != top]:
            line = f"{model_label(net)} {cell(net)}{covers_chance(net)}"
            if strongest is not None and (net, strongest) in d.index:
                r = d.loc[(net, strongest)]
                line += (f"; minus {model_label(strongest)} on the same splits "
                         f"{_interval(r['mean'], r['ci_low'], r['ci_high'], signed=True)}, ahead on "
                         f"{int(r['n_ahead'])} of {int(r['n'])}")
            text.append(line)
        lines.append("; ".join(text) + tail)
    return lines


def training_status(summaries: list[dict]) -> pd.DataFrame:
    """Where each trained network stopped: one row per network of a run (``network``: "embeddings", the paper's
    input, or "embeddings + pair features", ``network_pair``) with the run's variant, protocol, weighting, split
    seed and configuration, its best epoch, epochs run, epoch budget, the epoch at which its cosine reaches its
    floor (``cosine_epochs``; None: at the budget), learning rate, warmup epochs, early-stopping patience, and three
    flags —
    ``best_is_last`` (the best validation epoch is the last one run: training had not converged, the budget cut
    it), ``used_budget`` (every epoch of the budget ran: early stopping never fired, so the schedule, not the
    validation loss, ended the run, even when its best epoch came a little earlier) and ``inside_warmup`` (the
    kept weights come from the warmup, before the full learning rate). Epochs count from 0. ``recent_gain`` says
    how much a run that used its whole budget was still improving when the budget ended: ``recent_gain(history)``
    of the network on embeddings (from the run folder's ``history.csv.gz``). NaN for a run early stopping ended
    (its best epoch lies inside its last epochs by construction), for the pair network (its losses are not kept)
    and without a folder or history.
    ``recorded`` is False for a pair network of a run saved before its epochs were (scores, no epochs: NaN and no
    flag)."""
    rows = []
    for s in summaries:
        config = s["manifest"]["parameters"]["config"] if "manifest" in s else {}
        history = Path(s["folder"]) / "history.csv.gz" if "folder" in s else None
        budget = config.get("max_epochs")
        for network, fit in (("embeddings", s), ("embeddings + pair features", s.get("network_pair_training", {}))):
            row = {"network": network, "variant": s.get("variant"), "protocol": s["protocol"],
                   "weighting": s["weighting"], "split_seed": s["split_seed"], "config": s.get("config"),
                   "max_epochs": budget, "cosine_epochs": config.get("cosine_epochs"), "lr": config.get("lr"),
                   "warmup_epochs": s.get("warmup_epochs", config.get("warmup_epochs")),
                   "patience": config.get("patience")}
            if fit.get("best_epoch", -1) < 0:
                if network != "embeddings" and "network_pair" in s.get("models", {}):
                    rows.append({**row, "best_is_last": False, "used_budget": False, "inside_warmup": False,
                                 "recorded": False})
                continue
            used = budget is not None and fit["epochs_run"] >= budget
            read = used and network == "embeddings" and history is not None and history.exists()
            rows.append({**row, "best_epoch": fit["best_epoch"], "epochs_run": fit["epochs_run"],
                         "best_is_last": fit["best_epoch"] == fit["epochs_run"] - 1, "used_budget": used,
                         "inside_warmup": fit["best_epoch"] < (row["warmup_epochs"] or 0),
                         "recent_gain": recent_gain(pd.read_csv(history)) if read else np.nan, "recorded": True})
    return pd.DataFrame(rows, columns=["network", "variant", "protocol", "weighting", "split_seed", "config",
                                       "best_epoch", "epochs_run", "max_epochs", "cosine_epochs", "lr",
                                       "warmup_epochs", "patience", "best_is_last", "used_budget", "inside_warmup",
                                       "recent_gain", "recorded"])


RECENT_EPOCHS = 5  # the epochs over which recent_gain measures a budget-ended run's last progress


def recent_gain(history: pd.DataFrame, epochs: int = RECENT_EPOCHS) -> float:
    """How much a run was still improving when it ended: the relative fall of its best validation loss over its
    last ``epochs`` epochs, ``1 - min(all val_loss) / min(val_loss before those epochs)`` (0.004: the best loss
    ended 0.4% lower than it stood ``epochs`` epochs before the end; 0 when those epochs brought nothing). NaN for
    a run of ``epochs`` epochs or fewer. ``history``: a run's ``history.csv.gz`` (column ``val_loss``, one row
    per epoch; NaN losses are skipped)."""
    val = history["val_loss"].to_numpy(dtype=float)
    if len(val) <= epochs or np.isnan(val[:-epochs]).all():
        return np.nan
    return float(1 - np.nanmin(val) / np.nanmin(val[:-epochs]))


def training_caveats(status: pd.DataFrame) -> list[str]:
    """What limits the networks' figures, one sentence per (protocol, weighting, network) of ``training_status``
    with a flagged run: weights kept from inside the warmup ("C3 (uniform negatives): the network on embeddings kept
    weights from inside its warmup (best epoch 0, 0) on 2 of 3 splits": a barely trained network); the whole
    epoch budget used ("... used its whole budget (20 epochs) on 5 of 5 splits, early stopping never firing; its
    best epoch was the last on 2: still improving when the budget ended; best validation loss over the last 5
    epochs: 0.5% lower on split 1, 0.9% lower on split 2", from ``recent_gain`` where the histories were read);
    epochs not recorded (runs saved before they were). Empty when nothing is flagged."""
    lines = []
    if not len(status):
        return lines
    for (protocol, weighting, network), part in status.groupby(["protocol", "weighting", "network"], sort=False):
        head = f"{protocol} ({weighting} negatives): the network on {network}"
        unknown = part[~part.recorded.astype(bool)]
        part = part[part.recorded.astype(bool)]
        if len(unknown):
            lines.append(f"{head}: its epochs were not recorded by these runs ({len(unknown)} splits; saved before "
                         "they were), so whether it left its warmup is not shown")
        warm = part[part.inside_warmup]
        used = part[part.used_budget & ~part.inside_warmup]
        if len(warm):
            lines.append(f"{head} kept weights from inside its warmup (best epoch "
                         f"{', '.join(str(int(e)) for e in warm.best_epoch)}) on {len(warm)} of {len(part)} splits")
        if len(used):
            budgets = ", ".join(f"{int(b)}" for b in sorted(set(used.epochs_run)))
            last = used[used.best_is_last]
            read = last[last.recent_gain.notna()]
            gained = (f"; best validation loss over the last {RECENT_EPOCHS} epochs: " + ", ".join(
                f"{g:.1%} lower on split {seed}" for seed, g in zip(read.split_seed, read.recent_gain))
                + (f" ({len(last) - len(read)} not read)" if len(read) < len(last) else "")) if len(read) else ""
            lines.append(f"{head} used its whole budget ({budgets} epochs) on {len(used)} of {len(part)} splits, "
                         "early stopping never firing" + (f"; its best epoch was the last on {len(last)}: still "
                                                          f"improving when the budget ended{gained}"
                                                          if len(last) else ""))
    return lines


def run_intervals(summaries: list[dict], metric: str = "auroc", baselines: tuple[str, ...] = ("degree_only",)
                  ) -> pd.DataFrame:
    """Each run's network and the named baselines on its test pairs: value and 95% cluster-bootstrap interval
    (``metrics.evaluate_binary``), one row per (configuration, model) and split (protocol, split_seed); a baseline
    once per split; ``network`` marks the configurations' own rows. When the runs span several splits, each name
    says its split ("Baseline (C1 split 1)")."""
    several = len({(s["protocol"], s["split_seed"]) for s in summaries}) > 1
    rows, done = [], set()
    for s in summaries:
        for model, block in s["models"].items():
            key = (s["protocol"], s["split_seed"], model)
            if model == "model" or (model in baselines and key not in done):
                if model != "model":
                    done.add(key)
                stats = block["test"][metric]
                name = s.get("config") if model == "model" else model_label(model)
                rows.append({"model": name + (f" ({s['protocol']} split {s['split_seed']})" if several else ""),
                             "network": model == "model", "protocol": s["protocol"], "split_seed": s["split_seed"],
                             "value": stats["value"], "ci_low": stats.get("ci_low"), "ci_high": stats.get("ci_high")})
    return pd.DataFrame(rows, columns=["model", "network", "protocol", "split_seed", "value", "ci_low", "ci_high"])


_TEST_SPLIT = ["protocol", "split_seed"]  # the columns of ``run_intervals`` that name the test pairs a row is scored on


def _same_split(a: pd.Series, b: pd.Series) -> bool:
    """Two ``run_intervals`` rows scored on the same test pairs (rows without split columns: assumed so)."""
    return all(a[c] == b[c] for c in _TEST_SPLIT if c in a.index and c in b.index)


def interval_overlaps(table: pd.DataFrame) -> pd.DataFrame:
    """Every pair of rows of ``run_intervals`` on the same split: the length of their intervals' overlap (0 when
    disjoint) and that length as a share of the narrower interval (1: one interval lies inside the other; a
    zero-width interval counts 1 when it lies inside the other, else 0), smallest share first. Empty with fewer
    than two rows."""
    out = []
    for (_, a), (_, b) in itertools.combinations(table.iterrows(), 2):
        if not _same_split(a, b):
            continue
        low, high = max(a.ci_low, b.ci_low), min(a.ci_high, b.ci_high)
        narrower = min(a.ci_high - a.ci_low, b.ci_high - b.ci_low)
        share = (max(0.0, high - low) / narrower) if narrower > 0 else float(low <= high)
        out.append({"a": a.model, "b": b.model, "overlap": max(0.0, high - low), "share_of_narrower": share})
    return pd.DataFrame(out, columns=["a", "b", "overlap", "share_of_narrower"]).sort_values(
        "share_of_narrower", kind="stable").reset_index(drop=True)


def separable_pairs(table: pd.DataFrame) -> list[tuple[str, str]]:
    """Pairs of rows of ``run_intervals`` on the same split whose intervals do not overlap (the only orderings the
    intervals support), each as (higher, lower) by value; empty when every interval overlaps every other. Rows of
    different splits are never compared (their test pairs differ); a row without both bounds separates nothing."""
    out = []
    for (_, a), (_, b) in itertools.combinations(table.iterrows(), 2):
        if _same_split(a, b) and (a.ci_low > b.ci_high or b.ci_low > a.ci_high):
            out.append((a.model, b.model) if a.value > b.value else (b.model, a.model))
    return out


def table2_intervals(summaries: list[dict]) -> pd.DataFrame:
    """``run_intervals`` of the Table-2 runs that trained a network: the configurations and degree-only on those
    splits only (a split beyond the profile's network seeds scores baselines alone and is left out)."""
    return run_intervals([s for s in summaries if "model" in s["models"]])


def table2_stopping(summaries: list[dict]) -> pd.DataFrame:
    """Where each Table-2 network stopped: one row per run that trained one, index (configuration, split), columns
    best epoch, epochs run and whether the best epoch lies inside the warmup (weights of a barely trained network).
    Empty (same columns) when no run trained a network."""
    rows = [{"configuration": s["config"], "split": s["split_seed"], "best epoch": s["best_epoch"],
             "epochs run": s["epochs_run"], "best epoch inside warmup": s["best_epoch"] < s["warmup_epochs"]}
            for s in summaries if "model" in s["models"]]
    return pd.DataFrame(rows, columns=["configuration", "split", "best epoch", "epochs run",
                                       "best epoch inside warmup"]).set_index(["configuration", "split"])


def _range(values: pd.Series, digits: int) -> str:
    low, high = f"{values.min():.{digits}f}", f"{values.max():.{digits}f}"
    return low if low == high else f"{low}–{high}"


def table2_sentences(summaries: list[dict]) -> list[str]:
    """What the Table-2 runs' test AUROC intervals (``run_intervals``, degree-only from the same splits) support,
    on the splits where a configuration trained: the configurations' range and degree-only's; the two intervals on
    one split that overlap least; the orderings non-overlapping intervals on the same split support (higher first)
    or that there are none; how many runs kept weights from inside their warmup. Overlap of two marginal intervals
    is a conservative criterion (a paired test on the same pairs can separate more), and the sentences say so."""
    spans = table2_intervals(summaries)
    if spans.empty:
        return ["No Table-2 run trained a network (the profile's network seeds miss its split seeds): only the "
                "baselines were scored."]
    nets, base = spans[spans.network], spans[~spans.network]
    n_splits = len(spans[_TEST_SPLIT].drop_duplicates())
    where = "on this split" if n_splits == 1 else f"on any of the {n_splits} splits where they trained"
    text = (f"Test AUROC of the configurations: {_range(nets.value, 3)} (their 95% intervals run from "
            f"{nets.ci_low.min():.2f} to {nets.ci_high.max():.2f})"
            + (f"; degree-only on the same {'split' if n_splits == 1 else 'splits'}: {_range(base.value, 3)}. "
               if len(base) else ". "))
    overlaps = interval_overlaps(spans.dropna(subset=["ci_low", "ci_high"]))
    if len(overlaps):
        text += (f"The two on one split that overlap least, {overlaps.a[0]} and {overlaps.b[0]}, share "
                 f"{overlaps.overlap[0]:.2f} of AUROC, {overlaps.share_of_narrower[0]:.0%} of the narrower interval. ")
    apart = separable_pairs(spans)
    if not apart:
        text += ("**No two intervals on the same split are disjoint: they order no configuration against another "
                 f"or against degree-only {where}** (overlapping intervals do not show the configurations are equal "
                 "either, and a paired test on the same pairs was not run); no row of the paper's Table 2 is "
                 "reproduced or refuted here.")
    else:
        text += ("Non-overlapping intervals on the same split support only: "
                 + ", ".join(f"{a} above {b}" for a, b in apart) + " (a paired test on the same pairs was not run).")
    out = [text]
    inside = int(table2_stopping(summaries)["best epoch inside warmup"].sum())
    if inside:
        runs = "configurations" if n_splits == 1 else "runs (configuration and split)"
        out.append(f"**{inside} of {len(nets)} {runs} kept weights from inside their warmup**: "
                   + ("these figures say nothing about the configurations." if inside == len(nets) else
                      "their figures say nothing about their configurations."))
    return out


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
    dataset = make_dataset(pairs, params)[2]
    saved = pd.read_csv(Path(folder) / "split.csv.gz")
    if not (saved["rna_x_id"].equals(dataset["id_x"]) and saved["rna_y_id"].equals(dataset["id_y"])):
        raise ValueError(f"{folder}: the rebuilt split differs from split.csv.gz (other data or code version)")
    return dataset


def probabilities(model: torch.nn.Module, scaler: StandardScaler, features: np.ndarray) -> np.ndarray:
    """Predicted interaction probabilities for raw pair features."""
    return predict_proba(model, scaler.transform(features).astype(np.float32))


def pairing_table(summaries: list[dict], role: str = "test") -> pd.DataFrame:
    """The pair features of each saved run's ``role`` pairs in their original orientation (``predictions.csv.gz``
    columns ``best_site_rank``, ``sites``, ``duplex_mfe``), one block per split (runs of several configurations on
    one split counted once): tag, protocol, weighting, split_seed, label and the features. Empty when no run
    saved pair features."""
    frames, done = [], set()
    for s in summaries:
        key = (s.get("tag") or "", s["protocol"], s["weighting"], s["split_seed"])
        if key in done:
            continue
        preds = pd.read_csv(Path(s["folder"]) / "predictions.csv.gz")
        if "best_site_rank" not in preds:
            continue
        done.add(key)
        part = preds[(preds["role"] == role) & (preds["augmentation"] == "original")]
        frames.append(part[["label", "best_site_rank", "sites", "duplex_mfe"]].assign(
            tag=key[0], protocol=key[1], weighting=key[2], split_seed=key[3]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def site_enrichment(table: pd.DataFrame) -> pd.DataFrame:
    """Per split (tag, protocol, weighting, split seed) and best site type (``pairing.SITE_TYPES`` and "none"):
    the share of positive and of negative pairs whose best site is of that type and their ratio (enrichment;
    > 1: more frequent among interacting pairs). ``table``: ``pairing_table``."""
    frame = table.dropna(subset=["best_site_rank"]).assign(
        site=lambda t: t["best_site_rank"].astype(int).map(pairing.SITE_NAMES),
        cls=lambda t: np.where(t["label"] == 1, "positives", "negatives"))
    keys = ["tag", "protocol", "weighting", "split_seed"]
    shares = (frame.groupby(keys + ["cls"])["site"].value_counts(normalize=True).rename("share").reset_index()
              .pivot_table(index=keys + ["site"], columns="cls", values="share", fill_value=0.0).reset_index())
    shares["enrichment"] = shares["positives"] / shares["negatives"].replace(0.0, np.nan)
    order = {t: i for i, t in enumerate(pairing.SITE_TYPES + ("none",))}
    return shares.sort_values(keys + ["site"], key=lambda c: c.map(order) if c.name == "site" else c,
                              ignore_index=True)


def fit_seconds_table(summaries: list[dict]) -> pd.DataFrame:
    """Mean wall seconds per protocol (rows) of each trained model and of the pair features (columns), over the
    runs whose manifest records them (``fit_seconds``); empty when none does."""
    rows = [{"protocol": s["protocol"], "model": m, "seconds": v}
            for s in summaries for m, v in (s.get("manifest", {}).get("fit_seconds") or {}).items()]
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).pivot_table(index="protocol", columns="model", values="seconds", aggfunc="mean")
