"""Losses of study B: multi-label supervised contrastive loss (LOCAS), the asymmetric loss (ASL), class-weighted
BCE and the focal loss."""
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


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, gamma: float = 2.0,
               pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Sigmoid focal loss (Lin et al. 2017), mean over elements: BCE (optionally with ``pos_weight`` per class)
    scaled by (1 − p_t)^γ, p_t the probability given to the true label."""
    bce = F.binary_cross_entropy_with_logits(logits, targets, pos_weight=pos_weight, reduction="none")
    p = torch.sigmoid(logits)
    p_t = p * targets + (1 - p) * (1 - targets)
    return ((1 - p_t) ** gamma * bce).mean()


CLASSIFICATION_LOSSES = ("bce", "asl", "weighted_bce", "focal")


def positive_weights(y) -> torch.Tensor:
    """Per class negatives / positives of a (n, classes) 0/1 matrix (the weight class-weighted BCE gives a
    positive); a class without positives gets weight 1."""
    y = torch.as_tensor(y, dtype=torch.float32)
    pos = y.sum(0)
    return torch.where(pos > 0, (len(y) - pos) / pos.clamp(min=1), torch.ones_like(pos))


def classification_loss(name: str, train_labels=None):
    """``bce`` (BCE with logits), ``asl`` (asymmetric loss), ``weighted_bce`` (BCE with each class's positives
    weighted by negatives / positives in ``train_labels``) or ``focal`` (focal loss, γ = 2, unweighted)."""
    if name == "bce":
        return F.binary_cross_entropy_with_logits
    if name == "asl":
        return asymmetric_loss
    if name == "weighted_bce":
        if train_labels is None:
            raise ValueError("weighted_bce needs the training labels to weight the classes")
        weight = positive_weights(train_labels)
        return lambda logits, targets: F.binary_cross_entropy_with_logits(logits, targets,
                                                                          pos_weight=weight.to(logits.device))
    if name == "focal":
        return focal_loss
    raise ValueError(f"unknown classification loss {name!r} (choose {', '.join(CLASSIFICATION_LOSSES)})")
