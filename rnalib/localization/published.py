"""Published figures of the LOCAS paper (Abir, Tahmid, Rahman; bioRxiv 2024.09.24.614785), transcribed exactly.

Everything here is **published**, not measured: numbers as printed in the paper, with ``None`` where the paper
prints "-" (a method that reported no value for that class). The paper's class order (Nucleus, Exosome, Cytosol,
Ribosome, Membrane, ER; Table 2 writes "End. Reticulum") is the order of ``data.LOC_CLASSES``, so each row's tuple
lines up with it. ``tests/test_published.py`` re-reads the paper text and checks every number.

* ``TABLE1_MCC``: Table 1, per-class MCC of five methods.
* ``TABLE2_SCL_ABLATION``: Table 2, per-class MCC without and with supervised contrastive learning (MCC is the only
  metric it shows).
* ``TABLE3_THETA``: Table 3, per overlap threshold θ the number of clusters and five ranking / error metrics (its
  "Distribution" row is a figure in the paper and has no numbers).
* ``SUMMARY_LOCAS``: the LOCAS summary figures quoted in the text on Figure 2 (same values as
  ``localization.PUBLISHED_LOCAS``); ``PUBLISHED_MCC``: the rows ``localization.PUBLISHED_MCC`` uses.
* ``EDCLOC_MCC``, ``EDCLOC_AUROC``: the sequence-only peer EDCLoc's per-class means (another paper,
  ``EDCLOC_SOURCE``), in the same class order, and the length it reads (``EDCLOC_INPUT_NT``); ``PUBLISHED_AUROC``
  holds the published AUROC rows.

Inconsistencies in the paper itself are listed in ``PAPER_NOTES``.
"""
from __future__ import annotations

import math

import pandas as pd

from rnalib.data import LOC_CLASSES

SOURCE = "LOCAS (Abir, Tahmid, Rahman), bioRxiv 2024.09.24.614785"
CLASSES = ("Nucleus", "Exosome", "Cytosol", "Ribosome", "Membrane", "ER")
"""Column order of Tables 1 and 2 as printed (= ``data.LOC_CLASSES``)."""
assert CLASSES == tuple(LOC_CLASSES), "the paper's class order must match LOC_CLASSES"

TABLE1_MCC: dict[str, tuple[float | None, ...]] = {
    # Table 1: "Comparison of MCC values across different methods" (published). None = "-" in the paper.
    "DM3Loc": (0.386, 0.074, 0.287, 0.355, 0.312, 0.205),
    "RNATracker": (0.345, 0.000, 0.138, 0.270, 0.193, 0.000),
    "mRNALoc": (0.150, 0.000, -0.029, None, None, -0.148),
    "iLoc-mRNA": (0.052, None, 0.025, 0.390, None, 0.376),
    "LOCAS": (0.605, 0.501, 0.597, 0.421, 0.468, 0.000),
}

TABLE2_SCL_ABLATION: dict[str, tuple[float, ...]] = {
    # Table 2: per-class MCC "with and without Supervised Contrastive Learning (SCL)" (published).
    "Without SCL": (0.142, 0.000, 0.130, 0.005, 0.000, 0.000),
    "With SCL": (0.605, 0.501, 0.597, 0.421, 0.468, 0.000),
}

THETAS = (0.3, 0.5, 0.8)
TABLE3_THETA: dict[str, tuple[float, ...]] = {
    # Table 3: "Comparison of Clustering and Performance Metrics for Different threshold Values (θ)" (published).
    # Rows as printed; "Precision" is (by its values, cf. the Figure-2 text) the average precision.
    "Clusters": (13, 18, 46),
    "Precision": (0.503, 0.907, 0.943),
    "Coverage": (4.954, 3.156, 2.126),
    "One-Error": (0.583, 0.011, 0.009),
    "Ranking Loss": (0.701, 0.090, 0.080),
    "Hamming Loss": (0.431, 0.237, 0.150),
}
TABLE3_METRIC_KEYS = {"Clusters": "clusters", "Precision": "average_precision", "Coverage": "coverage",
                      "One-Error": "one_error", "Ranking Loss": "ranking_loss", "Hamming Loss": "hamming_loss"}
"""Table 3 row -> rnalib metric name."""

SUMMARY_LOCAS = {"example_accuracy": 0.75, "average_precision": 0.9434, "coverage": 2.1262, "one_error": 0.0092,
                 "ranking_loss": 0.0804, "hamming_loss": 0.1401}
"""LOCAS's summary figures, from the Results text on Figure 2 (published). Coverage: the paper does not say which
convention; its value is below the mean number of labels per mRNA (2.84 here), so it must be the 0-based one
(sklearn ``coverage_error`` − 1)."""

EDCLOC_SOURCE = ("EDCLoc (Deng et al., BMC Genomics 2024, 25:1252, doi:10.1186/s12864-024-11173-6; public code "
                 "DellCode233/EDCLoc): per-class means over DM3Loc's five folds, as its own notebook prints them")
