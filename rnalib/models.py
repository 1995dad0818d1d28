"""Models of study A: the paper's feed-forward pair classifier and the baselines it is compared with."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from torch import nn


class PairMLP(nn.Module):
    """``layers`` × (Linear(width) → ReLU → Dropout), then one logit (BCE-with-logits; sigmoid gives p)."""

    def __init__(self, in_dim: int, layers: int, width: int, dropout: float):
        super().__init__()
        blocks, dim = [], in_dim
        for _ in range(layers):
            blocks += [nn.Linear(dim, width), nn.ReLU(), nn.Dropout(dropout)]
            dim = width
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x)).squeeze(-1)

    def penultimate(self, x: torch.Tensor) -> torch.Tensor:
        """Activations of the last hidden layer (what the latent-space figures show)."""
        return self.body(x)


def all_negative_scores(n: int) -> np.ndarray:
    """The trivial baseline: every pair scored 0 (at 1:20 its accuracy is 20/21 ≈ 95.2%)."""
    return np.zeros(n, dtype=float)


def degree_scores(train_degrees: pd.Series, ids_x: pd.Series, ids_y: pd.Series) -> np.ndarray:
    """Degree-only baseline: (deg_x + 1)(deg_y + 1) from training positives, rescaled to [0, 1].

    It never looks at a sequence: whatever it achieves measures the partner-count shortcut. RNAs unseen in
    training have degree 0.
    """
    dx = ids_x.map(train_degrees).fillna(0).to_numpy(dtype=float)
    dy = ids_y.map(train_degrees).fillna(0).to_numpy(dtype=float)
    score = np.log1p(dx) + np.log1p(dy)
    top = score.max()
    return score / top if top > 0 else score


def fit_logistic(x: np.ndarray, y: np.ndarray, seed: int = 0) -> LogisticRegression:
    """Logistic regression on the same (scaled) features as the network."""
    return LogisticRegression(max_iter=2000, random_state=seed).fit(x, y)


# --------------------------------------------------------------------------- study B (LOCAS)


class Encoder(nn.Module):
    """LOCAS encoder: embedding → Linear(2048) → BatchNorm → ReLU → Dropout."""

    def __init__(self, in_dim: int, dim: int = 2048, dropout: float = 0.2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, dim), nn.BatchNorm1d(dim), nn.ReLU(), nn.Dropout(dropout))
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ProjectionHead(nn.Module):
    """2048 → 128, L2-normalised (the space the contrastive loss acts on)."""

    def __init__(self, in_dim: int = 2048, hidden: int = 512, out_dim: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.net(h), dim=1)


class MLDecoder(nn.Module):
    """ML-Decoder head: learnable group queries attend to a memory of tokens by cross-attention (no
    self-attention), then a group fully-connected layer gives the class logits.

    The memory: the encoder's ``in_dim`` vector viewed as ``n_tokens`` tokens of ``in_dim / n_tokens`` features,
    each projected to ``d_model`` with a learned position embedding. With a single pooled vector the memory
    would be one token and attention would be trivially 1.
    """

    def __init__(self, in_dim: int = 2048, n_classes: int = 6, n_tokens: int = 16, d_model: int = 128,
                 n_groups: int | None = None, heads: int = 4, ff_dim: int = 256, dropout: float = 0.1):
        super().__init__()
        if in_dim % n_tokens:
            raise ValueError(f"in_dim {in_dim} is not divisible into {n_tokens} tokens")
        n_groups = n_groups or n_classes
        self.n_tokens, self.n_classes = n_tokens, n_classes
        self.group_size = -(-n_classes // n_groups)
        self.embed = nn.Linear(in_dim // n_tokens, d_model)
        self.position = nn.Parameter(torch.zeros(n_tokens, d_model))
        self.queries = nn.Parameter(torch.randn(n_groups, d_model) * 0.02)
        self.norm_q, self.norm_ff = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attention = nn.MultiheadAttention(d_model, heads, dropout=dropout, batch_first=True)
        self.ff = nn.Sequential(nn.Linear(d_model, ff_dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ff_dim, d_model))
        self.group_weight = nn.Parameter(torch.randn(n_groups, d_model, self.group_size) * 0.02)
        self.group_bias = nn.Parameter(torch.zeros(n_groups * self.group_size))
        self.last_attention: torch.Tensor | None = None

    def memory(self, h: torch.Tensor) -> torch.Tensor:
        """(B, in_dim) → (B, n_tokens, d_model)."""
        return self.embed(h.view(h.shape[0], self.n_tokens, -1)) + self.position

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        mem = self.memory(h)
        q = self.queries.unsqueeze(0).expand(h.shape[0], -1, -1)
        attended, weights = self.attention(self.norm_q(q), mem, mem, need_weights=True)
        self.last_attention = weights.detach()  # (B, groups, tokens)
        x = q + attended
        x = x + self.ff(self.norm_ff(x))
        logits = torch.einsum("bgd,gdk->bgk", x, self.group_weight).flatten(1) + self.group_bias
        return logits[:, :self.n_classes]


def label_prior_scores(train_labels: np.ndarray, n: int) -> np.ndarray:
    """Label-prior baseline: every sequence scored with the training frequency of each class."""
    return np.tile(np.asarray(train_labels, dtype=float).mean(0), (n, 1))


def fit_one_vs_rest(x: np.ndarray, y: np.ndarray, seed: int = 0):
    """One-vs-rest logistic regression on the same (scaled) features."""
    from sklearn.multiclass import OneVsRestClassifier

    return OneVsRestClassifier(LogisticRegression(max_iter=1000, random_state=seed)).fit(x, y)


def scaler_state(scaler: StandardScaler) -> dict:
    """A fitted StandardScaler as tensors (checkpoints load with ``weights_only=True``)."""
    return {"scaler_mean": torch.as_tensor(scaler.mean_), "scaler_scale": torch.as_tensor(scaler.scale_)}


def scaler_from_state(state: dict) -> StandardScaler:
    """The StandardScaler saved by ``scaler_state``."""
    scaler = StandardScaler()
    scaler.mean_, scaler.scale_ = state["scaler_mean"].numpy(), state["scaler_scale"].numpy()
    scaler.var_, scaler.n_features_in_ = scaler.scale_ ** 2, len(scaler.mean_)
    return scaler
