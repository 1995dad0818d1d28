"""Figures for the notebooks; each function returns a matplotlib Figure and computes nothing itself."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import networkx as nx
import pandas as pd
import seaborn as sns


PALETTE = "colorblind"


def _dodged(n_x: int, k: int, n_levels: int, width: float) -> np.ndarray:
    """x positions of the ``k``-th of ``n_levels`` series side by side within ``width`` around 0..n_x-1."""
    return np.arange(n_x) + (k - (n_levels - 1) / 2) * width / max(n_levels, 1)


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


def training_curves(history: pd.DataFrame) -> plt.Figure:
    """Per-epoch train / validation loss and, when recorded, learning rate (one line per ``variant``)."""
    hue = "variant" if "variant" in history and history["variant"].nunique() > 1 else None
    panels = [(y, t) for y, t in (("train_loss", "train loss"), ("val_loss", "validation loss"),
                                  ("lr", "learning rate")) if y in history]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.7 * len(panels), 3.6))
    for ax, (y, title) in zip(axes, panels):
        sns.lineplot(history, x="epoch", y=y, hue=hue, ax=ax, palette=PALETTE if hue else None, legend=ax is axes[-1])
        ax.set(title=title, ylabel="")
    if hue:
        sns.move_legend(axes[-1], "upper left", bbox_to_anchor=(1.02, 1), fontsize=7)
    fig.tight_layout()
    return fig


def confusion_grid(matrices: dict[tuple[str, str], list[list[float]]]) -> plt.Figure:
    """Normalised confusion matrices on a grid: keys are (row label, column label)."""
    rows = sorted({r for r, _ in matrices})
    cols = sorted({c for _, c in matrices})
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(2.6 * len(cols), 2.4 * len(rows)), squeeze=False)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            ax = axes[i][j]
            if (r, c) in matrices:
                sns.heatmap(matrices[(r, c)], annot=True, fmt=".2f", vmin=0, vmax=1, cbar=False, cmap="Blues", ax=ax,
                            xticklabels=["pred 0", "pred 1"], yticklabels=["true 0", "true 1"])
            else:
                ax.axis("off")
            ax.set_title(f"{r} · {c}", fontsize=8)
    fig.tight_layout()
    return fig


def metric_comparison(long: pd.DataFrame, x: str = "protocol", hue: str = "model",
                      metrics: tuple[str, ...] = ("balanced_accuracy", "f1", "auroc", "auprc")) -> plt.Figure:
    """Point estimates with their 95% intervals, one panel per metric."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.8), squeeze=False)
    levels = sorted(long[hue].unique())
    colours = dict(zip(levels, sns.color_palette(PALETTE, len(levels))))
    xs = sorted(long[x].unique())
    for ax, metric in zip(axes[0], metrics):
        part = long[long["metric"] == metric]
        for k, level in enumerate(levels):
            sub = part[part[hue] == level].set_index(x).reindex(xs)
            pos = _dodged(len(xs), k, len(levels), 0.8)
            ax.errorbar(pos, sub["value"], yerr=[sub["value"] - sub["ci_low"], sub["ci_high"] - sub["value"]],
                        fmt="o", ms=4, capsize=2, color=colours[level], label=level)
        ax.set_xticks(range(len(xs)), xs)
        ax.set(title=metric, ylim=(-0.02, 1.02))
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=7)
    fig.tight_layout()
    return fig


def latent_panels(coords: np.ndarray, label: np.ndarray, prob: np.ndarray, train_coords: np.ndarray,
                  degree: np.ndarray, title: str) -> plt.Figure:
    """A 2-D map of test pairs four ways: true label, predicted probability, KDE density of the training
    examples in the same map, and the pair's training degree (the shortcut diagnostic)."""
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.4))
    order = np.argsort(label)
    sns.scatterplot(x=coords[order, 0], y=coords[order, 1], hue=np.asarray(label)[order], s=8, ax=axes[0],
                    palette={0: "#bbbbbb", 1: "#d62728"}, linewidth=0)
    axes[0].set_title("true label")
    art = axes[1].scatter(coords[:, 0], coords[:, 1], c=prob, s=8, cmap="viridis", vmin=0, vmax=1)
    fig.colorbar(art, ax=axes[1], label="predicted probability")
    axes[1].set_title("predicted probability")
    sns.kdeplot(x=train_coords[:, 0], y=train_coords[:, 1], fill=True, cmap="mako", ax=axes[2], levels=12, thresh=0.02)
    axes[2].scatter(coords[:, 0], coords[:, 1], s=3, c="w", alpha=0.5)
    axes[2].set_title("density of training examples (KDE)")
    art = axes[3].scatter(coords[:, 0], coords[:, 1], c=np.log1p(degree), s=8, cmap="magma")
    fig.colorbar(art, ax=axes[3], label="log(1 + training degree of x + y)")
    axes[3].set_title("training degree (shortcut)")
    for ax in axes:
        ax.set(xticks=[], yticks=[])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def projection_map(coords: np.ndarray, groups: np.ndarray, title: str, top: int = 8) -> plt.Figure:
    """A 2-D map coloured by group (e.g. label combination); groups beyond the ``top`` most frequent are grey."""
    groups = pd.Series(groups)
    keep = groups.value_counts().index[:top]
    shown = groups.where(groups.isin(keep), "other")
    order = [*keep, "other"] if (shown == "other").any() else list(keep)
    colours = dict(zip(order, [*sns.color_palette("tab10", len(keep)), (0.8, 0.8, 0.8)]))
    fig, ax = plt.subplots(figsize=(8, 6))
    for name in reversed(order):
        mask = (shown == name).to_numpy()
        ax.scatter(coords[mask, 0], coords[mask, 1], s=5, color=colours[name], label=f"{name} ({mask.sum()})")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, markerscale=3)
    ax.set(title=title, xticks=[], yticks=[])
    fig.tight_layout()
    return fig


