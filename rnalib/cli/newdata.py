"""New RNAs from the command line: embed a FASTA file, score candidate pairs with a saved study-A model.

Inputs are validated like the loaders' (one line naming the file, the record and the problem); outputs are
written whole or not at all (a temporary file renamed into place).
"""
from __future__ import annotations

import io
import json
import os
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from rnalib import interactions
from rnalib.data import DataError, _checked, _read_csv, read_bytes, rna_id
from rnalib.embedding import embed
from rnalib.embedding.cache import EmbeddingCache, embed_cached


def read_fasta(path: str | Path) -> pd.DataFrame:
    """Records of a plain FASTA file (``>ID [description]`` + sequence lines): ``id``, ``sequence`` (normalised);
    empty files, sequences before a header, empty or non-ACGUTN sequences and duplicate ids are errors."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    text = read_bytes(path).decode("utf-8", errors="replace")
    records: list[list] = []
    for lineno, line in enumerate(io.StringIO(text), start=1):
        if not line.strip():
            continue
        if line.startswith(">"):
            name = line[1:].split(maxsplit=1)[0] if line[1:].strip() else ""
            if not name:
                raise DataError(f"{path}:{lineno}: FASTA header without an id")
            records.append([name, lineno, []])
        elif not records:
            raise DataError(f"{path}:{lineno}: sequence line before any FASTA header")
        else:
            records[-1][2].append(line.strip())
    if not records:
        raise DataError(f"{path}: no FASTA records (empty file?)")
    seen: dict[str, int] = {}
    rows = []
    for name, lineno, parts in records:
        if name in seen:
            raise DataError(f"{path}:{lineno}: record {name}: duplicate id (first at line {seen[name]})")
        seen[name] = lineno
        rows.append({"id": name, "sequence": _checked("".join(parts), f"{path}:{lineno}: record {name}")})
    return pd.DataFrame(rows)


def _write_atomic(frame: pd.DataFrame, target: Path, writer: str) -> Path:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        getattr(frame, writer)(tmp, index=False)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def embed_fasta(fasta: str | Path, output: str | Path, embedder: str = "kmer", weights: str | Path | None = None,
                kmer_k_max: int = 4, cache: EmbeddingCache | None = None, progress: bool = True) -> pd.DataFrame:
    """One row per FASTA record: ``id``, ``embedder`` and the vector (``e0`` …), written to ``output``
    (Parquet). Vectors go through the embedding cache as they are computed, so a killed run resumes."""
    records = read_fasta(fasta)
    choice = embed.select_embedder(embedder, weights, kmer_k=(1, kmer_k_max))
    vectors = embed_cached(choice.embedder, list(records["sequence"]), cache, progress=progress, desc="RNAs")
    frame = pd.concat([records[["id"]].assign(embedder=choice.embedder.id),
                       pd.DataFrame(vectors, columns=[f"e{i}" for i in range(vectors.shape[1])])], axis=1)
    _write_atomic(frame, Path(output), "to_parquet")
    return frame


def read_pairs(path: str | Path, fasta: str | Path | None = None) -> pd.DataFrame:
    """Candidate pairs: the seed's schema (``RNA_sequence_x``, ``RNA_sequence_y``) or, with ``fasta``, two
    columns ``x``, ``y`` of its record ids. Returns ``x``, ``y``, ``seq_x``, ``seq_y``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    content = read_bytes(path)
    columns = ("x", "y") if fasta else ("RNA_sequence_x", "RNA_sequence_y")
    frame = _read_csv(content, str(path), columns)
    if frame.empty:
        raise DataError(f"{path}: no pairs (a header and no rows)")
    if fasta:
        seqs = read_fasta(fasta).set_index("id")["sequence"]
        out = pd.DataFrame({"x": frame["x"], "y": frame["y"]})
        for side in ("x", "y"):
            unknown = ~out[side].isin(seqs.index)
            if unknown.any():
                i = int(unknown.to_numpy().nonzero()[0][0])
                raise DataError(f"{path}: row {i + 2}: {side} id {out[side].iloc[i]!r} is not a record of {fasta}")
            out[f"seq_{side}"] = out[side].map(seqs).to_numpy()
        return out
    out = {}
    for side in ("x", "y"):
        col = f"RNA_sequence_{side}"
        seqs = [_checked(s, f"{path}: row {i + 2}: {col}") for i, s in enumerate(frame[col])]
        out[f"seq_{side}"] = seqs
        out[side] = [rna_id(s) for s in seqs]
    return pd.DataFrame(out)[["x", "y", "seq_x", "seq_y"]]


