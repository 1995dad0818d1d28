"""Schedule trials of the report's network under the cold protocols (C3, C4): for each learning rate / warmup,
the epoch early stopping (patience 4, as on the pages) keeps, its test AUROC, and a diagnostic only a trial may
use: the test AUROC after every epoch (``train_classifier``'s ``on_epoch``), whose maximum says how far any
stopping rule could have got. The trials behind ``params/interactions/cold_schedule.yaml``.

    RNALIB_DATA_DIR=../shared/data .venv/bin/python benchmarks/cold_schedule.py --protocols C3 C4 --splits 0 1 2 3 4
    RNALIB_DATA_DIR=../shared/data .venv/bin/python benchmarks/cold_schedule.py --splits 0 --schedules 3e-5:0

k-mer features (the report's embedder without weights), the Compact network (2 x 128, batch 1,024, dropout 0.15),
uniform negatives, x4 augmentation; about 30-60 s per (protocol, split, schedule) on one core.
"""
from __future__ import annotations

import argparse
import warnings

import pandas as pd
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from rnalib import data
from rnalib.embedding import embed
from rnalib.interactions import sampling, study
from rnalib.learning import TrainConfig, models
from rnalib.learning.train import EarlyStopping, predict_proba, train_classifier

PATIENCE = 4  # the pages' early stopping
PAPER_PATIENCE = 10  # the paper's, replayed beside it when the trial runs that far past its best epoch


def kept_epoch(val_loss: pd.Series, patience: int = PATIENCE) -> int:
    """The epoch the pages' ``EarlyStopping`` with ``patience`` keeps when fed these validation losses in order."""
    stopper, weightless = EarlyStopping(patience), nn.Module()  # only the epochs matter here, not the weights
    for epoch, loss in enumerate(val_loss):
        if stopper.step(epoch, loss, weightless):
            break
    return stopper.best_epoch


def trial(protocol: str, split_seed: int, schedules: list[tuple[float, int]], budget: int = 40,
          horizon: int = 10, weighting: str = "uniform") -> list[dict]:
    """Each schedule trained as on the pages (``budget`` epochs for the cosine) but stopped only after ``horizon``
    epochs without a lower validation loss, so the diagnostic sees past the page's stop; the page's choice
    (``PATIENCE``) and the paper's (``PAPER_PATIENCE``, when ``horizon`` allows) are replayed on the same losses."""
    warnings.simplefilter("ignore")
    params = dict(split_seed=split_seed, max_len=1022, max_pairs=None, min_seq_id=0.8, coverage=0.5,
                  min_kmer_containment=0.3, protocol=protocol, ratio=20, weighting=weighting, reverse=True)
    _, fams, ds = study.make_dataset(data.load_interactions(None), params)
    features = study.PairEmbeddings.of(ds, embed.select_embedder("kmer", None, kmer_k=(1, 4)).embedder,
                                       progress=False)
    role, y = ds["role"].to_numpy(), ds["label"].to_numpy()
    train, val = role == "train", role == "val"
    test = (role == "test") & (ds["augmentation"] == "original").to_numpy()
    x = features.scaled(features.fit_scaler(train))
    baselines = {"family_degree": roc_auc_score(y[test], study.family_degree_scores(ds, fams)[test]),
                 "degree_only": roc_auc_score(y[test], models.degree_scores(sampling.training_degrees(ds),
                                                                            ds["src_x"], ds["src_y"])[test])}
    rows = []
    for lr, warmup in schedules:
        cfg = TrainConfig(layers=2, width=128, dropout=0.15, lr=lr, batch_size=1024, warmup_epochs=warmup,
                          max_epochs=budget, patience=horizon, seed=0)  # the pages' rates: a cosine over the budget
        _, history, _ = train_classifier(
            x[train], y[train], x[val], y[val], cfg, progress=False,
            on_epoch=lambda epoch, m: {"test_auroc": roc_auc_score(y[test], predict_proba(m, x[test]))})
        kept = kept_epoch(history.val_loss)
        paper = {}
        if horizon >= PAPER_PATIENCE:
            kept10 = kept_epoch(history.val_loss, PAPER_PATIENCE)
            paper = {"kept_p10": kept10, "test_auroc_p10": history.test_auroc[kept10]}
        rows.append({"protocol": protocol, "weighting": weighting, "split": split_seed, "lr": lr, "warmup": warmup,
                     "kept_epoch": kept, "val_loss": history.val_loss[kept], "test_auroc": history.test_auroc[kept],
                     **paper,
                     "best_any_epoch": history.test_auroc.max(), "at_epoch": int(history.test_auroc.idxmax()),
                     **baselines})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--protocols", nargs="+", default=["C3", "C4"])
    parser.add_argument("--splits", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--budget", type=int, default=40, help="the pages' epoch budget (sets the cosine)")
    parser.add_argument("--horizon", type=int, default=10,
                        help="a trial stops after this many epochs without a lower validation loss")
    parser.add_argument("--schedules", nargs="+", default=["1e-3:2", "1e-4:0"],
                        help="learning rate:warmup epochs, e.g. 3e-5:0")
    parser.add_argument("--weighting", choices=["uniform", "degree"], default="uniform", help="negatives")
    args = parser.parse_args()
    torch.set_num_threads(1)
    schedules = [(float(lr), int(warmup)) for lr, warmup in (s.split(":") for s in args.schedules)]
    rows = [r for p in args.protocols for s in args.splits for r in trial(p, s, schedules, args.budget, args.horizon,
                                                                      args.weighting)]
    print(pd.DataFrame(rows).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
