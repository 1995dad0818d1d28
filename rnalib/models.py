"""Models of study A: the paper's feed-forward pair classifier and the baselines it is compared with."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
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
