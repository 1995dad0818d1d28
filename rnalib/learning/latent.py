"""Two-dimensional maps of learned representations (UMAP, t-SNE)."""
from __future__ import annotations

import warnings

import numpy as np


def project_2d(points: np.ndarray, method: str = "tsne", seed: int = 0) -> np.ndarray:
    """UMAP or t-SNE of ``points`` into 2-D (deterministic for a seed). UMAP compiles with numba on first use."""
    if method == "umap":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm.auto without ipywidgets
            import umap

            return umap.UMAP(n_components=2, random_state=seed, n_jobs=1).fit_transform(points)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (len(points) - 1) / 3)))
        return TSNE(n_components=2, random_state=seed, perplexity=perplexity, init="pca").fit_transform(points)
    raise ValueError(f"unknown projection {method!r} (umap or tsne)")

