"""Embedding engine for RNA-FM: long sequences by overlapping windows, token-budget batching, a fused
attention path, and results streamed as sequences finish.

- Windows: a sequence longer than ``window`` nt is cut into windows (``stride`` apart, the last one flush with
  the 3′ end); each nucleotide's representation is the average over the windows covering it, then mean and max
  are taken over real nucleotides. A sequence that fits one window goes through the same pooling as without
  chunking, so its vector is identical.
- Batches: windows are sorted by length and packed so that (windows × padded length) stays under
  ``max_tokens``; padding never enters pooling, and results come back in input order.
- Speed: ``torch.nn.functional.scaled_dot_product_attention`` on rna-fm's own weights (checked against
  rna-fm's forward in the tests), bf16 autocast on CUDA only (fp32 on CPU, where bf16 is slower), pinned
  host memory and non-blocking copies on CUDA, a deliberate CPU thread count.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Window:
    """Nucleotides [start, end) of sequence ``seq``."""

    seq: int
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


def plan_windows(lengths: Sequence[int], window: int, stride: int) -> list[Window]:
    """Windows covering every nucleotide: one per sequence that fits, else starts 0, stride, 2·stride, … and a
    last window ending at the 3′ end."""
    if not 0 < stride <= window:
        raise ValueError(f"stride must be in 1..window ({window}), got {stride}")
    out = []
    for i, n in enumerate(lengths):
        if n <= window:
            out.append(Window(i, 0, n))
            continue
        starts = list(range(0, n - window, stride))
        starts.append(n - window)
        out.extend(Window(i, s, s + window) for s in dict.fromkeys(starts))
    return out


def token_batches(windows: Sequence[Window], max_tokens: int, extra: int = 2) -> list[list[int]]:
    """Indices of ``windows`` grouped longest first so that count × (longest + ``extra``) ≤ ``max_tokens``
    (``extra``: BOS and EOS). A window longer than the budget gets a batch of its own."""
    order = sorted(range(len(windows)), key=lambda i: -windows[i].length)
    batches, current, longest = [], [], 0
    for i in order:
        size = windows[i].length + extra
        if current and (len(current) + 1) * max(longest, size) > max_tokens:
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, size)
    if current:
        batches.append(current)
    return batches


def sdpa_forward(model, tokens: torch.Tensor) -> torch.Tensor:
    """rna-fm's ESM-1b forward (last layer, after the final layer norm) with fused scaled-dot-product
    attention over the same weights. ``tokens``: (B, T) with BOS/EOS/padding as rna-fm's batch converter."""
    padding = tokens.eq(model.padding_idx)
    x = model.embed_scale * model.embed_tokens(tokens)
    if getattr(model.args, "token_dropout", False):  # as rna-fm: rescale for the (here absent) mask tokens
        x = x.masked_fill((tokens == model.mask_idx).unsqueeze(-1), 0.0)
        observed = (tokens == model.mask_idx).sum(-1).float() / (~padding).sum(-1)
        x = x * (1 - 0.15 * 0.8) / (1 - observed)[:, None, None]
    x = x + model.embed_positions(tokens)
    if model.emb_layer_norm_before is not None:
        x = model.emb_layer_norm_before(x)
    x = x * (1 - padding.unsqueeze(-1).type_as(x))
    mask = (~padding)[:, None, None, :] if padding.any() else None
    batch, length, dim = x.shape
    for layer in model.layers:
        attn = layer.self_attn
        heads = attn.num_heads
        h = layer.self_attn_layer_norm(x)
        q, k, v = (F.linear(h, p.weight, p.bias).view(batch, length, heads, -1).transpose(1, 2)
                   for p in (attn.q_proj, attn.k_proj, attn.v_proj))
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = x + attn.out_proj(o.transpose(1, 2).reshape(batch, length, dim))
        x = x + layer.fc2(F.gelu(layer.fc1(layer.final_layer_norm(x))))
    return model.emb_layer_norm_after(x)


