"""Losses of study B: multi-label supervised contrastive loss (LOCAS) and the asymmetric loss (ASL)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def jaccard_matrix(labels: torch.Tensor) -> torch.Tensor:
    """Pairwise Jaccard overlap of multi-hot label sets, (B, L) → (B, B), in the labels' floating dtype (float32
    for integer labels); two empty sets count as 1."""
    y = labels if labels.is_floating_point() else labels.float()
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
                    clip: float = 0.05, eps: float = 1e-8, reduction: str = "mean",
                    focal_grad: bool = False) -> torch.Tensor:
    """Asymmetric loss for multi-label classification (Ridnik et al. 2021).

    Per element, with p = sigmoid(logit) and the shifted probability p_m = max(p − clip, 0):
    positives −log(p)·(1 − p)^γ+, negatives −log(1 − p_m)·p_m^γ− (logs of values clamped at ``eps``).

    Matches the authors' ``AsymmetricLoss`` as the ML-Decoder training script uses it (γ− = 4, γ+ = 0,
    clip 0.05, focusing weights without gradient) when ``reduction="sum"``; ``"mean"`` (our default) divides by
    the number of elements so the value is on BCE's scale and independent of the batch size. ``focal_grad``
    lets gradients flow through the focusing weights as well (the authors switch that off).
    """
    p = torch.sigmoid(logits)
    p_neg = (p - clip).clamp(min=0) if clip > 0 else p
    log_pos = targets * torch.log(p.clamp(min=eps))
    log_neg = (1 - targets) * torch.log((1 - p_neg).clamp(min=eps))
    w_pos, w_neg = (1 - p) ** gamma_pos, p_neg ** gamma_neg
    if not focal_grad:
        w_pos, w_neg = w_pos.detach(), w_neg.detach()
    loss = -(log_pos * w_pos + log_neg * w_neg)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"unknown reduction {reduction!r} (mean, sum or none)")


def classification_loss(name: str):
    """``bce`` (BCE with logits) or ``asl`` (asymmetric loss)."""
    if name == "bce":
        return F.binary_cross_entropy_with_logits
    if name == "asl":
        return asymmetric_loss
    raise ValueError(f"unknown classification loss {name!r} (bce or asl)")
