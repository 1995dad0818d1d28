"""The ML-Decoder's memory for study B: what the class queries attend over.

- ``single``: LOCAS as published, one token per mRNA (the encoder's output; attention weights are all 1).
- ``slices``: that one 2048-d vector cut into ``n_tokens`` slices, placed by the decoder's learned position
  embedding (attention over parts of a vector, not over positions of the sequence).
- ``windows``: a positional memory. Each mRNA becomes ``n_windows`` windows along its length (``embed.window_sequences``),
  each embedded on its own (``embed.WindowedEmbedder``: k-mer spectrum offline, RNA-FM / RiNALMo through the engine;
  optionally the whole sequence as a first, global token), each passed through the same encoder; the decoder's
  learned position embedding tells it where a token sits.
- ``positions``: a sequence CNN's feature map (``learning.seqcnn``), one token per pooled stretch of the one-hot
  mRNA, placed by the decoder's position embedding (LOCAS with the CNN as its encoder).
"""
from __future__ import annotations

import torch
from torch import nn

from rnalib.learning.models import slice_tokens

MEMORIES = ("single", "slices", "windows", "positions")


class MemoryHead(nn.Module):
    """Encoded tokens (B, T, D) → the decoder's memory for this kind → class logits. ``slices`` cuts the single
    token into ``n_slices`` tokens of D / n_slices; ``single``, ``windows`` and ``positions`` pass the
    tokens as they are (with several tokens the decoder adds its position embedding)."""

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
