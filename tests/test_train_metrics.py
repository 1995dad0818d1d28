import numpy as np
import pandas as pd
import pytest
import torch
from sklearn import metrics as skm

from rnalib.learning import metrics, models
from rnalib.learning.train import (BalancedBatchSampler, EarlyStopping, TrainConfig, make_scheduler, predict_proba,
                          train_classifier)


def test_balanced_sampler_ratio_and_coverage():
    labels = np.array([1] * 50 + [0] * 1000)
    sampler = BalancedBatchSampler(labels, batch_size=100, pos_fraction=0.3,
                                   generator=torch.Generator().manual_seed(0))
    tensors = list(sampler)
    assert all(b.dtype == torch.int64 and b.dim() == 1 for b in tensors)  # ready for index_select
    batches = [b.tolist() for b in tensors]
    assert len(batches) == len(sampler) == 15
    for batch in batches[:-1]:
        assert len(batch) == 100 and sum(labels[batch]) == 30
    negatives = [i for b in batches for i in b if labels[i] == 0]
    assert sorted(negatives) == list(range(50, 1050))  # each negative once per epoch


def test_scheduler_warmup_then_cosine_to_floor():
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([param], lr=5e-4)
    sched = make_scheduler(opt, warmup_epochs=4, max_epochs=20, min_lr=5e-5)
    lrs = []
    for _ in range(20):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    lrs.append(opt.param_groups[0]["lr"])
    assert lrs[0] == pytest.approx(1e-4)  # 5e-4 / (4 + 1)
    assert np.all(np.diff(lrs[:5]) > 0) and lrs[4] == pytest.approx(5e-4)
    assert np.all(np.diff(lrs[4:]) < 0) and lrs[20] == pytest.approx(5e-5)
    assert min(lrs) >= 5e-5 - 1e-12


def test_scheduler_can_reach_its_floor_early_and_hold_it():
    def rates(**kw):
        param = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.Adam([param], lr=3e-3)
        sched = make_scheduler(opt, **kw)
        out = []
        for _ in range(kw["max_epochs"]):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return np.array(out)

    held = rates(warmup_epochs=2, max_epochs=12, min_lr=5e-5, cosine_epochs=8)
    # the first 8 epochs are those of an 8-epoch budget; then the floor, not torch's cosine climbing back
    assert held[:8] == pytest.approx(rates(warmup_epochs=2, max_epochs=8, min_lr=5e-5))
    assert held[8:] == pytest.approx(np.full(4, 5e-5))
    assert rates(warmup_epochs=0, max_epochs=6, min_lr=5e-5, cosine_epochs=4)[4:] == pytest.approx([5e-5, 5e-5])
    assert rates(warmup_epochs=2, max_epochs=8, min_lr=5e-5, cosine_epochs=None) == pytest.approx(
        rates(warmup_epochs=2, max_epochs=8, min_lr=5e-5))
    assert rates(warmup_epochs=4, max_epochs=2, min_lr=5e-5) == pytest.approx([6e-4, 1.2e-3])  # quick runs: warmup
    with pytest.raises(ValueError, match="cosine_epochs"):
        rates(warmup_epochs=4, max_epochs=8, min_lr=5e-5, cosine_epochs=4)
    with pytest.raises(ValueError, match="never reach its floor"):
        rates(warmup_epochs=2, max_epochs=8, min_lr=5e-5, cosine_epochs=9)
    assert rates(warmup_epochs=2, max_epochs=8, min_lr=5e-5, cosine_epochs=8) == pytest.approx(
        rates(warmup_epochs=2, max_epochs=8, min_lr=5e-5, cosine_epochs=None))  # the floor at the budget


def test_early_stopping_restores_best_epoch():
    model = torch.nn.Linear(1, 1)
    stopper = EarlyStopping(patience=2)
    losses = [1.0, 0.5, 0.7, 0.8, 0.4]
    stopped_at = None
    for epoch, loss in enumerate(losses):
        with torch.no_grad():
            model.weight.fill_(epoch)
        if stopper.step(epoch, loss, model):
            stopped_at = epoch
            break
    assert stopped_at == 3 and stopper.best_epoch == 1
    stopper.restore(model)
    assert model.weight.item() == 1


def test_threshold_maximises_f1():
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.1, 0.35, 0.4, 0.8, 0.7, 0.9])
    t = metrics.best_f1_threshold(y, p)
    grid = {c: skm.f1_score(y, p >= c) for c in np.unique(p)}
    assert skm.f1_score(y, p >= t) == max(grid.values())
    assert t == 0.4


