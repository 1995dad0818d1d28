"""Study A with pair features under the cold protocols: test AUROC of every model and baseline, and wall times.

The report profile's parameters (params/interactions/report.yaml with config_Compact.yaml: every positive pair,
1:20 negatives, ×4 augmentation, k-mer spectra k ≤ 4, 2 × 128 network, up to 40 epochs), ``run_interactions``
called directly for each protocol and split seed, with the optional network on [emb(x); emb(y); pair features]
(``pair_network``). Writes one CSV row per (protocol, split seed, model) and prints mean ± sd over split seeds.

    RNALIB_DATA_DIR=../shared/data OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/pair_models.py \\
        --protocols C3 C4 --seeds 0 1 2 -o pair_models.csv
"""
from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd

from rnalib import data
from rnalib.embedding import embed
from rnalib.interactions import study
from rnalib.learning import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocols", nargs="+", default=["C3", "C4"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--no-reverse", action="store_true", help="the no-reverse ablation (original + swapped only)")
    parser.add_argument("--no-pair-network", action="store_true")
    parser.add_argument("-o", "--output", default="pair_models.csv")
    args = parser.parse_args()
    config = TrainConfig(layers=2, width=128, dropout=0.15, lr=1e-3, batch_size=1024, warmup_epochs=2, max_epochs=40,
                         patience=4, min_lr=5e-5, seed=0)
    choice = embed.select_embedder("kmer", kmer_k=(1, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = data.load_interactions(None)
    rows = []
    for protocol in args.protocols:
        for seed in args.seeds:
            started = time.time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run = study.run_interactions(pairs, choice, config, protocol, reverse=not args.no_reverse,
                                             max_pairs=None, n_boot=200, progress=False, split_seed=seed,
                                             pair_network=not args.no_pair_network)
            wall = time.time() - started
            for model, block in run.metrics["models"].items():
                rows.append({"protocol": protocol, "split_seed": seed, "model": model,
                             "auroc": block["test"]["auroc"]["value"], "auprc": block["test"]["auprc"]["value"],
                             "prevalence": run.metrics["test_prevalence"],
                             "fit_seconds": run.fit_seconds.get(model), "run_seconds": round(wall, 1)})
            print(f"{protocol} s{seed}: {wall:.0f} s; fit seconds {run.fit_seconds}", flush=True)
            pd.DataFrame(rows).to_csv(args.output, index=False)
    table = pd.DataFrame(rows).groupby(["protocol", "model"])["auroc"].agg(["mean", "std", "count"]).round(3)
    print(table.to_string())


if __name__ == "__main__":
    main()
