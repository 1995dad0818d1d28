"""The ML-Decoder's memory for study B: what the class queries attend over.

- ``single``: LOCAS as published, one token per mRNA (the encoder's output; attention weights are all 1).
- ``slices``: that one 2048-d vector cut into ``n_tokens`` slices, placed by the decoder's learned position
  embedding (attention over parts of a vector, not over positions of the sequence).
- ``windows``: a positional memory. Each mRNA becomes ``n_windows`` windows along its length (``window_sequences``),
  each embedded on its own (``WindowedEmbedder``: k-mer spectrum offline, RNA-FM / RiNALMo through the engine;
  optionally the whole sequence as a first, global token), each passed through the same encoder; the decoder's
  learned position embedding tells it where a token sits.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn

from .embed import Embedder, truncate_sequence
from .models import slice_tokens

MEMORIES = ("single", "slices", "windows")
LAYOUTS = ("ends", "segments")
WINDOWS_TAG = "-windows-"
"""Joins a windowed embedder's base id and its layout in its id."""
WHOLE_TAG = "+whole"
"""Ends a windowed embedder's id when the whole sequence is its first token."""


def window_sequences(seq: str, layout: str = "ends", n_windows: int = 4, window: int = 1000,
                     n_5prime: int = 1) -> list[str]:
    """``n_windows`` windows of one sequence, ordered 5′ → 3′.

    ``ends`` (DM3Loc's layout, which keeps both ends of long mRNAs): ``n_5prime`` windows of ``window`` nt tiled
    from the 5′ end and the others tiled back from the 3′ end, so window k always sits at the same distance from
    its end; in a sequence too short for all of them a window slides inward (windows overlap, none is empty).
    ``segments``: ``n_windows`` consecutive segments of (nearly) equal length covering the whole sequence.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown window layout {layout!r} (choose {', '.join(LAYOUTS)})")
    if n_windows < 1 or window < 1 or not 0 <= n_5prime <= n_windows:
        raise ValueError(f"bad window settings: n_windows={n_windows}, window={window}, n_5prime={n_5prime}")
    length = len(seq)
    if layout == "segments":
        bounds = np.linspace(0, length, n_windows + 1).round().astype(int)
        return [seq[a:max(b, a + 1)] for a, b in zip(bounds[:-1], bounds[1:])]
    last_start = max(length - window, 0)
    starts = [min(i * window, last_start) for i in range(n_5prime)]
    starts += [max(length - (j + 1) * window, 0) for j in reversed(range(n_windows - n_5prime))]
    return [seq[s:s + window] for s in starts]


class WindowedEmbedder(Embedder):
    """Embeds each window of a sequence with ``base`` and concatenates them: row i is ``n_tokens`` blocks of
    ``base.dim`` features, the whole sequence's embedding first when ``whole`` (a global token beside the
    windows; cut to the base model's input limit by DM3Loc's 5′/3′ truncation), then the windows 5′ → 3′. Its id
    names the base embedder and the layout (the cache key)."""

    def __init__(self, base: Embedder, layout: str = "ends", n_windows: int = 4, window: int = 1000,
                 n_5prime: int = 1, whole: bool = True):
        window_sequences("", layout, n_windows, window, n_5prime)  # validates the settings
        self.base, self.layout, self.n_windows, self.width, self.n_5prime = base, layout, n_windows, window, n_5prime
        self.whole = whole
        self.n_tokens = n_windows + whole
        self.token_dim = base.dim
        self.dim = base.dim * self.n_tokens

    @property
    def id(self) -> str:
        shape = f"{self.n_windows}x{self.width}-5p{self.n_5prime}" if self.layout == "ends" else f"{self.n_windows}"
        return f"{self.base.id}{WINDOWS_TAG}{self.layout}-{shape}{WHOLE_TAG if self.whole else ''}"

    def windows(self, seq: str) -> list[str]:
        """The sequences embedded for one mRNA, in token order."""
        wins = window_sequences(seq, self.layout, self.n_windows, self.width, self.n_5prime)
        if not self.whole:
            return wins
        limit = getattr(self.base, "window", None)  # a foundation model's input limit: DM3Loc's 5'/3' truncation
        return [truncate_sequence(seq, "dm3loc", limit) if limit else seq, *wins]

    def embed(self, seqs: Sequence[str]) -> np.ndarray:
        pieces = [w for s in seqs for w in self.windows(s)]
        return self.base.embed(pieces).reshape(len(seqs), self.dim)


class MemoryHead(nn.Module):
    """Encoded tokens (B, T, D) → the decoder's memory for this kind → class logits. ``slices`` cuts the single
    token into ``n_slices`` tokens of D / n_slices; ``single`` and ``windows`` pass the tokens as they are (for
    slices and windows the decoder adds its position embedding)."""

    def __init__(self, decoder: nn.Module, memory: str = "single", dim: int = 2048, n_slices: int = 16):
        super().__init__()
        if memory not in MEMORIES:
            raise ValueError(f"unknown memory {memory!r} (choose {', '.join(MEMORIES)})")
        if memory == "slices" and dim % n_slices:
            raise ValueError(f"a {dim}-d encoding does not cut into {n_slices} slices")
        self.decoder, self.kind, self.n_slices = decoder, memory, n_slices

    def memory(self, h: torch.Tensor) -> torch.Tensor:
        return slice_tokens(h[:, 0], self.n_slices) if self.kind == "slices" else h

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.memory(h))


class TokenEncoder(nn.Module):
    """The shared encoder applied to each of ``n_tokens`` feature blocks: (B, n_tokens × F) → (B, n_tokens, D)."""

    def __init__(self, encoder: nn.Module, n_tokens: int = 1):
        super().__init__()
        self.encoder, self.n_tokens, self.dim = encoder, n_tokens, encoder.dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        return self.encoder(x.reshape(b * self.n_tokens, -1)).reshape(b, self.n_tokens, -1)


class Pooled(nn.Module):
    """A token encoder's output averaged over tokens: the one vector per mRNA that stage 1 (SCL) trains on."""

    def __init__(self, tokens: TokenEncoder):
        super().__init__()
        self.tokens = tokens

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tokens(x).mean(1)


def windowed_from_id(embedder_id: str, base: Embedder) -> WindowedEmbedder:
    """Rebuild a windowed embedder from its id around the rebuilt ``base``."""
    spec = embedder_id.split(WINDOWS_TAG, 1)[1]
    whole = spec.endswith(WHOLE_TAG)
    layout, shape = spec.removesuffix(WHOLE_TAG).split("-", 1)
    if layout == "ends":
        n, rest = shape.split("x")
        width, n_5prime = rest.split("-5p")
        return WindowedEmbedder(base, layout, int(n), int(width), int(n_5prime), whole)
    return WindowedEmbedder(base, layout, int(shape), whole=whole)