def test_metrics_match_scikit_learn_and_intervals_cover():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    p = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    got = metrics.evaluate_binary(y, p, 0.5, n_boot=100, seed=1)
    pred = p >= 0.5
    expected = {"accuracy": skm.accuracy_score(y, pred), "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
                "precision": skm.precision_score(y, pred), "recall": skm.recall_score(y, pred),
                "f1": skm.f1_score(y, pred), "auroc": skm.roc_auc_score(y, p),
                "auprc": skm.average_precision_score(y, p)}
    for name, value in expected.items():
        assert got[name]["value"] == pytest.approx(value)
        assert got[name]["ci_low"] <= value <= got[name]["ci_high"]
    np.testing.assert_allclose(metrics.normalized_confusion(y, p, 0.5),
                               skm.confusion_matrix(y, pred, normalize="true"))
    assert metrics.evaluate_binary(y, p, 0.5, n_boot=30, seed=1) == metrics.evaluate_binary(y, p, 0.5, 30, seed=1)


def test_all_negative_floor_and_degree_baseline():
    y = np.array([1] + [0] * 20)
    m = metrics.binary_metrics(y, models.all_negative_scores(21), threshold=1.0)
    assert m["accuracy"] == pytest.approx(20 / 21) and m["recall"] == 0 and m["auroc"] == 0.5
    degrees = pd.Series({"a": 3, "b": 1})
    scores = models.degree_scores(degrees, pd.Series(["a", "b", "z"]), pd.Series(["b", "z", "z"]))
    assert scores[0] == 1.0 and scores[2] == 0.0 and 0 < scores[1] < 1


def toy_problem(seed=0, n=600):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 1.2).astype(int)
    return x, y


def test_training_learns_and_is_deterministic():
    x, y = toy_problem()
    cfg = TrainConfig(layers=2, width=16, dropout=0.1, lr=1e-2, batch_size=64, warmup_epochs=1, max_epochs=6,
                      seed=3)
    model, history, best = train_classifier(x[:400], y[:400], x[400:], y[400:], cfg, progress=False)
    assert list(history.columns) == ["epoch", "train_loss", "val_loss", "lr"] and len(history) == 6
    assert best == int(history.val_loss.idxmin())
    p = predict_proba(model, x[400:])
    assert skm.roc_auc_score(y[400:], p) > 0.9
    again, history2, _ = train_classifier(x[:400], y[:400], x[400:], y[400:], cfg, progress=False)
    np.testing.assert_array_equal(predict_proba(again, x[400:]), p)
    pd.testing.assert_frame_equal(history, history2)
    # a per-epoch diagnostic adds columns and leaves training, the history and the kept weights as they were
    held_out = lambda epoch, m: {"held_out_auroc": skm.roc_auc_score(y[400:], predict_proba(m, x[400:]))}  # noqa: E731
    watched, history3, best3 = train_classifier(x[:400], y[:400], x[400:], y[400:], cfg, progress=False,
                                                on_epoch=held_out)
    pd.testing.assert_frame_equal(history3[history.columns], history)
    assert best3 == best and history3.held_out_auroc.between(0.5, 1).all()
    assert history3.held_out_auroc.iloc[best] == pytest.approx(skm.roc_auc_score(y[400:], p))
    np.testing.assert_array_equal(predict_proba(watched, x[400:]), p)


def test_warm_started_logistic_regression_reaches_the_cold_optimum_in_fewer_iterations():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 30))
    y = (x[:, :5].sum(axis=1) + 2 * x[:, 28] + rng.normal(size=3000) > 0).astype(int)
    first = models.fit_logistic(x[:, :25], y)  # the embeddings' model: the first columns only
    cold, warm = models.fit_logistic(x, y), models.fit_logistic(x, y, init=first)
    np.testing.assert_allclose(warm.predict_proba(x), cold.predict_proba(x), atol=5e-3)  # the solver's tolerance
    assert skm.roc_auc_score(y, warm.predict_proba(x)[:, 1]) == pytest.approx(
        skm.roc_auc_score(y, cold.predict_proba(x)[:, 1]), abs=1e-3)
    assert warm.n_iter_[0] < cold.n_iter_[0]
    assert warm.coef_[0, 28] > 1  # the added column was learned, not left at its starting zero


def test_concatenated_scaler_equals_one_fitted_on_the_joined_columns():
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(1)
    a, b = rng.normal(3, 2, (500, 4)).astype(np.float32), rng.normal(-1, 5, (500, 2))  # embeddings are float32
    joined = models.concatenated_scaler(StandardScaler().fit(a), StandardScaler().fit(b))
    both = np.hstack([a, b])
    np.testing.assert_array_equal(joined.transform(both), StandardScaler().fit(both).transform(both))
