"""Two-way cluster (pigeonhole) bootstrap, weighted binary metrics and the over-splits summary."""
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from rnalib.learning import metrics


def width(result, name="auroc"):
    return result[name]["ci_high"] - result[name]["ci_low"]


def independent_pairs(seed=0, n=1000):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    prob = 1 / (1 + np.exp(-(y + rng.normal(size=n) - 0.5)))
    return y, prob


def clustered_pairs(seed=0, n=1500, n_x=12, n_y=25):
    """A few RNAs carry most pairs (Zipf-like sizes); prevalence, score offset and separation are RNA-level
    random effects, so the scores of pairs sharing an RNA are correlated."""
    rng = np.random.default_rng(seed)
    px, py = 1 / np.arange(1, n_x + 1) ** 1.5, 1 / np.arange(1, n_y + 1) ** 1.5
    ix, iy = rng.choice(n_x, n, p=px / px.sum()), rng.choice(n_y, n, p=py / py.sum())
    logit = rng.normal(0, 1, n_x)[ix] + rng.normal(0, 1, n_y)[iy] - 1
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    separation = 1 + rng.normal(0, 1, n_x)[ix] + rng.normal(0, 1, n_y)[iy]
    score = separation * y + rng.normal(0, 1, n_x)[ix] + rng.normal(0, 1, n_y)[iy] + rng.normal(size=n)
    return y, 1 / (1 + np.exp(-score)), np.array([f"mir{i}" for i in ix]), np.array([f"gene{j}" for j in iy])


def test_all_distinct_rnas_give_an_interval_like_the_pair_one():
    y, prob = independent_pairs()
    ids_x = np.array([f"x{i}" for i in range(len(y))])
    ids_y = np.random.default_rng(1).permutation(len(y))
    pair = metrics.evaluate_binary(y, prob, 0.5, n_boot=200, seed=0)
    cluster = metrics.evaluate_binary(y, prob, 0.5, n_boot=200, seed=0, clusters=(ids_x, ids_y))
    for name in metrics.BINARY_METRICS:
        assert cluster[name]["value"] == pair[name]["value"]
    # product weights count_x × count_y have variance ≈ 3 instead of 1: the interval is about √3 wider
    # (Owen's pigeonhole bootstrap is mildly conservative), the same order as the pair interval
    ratio = width(cluster) / width(pair)
    assert 1.2 < ratio < 2.4
    assert cluster["auroc"]["ci_low"] <= cluster["auroc"]["value"] <= cluster["auroc"]["ci_high"]


def test_shared_rnas_widen_the_interval():
    y, prob, ids_x, ids_y = clustered_pairs(seed=0)
    pair = metrics.evaluate_binary(y, prob, 0.5, n_boot=200, seed=0)
    cluster = metrics.evaluate_binary(y, prob, 0.5, n_boot=200, seed=0, clusters=(ids_x, ids_y))
    # well beyond the √3 ≈ 1.7 that the product weights alone give (previous test); seeds 0..11 give 3.2–9
    assert width(cluster) / width(pair) > 2.5
    assert width(cluster, "auprc") / width(pair, "auprc") > 2.5


def test_pigeonhole_weights_are_count_x_times_count_y():
    codes_x = np.array([0, 0, 1, 2, 2, 1])
    codes_y = np.array([0, 1, 1, 0, 3, 2])
    weights = metrics._pigeonhole_weights(codes_x, codes_y, np.random.default_rng(7))
    replay = np.random.default_rng(7)  # x clusters are drawn first, then y clusters
    count_x, count_y = Counter(replay.integers(0, 3, 3).tolist()), Counter(replay.integers(0, 4, 4).tolist())
    expected = [count_x[i] * count_y[j] for i, j in zip(codes_x, codes_y)]
    np.testing.assert_array_equal(weights, expected)
    assert weights.sum() > 0 and len(set(weights.tolist())) > 1


def test_pigeonhole_weights_on_a_full_grid_are_an_outer_product():
    n_x, n_y = 5, 7
    codes_x, codes_y = np.repeat(np.arange(n_x), n_y), np.tile(np.arange(n_y), n_x)
    rng = np.random.default_rng(3)
    for _ in range(20):
        grid = metrics._pigeonhole_weights(codes_x, codes_y, rng).reshape(n_x, n_y)
        count_x, count_y = grid.sum(axis=1) / n_y, grid.sum(axis=0) / n_x  # Σ count_y = n_y, Σ count_x = n_x
        np.testing.assert_allclose(grid, np.outer(count_x, count_y))
        assert count_x.sum() == n_x and count_y.sum() == n_y
        np.testing.assert_array_equal(count_x, np.round(count_x))


