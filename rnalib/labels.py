"""Multi-label localization labels: counts, label-set sizes, co-occurrence, per-fold class sizes."""
from __future__ import annotations

import pandas as pd

from .data import LOC_CLASSES


def class_counts(records: pd.DataFrame, classes: tuple[str, ...] = LOC_CLASSES) -> pd.Series:
    """Number of sequences carrying each class."""
    return records[list(classes)].sum().astype(int).rename("sequences")


def labels_per_sequence(records: pd.DataFrame, classes: tuple[str, ...] = LOC_CLASSES) -> pd.Series:
    """How many sequences have 1, 2, ... labels."""
    return records[list(classes)].sum(axis=1).value_counts().sort_index().rename_axis("labels").rename("sequences")


def cooccurrence(records: pd.DataFrame, classes: tuple[str, ...] = LOC_CLASSES) -> pd.DataFrame:
    """Class × class counts of sequences carrying both (the diagonal is the class count)."""
    y = records[list(classes)].astype(int)
    return y.T @ y


def label_combinations(records: pd.DataFrame, classes: tuple[str, ...] = LOC_CLASSES) -> pd.Series:
    """Distinct label sets, written as 'Nucleus+Cytosol', with their sequence counts."""
    names = records[list(classes)].astype(bool).apply(lambda r: "+".join(c for c in classes if r[c]) or "none",
                                                      axis=1)
    return names.value_counts().rename("sequences")


def fold_class_sizes(records: pd.DataFrame, folds: pd.DataFrame,
                     classes: tuple[str, ...] = LOC_CLASSES) -> pd.DataFrame:
    """Sequences per class in each fold's train / val / test part (rows fold × role, columns classes)."""
    y = records.set_index("accession")[list(classes)]
    blocks = {}
    for fold in [c for c in folds.columns if c.startswith("fold")]:
        for role in ("train", "val", "test"):
            members = folds.index[folds[fold] == role]
            block = y.loc[members].sum()
            block["total"] = len(members)
            blocks[(fold, role)] = block
    return pd.DataFrame(blocks).T.rename_axis(["fold", "role"]).astype(int)
