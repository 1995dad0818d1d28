"""Training of the pair classifier: Adam + BCE, linear warmup then cosine annealing to a floor (torch
schedulers, stepped per epoch), mini-batches with a fixed positive share, early stopping on validation loss."""
from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.optim.lr_scheduler import ConstantLR, CosineAnnealingLR, LinearLR, SequentialLR
from torch.utils.data import Sampler
from tqdm import tqdm

from .models import PairMLP


@dataclass
class TrainConfig:
    """One configuration of the paper's Table 2, plus the schedule's shared settings."""

    layers: int = 4
    width: int = 1024
    dropout: float = 0.2
    lr: float = 5e-4
    batch_size: int = 512
    warmup_epochs: int = 4
    max_epochs: int = 100
    patience: int = 10
    cosine_epochs: int | None = None  # the cosine reaches min_lr here and stays there; None: at max_epochs
    min_lr: float = 5e-5
    pos_fraction: float = 0.3
    seed: int = 0


def make_scheduler(optimizer: torch.optim.Optimizer, warmup_epochs: int, max_epochs: int,
                   min_lr: float, cosine_epochs: int | None = None) -> torch.optim.lr_scheduler.LRScheduler:
    """Linear warmup from lr/(warmup+1) to lr over ``warmup_epochs``, then cosine down to ``min_lr`` at
    ``cosine_epochs`` (default ``max_epochs``; the paper's schedule), held at ``min_lr`` after it (torch's cosine
    would climb again). Step once per epoch. A budget inside the warmup never reaches the cosine. Raises
    ValueError when a given ``cosine_epochs`` is not after the warmup or lies beyond ``max_epochs`` (the floor
    would never be reached)."""
    if cosine_epochs is not None and cosine_epochs <= warmup_epochs:
        raise ValueError(f"cosine_epochs ({cosine_epochs}) must be larger than warmup_epochs ({warmup_epochs})")
    if cosine_epochs is not None and cosine_epochs > max_epochs:
        raise ValueError(f"cosine_epochs ({cosine_epochs}) must not exceed max_epochs ({max_epochs}): the cosine "
                         "would never reach its floor")
    end, base = max_epochs if cosine_epochs is None else cosine_epochs, optimizer.param_groups[0]["lr"]
    schedulers = [CosineAnnealingLR(optimizer, T_max=max(1, end - warmup_epochs), eta_min=min_lr)]
    milestones = []
    if warmup_epochs > 0:
        schedulers.insert(0, LinearLR(optimizer, start_factor=1 / (warmup_epochs + 1), end_factor=1.0,
                                      total_iters=warmup_epochs))
        milestones.append(warmup_epochs)
    if end < max_epochs:
        schedulers.append(ConstantLR(optimizer, factor=min_lr / base, total_iters=max_epochs))
        milestones.append(end)
    return SequentialLR(optimizer, schedulers, milestones) if milestones else schedulers[0]


class BalancedBatchSampler(Sampler[torch.Tensor]):
    """Batches (1-d int64 index tensors: positives first, then negatives) with a fixed share of positives (the rest
    negatives), e.g. 30% / 70%.

    An epoch passes over every negative once; positives are reshuffled and reused as often as needed. Gather a
    batch with ``index_select`` (a Python list of indices costs a conversion per batch).
    """

    def __init__(self, labels: np.ndarray, batch_size: int, pos_fraction: float = 0.3,
                 generator: torch.Generator | None = None):
        labels = np.asarray(labels)
        self.pos = torch.as_tensor(np.flatnonzero(labels == 1))
        self.neg = torch.as_tensor(np.flatnonzero(labels == 0))
        if not len(self.pos) or not len(self.neg):
            raise ValueError("balanced batches need both positive and negative examples")
        self.n_pos = max(1, int(round(batch_size * pos_fraction)))
        self.n_neg = max(1, batch_size - self.n_pos)
        self.generator = generator

    def __len__(self) -> int:
        return math.ceil(len(self.neg) / self.n_neg)

    def __iter__(self):
        neg = self.neg[torch.randperm(len(self.neg), generator=self.generator)]
        needed = len(self) * self.n_pos
        reps = math.ceil(needed / len(self.pos))
        pos = torch.cat([self.pos[torch.randperm(len(self.pos), generator=self.generator)] for _ in range(reps)])
        for b in range(len(self)):
            batch = torch.cat([pos[b * self.n_pos:(b + 1) * self.n_pos], neg[b * self.n_neg:(b + 1) * self.n_neg]])
            yield batch