def test_weighted_metrics_equal_metrics_on_repeated_rows():
    rng = np.random.default_rng(5)
    n = 60
    y = rng.integers(0, 2, n)
    prob = np.round(np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1), 1)  # ties in the scores
    weights = rng.integers(0, 4, n)  # zeros included
    weighted = metrics.binary_metrics(y, prob, 0.5, sample_weight=weights)
    repeated = metrics.binary_metrics(np.repeat(y, weights), np.repeat(prob, weights), 0.5)
    assert set(weighted) == set(metrics.BINARY_METRICS) and metrics.BINARY_METRICS[-1] == "prevalence"
    for name in metrics.BINARY_METRICS:
        assert weighted[name] == pytest.approx(repeated[name], rel=1e-12), name
    assert weighted["prevalence"] == pytest.approx(np.sum(weights * y) / np.sum(weights))
    unweighted = metrics.binary_metrics(y, prob, 0.5)
    assert weighted["auroc"] != pytest.approx(unweighted["auroc"])  # the weights did something
    assert unweighted["prevalence"] == pytest.approx(y.mean())


def test_zero_weight_rows_are_ignored():
    y = np.array([1, 0, 0, 1])
    prob = np.array([0.9, 0.2, 0.7, 0.1])
    m = metrics.binary_metrics(y, prob, 0.5, sample_weight=[1, 1, 1, 0])
    assert m == metrics.binary_metrics(y[:3], prob[:3], 0.5)
    only_negatives = metrics.binary_metrics(y, prob, 0.5, sample_weight=[0, 2, 1, 0])
    assert np.isnan(only_negatives["auroc"]) and np.isnan(only_negatives["auprc"])
    assert only_negatives["prevalence"] == 0 and only_negatives["accuracy"] == pytest.approx(2 / 3)
    assert all(np.isnan(v) for v in metrics.binary_metrics(y, prob, 0.5, sample_weight=[0] * 4).values())
    with pytest.raises(ValueError):
        metrics.binary_metrics(y, prob, 0.5, sample_weight=[1, -1, 1, 1])


def test_cluster_bootstrap_is_deterministic():
    y, prob, ids_x, ids_y = clustered_pairs(seed=1, n=300)
    run = lambda seed: metrics.evaluate_binary(y, prob, 0.5, n_boot=40, seed=seed, clusters=(ids_x, ids_y))
    first = run(4)
    assert first == run(4)
    assert first != run(5)
    assert set(first) == set(metrics.BINARY_METRICS)
    assert first["prevalence"]["value"] == pytest.approx(y.mean())
    with pytest.raises(ValueError):
        metrics.evaluate_binary(y, prob, 0.5, n_boot=5, clusters=(ids_x[:-1], ids_y))


def test_summarize_over_splits():
    frame = pd.DataFrame({"model": ["a", "a", "a", "b", "b", "c"],
                          "metric": ["auroc", "auroc", "auroc", "auroc", "auprc", "auroc"],
                          "split_seed": [0, 1, 2, 0, 0, 0],
                          "value": [0.7, 0.8, 0.9, 0.6, 0.3, 0.5]})
    out = metrics.summarize_over_splits(frame, ["model", "metric"])
    assert list(out.columns) == ["model", "metric", "mean", "sd", "n", "ci_low", "ci_high"]
    assert out[["model", "metric"]].values.tolist() == [["a", "auroc"], ["b", "auprc"], ["b", "auroc"],
                                                        ["c", "auroc"]]
    a = out.iloc[0]
    assert a["mean"] == pytest.approx(0.8) and a["sd"] == pytest.approx(0.1) and a["n"] == 3
    # 95% t-interval: 0.8 ± t(0.975, 2) · 0.1 / √3, t(0.975, 2) = 4.303 (a t table)
    assert (a["ci_low"], a["ci_high"]) == pytest.approx((0.8 - 0.24843, 0.8 + 0.24843), abs=1e-4)
    assert out["sd"].iloc[1:].isna().all() and out["n"].iloc[1:].tolist() == [1, 1, 1]
    assert out[["ci_low", "ci_high"]].iloc[1:].isna().all().all()
    other = metrics.summarize_over_splits(frame.rename(columns={"value": "score"}), ["model"], value="score")
    assert other["n"].tolist() == [3, 2, 1] and other["mean"].iloc[1] == pytest.approx(0.45)


