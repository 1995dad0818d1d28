"""Embedding throughput: rna-fm's README loop vs the rnalib engine, same sequences, same random-init RNA-FM.

    python benchmarks/embed_throughput.py                     # CPU-sized sample (about 20k nt per length mix)
    python benchmarks/embed_throughput.py --full --skip-naive # every DM3Loc mRNA (64.0M nt), meant for a GPU

Length mixes: DM3Loc's mRNAs (median 2,974 nt; long ones cut into 1,022-nt windows without overlap) and the
interaction data's unique RNAs. Prints tokens (nucleotides) per second for (a) the naive loop — one sequence or
window at a time, batch converter, model forward, representations[12] — and (b) the engine, and their ratio. On
a GPU it also prints achieved TFLOP/s and the share of the device's dense bf16 peak. A script, not a test.
"""
from __future__ import annotations

import argparse
import time
import warnings
from datetime import date

import numpy as np
import torch

from rnalib import data
from rnalib.embedding import embed, engine
from rnalib.report.results import machine

BF16_PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12}  # dense bf16 FLOP/s (vendor figures)


def sample(seqs: list[str], total_nt: int | None, seed: int) -> list[str]:
    """A seeded random sample of whole sequences adding up to about ``total_nt`` (all when None)."""
    if total_nt is None:
        return seqs
    out, n = [], 0
    for i in np.random.default_rng(seed).permutation(len(seqs)):
        out.append(seqs[i])
        n += len(seqs[i])
        if n >= total_nt:
            break
    return out


def windows_of(seqs: list[str], window: int) -> list[str]:
    return [s[w.start:w.end] for w in engine.plan_windows([len(x) for x in seqs], window, window)
            for s in [seqs[w.seq]]]


def forward_flops(model, pieces: list[str]) -> float:
    """Forward FLOPs of the transformer stack on these windows (2 per multiply-add, real tokens + BOS/EOS)."""
    a = model.args
    per_token = 2 * (4 * a.embed_dim ** 2 + 2 * a.embed_dim * a.ffn_embed_dim)
    total = 0.0
    for p in pieces:
        t = len(p) + 2
        total += a.layers * (t * per_token + 4 * t * t * a.embed_dim)
    return total


def naive_loop(model, alphabet, pieces: list[str], device) -> float:
    """rna-fm's README usage, one window at a time; returns seconds."""
    convert = alphabet.get_batch_converter()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    start = time.perf_counter()
    with torch.no_grad():
        for p in pieces:
            _, _, tokens = convert([("", p)])
            reps = model(tokens.to(device), repr_layers=[model.args.layers])["representations"][model.args.layers]
            reps[0, 1:len(p) + 1].mean(0).cpu()
    sync()
    return time.perf_counter() - start


def run_engine(model, alphabet, seqs: list[str], device, max_tokens: int | None) -> float:
    eng = engine.RnaFmEngine(model, alphabet, device, window=1022, stride=1022, max_tokens=max_tokens)
    eng.embed(seqs[:2])  # warm-up (kernels, allocator)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    eng.embed(seqs)
    sync()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--total-nt", type=int, default=20000, help="nucleotides per length mix (CPU default)")
    parser.add_argument("--full", action="store_true", help="every DM3Loc mRNA (64.0M nt); implies --mix dm3loc")
    parser.add_argument("--mix", choices=["dm3loc", "interactions", "both"], default="both")
    parser.add_argument("--skip-naive", action="store_true", help="time the engine only")
    parser.add_argument("--max-tokens", type=int, default=None, help="engine token budget per batch")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, alphabet = embed.random_rnafm_model(seed=args.seed)
    model.to(device)
    cpu = machine()
    name = (torch.cuda.get_device_name() if device.type == "cuda"
            else f"{cpu['cpu']}, {cpu['logical_cpus']} logical CPUs, {cpu['torch_cpu_capability']}")
    print(f"# {date.today()} · {name} · torch {torch.__version__} · threads {torch.get_num_threads()} · "
          f"random-init RNA-FM ({sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters)")
    mixes = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.DataWarning)
        if args.full or args.mix in ("dm3loc", "both"):
            mixes["dm3loc"] = data.load_dm3loc()["sequence"].tolist()
        if not args.full and args.mix in ("interactions", "both"):
            mixes["interactions"] = data.unique_rnas(data.load_interactions())["sequence"].tolist()
    print("| mix | sequences | nucleotides | naive tokens/s | engine tokens/s | ratio | engine TFLOP/s | share of bf16 peak |")
    print("|---|---|---|---|---|---|---|---|")
    for mix, seqs in mixes.items():
        chosen = sample(seqs, None if args.full else args.total_nt, args.seed)
        nt = sum(map(len, chosen))
        pieces = windows_of(chosen, 1022)
        t_engine = run_engine(model, alphabet, chosen, device, args.max_tokens)
        t_naive = None if args.skip_naive else naive_loop(model, alphabet, pieces, device)
        flops = forward_flops(model, pieces) / t_engine
        peak = next((v for k, v in BF16_PEAK.items() if k in name), None) if device.type == "cuda" else None
        print(f"| {mix} | {len(chosen):,} | {nt:,} | {nt / t_naive if t_naive else float('nan'):,.0f} | "
              f"{nt / t_engine:,.0f} | {t_naive / t_engine if t_naive else float('nan'):.2f} | "
              f"{flops / 1e12:.2f} | {f'{flops / peak:.1%}' if peak else 'n/a (no GPU)'} |", flush=True)


if __name__ == "__main__":
    main()