class EarlyStopping:
    """Stop after ``patience`` epochs without a lower validation loss; keeps the best weights."""

    def __init__(self, patience: int = 10):
        self.patience, self.best_loss, self.best_epoch, self.best_state, self.bad = patience, math.inf, -1, None, 0

    def step(self, epoch: int, val_loss: float, model: nn.Module) -> bool:
        """Record an epoch; True when training should stop."""
        if val_loss < self.best_loss:
            self.best_loss, self.best_epoch, self.bad = val_loss, epoch, 0
            self.best_state = copy.deepcopy(model.state_dict())
        else:
            self.bad += 1
        return self.bad >= self.patience

    def restore(self, model: nn.Module) -> None:
        if self.best_state is not None:
            model.load_state_dict(self.best_state)


def _loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 8192) -> float:
    model.eval()
    total = 0.0
    with torch.inference_mode():
        for s in range(0, len(x), chunk):
            total += nn.functional.binary_cross_entropy_with_logits(model(x[s:s + chunk]), y[s:s + chunk],
                                                                    reduction="sum").item()
    return total / len(x)


def train_classifier(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                     cfg: TrainConfig, progress: bool = True,
                     on_epoch: Callable[[int, nn.Module], dict] | None = None) -> tuple[PairMLP, pd.DataFrame, int]:
    """Train ``PairMLP`` and return it with the best validation-loss weights, the per-epoch history
    (train_loss, val_loss, lr) and the best epoch.

    ``on_epoch(epoch, model)``, called after each epoch's validation loss, returns extra history columns (e.g. a
    diagnostic score on held-out pairs); it must not train the model. It never takes part in early stopping."""
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    model = PairMLP(x_train.shape[1], cfg.layers, cfg.width, cfg.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    scheduler = make_scheduler(optimizer, cfg.warmup_epochs, cfg.max_epochs, cfg.min_lr, cfg.cosine_epochs)
    sampler = BalancedBatchSampler(y_train, cfg.batch_size, cfg.pos_fraction, generator)
    xt, yt = torch.as_tensor(x_train, dtype=torch.float32), torch.as_tensor(y_train, dtype=torch.float32)
    xv, yv = torch.as_tensor(x_val, dtype=torch.float32), torch.as_tensor(y_val, dtype=torch.float32)
    stopper, history = EarlyStopping(cfg.patience), []
    loss_fn = nn.BCEWithLogitsLoss()
    for epoch in tqdm(range(cfg.max_epochs), desc="epochs", disable=not progress):
        model.train()
        lr, running, seen = optimizer.param_groups[0]["lr"], 0.0, 0
        for batch in sampler:
            optimizer.zero_grad()
            loss = loss_fn(model(xt.index_select(0, batch)), yt.index_select(0, batch))
            loss.backward()
            optimizer.step()
            running, seen = running + loss.item() * len(batch), seen + len(batch)
        scheduler.step()
        val_loss = _loss(model, xv, yv)
        history.append({"epoch": epoch, "train_loss": running / seen, "val_loss": val_loss, "lr": lr,
                        **(on_epoch(epoch, model) if on_epoch else {})})
        if stopper.step(epoch, val_loss, model):
            break
    stopper.restore(model)
    model.eval()
    return model, pd.DataFrame(history), stopper.best_epoch


def training_device() -> torch.device:
    """Where study B's networks train: the GPU when one is visible, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def predict_raw(module: nn.Module, x: np.ndarray, chunk: int = 8192, apply=None) -> np.ndarray:
    """A module's outputs (optionally passed through ``apply``) in eval mode under inference mode, in chunks, on
    the module's device; a numpy array on the CPU."""
    module.eval()
    device = next(module.parameters(), torch.empty(0)).device
    with torch.inference_mode():
        xs = torch.as_tensor(x, dtype=torch.float32)
        outs = [module(xs[s:s + chunk].to(device)) for s in range(0, len(xs), chunk)]
        return torch.cat([apply(o) if apply else o for o in outs]).cpu().numpy()


def predict_proba(module: nn.Module, x: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Sigmoid probabilities of a logit model (binary or multi-label), in chunks of ``chunk`` examples."""
    return predict_raw(module, x, chunk, apply=torch.sigmoid)


def penultimate(model: PairMLP, x: np.ndarray) -> np.ndarray:
    """Last hidden layer activations of the pair classifier."""
    return predict_raw(model.body, x)


# --------------------------------------------------------------------------- study B (LOCAS)


@dataclass
class LocasConfig:
    """Stage 1 (supervised contrastive) and stage 2 (ML-Decoder head) settings."""

    encoder_dim: int = 2048
    projection_dim: int = 128
    dropout: float = 0.2
    theta: float = 0.5
    temperature: float = 0.1
    scl_epochs: int = 10
    scl_lr: float = 1e-3
    head_epochs: int = 30
    head_lr: float = 1e-3
    batch_size: int = 256
    patience: int = 5
    loss: str = "bce"  # bce, asl (asymmetric loss, mean over elements), weighted_bce or focal
    n_tokens: int = 16
    decoder_dim: int = 768  # ML-Decoder sizes: the reference's defaults
    decoder_ff: int = 2048
    decoder_heads: int = 8
    learn_queries: bool = False  # the reference keeps the group queries fixed
    decoder_norm: str = "post"  # "post" (reference) or "pre"
    memory: str = "single"  # the decoder's memory: single (LOCAS), slices (of one vector) or windows (positional)
    n_windows: int = 4  # windows memory: windows per mRNA (the features must be embedded by window)
    whole_token: bool = True  # windows memory: the whole sequence's embedding is a first, global token
    position: str = "learned"  # slices / windows / positions: the decoder's position embedding (learned, sinusoidal,
    # or none)
    encoder: str = "mlp"  # mlp (LOCAS's Linear encoder on embeddings) or seqcnn (``seqcnn.SeqCNN`` on one-hot mRNA)
    seq_nt: int = 2000  # seqcnn: input length (nt; DM3Loc's layout, a quarter from the 5' end, the rest from the 3')
    cnn_width: int = 16  # seqcnn: filters per first-layer kernel
    cnn_kernels: tuple = (9, 21, 49)  # seqcnn: the first layer's kernel widths (nt, odd)
    cnn_dim: int = 64  # seqcnn: filters of the second convolution (the feature map's width)
    cnn_pools: tuple = (8, 4)  # seqcnn: max-pool sizes after the first and the second convolution
    cnn_batch_size: int = 32  # seqcnn: mini-batch (the CNN's inputs are long; the ML-Decoder head uses batch_size)
    cnn_epochs: int = 20  # seqcnn: epochs of the CNN (classification for seqcnn, contrastive for scl + seqcnn)
    cnn_lr: float = 1e-3
    cnn_norm: bool = False  # seqcnn: batch normalisation after each convolution
    cnn_patience: int = 5  # seqcnn: early-stopping patience of the CNN's stage (EDCLoc's training wrapper: 30)
    seed: int = 0


def _batches(n: int, batch_size: int, generator: torch.Generator):
    order = torch.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def _fit(module: nn.Module, params, batch_loss, val_loss, n: int, epochs: int, lr: float, batch_size: int,
         patience: int, generator: torch.Generator, desc: str, progress: bool) -> pd.DataFrame:
    """The epoch loop shared by both stages: Adam over ``params``, shuffled mini-batches of ``n`` examples (a
    batch of one is skipped), ``val_loss()`` after each epoch, early stopping with the best weights restored."""
    optimizer = torch.optim.Adam(params, lr=lr)
    stopper, history = EarlyStopping(patience), []
    for epoch in tqdm(range(epochs), desc=desc, disable=not progress):
        module.train()
        running, seen = 0.0, 0
        for batch in _batches(n, batch_size, generator):
            if len(batch) < 2:
                continue
            optimizer.zero_grad()
            loss = batch_loss(batch)
            loss.backward()
            optimizer.step()
            running, seen = running + loss.item() * len(batch), seen + len(batch)
        module.eval()
        with torch.inference_mode():
            val = float(val_loss())
        history.append({"epoch": epoch, "train_loss": running / max(seen, 1), "val_loss": val})
        if stopper.step(epoch, val, module):
            break
    stopper.restore(module)
    module.eval()
    return pd.DataFrame(history)


def train_contrastive(encoder: nn.Module, x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                      cfg: LocasConfig, progress: bool = True):
    """Stage 1: ``encoder`` (features → one ``cfg.encoder_dim`` vector per mRNA) and a new projection head trained
    with the multi-label supervised contrastive loss (Jaccard ≥ θ); the weights with the lowest validation loss
    are kept (in place). Returns (projection, history)."""
    from .losses import multilabel_supcon_loss
    from .models import ProjectionHead

    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    projection = ProjectionHead(cfg.encoder_dim, out_dim=cfg.projection_dim)
    device = training_device()
    both = nn.ModuleDict({"encoder": encoder, "projection": projection}).to(device)
    xt, yt = (torch.as_tensor(v, dtype=torch.float32).to(device) for v in (x, y))
    xv, yv = (torch.as_tensor(v, dtype=torch.float32).to(device) for v in (x_val, y_val))

    def loss(xs, ys):
        return multilabel_supcon_loss(projection(encoder(xs)), ys, cfg.theta, cfg.temperature)

    def val_loss():
        return np.mean([loss(xv[b], yv[b]).item()
                        for b in _batches(len(xv), cfg.batch_size, torch.Generator().manual_seed(0))])

    history = _fit(both, both.parameters(), lambda b: loss(xt[b], yt[b]), val_loss, len(xt), cfg.scl_epochs,
                   cfg.scl_lr, cfg.batch_size, cfg.patience, generator, "contrastive epochs", progress)
    return projection, history


def fit_multilabel(module: nn.Module, x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                   epochs: int, lr: float, batch_size: int, patience: int, loss_name: str = "bce", seed: int = 0,
                   progress: bool = True, chunk: int = 8192) -> pd.DataFrame:
    """Train ``module`` (inputs → class logits) with a ``losses.classification_loss`` (``weighted_bce`` weights
    classes by the training labels ``y``) and early stopping on validation loss (computed in chunks of ``chunk``
    examples), on ``training_device()`` (the module stays there); the best weights are restored in place. Returns
    the per-epoch history."""
    from .losses import classification_loss

    loss_fn = classification_loss(loss_name, y)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    device = training_device()
    module.to(device)
    xt, yt = (torch.as_tensor(v, dtype=torch.float32).to(device) for v in (x, y))
    xv, yv = (torch.as_tensor(v, dtype=torch.float32).to(device) for v in (x_val, y_val))

    def val_loss() -> float:
        # every loss here is a mean over elements: chunk means weighted by chunk size give the whole set's mean
        total = sum(loss_fn(module(xv[s:s + chunk]), yv[s:s + chunk]).item() * len(xv[s:s + chunk])
                    for s in range(0, len(xv), chunk))
        return total / len(xv)

    trainable = [p for p in module.parameters() if p.requires_grad]
    return _fit(module, trainable, lambda b: loss_fn(module(xt[b]), yt[b]), val_loss,
                len(xt), epochs, lr, batch_size, patience, generator, "epochs", progress)
