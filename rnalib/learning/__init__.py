"""What both studies learn with: ``models`` (feed-forward classifier, LOCAS encoder, ML-Decoder, baselines),
``losses`` (multi-label supervised contrastive, ASL), ``train`` (training loops and their configurations,
exposed here), ``metrics`` (binary and multi-label scores, cluster bootstrap) and ``latent`` (2-D maps)."""
from .train import LocasConfig, TrainConfig

__all__ = ["LocasConfig", "TrainConfig"]
