import pytest

from rnalib.interactions import published


def test_the_paper_codes_realised_ratios_and_row_split_leakage():
    ratios = published.realised_ratios()
    assert ratios["train"] == pytest.approx(4.497, abs=1e-3) and ratios["test"] == pytest.approx(6.149, abs=1e-3)
    out = published.PAPER_CODE_OUTPUTS
    assert out["train_rows"] + out["test_rows"] == out["rows_after_length_filter"]
    # 75 one-row pairs, each in test with probability 0.2: 15 of the 217 expected test rows leak nothing
    bound = published.row_split_leakage(out["rows_after_length_filter"], out["unique_pairs"], out["test_size"])
    assert bound == pytest.approx(1 - 15 / 217, abs=1e-9)
    assert published.row_split_leakage(76, 76, 0.2) == pytest.approx(1 / 76)  # one row per pair: almost nothing
    with pytest.raises(ValueError, match="rows >= pairs"):
        published.row_split_leakage(10, 20, 0.2)


def test_row_split_leakage_bound_holds_by_simulation():
    """Random row splits of a concentrated layout (75 one-row pairs + one big pair) never leak less on average."""
    import numpy as np

    rng = np.random.default_rng(0)
    pair_of_row = np.r_[np.arange(75), np.full(1085 - 75, 75)]
    shares = []
    for _ in range(300):
        test = rng.random(len(pair_of_row)) < 0.2
        train_pairs = set(pair_of_row[~test])
        shares.append(np.isin(pair_of_row[test], list(train_pairs)).mean())
    assert np.mean(shares) == pytest.approx(published.row_split_leakage(1085, 76, 0.2), abs=0.005)
