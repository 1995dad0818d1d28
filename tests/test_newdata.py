"""The command line for new RNAs: `embed` a FASTA file, `predict-pairs` with a saved study-A model; inputs checked
like the loaders' (one line: file, record, problem), outputs written whole or not at all."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from rnalib import data, interactions
from rnalib.cli import newdata
from rnalib.embedding import embed
from rnalib.cli.main import main
from rnalib.embedding.cache import EmbeddingCache
from rnalib.interactions import pairing
from rnalib.learning.train import TrainConfig


def write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, problem", [
    ("", "no FASTA records"),
    ("ACGU\n>a\nACGU\n", ":1: sequence line before any FASTA header"),
    (">a\nACGU\n>b\n\n", ":3: record b: empty sequence"),
    (">a\nAC-GU\n", ":1: record a: letters outside ACGUTN: -"),
    (">a x\nACGU\n>a y\nGGG\n", ":3: record a: duplicate id (first at line 1)"),
    (">\nACGU\n", ":1: FASTA header without an id"),
])
def test_fasta_errors_are_one_line(tmp_path, text, problem):
    path = write(tmp_path / "in.fa", text)
    with pytest.raises(data.DataError) as excinfo:
        newdata.read_fasta(path)
    message = str(excinfo.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message


def test_embed_writes_one_row_per_record_and_resumes_from_the_cache(tmp_path, capsys):
    fasta = write(tmp_path / "in.fa", ">m1 a miRNA\nUGAGGUAGUAGGUUGUAUAGUU\n>l1\nACGT\nACGUUU\n>m2\nUGAGGUAGUAGGUUGUAUAGUU\n")
    cache = EmbeddingCache(tmp_path / "cache")
    frame = newdata.embed_fasta(fasta, tmp_path / "out.parquet", cache=cache, progress=False)
    saved = pd.read_parquet(tmp_path / "out.parquet")
    assert list(saved["id"]) == ["m1", "l1", "m2"] and (saved["embedder"] == "kmer-k1-4-freq-v1").all()
    assert saved.shape[1] == 4 + 4 + 16 + 64 + 256 and saved.equals(frame)
    assert list(saved["informative_kmers"]) == [19, 7, 19] and list(saved["ambiguous_replaced"]) == [0, 0, 0]
    assert (saved.iloc[0, 4:] == saved.iloc[2, 4:]).all()  # the same sequence, the same vector
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 2  # two distinct sequences stored as computed
    assert main(["embed", str(fasta), "-o", str(tmp_path / "again.parquet"), "--cache", str(tmp_path / "cache")]) == 0
    assert pd.read_parquet(tmp_path / "again.parquet").equals(saved)
    bad = write(tmp_path / "bad.fa", ">x\nACGU\n>x\nACGU\n")
    assert main(["embed", str(bad), "-o", str(tmp_path / "bad.parquet")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "record x: duplicate id" in err and not (tmp_path / "bad.parquet").exists()


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    pairs = data.load_interactions()
    cfg = TrainConfig(layers=1, width=16, dropout=0.1, lr=1e-3, batch_size=256, warmup_epochs=1, max_epochs=2, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = interactions.run_interactions(pairs, embed.select_embedder("kmer", kmer_k=(1, 4)), cfg, "C1",
                                            ratio=3, max_pairs=80, n_boot=5, progress=False, pair_network=True)
        for protocol, seed in (("C1", 1), ("C3", 0)):  # the same configuration under other seeds / protocols
            other = interactions.run_interactions(pairs, embed.select_embedder("kmer", kmer_k=(1, 4)), cfg, protocol,
                                                  ratio=3, max_pairs=80, n_boot=5, progress=False, split_seed=seed,
                                                  pair_network=True)
            interactions.save_run(other, root, interactions.variant_name("Tiny", protocol, seed), "Tiny")
    return interactions.save_run(run, root, "Tiny__C1__s0", "Tiny"), run


def test_predict_pairs_ranks_and_matches_the_saved_network(saved_run, tmp_path, capsys):
    folder, run = saved_run
    test = run.dataset[(run.dataset.role == "test") & (run.dataset.augmentation == "original")].head(25)
    csv = tmp_path / "pairs.csv"
    test.rename(columns={"seq_x": "RNA_sequence_x", "seq_y": "RNA_sequence_y"})[
        ["RNA_sequence_x", "RNA_sequence_y"]].to_csv(csv, index=False)
    assert main(["predict-pairs", str(csv), "--model", str(folder), "-o", str(tmp_path / "scores.csv")]) == 0
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert list(scores["rank"]) == list(range(1, 26)) and scores["score"].is_monotonic_decreasing
    assert scores["probability"].is_monotonic_decreasing  # the calibrator keeps the order
    expected = dict(zip(zip(test.id_x, test.id_y), run.predictions.set_index(["rna_x_id", "rna_y_id"])
                        .loc[list(zip(test.id_x, test.id_y)), "prob"]))
    for x, y, p in zip(scores.x, scores.y, scores.score):
        assert p == pytest.approx(expected[(x, y)], abs=1e-5)  # the run's own test predictions
    threshold = scores["threshold"].iloc[0]
    assert (scores["interacts"] == (scores["score"] >= threshold)).all()
    # FASTA ids instead of sequences
    fasta = write(tmp_path / "r.fa", ">a\n" + test.seq_x.iloc[0] + "\n>b\n" + test.seq_y.iloc[0] + "\n")
    ids = write(tmp_path / "ids.csv", "x,y\na,b\n")
    assert main(["predict-pairs", str(ids), "--fasta", str(fasta), "--model", str(folder), "-o",
                 str(tmp_path / "ids_scores.csv")]) == 0
    assert pd.read_csv(tmp_path / "ids_scores.csv")["score"].item() == pytest.approx(
        expected[(test.id_x.iloc[0], test.id_y.iloc[0])], abs=1e-5)
    capsys.readouterr()


def test_predict_pairs_writes_pairing_and_scores_with_the_pair_network(saved_run, tmp_path):
    folder, run = saved_run
    test = run.dataset[(run.dataset.role == "test") & (run.dataset.augmentation == "original")].head(12)
    csv = tmp_path / "pairs.csv"
    test.rename(columns={"seq_x": "RNA_sequence_x", "seq_y": "RNA_sequence_y"})[
        ["RNA_sequence_x", "RNA_sequence_y"]].to_csv(csv, index=False)
    scores = newdata.predict_pairs(csv, folder, tmp_path / "s.csv", progress=False, pair_network=True)
    expected = run.predictions.set_index(["rna_x_id", "rna_y_id"])
    for row in scores.itertuples():
        assert row.score == pytest.approx(expected.loc[(row.x, row.y), "prob_network_pair"].item(), abs=1e-5)
        seq_x, seq_y = test.set_index(["id_x", "id_y"]).loc[(row.x, row.y), ["seq_x", "seq_y"]]
        f = dict(zip(pairing.FEATURES, pairing.pair_interaction_features(seq_x, seq_y)))
        # the miRNA is found by its length, as for any new pair; the saved run saw the same features
        assert row.duplex_mfe == pytest.approx(f["duplex_mfe"], abs=1e-4) and row.sites == int(np.nansum(
            [f[c] for c in pairing.COUNT_FEATURES]))
        assert row.best_site_type == ({r: t for t, r in pairing.SITE_RANK.items()} | {0: "none"})[int(f["best_site_rank"])]
        assert row.sites == expected.loc[(row.x, row.y), "sites"].item()
    assert {"best_site_start", "supplementary_3p", "duplex_x_start", "duplex_y_end"} <= set(scores.columns)
    plain = newdata.predict_pairs(csv, folder, tmp_path / "p.csv", progress=False)
    assert list(plain["duplex_mfe"].sort_values()) == list(scores["duplex_mfe"].sort_values())
    # the pair network's epochs are saved like the embedding network's (max_epochs 2: one or two run)
    saved = json.loads((folder / "metrics.json").read_text())["network_pair_training"]
    assert 0 <= saved["best_epoch"] < saved["epochs_run"] <= 2


def test_predict_pairs_flags_pairs_without_information_and_writes_by_suffix(saved_run, tmp_path, capsys):
    folder, _ = saved_run
    mi, lnc = "UGAGGUAGUAGGUUGUAUAGUU", "ACGUACGUACGUAAGGCUAGCUAGGA"
    csv = write(tmp_path / "p.csv", f"RNA_sequence_x,RNA_sequence_y\nNNNNNNNN,{lnc}\n{mi},{lnc}\n{mi},ACG\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = newdata.predict_pairs(csv, folder, tmp_path / "s.tsv", progress=False)
    said = [str(w.message) for w in caught if w.category is data.DataWarning]
    assert len(said) == 2 and f"{csv}: row 2: x " in said[0] and f"{csv}: row 4: y " in said[1]
    assert all("no 4-mer without N" in m and "flagged, not scored" in m for m in said)
    saved = pd.read_csv(tmp_path / "s.tsv", sep="\t")
    assert list(saved["informative"]) == [True, False, False]  # the scored pair first, flagged ones last
    assert saved["probability"].isna().tolist() == [False, True, True] and saved["rank"].tolist()[0] == 1
    assert saved["score"].isna().tolist() == [False, True, True]
    assert saved["rank"].isna().tolist() == [False, True, True] == saved["interacts"].isna().tolist()
    assert list(scores["probability"].isna()) == [False, True, True]
    assert main(["predict-pairs", str(csv), "--model", str(folder), "-o", str(tmp_path / "s.xlsx")]) == 1
    assert "unknown output format '.xlsx'" in capsys.readouterr().err and not (tmp_path / "s.xlsx").exists()


@pytest.mark.parametrize("content, args, problem", [
    ("", [], "empty file"),
    ("RNA_sequence_x\nACGU\n", [], "missing column(s) RNA_sequence_y"),
    ("RNA_sequence_x,RNA_sequence_y\nACGU,\n", [], "row 2: RNA_sequence_y: empty sequence"),
    ("RNA_sequence_x,RNA_sequence_y\nACGU,ACXU\n", [], "row 2: RNA_sequence_y: letters outside ACGUTN: X"),
    ("RNA_sequence_x,RNA_sequence_y\n", [], "no pairs"),
    ("x,y\na,zz\n", ["--fasta"], "row 2: y id 'zz' is not a record of"),
    ("RNA_sequence_x,RNA_sequence_y\nACGU,ACGU\n", ["--embedder", "kmer"], "trained on embedder kmer-k1-4-freq-v1, not"),
])
def test_predict_pairs_input_errors_are_one_line_and_write_nothing(saved_run, tmp_path, capsys, content, args,
                                                                   problem):
    folder, _ = saved_run
    csv = write(tmp_path / "p.csv", content)
    if args == ["--fasta"]:
        args = ["--fasta", str(write(tmp_path / "r.fa", ">a\nACGU\n"))]
    if args == ["--embedder", "kmer"]:  # kmer at k = 1..5 is another embedder than the model's 1..4
        args = ["--embedder", "kmer", "--kmer-k-max", "5"]
    assert main(["predict-pairs", str(csv), "--model", str(folder), "-o", str(tmp_path / "s.csv"), *args]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and problem in err and not (tmp_path / "s.csv").exists()


def test_console_script_is_installed():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "rnalib"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and all(c in done.stdout for c in ("embed", "predict-pairs", "localize", "notebook"))


def _mutated(seq, positions):
    """``seq`` with the nucleotides at ``positions`` changed (A<->C, G<->U): a new RNA of the same family."""
    swap = {"A": "C", "C": "A", "G": "U", "U": "G", "T": "G", "N": "A"}
    chars = list(seq)
    for p in positions:
        chars[p] = swap[chars[p]]
    return "".join(chars)


def _c1_not_a_training_pair(orig):
    """Sequences (x, y) of two training RNAs that never form a training pair together."""
    train = orig[orig.role == "train"]
    keys = {frozenset(p) for p in zip(train.id_x, train.id_y)}
    return next((sx, sy) for ix, sx in zip(train.id_x, train.seq_x) for iy, sy in zip(train.id_y, train.seq_y)
                if frozenset((ix, iy)) not in keys)


def test_predict_pairs_says_the_protocol_of_each_pair_and_its_measured_figures(saved_run, tmp_path):
    folder, run = saved_run
    orig = run.dataset[run.dataset.augmentation == "original"]
    train = orig[(orig.role == "train") & (orig.label == 1)].iloc[0]
    train_ids = set(orig.loc[orig.role == "train", "id_x"]) | set(orig.loc[orig.role == "train", "id_y"])
    mirna = next(s for i, s in zip(orig.id_x, orig.seq_x) if i in train_ids and len(s) <= 30)
    lnc = next(s for i, s in zip(orig.id_y, orig.seq_y) if i in train_ids and len(s) > 200)
    c1_x, c1_y = _c1_not_a_training_pair(orig)
    rng = __import__("numpy").random.default_rng(5)
    novel = "".join(rng.choice(list("ACGU"), 300))
    csv = tmp_path / "p.csv"
    pd.DataFrame({"RNA_sequence_x": [train.seq_y, c1_x, train.seq_x, _mutated(mirna, [12, 15]), "UUUUUUUUAGCAGCAGCAGC"],
                  "RNA_sequence_y": [train.seq_x, c1_y, novel, _mutated(lnc, [50]), novel]}).to_csv(csv, index=False)
    asked = pd.read_csv(csv)
    order = [(data.rna_id(a), data.rna_id(b)) for a, b in zip(asked.RNA_sequence_x, asked.RNA_sequence_y)]
    out = newdata.predict_pairs(csv, folder, tmp_path / "s.csv", progress=False)  # ranked by score
    out = out.set_index(["x", "y"]).loc[order].reset_index()  # back in the order asked
    # row 0: a training pair asked the other way round: in-sample, no protocol figure
    assert list(out["in_training"]) == [True, False, False, False, False]
    assert list(out["seen_x"]) == [True, True, True, False, False]
    assert list(out["seen_y"]) == [True, True, False, False, False]
    assert list(out["family_seen_x"]) == [True, True, True, True, False]
    assert list(out["family_seen_y"]) == [True, True, False, True, False]
    assert list(out["protocol"]) == ["C1", "C1", "C2", "C3", "C4"]
    import json
    import numpy as np
    from scipy import stats

    root = folder.parent
    c1 = [json.loads((root / v / "metrics.json").read_text())["models"]["model"]["test"]
          for v in ("Tiny__C1__s0", "Tiny__C1__s1")]
    c3 = json.loads((root / "Tiny__C3__s0" / "metrics.json").read_text())["models"]["model"]["test"]
    for metric in ("auroc", "auprc"):
        values = np.array([t[metric]["value"] for t in c1])
        half = stats.t.ppf(0.975, 1) * values.std(ddof=1) / np.sqrt(2)
        assert out.loc[1, f"protocol_{metric}"] == pytest.approx(values.mean())
        assert out.loc[1, f"protocol_{metric}_low"] == pytest.approx(max(values.mean() - half, 0))
        assert out.loc[1, f"protocol_{metric}_high"] == pytest.approx(min(values.mean() + half, 1))
        assert out.loc[3, f"protocol_{metric}"] == pytest.approx(c3[metric]["value"])
        assert np.isnan(out.loc[3, f"protocol_{metric}_low"])  # one split seed: no interval
        assert out.loc[[0, 2, 4], f"protocol_{metric}"].isna().all()  # in-sample, C2, C4 never measured: no number
    assert list(out["protocol_runs"]) == [0, 2, 0, 1, 0]
    assert out.loc[0, "protocol_note"] == "training pair: score is in-sample; no protocol figure applies"
    assert out.loc[2, "protocol_note"] == "not measured: no saved run of this configuration under C2"
    assert out.loc[3, "protocol_note"] == "1 split seed: no interval"
    assert pd.isna(out.loc[1, "protocol_note"]) or out.loc[1, "protocol_note"] == ""
    about = (tmp_path / "s.csv.about.txt").read_text()
    assert "C1: 2 run(s): Tiny__C1__s0;Tiny__C1__s1" in about and "C2: 0 run(s): none (not measured)" in about


def test_a_run_saved_without_its_rnas_labels_two_new_rnas_c3_or_c4(saved_run, tmp_path):
    import shutil

    folder, run = saved_run
    old = tmp_path / "results" / "interactions" / "Old__C1__s0"
    shutil.copytree(folder, old)
    (old / "rnas.csv.gz").unlink()
    import torch

    from rnalib.interactions import trust

    val = run.predictions[(run.predictions.role == "val") & (run.predictions.augmentation == "original")]
    iso = trust.fit_calibrator(val["label"].to_numpy(), val["prob"].to_numpy(), min_positives=0)
    torch.save({k: v for k, v in iso.items() if k != "positives"}, old / "calibration.pt")  # an older calibrator
    rng = __import__("numpy").random.default_rng(7)
    novel = "".join(rng.choice(list("ACGU"), 300))
    csv = write(tmp_path / "p.csv", f"RNA_sequence_x,RNA_sequence_y\nUUUUUUUUAGCAGCAGCAGC,{novel}\n")
    out = newdata.predict_pairs(csv, old, tmp_path / "s.csv", progress=False)
    assert out["protocol"].item() == "C3 or C4" and out["family_seen_x"].isna().all()
    assert out["protocol_auroc"].isna().all() and out["protocol_runs"].item() == 0
    assert out["protocol_note"].item().startswith("families unknown (run saved without rnas.csv.gz)")
    assert out["probability"].item() == pytest.approx(trust.calibrate(iso, out["score"].to_numpy()).item())
    assert "calibration: isotonic on" in (tmp_path / "s.csv.about.txt").read_text()


def test_a_new_long_rna_linked_only_to_a_validation_rna_joins_its_family():
    """Families are connected components over all the run's RNAs: a new long RNA close to a validation RNA whose
    family has a training member is in a seen family (C3), though it resembles no training RNA."""
    import numpy as np

    from rnalib.interactions import trust

    rng = np.random.default_rng(3)
    train_seq, val_seq_, other = ("".join(rng.choice(list("ACGU"), 300)) for _ in range(3))
    rnas = pd.DataFrame({"id": ["t", "v", "o"], "family": ["F", "F", "G"], "seen": [True, False, False],
                         "sequence": [train_seq, val_seq_, other]})
    params = {"min_kmer_containment": 0.3, "min_seq_id": 0.8, "coverage": 0.5}
    new = [_mutated(val_seq_, [150]), _mutated(other, [150]), _mutated(train_seq, [150])]
    assert trust.family_seen(new, rnas, params) == [True, False, True]


def test_protocol_figures_pool_only_the_same_setting_once_per_seed_and_count_finite_values(saved_run, tmp_path):
    import json
    import shutil

    import numpy as np

    folder, _ = saved_run
    root = tmp_path / "results" / "interactions"
    shutil.copytree(folder.parent, root)

    def clone(src, name, params=None, test=None):
        shutil.copytree(root / src, root / name)
        manifest, metrics = json.loads((root / name / "manifest.json").read_text()), json.loads(
            (root / name / "metrics.json").read_text())
        manifest["parameters"] |= params or {}
        metrics["split_seed"] = manifest["parameters"]["split_seed"]
        for metric, value in (test or {}).items():
            metrics["models"]["model"]["test"][metric]["value"] = value
        (root / name / "manifest.json").write_text(json.dumps(manifest))
        (root / name / "metrics.json").write_text(json.dumps(metrics))

    clone("Tiny__C1__s1", "Tiny__C1__s2", {"ratio": 5, "split_seed": 2})  # another ratio: another model
    clone("Tiny__C1__s1", "Tiny__C1__s3", {"embedder": {"used": "other"}, "split_seed": 3})  # another embedder
    clone("Tiny__C3__s0", "Tiny__C3__s0__copy")  # the same protocol and split seed again
    clone("Tiny__C3__s0", "Tiny__C3__s4", {"split_seed": 4}, {"auroc": float("nan"), "auprc": float("nan")})
    # a profile's per-protocol schedule and a second network on pair features: still the same setting
    config = json.loads((root / "Tiny__C3__s0" / "manifest.json").read_text())["parameters"]["config"]
    clone("Tiny__C3__s0", "Tiny__C3__s5", {"split_seed": 5, "pair_network": True,
                                           "config": {**config, "lr": 3e-3, "warmup_epochs": 0, "max_epochs": 20,
                                                      "cosine_epochs": 15, "patience": 10}})
    clone("Tiny__C3__s0", "Tiny__C3__s6", {"split_seed": 6, "config": {**config, "width": 7}})  # another network
    with pytest.warns(UserWarning, match="same setting, protocol and split seed"):
        figures = interactions.protocol_figures(root / "Tiny__C1__s0").set_index("protocol")
    assert figures.at["C1", "runs"] == 2 and figures.at["C1", "run_folders"] == "Tiny__C1__s0;Tiny__C1__s1"
    assert figures.at["C3", "runs"] == 2 and figures.at["C3", "run_folders"] == "Tiny__C3__s0;Tiny__C3__s5"
    assert set(figures.at["C3", "schedule"].split("; ")) == {
        "lr 0.003, no warmup, 20 epochs (cosine to 15), patience 10",
        f"lr {config['lr']:g}, warmup {config['warmup_epochs']}, {config['max_epochs']} epochs, "
        f"patience {config['patience']}"}
    assert np.isfinite(figures.at["C3", "auroc"]) and np.isfinite(figures.at["C3", "auroc_low"])


def test_mean_interval_is_the_student_t_interval_of_fixed_values():
    import numpy as np

    from rnalib.interactions import trust

    mean, low, high = trust.mean_interval([0.6, 0.7, 0.8])
    half = 4.302652729911275 * 0.1 / np.sqrt(3)
    assert mean == pytest.approx(0.7) and low == pytest.approx(0.7 - half) and high == pytest.approx(0.7 + half)
    assert trust.mean_interval([0.5, float("nan")])[0] == 0.5 and np.isnan(trust.mean_interval([0.5])[1])
    assert trust.mean_interval([0.5, 0.9]) == pytest.approx((0.7, 0.0, 1.0))  # two seeds: clipped to [0, 1]


def test_calibrator_is_monotone_and_matches_the_validation_prevalence(saved_run, tmp_path):
    import numpy as np
    import torch

    folder, run = saved_run
    state = torch.load(folder / "calibration.pt", weights_only=True)  # plain tensors and numbers
    val = run.predictions[(run.predictions.role == "val") & (run.predictions.augmentation == "original")]
    assert state["positives"] == val["label"].sum() < 50 and state["method"] == "platt"  # few positives: Platt
    grid = np.linspace(-0.5, 1.5, 401)
    assert (np.diff(interactions.calibrate(state, grid)) > 0).all()  # strictly increasing: no ties
    calibrated = interactions.calibrate(state, val["prob"].to_numpy())
    assert abs(calibrated.mean() - val["label"].mean()) < 0.01
    assert state["prevalence"] == pytest.approx(run.metrics["val_prevalence"])
    # predict-pairs: probability = calibrated score, the prevalence stated; an old run folder: raw score only
    pairs = write(tmp_path / "p.csv", f"RNA_sequence_x,RNA_sequence_y\n{val_seq(run, 'x')},{val_seq(run, 'y')}\n")
    out = newdata.predict_pairs(pairs, folder, tmp_path / "s.csv", progress=False)
    assert out["probability"].item() == pytest.approx(interactions.calibrate(state, out["score"].to_numpy()).item())
    assert out["calibrated_prevalence"].item() == pytest.approx(state["prevalence"])
    import shutil
    old = tmp_path / "results" / "interactions" / "Old__C1__s0"
    shutil.copytree(folder, old)
    (old / "calibration.pt").unlink()
    with pytest.warns(data.DataWarning, match="calibration is unavailable"):
        out = newdata.predict_pairs(pairs, old, tmp_path / "old.csv", progress=False)
    assert out["probability"].isna().all() and out["score"].notna().all()
    assert "calibration: unavailable" in (tmp_path / "old.csv.about.txt").read_text()
    interactions.calibrate_saved_run(old)  # added from the run's own validation predictions: the same calibrator
    again = interactions.load_calibrator(old)
    assert all(torch.allclose(again[k], state[k], atol=1e-6) for k in ("coef", "intercept"))


def test_calibrator_uses_only_validation_pairs_in_their_original_orientation(saved_run):
    import numpy as np

    from rnalib.interactions import trust

    _, run = saved_run
    pred = run.predictions
    state = trust.validation_calibrator(pred)
    rng = np.random.default_rng(0)
    others = ~((pred.role == "val") & (pred.augmentation == "original"))
    shuffled = pred.copy()
    shuffled.loc[others, "label"] = rng.permutation(pred.loc[others, "label"].to_numpy())  # test, reversed rows
    assert shuffled.loc[others, "label"].to_numpy().tolist() != pred.loc[others, "label"].to_numpy().tolist()
    again = trust.validation_calibrator(shuffled)
    val = pred[~others]
    refit = trust.fit_calibrator(val["label"].to_numpy(), val["prob"].to_numpy())
    grid = np.linspace(0, 1, 101)
    assert np.allclose(trust.calibrate(again, grid), trust.calibrate(state, grid))
    assert np.allclose(trust.calibrate(refit, grid), trust.calibrate(state, grid))
    flipped = pred.copy()
    flipped.loc[~others, "label"] = 1 - pred.loc[~others, "label"]  # the validation labels do matter
    assert not np.allclose(trust.calibrate(trust.validation_calibrator(flipped), grid), trust.calibrate(state, grid))


def test_few_validation_positives_get_platt_scaling_many_get_isotonic():
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from rnalib.interactions import trust

    rng = np.random.default_rng(1)
    score = rng.uniform(size=400)
    y = (rng.uniform(size=400) < score * 0.1).astype(int)  # about 20 positives
    few = trust.fit_calibrator(y, score)
    assert few["method"] == "platt" and few["positives"] == y.sum() < trust.MIN_ISOTONIC_POSITIVES
    expected = LogisticRegression(C=1e6).fit(score.reshape(-1, 1), y).predict_proba(score.reshape(-1, 1))[:, 1]
    assert np.allclose(trust.calibrate(few, score), expected, atol=1e-6)
    test = np.sort(rng.uniform(size=50))
    assert len(np.unique(trust.calibrate(few, test))) == 50 and trust.calibrate(few, test).max() < 0.99
    iso = trust.fit_calibrator(y, score, min_positives=5)
    assert iso["method"] == "isotonic" and len(np.unique(trust.calibrate(iso, test))) < 50  # steps: ties
    many = (rng.uniform(size=400) < score).astype(int)
    assert trust.fit_calibrator(many, score)["method"] == "isotonic"


def val_seq(run, side):
    """A sequence of the first validation pair of a run."""
    return run.dataset[run.dataset.role == "val"][f"seq_{side}"].iloc[0]


def test_reliability_bins_follow_the_observed_frequencies(saved_run):
    import numpy as np

    rng = np.random.default_rng(0)
    p = rng.uniform(size=20_000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    calibrated = interactions.reliability(y, p)
    assert len(calibrated) == 10 and np.abs(calibrated["observed"] - calibrated["predicted"]).max() < 0.03
    assert (calibrated["pairs"] == 2000).all() and calibrated["positives"].sum() == y.sum()
    np.testing.assert_allclose(calibrated["positives"] / calibrated["pairs"], calibrated["observed"])
    tied = interactions.reliability(y, np.round(p * 3) / 3)  # four distinct values: ties collapse quantile bins
    assert len(tied) < 10 and tied["pairs"].sum() == len(y)
    overconfident = interactions.reliability(y, p ** 3)  # scores far below the frequencies they stand for
    assert (overconfident["observed"] - overconfident["predicted"]).max() > 0.2
    folder, _ = saved_run
    summaries, _, _ = interactions.load_results(folder.parent.parent.parent)
    table = interactions.reliability_on_test(summaries, n_bins=3)
    assert set(zip(table.protocol, table.split_seed)) == {("C1", 0), ("C1", 1), ("C3", 0)}
    assert table[["predicted", "observed"]].stack().between(0, 1).all()
    for (protocol, seed), part in table.groupby(["protocol", "split_seed"]):  # every test pair in one bin
        folder_ = folder.parent / f"Tiny__{protocol}__s{seed}"
        pred = pd.read_csv(folder_ / "predictions.csv.gz")
        test = pred[(pred.role == "test") & (pred.augmentation == "original")]
        assert part["pairs"].sum() == len(test) and part["positives"].sum() == test["label"].sum()
    from rnalib.report import plots

    fig = plots.reliability_diagram(table)
    c1_positives = int(table.loc[table.protocol == "C1", "positives"].sum())
    assert fig.axes[0].get_title() == f"C1: {c1_positives} test positives"
