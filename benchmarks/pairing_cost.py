"""Cost and fidelity of study A's pair features (``rnalib.interactions.pairing``) on the bundled ncRNAInter pairs.

Draws ``--pairs`` random (miRNA, lncRNA ≤ 1,022 nt) combinations — the population the report's negatives come
from — and prints: milliseconds per pair for ``pair_interaction_features`` (sites, 3'-supplementary score, site
duplex, windowed best duplex), milliseconds per pair for ``RNA.duplexfold`` on the whole pair, how often the
windowed ``duplex_mfe`` equals the whole-pair MFE, their correlation and mean difference (kcal/mol), and the
projected CPU time for every combination the report can draw (``interactions.warm_pair_features``).

    RNALIB_DATA_DIR=../shared/data OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pairing_cost.py --pairs 300
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from rnalib import data
from rnalib.interactions import pairing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--full", type=int, default=100, help="pairs also folded whole with RNA.duplexfold")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import RNA

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = data.length_filter(data.load_interactions(None), 1022)
    pos = pairs[pairs["label"] == 1]
    xs, ys = pos["RNA_sequence_x"].unique(), pos["RNA_sequence_y"].unique()
    rng = np.random.default_rng(args.seed)
    drawn = [(xs[rng.integers(len(xs))], ys[rng.integers(len(ys))]) for _ in range(args.pairs)]
    started = time.process_time()  # CPU time: wall time swings 2-10x on a shared 2-core machine
    feats = np.array([pairing.pair_interaction_features(x, y, "miRNA", "lncRNA") for x, y in drawn])
    per_pair = (time.process_time() - started) / len(drawn)
    started = time.process_time()
    whole = np.array([RNA.duplexfold(x, y).energy for x, y in drawn[:args.full]])
    per_whole = (time.process_time() - started) / len(whole)
    windowed = feats[:args.full, pairing.FEATURES.index("duplex_mfe")]
    total = len(xs) * len(ys)
    print(f"{len(drawn)} pairs, mean lncRNA length {np.mean([len(y) for _, y in drawn]):.0f} nt")
    print(f"pair features: {1000 * per_pair:.2f} ms CPU/pair; RNA.duplexfold on the whole pair: {1000 * per_whole:.2f} "
          "ms CPU/pair")
    print(f"windowed duplex_mfe = whole-pair MFE in {np.mean(np.isclose(windowed, whole)):.0%} of {len(whole)} pairs; "
          f"Pearson r {np.corrcoef(windowed, whole)[0, 1]:.3f}; windowed - whole {np.mean(windowed - whole):+.2f} kcal/mol")
    print(f"every combination ({len(xs)} x {len(ys)} = {total:,}): {total * per_pair / 60:.1f} CPU-min, "
          f"{total * per_pair / 120:.1f} min on 2 idle cores (whole-pair duplexfold alone: {total * per_whole / 60:.1f} "
          "CPU-min)")


if __name__ == "__main__":
    main()
