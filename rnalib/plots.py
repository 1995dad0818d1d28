"""Figures for the notebooks; each function returns a matplotlib Figure and computes nothing itself."""
from __future__ import annotations

import matplotlib.pyplot as plt
import networkx as nx
import pandas as pd
import seaborn as sns

PALETTE = "colorblind"


def length_distributions(before: pd.DataFrame, after: pd.DataFrame, max_len: int) -> plt.Figure:
    """Histograms (log x) of RNA lengths per category, before and after the length filter.

    ``before`` / ``after``: one row per unique RNA with ``length`` and ``category``.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=False)
    for ax, frame, title in ((axes[0], before, f"before filter ({len(before):,} RNAs)"),
                             (axes[1], after, f"after ≤{max_len} nt ({len(after):,} RNAs)")):
        sns.histplot(frame, x="length", hue="category", log_scale=True, bins=40, element="step", ax=ax,
                     palette=PALETTE)
        ax.axvline(max_len, color="k", ls="--", lw=1)
        ax.set(title=title, xlabel="length (nt, log scale)", ylabel="RNAs")
    fig.tight_layout()
    return fig


def degree_distribution(degrees: pd.DataFrame) -> plt.Figure:
    """Degree histogram per category (log–log) from ``graph.degree_table``."""
    fig, ax = plt.subplots(figsize=(6, 3.8))
    counts = degrees.groupby(["category", "degree"]).size().rename("nodes").reset_index()
    sns.scatterplot(counts, x="degree", y="nodes", hue="category", ax=ax, palette=PALETTE)
    ax.set(xscale="log", yscale="log", title="degree distribution", xlabel="degree (partners)",
           ylabel="nodes")
    fig.tight_layout()
    return fig


def draw_components(components: list[nx.Graph], seed: int = 0) -> plt.Figure:
    """Spring-layout drawings of graph components, nodes coloured by category."""
    fig, axes = plt.subplots(1, max(len(components), 1), figsize=(5 * max(len(components), 1), 5), squeeze=False)
    categories = sorted({d.get("category") for g in components for _, d in g.nodes(data=True)})
    colours = dict(zip(categories, sns.color_palette(PALETTE, len(categories))))
    for ax, graph in zip(axes[0], components):
        pos = nx.spring_layout(graph, seed=seed)
        nx.draw_networkx_edges(graph, pos, ax=ax, alpha=0.15, width=0.5)
        nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=12,
                               node_color=[colours[graph.nodes[n].get("category")] for n in graph])
        ax.set_title(f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges")
        ax.axis("off")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=k) for k, c in colours.items()]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles))
    return fig


def bar(series: pd.Series, title: str, xlabel: str = "", ylabel: str = "sequences") -> plt.Figure:
    """A labelled bar chart of a Series."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    sns.barplot(x=series.index.astype(str), y=series.to_numpy(), ax=ax, color=sns.color_palette(PALETTE)[0])
    ax.bar_label(ax.containers[0], fmt="{:,.0f}", fontsize=8)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    fig.tight_layout()
    return fig


def heatmap(table: pd.DataFrame, title: str, fmt: str = ",d") -> plt.Figure:
    """An annotated heatmap of a square table."""
    fig, ax = plt.subplots(figsize=(6, 5))
    sns.heatmap(table, annot=True, fmt=fmt, cmap="viridis", ax=ax, cbar_kws={"label": "sequences"})
    ax.set_title(title)
    fig.tight_layout()
    return fig


def fold_sizes(sizes: pd.DataFrame) -> plt.Figure:
    """Per-class sequence counts of each fold's train / val / test part (from ``labels.fold_class_sizes``)."""
    long = sizes.drop(columns="total").reset_index().melt(["fold", "role"], var_name="class", value_name="n")
    grid = sns.catplot(long, x="class", y="n", hue="role", col="fold", kind="bar", height=3, aspect=1.1,
                       palette=PALETTE)
    grid.set_axis_labels("", "sequences")
    for ax in grid.axes.flat:
        ax.tick_params(axis="x", rotation=60)
    return grid.figure


def length_histogram(lengths: pd.Series, title: str, marks: dict[str, float] | None = None) -> plt.Figure:
    """Histogram of sequence lengths (log x) with labelled vertical marks (e.g. model windows)."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    sns.histplot(x=lengths.to_numpy(), log_scale=True, bins=60, ax=ax, color=sns.color_palette(PALETTE)[0])
    for i, (label, value) in enumerate((marks or {}).items()):
        ax.axvline(value, ls="--", lw=1, color=sns.color_palette(PALETTE)[i + 1], label=label)
    if marks:
        ax.legend()
    ax.set(title=title, xlabel="length (nt, log scale)", ylabel="sequences")
    fig.tight_layout()
    return fig
