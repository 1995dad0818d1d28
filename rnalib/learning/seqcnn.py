"""A sequence-only multi-label CNN on one-hot nucleotides, after the published descriptions of DM3Loc (Wang et al.,
NAR 2021: one-hot mRNA, DM3Loc's 1,000 nt from the 5′ end + 3,000 nt from the 3′ end, multi-scale convolutions)
and EDCLoc (BMC Genomics 2024: one-hot 8,000 nt, multi-scale grouped convolutions with residual connections,
stepwise pooling, global max pooling, an improved focal loss). Our own, smaller implementation; neither paper's
code (no residual blocks or attention; the loss is a parameter).

Input layout (``encode``): each mRNA becomes ``length`` positions. Its first ``length // 4`` nt sit at the left
(the 5′ end at position 0) and up to ``length - length // 4`` of the remaining nt at the right (the 3′ end at
position ``length - 1``); a shorter mRNA leaves empty positions in the middle. So the 5′ and 3′ ends always sit at
the same positions, as in DM3Loc's 1,000 + 3,000 nt. Codes: A 0, C 1, G 2, U 3, N (and any other letter) 4,
empty 5; the network one-hots them into 5 channels (A/C/G/U/N; empty positions are all-zero).

Network (``SeqCNN``): parallel first convolutions of several odd widths (``kernels``, ``width`` filters each,
"same" padding), concatenated → [BatchNorm] → ReLU → max-pool ``pools[0]`` → one convolution (``conv_kernel``,
``dim`` filters) → [BatchNorm] → ReLU → max-pool ``pools[1]`` → dropout: the feature map, (B, T, dim) with
T = length // (pools[0] · pools[1]) tokens. Pooled: mean and max over positions, concatenated (2 · dim) →
dropout → Linear → class logits.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

CODES = {"A": 0, "C": 1, "G": 2, "U": 3, "T": 3, "N": 4}
N_CODE, EMPTY = 4, 5
CHANNELS = 5


def encode(sequences, length: int) -> np.ndarray:
    """(n, length) uint8 codes of each sequence in the 5′ + 3′ layout described in the module docstring.

    A sequence of at most ``length`` nt is kept whole (5′ quarter left, the rest right-aligned); a longer one keeps
    its first ``length // 4`` and last ``length - length // 4`` nt. Letters outside A/C/G/U/T count as N."""
    if length < 4:
        raise ValueError(f"an input length of {length} nt is too short (at least 4)")
    table = np.full(256, N_CODE, dtype=np.uint8)
    for letter, code in CODES.items():
        table[ord(letter)] = table[ord(letter.lower())] = code
    head = length // 4
    out = np.full((len(sequences), length), EMPTY, dtype=np.uint8)
    for i, seq in enumerate(sequences):
        codes = table[np.frombuffer(seq.encode("ascii", "replace"), dtype=np.uint8)]
        five, rest = codes[:head], codes[head:][-(length - head):]
        out[i, :len(five)] = five
        if len(rest):
            out[i, length - len(rest):] = rest
    return out


def one_hot(codes: torch.Tensor) -> torch.Tensor:
    """(B, L) codes (any dtype holding 0..5) → (B, 5, L) float one-hot; EMPTY positions are all-zero."""
    hot = nn.functional.one_hot(codes.long().clamp(0, EMPTY), EMPTY + 1)[..., :CHANNELS]
    return hot.transpose(1, 2).float()


class SeqCNN(nn.Module):
    """Multi-scale one-hot CNN (module docstring). ``forward(codes)``: (B, length) codes → (B, n_classes) logits;
    ``feature_map(codes)``: (B, T, dim); ``pooled(codes)``: (B, 2 · dim) = ``pooled_dim``."""

    def __init__(self, n_classes: int = 6, width: int = 16, kernels=(9, 21, 49), dim: int = 64,
                 conv_kernel: int = 5, pools=(8, 4), dropout: float = 0.2, batch_norm: bool = False):
        super().__init__()
        kernels, pools = tuple(int(k) for k in kernels), tuple(int(p) for p in pools)
        if not kernels or any(k < 1 or k % 2 == 0 for k in kernels) or conv_kernel % 2 == 0:
            raise ValueError(f"kernel widths must be odd and positive, got {kernels} and {conv_kernel}")
        if len(pools) != 2 or min(pools) < 1:
            raise ValueError(f"pools must be two positive sizes, got {pools}")
        self.kernels, self.conv_kernel, self.pools, self.dim = kernels, conv_kernel, pools, dim
        self.branches = nn.ModuleList(nn.Conv1d(CHANNELS, width, k, padding=k // 2) for k in kernels)
        self.pool1 = nn.MaxPool1d(pools[0])
        self.conv = nn.Conv1d(width * len(kernels), dim, conv_kernel, padding=conv_kernel // 2)
        self.norm1 = nn.BatchNorm1d(width * len(kernels)) if batch_norm else nn.Identity()
        self.norm2 = nn.BatchNorm1d(dim) if batch_norm else nn.Identity()
        self.pool2 = nn.MaxPool1d(pools[1])
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(2 * dim, n_classes)
        self.pooled_dim = 2 * dim

    def receptive_field(self) -> int:
        """Input positions one feature-map token can see (nt): widest first kernel, first pool, second kernel
        (in pooled steps), second pool."""
        p1, p2 = self.pools
        return max(self.kernels) + (p1 - 1) + (self.conv_kernel - 1) * p1 + (p2 - 1) * p1

    def tokens(self, length: int) -> int:
        """Feature-map tokens for an input of ``length`` nt."""
        return length // self.pools[0] // self.pools[1]

    def feature_map(self, codes: torch.Tensor) -> torch.Tensor:
        x = one_hot(codes)
        x = torch.relu(self.norm1(torch.cat([branch(x) for branch in self.branches], dim=1)))
        x = self.pool2(torch.relu(self.norm2(self.conv(self.pool1(x)))))
        return self.drop(x).transpose(1, 2)

    def pool(self, fmap: torch.Tensor) -> torch.Tensor:
        """(B, T, dim) → (B, 2 · dim): mean and max over positions."""
        return torch.cat([fmap.mean(1), fmap.amax(1)], dim=1)

    def pooled(self, codes: torch.Tensor) -> torch.Tensor:
        return self.pool(self.feature_map(codes))

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.pooled(codes)))


class PooledCNN(nn.Module):
    """A ``SeqCNN``'s pooled output as a module (what the supervised contrastive stage trains)."""

    def __init__(self, cnn: SeqCNN):
        super().__init__()
        self.cnn = cnn

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return self.cnn.pooled(codes)


class FeatureMap(nn.Module):
    """A ``SeqCNN``'s feature map as a module: codes (B, length) → tokens (B, T, dim)."""

    def __init__(self, cnn: SeqCNN):
        super().__init__()
        self.cnn = cnn

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return self.cnn.feature_map(codes)
