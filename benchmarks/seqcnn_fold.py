"""One DM3Loc fold of study B's sequence CNN (``seqcnn``, or LOCAS with it as encoder): CPU and wall time, and
test MCC (thresholds tuned on validation) and AUROC per class. Sizes the report profile's CNN.

    RNALIB_DATA_DIR=../shared/data OMP_NUM_THREADS=1 .venv/bin/python benchmarks/seqcnn_fold.py --seq-nt 1000 \
        --width 16 --dim 64 --epochs 6 --lr 3e-3 [--norm] [--method scl]
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from rnalib import data
from rnalib.learning import seqcnn
from rnalib.learning.train import LocasConfig
from rnalib.localization import study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", choices=["seqcnn", "scl"], default="seqcnn")
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--seq-nt", type=int, default=1000)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--norm", action="store_true", help="batch normalisation after each convolution")
    args = parser.parse_args()
    torch.set_num_threads(1)
    records, folds = data.load_dm3loc(), data.load_dm3loc_folds()
    x = seqcnn.encode(records["sequence"].tolist(), args.seq_nt)
    y = study.label_matrix(records)
    idx = study.fold_indices(records, folds, args.fold)
    cnn = args.method == "scl"
    cfg = LocasConfig(seq_nt=args.seq_nt, cnn_width=args.width, cnn_dim=args.dim, cnn_epochs=args.epochs,
                      cnn_lr=args.lr, cnn_norm=args.norm, encoder="seqcnn" if cnn else "mlp",
                      memory="positions" if cnn else "single", theta=0.8, head_epochs=15, decoder_dim=128,
                      decoder_ff=512, position="sinusoidal")
    wall, cpu = time.time(), time.process_time()
    out = study.run_fold(x, y, idx, args.method, cfg, progress=True)
    wall, cpu = time.time() - wall, time.process_time() - cpu
    scores = study.evaluate_fold(y[idx["val"]], out.val_scores, y[idx["test"]], out.test_scores)["tuned"]
    print(out.history.to_string())
    print(json.dumps({"wall_s": round(wall), "cpu_s": round(cpu), "epochs": len(out.history),
                      **{m: {c: round(scores[f"{m}_{c}"], 3) for c in study.LOC_CLASSES} for m in ("mcc", "auroc")}}))


if __name__ == "__main__":
    main()
