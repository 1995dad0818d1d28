"""Study A's published figures and what the paper's own code did (Debbia 2025; code:
github.com/ValentinaDebbia/ncRNA-ncRNA-Interaction-Prediction, ``code/Bioinformatics - 1.ipynb`` and ``- 3.ipynb``).

The paper's text splits the data 90/10 (then 80/20 for validation) and samples negatives at 1:20. Its code
(cell 7 of notebook 1) calls ``train_test_split(filtered_df, test_size=0.2, random_state=42)`` on the *rows* of
the length-filtered CSV, which repeat each pair about 14 times, then samples negatives per split; its saved outputs
print the counts in ``PAPER_CODE_OUTPUTS``. Every number here is copied from those printed outputs (published),
except what ``row_split_leakage`` and ``realised_ratios`` compute from them.
"""
from __future__ import annotations

PAPER_CODE_OUTPUTS = {
    "rows_after_length_filter": 1085,   # "Count after filtering sequences exceeding 1022"
    "unique_sequences": 131,
    "unique_pairs": 76,                 # "Number of edges (interactions)" of the undirected graph of those rows
    "train_rows": 868, "test_rows": 217,
    "test_size": 0.2,                   # train_test_split(..., test_size=0.2, random_state=42): rows, unstratified
    "train_positives": 3472, "train_negatives": 15614,  # after x4 augmentation and per-split negatives ("Fold 0")
    "test_positives": 868, "test_negatives": 5337,
    "nominal_ratio": 20,
}
"""Counts printed by the paper's code (its saved notebook outputs), not measured here."""


def realised_ratios(outputs: dict = PAPER_CODE_OUTPUTS) -> dict[str, float]:
    """Negatives per positive that the paper's code reached in train and test (its sampler gives up after 100
    failed draws and deduplicates): train 15,614 / 3,472 = 4.50, test 5,337 / 868 = 6.15, against the nominal 20."""
    return {"train": outputs["train_negatives"] / outputs["train_positives"],
            "test": outputs["test_negatives"] / outputs["test_positives"]}


def row_split_leakage(rows: int, pairs: int, test_size: float) -> float:
    """Lower bound on the expected share of test positive rows whose pair also has a row in training, for a random
    row split of ``rows`` rows over ``pairs`` distinct pairs (each pair has at least one row).

    The share is smallest when rows are as concentrated as possible: ``pairs - 1`` pairs with one row each (such
    a row leaks nothing when it lands in test, expected ``(pairs - 1) · test_size`` test rows) and one pair holding
    the rest (whose test rows all have a training copy). So at least
    ``1 - (pairs - 1) · test_size / (rows · test_size)`` of the test rows repeat a training pair. For the paper's
    code (1,085 rows, 76 pairs, 20% test) that is 1 - 15 / 217 = 0.931. Raises ValueError when rows < pairs."""
    if rows < pairs or pairs < 1 or not 0 < test_size < 1:
        raise ValueError(f"need rows >= pairs >= 1 and 0 < test_size < 1 (got {rows}, {pairs}, {test_size})")
    return 1 - (pairs - 1) / rows