def _sklearn_replicates(y, prob, weights):
    """What the batched computation replaces: one scikit-learn call per replicate."""
    return [metrics.binary_metrics(y, prob, 0.5, sample_weight=w) for w in weights]


@pytest.mark.parametrize("case", ["ties", "continuous", "single_class_replicates"])
def test_batched_replicates_equal_scikit_learn(case):
    rng = np.random.default_rng(11)
    n = 80
    y = rng.integers(0, 2, n)
    prob = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1)
    prob = np.round(prob, 1) if case != "continuous" else prob  # ties, and scores equal to the threshold
    weights = rng.integers(0, 3, (25, n)).astype(float)  # zero weights included
    if case == "single_class_replicates":
        weights[0, y == 1] = 0  # no positives
        weights[1, y == 0] = 0  # no negatives
        weights[2] = 0          # nothing
        weights[3] = (np.arange(n) < 3)  # three rows
    batched = metrics.weighted_binary_metrics(y, prob, 0.5, weights)
    for r, expected in enumerate(_sklearn_replicates(y, prob, weights)):
        for name in metrics.BINARY_METRICS:
            assert batched[name][r] == pytest.approx(expected[name], rel=1e-9, abs=1e-12, nan_ok=True), (r, name)
    if case == "single_class_replicates":
        assert np.isnan(batched["auroc"][0]) and np.isnan(batched["auprc"][1]) and np.isnan(batched["accuracy"][2])


@pytest.mark.parametrize("clustered", [False, True])
def test_bootstrap_equals_the_per_replicate_scikit_learn_bootstrap(clustered):
    y, prob, ids_x, ids_y = clustered_pairs(seed=3, n=400)
    got = metrics.evaluate_binary(y, prob, 0.5, n_boot=60, seed=7, clusters=(ids_x, ids_y) if clustered else None)
    rng = np.random.default_rng(7)  # the same draws, replayed one replicate at a time through scikit-learn
    codes = metrics._cluster_index(ids_x), metrics._cluster_index(ids_y)
    weights = [metrics._pigeonhole_weights(*codes, rng) if clustered
               else np.bincount(rng.integers(0, len(y), len(y)), minlength=len(y)) for _ in range(60)]
    replicates = _sklearn_replicates(y, prob, weights)
    for name in metrics.BINARY_METRICS:
        sample = np.array([r[name] for r in replicates], dtype=float)
        low, high = np.percentile(sample[np.isfinite(sample)], [2.5, 97.5])
        assert got[name]["ci_low"] == pytest.approx(low, rel=1e-9) and got[name]["ci_high"] == pytest.approx(high, rel=1e-9)


def test_bootstrap_batches_bound_memory(monkeypatch):
    y, prob, ids_x, ids_y = clustered_pairs(seed=2, n=200)
    whole = metrics.evaluate_binary(y, prob, 0.5, n_boot=30, seed=1, clusters=(ids_x, ids_y))
    monkeypatch.setattr(metrics, "_BATCH_CELLS", 7 * len(y))  # batches of 7 replicates
    batched = metrics.evaluate_binary(y, prob, 0.5, n_boot=30, seed=1, clusters=(ids_x, ids_y))
    for name in metrics.BINARY_METRICS:
        assert batched[name] == pytest.approx(whole[name], rel=1e-12), name


def test_batched_replicates_compare_float32_scores_with_the_threshold_as_the_point_estimate_does():
    prob = np.full(4, 0.7, dtype=np.float32)
    y = np.array([1, 0, 1, 0])
    threshold = float(np.float32(0.7)) + 1e-9  # above the float64 value, equal to it in float32
    point = metrics.binary_metrics(y, prob, threshold)
    batched = metrics.weighted_binary_metrics(y, prob, threshold, np.ones((1, 4)))
    assert batched["recall"][0] == point["recall"] and batched["precision"][0] == point["precision"]
