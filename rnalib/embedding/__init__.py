"""Sequences → vectors, shared by both studies: ``embed`` (k-mer spectra, RNA-FM, RiNALMo, windowed embedders,
the choice among them), ``engine`` (RNA-FM's windows, batching and fused attention) and ``cache`` (embeddings
cached by embedder and RNA id, checksummed)."""
from .cache import EmbeddingCache, embed_cached
from .embed import Embedder, EmbedderChoice, embedder_from_id, select_embedder

__all__ = ["Embedder", "EmbedderChoice", "EmbeddingCache", "embed_cached", "embedder_from_id", "select_embedder"]
