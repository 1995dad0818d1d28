import json
import os
import time

import pandas as pd
import pytest

from rnalib.report import results


def test_write_results_contract(tmp_path):
    started = time.time()
    manifest = results.manifest({"config": "Baseline"}, started, seed=7, embedder={"used": "kmer-k1-5-freq-v1"})
    for key in ("git_commit", "parameters", "seed", "embedder", "data", "packages", "wall_time_s", "created"):
        assert key in manifest
    assert manifest["packages"]["torch"].startswith("2.13.0") and manifest["seed"] == 7
    assert manifest["machine"]["cpu"] != "unknown" and manifest["machine"]["logical_cpus"] == os.cpu_count()
    preds = pd.DataFrame({"rna_x_id": ["a"], "rna_y_id": ["b"], "label": [1], "prob": [0.9], "role": ["test"]})
    folder = results.write_results(tmp_path, "interactions", "Baseline__C1", {"auroc": 0.5}, preds, manifest)
    assert folder == tmp_path / "results" / "interactions" / "Baseline__C1"
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "metrics.json", "predictions.csv.gz"]
    assert json.loads((folder / "metrics.json").read_text()) == {"auroc": 0.5}
    pd.testing.assert_frame_equal(pd.read_csv(folder / "predictions.csv.gz"), preds)
    # rewriting replaces the folder whole
    results.write_results(tmp_path, "interactions", "Baseline__C1", {"auroc": 0.7}, preds, manifest)
    assert json.loads((folder / "metrics.json").read_text()) == {"auroc": 0.7}
    assert [p.name for p in folder.parent.iterdir()] == ["Baseline__C1"]


def test_failed_write_leaves_nothing_half(tmp_path):
    class Broken(pd.DataFrame):
        def to_csv(self, *args, **kwargs):
            raise OSError("disk full")

    with pytest.raises(OSError):
        results.write_results(tmp_path, "s", "v", {"x": 1}, Broken({"a": [1]}), {})
    assert list((tmp_path / "results" / "s").iterdir()) == []


def test_git_commit_outside_repository(tmp_path):
    assert results.git_commit(tmp_path) == "unknown"


def test_results_root_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv(results.RESULTS_ENV, raising=False)
    assert results.results_root() == results.REPO_ROOT / "reports"
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path))
    assert results.results_root() == tmp_path and results.results_root("elsewhere") == results.Path("elsewhere")
    folder = results.write_results(None, "s", "v", {}, pd.DataFrame({"a": [1]}), {})
    assert folder == tmp_path / "results" / "s" / "v"


def test_embedder_summary_says_each_reason_once():
    plain = {"used": "kmer-k1-4-freq-v1", "fallback": True, "reason": "FALLBACK to the k-mer spectrum: no weights"}
    windowed = {"used": "kmer-k1-4-freq-v1-windows-ends-4x1000-5p1+whole", "fallback": True,
                "reason": "FALLBACK to the k-mer spectrum: no weights; each of 4 windows embedded on its own"}
    summary = results.embedder_summary([{"manifest": {"embedder": e}} for e in (plain, windowed, plain)])
    assert summary["reason"] == "FALLBACK to the k-mer spectrum: no weights; each of 4 windows embedded on its own"
    assert summary["fallback"] and summary["used"].count("kmer-k1-4-freq-v1") == 2


def test_machine_names_the_vector_instructions_torch_dispatches_to_once_torch_is_loaded():
    import torch

    assert results.machine()["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
