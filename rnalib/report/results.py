"""Run manifests and the results contract: ``reports/results/<study>/<variant>/`` holds ``metrics.json``,
``predictions.csv.gz`` and ``manifest.json`` (git commit, parameters, data sha256, embedder, package versions,
machine, seed, wall time). A results folder is written whole or not at all.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from rnalib import data

PACKAGES = ("rnalib", "torch", "rna-fm", "numpy", "pandas", "scikit-learn", "networkx", "umap-learn", "matplotlib",
            "seaborn", "papermill", "nbconvert", "pooch", "tqdm")
REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS_ENV = "RNALIB_RESULTS_DIR"


def results_root(explicit: str | Path | None = None) -> Path:
    """Where runs are written and read: ``explicit``, else ``$RNALIB_RESULTS_DIR``, else the repository's
    ``reports/`` (``make test`` points the variable at a scratch folder so tests never touch real reports)."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(RESULTS_ENV) or REPO_ROOT / "reports")


def git_commit(root: Path = REPO_ROOT) -> str:
    """HEAD commit of the checkout (``+dirty`` when tracked files changed), or 'unknown' outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that shape results (plus Python itself)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine() -> dict[str, Any]:
    """The machine a run used: ``cpu`` (the model name from ``/proc/cpuinfo``, else ``platform.processor()``),
    ``logical_cpus`` and, where torch is already loaded, ``torch_cpu_capability`` (the vector instructions its CPU
    kernels dispatch to, e.g. ``AVX2``; ``torch.backends.cpu.get_cpu_capability``). A seed repeats a run's
    metrics exactly on one machine; across machines the network's floating-point sums may differ, and where early
    stopping fires with them (study A's C1 split 2 in stop 31)."""
    cpu = platform.processor()
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), cpu)
    except OSError:
        pass
    out: dict[str, Any] = {"cpu": cpu or "unknown", "logical_cpus": os.cpu_count()}
    torch = sys.modules.get("torch")
    if torch is not None:
        out["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    return out


def manifest(params: dict[str, Any], started: float, seed: int | None = None,
             embedder: dict[str, Any] | None = None, weights_sha256: str | None = None,
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything needed to rerun and check a run. ``started`` is a ``time.time()`` taken at its start."""
    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "parameters": params,
        "seed": seed,
        "embedder": embedder,
        "weights_sha256": weights_sha256,
        "data": data.used_files(),
        "packages": package_versions(),
        "platform": platform.platform(),
        "machine": machine(),
        "wall_time_s": round(time.time() - started, 3),
        **(extra or {}),
    }


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_json(path: Path, payload: Any) -> None:
    """Pretty, deterministic JSON (numpy scalars and paths allowed)."""
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=_json_default) + "\n")


# gzip level 1: a C1 split (800k rows) writes in 3 s instead of 8 s at the default level 9, 20% larger
FAST_GZIP = {"method": "gzip", "compresslevel": 1}


def write_results(root: str | Path | None, study: str, variant: str, metrics: dict[str, Any],
                  predictions: pd.DataFrame, run_manifest: dict[str, Any],
                  extra_tables: dict[str, pd.DataFrame] | None = None,
                  extra_files: dict[str, Callable[[Path], None]] | None = None) -> Path:
    """Write one run's results folder atomically (staged beside the target, then renamed into place).

    ``extra_tables`` become ``<name>.csv.gz``; ``extra_files`` maps a file name to a function writing it.
    """
    target = results_root(root) / "results" / study / variant
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{variant}.{uuid.uuid4().hex}.partial"
    staging.mkdir()
    try:
        write_json(staging / "metrics.json", metrics)
        predictions.to_csv(staging / "predictions.csv.gz", index=False, compression=FAST_GZIP)
        for name, table in (extra_tables or {}).items():
            table.to_csv(staging / f"{name}.csv.gz", index=False, compression=FAST_GZIP)
        for name, writer in (extra_files or {}).items():
            writer(staging / name)
        write_json(staging / "manifest.json", run_manifest)
        if target.exists():
            old = target.parent / f".{variant}.{uuid.uuid4().hex}.old"
            target.rename(old)
            shutil.rmtree(old)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def run_folders(root: str | Path | None, study: str, runs: list[str] | None = None) -> list[Path]:
    """The saved runs of ``study`` under ``root``: the ``runs`` named (in that order; a missing one is an
    error), or every run found when ``runs`` is None."""
    base = results_root(root) / "results" / study
    if runs is None:
        return sorted(p.parent for p in base.glob("*/metrics.json"))
    missing = [r for r in runs if not (base / r / "metrics.json").is_file()]
    if missing:
        raise FileNotFoundError(f"{base / missing[0]}: no metrics.json ({len(missing)} of the {len(runs)} runs "
                                "asked for are missing; run their notebooks first)")
    return [base / r for r in runs]


def embedder_summary(summaries: list[dict]) -> dict:
    """One report-header entry for the embedders behind saved runs (each with its ``manifest``); a fallback in
    any run is flagged; each distinct part of the reasons is said once."""
    embedders = [s["manifest"]["embedder"] for s in summaries]
    return {"used": ", ".join(sorted({e["used"] for e in embedders})) or "none",
            "fallback": any(e["fallback"] for e in embedders),
            "reason": "; ".join(dict.fromkeys(part for e in embedders for part in e["reason"].split("; ")))}