def grouped_bars(table: pd.DataFrame, value: str, title: str) -> plt.Figure:
    """Bars of a rows × columns table: columns on the x axis, one colour per row (e.g. variants × classes)."""
    long = table.reset_index(names="row").melt("row", var_name="column", value_name=value)
    fig, ax = plt.subplots(figsize=(11, 4))
    sns.barplot(long, x="column", y=value, hue="row", ax=ax, palette="tab10")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7)
    ax.set(title=title, xlabel="")
    fig.tight_layout()
    return fig


def protocol_effect(table: pd.DataFrame, order: tuple[str, ...], metrics: tuple[str, ...] = ("auroc", "auprc"),
                    ) -> plt.Figure:
    """Mean ± sd over split seeds per protocol (x axis, in ``order``: study A's ``sampling.PROTOCOLS``) and model
    (colour); AUROC panels mark chance (0.5), AUPRC panels the prevalence (what a random ranking scores).
    ``table``: ``interactions.over_splits`` rows."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 3.9), squeeze=False)
    xs = [p for p in order if p in set(table["protocol"])]
    levels = list(dict.fromkeys(table["model"]))
    colours = dict(zip(levels, sns.color_palette(PALETTE, len(levels))))
    for ax, metric in zip(axes[0], metrics):
        part = table[table["metric"] == metric]
        for k, level in enumerate(levels):
            sub = part[part["model"] == level].set_index("protocol").reindex(xs)
            pos = _dodged(len(xs), k, len(levels), 0.7)
            ax.errorbar(pos, sub["mean"], yerr=sub["sd"].fillna(0), fmt="o", ms=5, capsize=3,
                        color=colours[level], label=level)
        if metric == "auroc":
            ax.axhline(0.5, color="grey", ls="--", lw=1, label="chance")
        if metric == "auprc":
            prev = part.drop_duplicates("protocol").set_index("protocol")["prevalence"].reindex(xs)
            ax.scatter(np.arange(len(xs)), prev, marker="_", s=400, color="grey", label="prevalence (random)")
        ax.set_xticks(range(len(xs)), xs)
        ax.set(title=f"{metric} (mean ± sd over splits)", ylim=(0, 1.02) if metric != "auroc" else (0.3, 1.02))
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
    fig.tight_layout()
    return fig


def reliability_diagram(table: pd.DataFrame) -> plt.Figure:
    """Reliability diagram per protocol (one panel each; ``interactions.reliability_on_test``): mean calibrated
    probability (x) against the observed share of interactions (y) per bin, one line per split seed and
    configuration, with the diagonal of perfect calibration; each panel's title counts its test positives (all
    its lines together)."""
    protocols = list(dict.fromkeys(table["protocol"]))
    fig, axes = plt.subplots(1, len(protocols), figsize=(3.2 * len(protocols), 3.3), squeeze=False)
    for ax, protocol in zip(axes[0], protocols):
        part = table[table["protocol"] == protocol]
        for (config, seed), line in part.groupby(["config", "split_seed"]):
            ax.plot(line["predicted"], line["observed"], marker="o", ms=3, lw=1, label=f"{config} s{seed}")
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8)
        title = f"{protocol}: {int(part['positives'].sum())} test positives" if "positives" in part else protocol
        ax.set(title=title, xlim=(0, 1), ylim=(0, 1), xlabel="calibrated probability (test)")
    axes[0][0].set_ylabel("observed share of interactions")
    axes[0][-1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.tight_layout()
    return fig


def energy_distributions(table: pd.DataFrame, order: tuple[str, ...]) -> plt.Figure:
    """Best duplex MFE (kcal/mol) of positive and negative test pairs, one panel per protocol (in ``order``),
    all split seeds together, as densities (each class normalised on its own). ``table``:
    ``interactions.pairing_table`` (columns protocol, label, duplex_mfe)."""
    protocols = [p for p in order if p in set(table["protocol"])]
    fig, axes = plt.subplots(1, len(protocols), figsize=(3.0 * len(protocols), 2.9), squeeze=False, sharey=True)
    bins = np.linspace(table["duplex_mfe"].min(), max(table["duplex_mfe"].max(), 0.0), 40)
    for ax, protocol in zip(axes[0], protocols):
        part = table[table["protocol"] == protocol]
        for label, name, colour in ((0, "negatives", "grey"), (1, "positives", "C3")):
            values = part.loc[part["label"] == label, "duplex_mfe"].dropna()
            ax.hist(values, bins=bins, density=True, histtype="step", lw=1.5, color=colour,
                    label=f"{name} (n={len(values):,}, median {values.median():.1f})" if len(values) else name)
        ax.set(title=protocol, xlabel="best duplex MFE (kcal/mol)")
        ax.legend(fontsize=6, loc="upper left")
    axes[0][0].set_ylabel("density")
    fig.tight_layout()
    return fig
