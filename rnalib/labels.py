"""Multi-label localization labels: counts, label-set sizes, co-occurrence, per-fold class sizes."""
from __future__ import annotations

import numpy as np
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


def combination_name(flags, classes: tuple[str, ...] = LOC_CLASSES) -> str:
    """A label set written as 'Nucleus+Exosome' (``flags``: one truth value per class; 'none' when empty)."""
    return "+".join(c for c, on in zip(classes, flags) if on) or "none"


def combination_names(records: pd.DataFrame, classes: tuple[str, ...] = LOC_CLASSES) -> np.ndarray:
    """Each row's label set, named by ``combination_name``."""
    return np.array([combination_name(row, classes) for row in records[list(classes)].to_numpy().astype(bool)])


def label_combinations(records: pd.DataFrame, classes: tuple[str, ...] = LOC_CLASSES) -> pd.Series:
    """Distinct label sets, written as 'Nucleus+Exosome', with their sequence counts."""
    return pd.Series(combination_names(records, classes)).value_counts().rename("sequences")


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
