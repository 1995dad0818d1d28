"""Models of study A: the paper's feed-forward pair classifier and the baselines it is compared with."""
from __future__ import annotations

import math

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


def fit_logistic(x: np.ndarray, y: np.ndarray, seed: int = 0, init: LogisticRegression | None = None
                 ) -> LogisticRegression:
    """Logistic regression (scikit-learn's, L2, lbfgs) on the same (scaled) features as the network. ``init``: a
    model fitted on the first columns of ``x`` (the same rows); its coefficients, with zeros for the columns it
    did not see, start the optimisation (warm start). The problem is convex with one optimum, so the result is
    the same up to the solver's tolerance, in fewer iterations (the pair features' model starts from the
    embeddings' one)."""
    model = LogisticRegression(max_iter=2000, random_state=seed, warm_start=init is not None)
    if init is not None:
        model.coef_ = np.hstack([init.coef_, np.zeros((init.coef_.shape[0], x.shape[1] - init.coef_.shape[1]))])
        model.intercept_ = init.intercept_.copy()
    return model.fit(x, y)


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


def slice_tokens(h: torch.Tensor, n_tokens: int) -> torch.Tensor:
    """View each vector of ``h`` (B, D) as ``n_tokens`` consecutive chunks: (B, n_tokens, D // n_tokens).

    This is how one pooled embedding becomes a memory of several tokens for ``MLDecoder`` (the "16-slice"
    variant); it is a modelling choice of ours, not part of the reference decoder.
    """
    if h.dim() != 2:
        raise ValueError(f"slice_tokens expects (batch, features), got shape {tuple(h.shape)}")
    if n_tokens < 1 or h.shape[1] % n_tokens:
        raise ValueError(f"{h.shape[1]} features are not divisible into {n_tokens} tokens")
    return h.reshape(h.shape[0], n_tokens, h.shape[1] // n_tokens)


def sinusoidal_positions(n: int, dim: int) -> torch.Tensor:
    """(n, dim) fixed sine/cosine position codes (sine on even features, cosine on odd ones)."""
    position = torch.arange(n, dtype=torch.float32)[:, None]
    rate = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    codes = torch.zeros(n, dim)
    codes[:, 0::2] = torch.sin(position * rate)
    codes[:, 1::2] = torch.cos(position * rate)[:, :dim // 2]
    return codes


class MLDecoder(nn.Module):
    """ML-Decoder classification head (Ridnik et al. 2023) as the authors' implementation builds it.

    ``forward(memory)``: memory (B, T, in_dim) is a sequence of T tokens; (B, in_dim) counts as T = 1.

    * tokens → Linear(in_dim → d_model) → ReLU; no position information (the reference adds none), so the
      head is invariant to the order of the tokens unless ``position`` is "learned" or "sinusoidal";
    * one query per group, drawn N(0, 1) (an ``nn.Embedding``'s initialisation) and kept fixed unless
      ``learn_queries``;
    * one decoder layer without self-attention; with ``norm="post"`` (the reference) its steps are
      norm1(q + dropout(q)) → cross-attention on the memory, residual, norm2 → feed-forward
      Linear → ReLU → dropout → Linear, residual, norm3 (dropout on each residual branch and on the attention
      weights); ``norm="pre"`` is the usual pre-norm layer with a final norm instead;
    * group fully-connected output: group g maps its d_model features to ``group_size`` = ceil(classes /
      groups) logits with its own (d_model, group_size) weight (Xavier-normal); the groups' logits are
      concatenated, the first ``n_classes`` kept and a per-class bias (zero at start) added.

    ``n_groups`` < 0 means 100 groups, capped at ``n_classes`` either way (the reference's rule).
    ``last_attention`` keeps the last call's attention weights, (B, groups, T), averaged over heads.
    """

    def __init__(self, in_dim: int = 2048, n_classes: int = 6, d_model: int = 768, ff_dim: int = 2048,
                 heads: int = 8, n_groups: int | None = -1, dropout: float = 0.1, learn_queries: bool = False,
                 norm: str = "post", position: str = "none", max_tokens: int = 64):
        super().__init__()
        if norm not in ("post", "pre"):
            raise ValueError(f"unknown norm placement {norm!r} (post or pre)")
        if position not in ("none", "learned", "sinusoidal"):
            raise ValueError(f"unknown position embedding {position!r} (none, learned or sinusoidal)")
        n_groups = -1 if n_groups is None else n_groups
        if n_groups == 0 or n_classes < 1:
            raise ValueError("MLDecoder needs at least one class and one group")
        groups = min(100 if n_groups < 0 else n_groups, n_classes)
        self.n_classes, self.n_groups = n_classes, groups
        # The reference computes int(classes / groups + 0.999); with at most 100 groups that is the ceiling.
        self.group_size = -(-n_classes // groups)
        self.norm, self.learn_queries, self.position_kind = norm, learn_queries, position

        self.embed = nn.Linear(in_dim, d_model)
        self.position = (nn.Parameter(torch.randn(max_tokens, d_model) * 0.02) if position == "learned" else None)
        self.queries = nn.Parameter(torch.randn(groups, d_model), requires_grad=learn_queries)
        self.drop_query = nn.Dropout(dropout)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attention = nn.MultiheadAttention(d_model, heads, dropout=dropout, batch_first=True)
        self.drop_attended = nn.Dropout(dropout)
        self.ff = nn.Sequential(nn.Linear(d_model, ff_dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ff_dim, d_model))
        self.drop_ff = nn.Dropout(dropout)
        self.group_weight = nn.Parameter(torch.empty(groups, d_model, self.group_size))
        nn.init.xavier_normal_(self.group_weight)
        self.group_bias = nn.Parameter(torch.zeros(n_classes))
        self.last_attention: torch.Tensor | None = None

    def memory(self, x: torch.Tensor) -> torch.Tensor:
        """Input tokens (B, T, in_dim), or (B, in_dim), → projected memory (B, T, d_model)."""
        if x.dim() == 2:
            x = x.unsqueeze(1)
        elif x.dim() != 3:
            raise ValueError(f"MLDecoder expects (batch, tokens, features) or (batch, features), got {tuple(x.shape)}")
        mem = torch.relu(self.embed(x))
        t = mem.shape[1]
        if self.position is not None:
            if t > self.position.shape[0]:
                raise ValueError(f"{t} tokens but learned positions for only {self.position.shape[0]}")
            mem = mem + self.position[:t]
        elif self.position_kind == "sinusoidal":
            mem = mem + sinusoidal_positions(t, mem.shape[-1]).to(mem)
        return mem

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mem = self.memory(x)
        # detach(): fixed queries stay fixed even if someone later switches requires_grad on for the whole head
        queries = self.queries if self.learn_queries else self.queries.detach()
        q = queries.unsqueeze(0).expand(mem.shape[0], -1, -1)
        if self.norm == "post":
            # The reference's first step adds a dropped-out copy of the queries to themselves before norm1 (there
            # is no self-attention branch to add): in eval mode that is norm1(2q); in training each feature of q
            # is kept or scaled by 1 + 1/(1 - p), a multiplicative noise on the queries.
            t = self.norm1(q + self.drop_query(q))
            attended, weights = self.attention(t, mem, mem, need_weights=True)
            t = self.norm2(t + self.drop_attended(attended))
            t = self.norm3(t + self.drop_ff(self.ff(t)))
        else:
            attended, weights = self.attention(self.norm1(q), mem, mem, need_weights=True)
            t = q + self.drop_attended(attended)
            t = self.norm3(t + self.drop_ff(self.ff(self.norm2(t))))
        self.last_attention = weights.detach()  # (B, groups, T), mean over heads
        logits = torch.einsum("bgd,gdk->bgk", t, self.group_weight).flatten(1)[:, :self.n_classes]
        return logits + self.group_bias


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


def concatenated_scaler(*scalers: StandardScaler) -> StandardScaler:
    """One StandardScaler for the columns of fitted ``scalers`` side by side (each column is scaled on its own,
    so fitting on the concatenated columns gives the same means and scales)."""
    return scaler_from_state({"scaler_mean": torch.as_tensor(np.concatenate([s.mean_ for s in scalers])),
                              "scaler_scale": torch.as_tensor(np.concatenate([s.scale_ for s in scalers]))})


def scaler_from_state(state: dict) -> StandardScaler:
    """The StandardScaler saved by ``scaler_state``."""
    scaler = StandardScaler()
    scaler.mean_, scaler.scale_ = state["scaler_mean"].numpy(), state["scaler_scale"].numpy()
    scaler.var_, scaler.n_features_in_ = scaler.scale_ ** 2, len(scaler.mean_)
    return scaler
