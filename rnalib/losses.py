"""Losses of study B: multi-label supervised contrastive loss (LOCAS) and the asymmetric loss (ASL)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def jaccard_matrix(labels: torch.Tensor) -> torch.Tensor:
    """Pairwise Jaccard overlap of multi-hot label sets, (B, L) → (B, B); two empty sets count as 1."""
    y = labels.float()
    inter = y @ y.T
    union = y.sum(1, keepdim=True) + y.sum(1) - inter
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(inter))


def multilabel_supcon_loss(z: torch.Tensor, labels: torch.Tensor, theta: float = 0.5,
                           temperature: float = 0.1) -> torch.Tensor:
    """Supervised contrastive loss where j is a positive of anchor i when Jaccard(y_i, y_j) ≥ θ (j ≠ i).

    ``z``: (B, D) L2-normalised projections. For each anchor: −mean over its positives of
    log(exp(s_ij/τ) / Σ_{k≠i} exp(s_ik/τ)); anchors without a positive are left out. Vectorised, no loop.
    """
    n = z.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=z.device)
    logits = (z @ z.T) / temperature
    logits = logits.masked_fill(eye, float("-inf"))
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    positive = (jaccard_matrix(labels) >= theta) & ~eye
    counts = positive.sum(1)
    anchors = counts > 0
    if not anchors.any():
        return z.sum() * 0.0  # keeps the graph; nothing to contrast in this batch
    summed = torch.where(positive, log_prob, torch.zeros_like(log_prob)).sum(1)
    return -(summed[anchors] / counts[anchors]).mean()


def asymmetric_loss(logits: torch.Tensor, targets: torch.Tensor, gamma_neg: float = 4.0, gamma_pos: float = 0.0,
                    clip: float = 0.05, eps: float = 1e-8) -> torch.Tensor:
    """Asymmetric loss for multi-label classification (Ridnik et al. 2021), mean over elements.

    Negatives are down-weighted by (p_m)^γ− with the probability shifted by ``clip`` (p_m = max(p − clip, 0));
    positives by (1 − p)^γ+.
    """
    p = torch.sigmoid(logits)
    p_neg = (p - clip).clamp(min=0) if clip > 0 else p
    loss_pos = targets * torch.log(p.clamp(min=eps)) * (1 - p) ** gamma_pos
    loss_neg = (1 - targets) * torch.log((1 - p_neg).clamp(min=eps)) * p_neg ** gamma_neg
    return -(loss_pos + loss_neg).mean()


def classification_loss(name: str):
    """``bce`` (BCE with logits) or ``asl`` (asymmetric loss)."""
    if name == "bce":
        return F.binary_cross_entropy_with_logits
    if name == "asl":
        return asymmetric_loss
    raise ValueError(f"unknown classification loss {name!r} (bce or asl)")