def pool_rows(reps: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean and max over token positions 1..length of each row (BOS at 0; EOS and padding excluded)."""
    positions = torch.arange(reps.shape[1], device=reps.device)[None, :]
    real = (positions >= 1) & (positions <= lengths[:, None].to(reps.device))
    mean = (reps * real.unsqueeze(-1).to(reps.dtype)).sum(1) / lengths[:, None].to(reps.device, reps.dtype)
    maxed = reps.masked_fill(~real.unsqueeze(-1), float("-inf")).amax(1)
    return torch.cat([mean, maxed], dim=1)


def default_threads() -> int:
    """CPU threads for torch: ``OMP_NUM_THREADS`` when set (the workflow's per-job cap), else the cores this
    process may use (one intra-op pool, no oversubscription)."""
    if os.environ.get("OMP_NUM_THREADS", "").isdigit() and int(os.environ["OMP_NUM_THREADS"]) > 0:
        return int(os.environ["OMP_NUM_THREADS"])
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


class RnaFmEngine:
    """Runs an rna-fm model over many sequences; see the module docstring."""

    def __init__(self, model, alphabet, device: str | torch.device | None = None, window: int | None = None,
                 stride: int | None = None, chunking: bool = True, max_tokens: int | None = None,
                 sdpa: bool = True, autocast: bool | None = None, threads: int | None = None,
                 group_nt: int | None = None):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.cuda = self.device.type == "cuda"
        if not self.cuda:
            torch.set_num_threads(threads or default_threads())
        self.model = model.eval().to(self.device)
        self.alphabet = alphabet
        self.window = window or model.args.max_positions - 2
        self.stride = stride or self.window
        self.chunking = chunking
        self.max_tokens = max_tokens or (1 << 16 if self.cuda else 4096)
        self.sdpa = sdpa
        self.autocast = self.cuda if autocast is None else autocast
        self.group_nt = group_nt or (1 << 22 if self.cuda else 1 << 20)
        self.layer = model.args.layers
        self.dim = 2 * model.args.embed_dim
        self.converter = alphabet.get_batch_converter()

    def _tokens(self, pieces: list[str]) -> torch.Tensor:
        _, _, tokens = self.converter([("", p) for p in pieces])
        if self.cuda:
            tokens = tokens.pin_memory()
        return tokens.to(self.device, non_blocking=True)

    def _forward(self, tokens: torch.Tensor) -> torch.Tensor:
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            if self.sdpa:
                return sdpa_forward(self.model, tokens).float()
            return self.model(tokens, repr_layers=[self.layer])["representations"][self.layer].float()

    def stream(self, seqs: Sequence[str]) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (input index, vector) as each sequence is finished (groups of about ``group_nt`` nt)."""
        lengths = [len(s) for s in seqs]
        too_long = next((i for i, n in enumerate(lengths) if n > self.window), None)
        if not self.chunking and too_long is not None:
            raise ValueError(f"sequence {too_long} has {lengths[too_long]} nt; the window is {self.window} nt "
                             "and chunking is off")
        group, group_nt = [], 0
        for i, n in enumerate(lengths):
            group.append(i)
            group_nt += n
            if group_nt >= self.group_nt:
                yield from self._group(seqs, group)
                group, group_nt = [], 0
        if group:
            yield from self._group(seqs, group)

    @torch.inference_mode()
    def _group(self, seqs: Sequence[str], members: list[int]) -> Iterator[tuple[int, np.ndarray]]:
        windows = plan_windows([len(seqs[i]) for i in members], self.window, self.stride)
        remaining = Counter(w.seq for w in windows)  # windows still to come, per sequence
        sums: dict[int, torch.Tensor] = {}
        counts: dict[int, torch.Tensor] = {}
        for batch in token_batches(windows, self.max_tokens):
            chosen = [windows[b] for b in batch]
            reps = self._forward(self._tokens([seqs[members[w.seq]][w.start:w.end] for w in chosen]))
            lengths = torch.tensor([w.length for w in chosen])
            single = [k for k, w in enumerate(chosen) if remaining[w.seq] == 1 and w.seq not in sums]
            if single:  # the whole sequence in one window: pooled exactly as without chunking
                pooled = pool_rows(reps[single], lengths[single]).cpu().numpy()
                for row, k in enumerate(single):
                    remaining[chosen[k].seq] = 0
                    yield members[chosen[k].seq], pooled[row]
            for k, w in enumerate(chosen):
                if remaining[w.seq] == 0:
                    continue
                n = len(seqs[members[w.seq]])
                if w.seq not in sums:
                    sums[w.seq] = torch.zeros(n, reps.shape[-1], device=self.device)
                    counts[w.seq] = torch.zeros(n, 1, device=self.device)
                sums[w.seq][w.start:w.end] += reps[k, 1:w.length + 1]
                counts[w.seq][w.start:w.end] += 1
                remaining[w.seq] -= 1
                if remaining[w.seq] == 0:
                    per_nt = sums.pop(w.seq) / counts.pop(w.seq)
                    yield members[w.seq], torch.cat([per_nt.mean(0), per_nt.amax(0)]).cpu().numpy()

    def embed(self, seqs: Sequence[str]) -> np.ndarray:
        """All vectors, in input order."""
        out = np.empty((len(seqs), self.dim), dtype=np.float32)
        for i, vec in self.stream(seqs):
            out[i] = vec
        return out
