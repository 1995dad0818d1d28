from itertools import combinations

import pytest

from rnalib.interactions import published


def test_the_paper_codes_realised_ratios_and_row_split_leakage():
    ratios = published.realised_ratios()
    assert ratios["train"] == pytest.approx(4.497, abs=1e-3) and ratios["test"] == pytest.approx(6.149, abs=1e-3)
    out = published.PAPER_CODE_OUTPUTS
    assert out["train_rows"] + out["test_rows"] == out["rows_after_length_filter"]
    # f(1) = 217/1085 = 0.2 per one-row pair, f(2) = 2 * 0.2 * 216/1084 for the rest: 75 * 0.2 + 0.0797 rows
    bound = published.row_split_leakage(out["rows_after_length_filter"], out["unique_pairs"], out["test_rows"])
    assert bound == pytest.approx(1 - (75 * 0.2 + 2 * 0.2 * 216 / 1084) / 217, abs=1e-9)
    assert published.row_split_leakage(76, 76, 15) == 0.0  # one row per pair: no test row can have a copy
    with pytest.raises(ValueError, match="pairs <= rows"):
        published.row_split_leakage(10, 20, 2)
    assert published.floor_percent(bound) == "93.0%"  # 0.93051: a lower bound is never rounded up (to 93.1%)
    assert published.floor_percent(0.5) == "50.0%" and published.floor_percent(0.12345, 2) == "12.34%"


def _exact_share(layout: tuple[int, ...], test_rows: int) -> float:
    """Expected share of test rows with a training copy, by listing every test set of the layout's rows."""
    pair_of_row = [p for p, k in enumerate(layout) for _ in range(k)]
    shares = []
    for test in combinations(range(len(pair_of_row)), test_rows):
        train_pairs = {pair_of_row[r] for r in range(len(pair_of_row)) if r not in test}
        shares.append(sum(pair_of_row[r] in train_pairs for r in test) / test_rows)
    return sum(shares) / len(shares)


def _layouts(rows: int, pairs: int, smallest: int = 1):
    if pairs == 1:
        if rows >= smallest:
            yield (rows,)
        return
    for k in range(smallest, rows // pairs + 1):
        for rest in _layouts(rows - k, pairs - 1, k):
            yield (k, *rest)


@pytest.mark.parametrize("rows,pairs", [(8, 3), (9, 4), (7, 2)])
def test_row_split_leakage_is_below_every_layouts_exact_share(rows, pairs):
    for test_rows in range(1, rows):
        bound = published.row_split_leakage(rows, pairs, test_rows)
        exact = [_exact_share(layout, test_rows) for layout in _layouts(rows, pairs)]
        assert bound <= min(exact) + 1e-12, (rows, pairs, test_rows)


def test_unmatched_test_rows_is_the_hypergeometric_expectation():
    layout, test_rows = (1, 2, 3), 3
    expected = sum(published.unmatched_test_rows(k, 6, test_rows) for k in layout)
    assert 1 - expected / test_rows == pytest.approx(_exact_share(layout, test_rows))