EDCLOC_MCC = (0.408, 0.104, 0.300, 0.388, 0.334, 0.222)
"""EDCLoc's published per-class MCC (a one-hot multi-scale CNN on DM3Loc's data, classes and folds; order =
``CLASSES``)."""
EDCLOC_AUROC = (0.781, 0.783, 0.740, 0.771, 0.758, 0.698)
"""EDCLoc's published per-class AUROC (order = ``CLASSES``)."""
EDCLOC_INPUT_NT = 8000
"""The length of mRNA EDCLoc reads (DM3Loc's layout: 2,000 nt from the 5′ end and 6,000 from the 3′ end)."""

PUBLISHED_MCC = {**{f"{method} (published)": row for method, row in TABLE1_MCC.items()},
                 "LOCAS without SCL (published)": TABLE2_SCL_ABLATION["Without SCL"],
                 "EDCLoc (published)": EDCLOC_MCC}
"""Every published per-class MCC row (LOCAS's Table 1 and Table 2's ablation, and EDCLoc's), named as the report
shows them."""
PUBLISHED_AUROC = {"EDCLoc (published)": EDCLOC_AUROC}
"""Published per-class AUROC rows (LOCAS and DM3Loc's Table 1 print none)."""
PUBLISHED_LOCAS = SUMMARY_LOCAS

PAPER_NOTES = (
    "Hamming loss: the Figure-2 text gives 0.1401, Table 3 (θ = 0.8, the setting the paper uses) 0.150; the other "
    "four Table-3 metrics at θ = 0.8 are the text's figures rounded to 3 decimals (0.9434→0.943, 2.1262→2.126, "
    "0.0092→0.009, 0.0804→0.080), the Hamming loss is not (0.1401 would print as 0.140).",
    "The abstract and text claim state-of-the-art 'across all metrics', but Table 1 gives LOCAS an ER MCC of 0.000, "
    "below DM3Loc (0.205) and iLoc-mRNA (0.376); the Results text concedes the ER class.",
    "Table 2's text says omitting SCL drops performance 'across all metrics', but Table 2 shows only MCC, and ER is "
    "0.000 with and without SCL (no drop).",
    "Table 2's 'With SCL' row equals Table 1's LOCAS row (consistent).",
    "The text lists the classes as 'Nucleolus, Exosome, Cytosol, ...' (Section 2.3) where the tables and Section 2.1 "
    "say Nucleus.",
    "Table 3 reports 13 / 18 / 46 clusters at θ = 0.3 / 0.5 / 0.8 without defining a cluster; on DM3Loc's data "
    "there are only 43 distinct six-class label combinations, so 46 cannot be a partition of six-class "
    "combinations.",
    "Table 3 at θ = 0.3: ranking loss 0.701 (worse than a random ranking, 0.5) and one-error 0.583, with the text "
    "calling 0.3/0.5 clusterings 'heavily biased towards one cluster'.",
    "Dataset size: 17,298 mRNAs in the text; DM3Loc's published non-redundant file has 17,306.",
    "Figure 1's caption says 'LOCUS'; 'As shown in Figure Table 3' refers to a distribution plot that the text "
    "version does not contain (Table 3's 'Distribution' row is empty).",
    "References [7] and [20] are the same iLoc-mRNA paper, [9] and [17] the same RNALocate paper (years 2017/2016).",
)


def _nan(value):
    return math.nan if value is None else value


def table1() -> pd.DataFrame:
    """LOCAS Table 1 (published): per-class MCC, rows = methods, columns = classes; NaN where the paper prints "-"."""
    frame = pd.DataFrame({m: [_nan(v) for v in row] for m, row in TABLE1_MCC.items()}, index=list(CLASSES)).T
    frame.index.name = "method"
    frame.attrs["source"] = f"{SOURCE}, Table 1 (published)"
    return frame


def table2() -> pd.DataFrame:
    """LOCAS Table 2 (published): per-class MCC without / with SCL, rows = variants, columns = classes."""
    frame = pd.DataFrame(TABLE2_SCL_ABLATION, index=list(CLASSES)).T
    frame.index.name = "variant"
    frame.attrs["source"] = f"{SOURCE}, Table 2 (published)"
    return frame


def table3(metric_names: bool = False) -> pd.DataFrame:
    """LOCAS Table 3 (published): rows = θ (0.3, 0.5, 0.8), columns = clusters and the five metrics as printed
    (``metric_names``: rnalib's metric names instead, see ``TABLE3_METRIC_KEYS``). Clusters are integers."""
    frame = pd.DataFrame(TABLE3_THETA, index=pd.Index(THETAS, name="theta"))
    frame["Clusters"] = frame["Clusters"].astype(int)
    if metric_names:
        frame = frame.rename(columns=TABLE3_METRIC_KEYS)
    frame.attrs["source"] = f"{SOURCE}, Table 3 (published)"
    return frame


def summary() -> pd.Series:
    """LOCAS's summary figures (published; Results text on Figure 2)."""
    return pd.Series(SUMMARY_LOCAS, name="LOCAS (published)")


def notes() -> list[str]:
    """Inconsistencies found in the paper's own text and tables."""
    return list(PAPER_NOTES)