def _embedder_of(model_dir: Path, trained_on: str, weights: str | Path | None):
    """The embedder a saved run was trained on, or a one-line error when it cannot be rebuilt here."""
    try:
        return embed.embedder_from_id(trained_on, weights)
    except (ValueError, FileNotFoundError) as exc:
        raise DataError(f"{model_dir}: the model's embedder {trained_on} is not available here ({exc})") from None


def predict_pairs(pairs: str | Path, model_dir: str | Path, output: str | Path, fasta: str | Path | None = None,
                  embedder: str | None = None, weights: str | Path | None = None, kmer_k_max: int | None = None,
                  cache: EmbeddingCache | None = None, progress: bool = True) -> pd.DataFrame:
    """Score candidate pairs with a saved study-A network (a ``results/interactions/<run>`` folder): ranked
    probabilities and calls at the run's validation threshold, written to ``output`` (CSV). The pairs are
    embedded with the run's own embedder; ``embedder`` (when given) must be that one."""
    model_dir = Path(model_dir)
    if not (model_dir / "model.pt").is_file():
        raise DataError(f"{model_dir}: no model.pt (a study-A run folder whose network was trained)")
    manifest = json.loads((model_dir / "manifest.json").read_text())
    trained_on = manifest["parameters"]["embedder"]["used"]
    if embedder is not None:
        k_range = (1, kmer_k_max) if kmer_k_max else _kmer_range(trained_on)
        asked = embed.select_embedder(embedder, weights, kmer_k=k_range).embedder.id
        if asked != trained_on:
            raise DataError(f"{model_dir}: the model was trained on embedder {trained_on}, not {asked}")
    used = _embedder_of(model_dir, trained_on, weights)
    threshold = json.loads((model_dir / "metrics.json").read_text())["models"]["model"]["threshold"]
    table = read_pairs(pairs, fasta)
    model, scaler = interactions.load_model(model_dir)
    features = interactions.pair_features(table, used, cache, progress)
    if features.shape[1] != scaler.n_features_in_:
        raise DataError(f"{model_dir}: features of {features.shape[1]} dimensions, the model expects "
                        f"{scaler.n_features_in_}")
    prob = interactions.probabilities(model, scaler, features)
    out = table[["x", "y"]].assign(probability=prob, interacts=prob >= threshold, threshold=threshold)
    out = out.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    _write_atomic(out, Path(output), "to_csv")
    return out


def _kmer_range(embedder_id: str) -> tuple[int, int]:
    """(k_min, k_max) of a k-mer embedder id such as ``kmer-k1-4-freq-v1`` (else the default)."""
    if embedder_id.startswith("kmer-k"):
        low, high = embedder_id.split("-")[1][1:], embedder_id.split("-")[2]
        return int(low), int(high)
    return 1, 4


def localize(fasta: str | Path, model_dir: str | Path, output: str | Path, weights: str | Path | None = None,
             cache: EmbeddingCache | None = None, progress: bool = True) -> pd.DataFrame:
    """Per-class localization probabilities and calls for new mRNAs with a saved study-B run (scl or noscl:
    the mean over its fold networks; calls at the mean of the folds' tuned thresholds), written to ``output``."""
    from rnalib import localization
    from rnalib.data import LOC_CLASSES

    model_dir = Path(model_dir)
    if not sorted(model_dir.glob("network_fold*.pt")):
        raise DataError(f"{model_dir}: no saved networks (a study-B scl or noscl run folder)")
    params = json.loads((model_dir / "manifest.json").read_text())["parameters"]
    trained_on = params["embedder"]["used"]
    used = _embedder_of(model_dir, trained_on, weights)
    records = read_fasta(fasta)
    x = localization.features(records, used, params.get("truncation", "none"), cache=cache, progress=progress)
    probs, thresholds = localization.predict_new(model_dir, x)
    out = records[["id"]].copy()
    for j, c in enumerate(LOC_CLASSES):
        out[f"prob_{c}"] = probs[:, j]
        out[f"call_{c}"] = (probs[:, j] >= thresholds[j]).astype(int)
        out[f"threshold_{c}"] = thresholds[j]
    _write_atomic(out, Path(output), "to_csv")
    return out
