"""New RNAs from the command line: embed a FASTA file, score candidate pairs with a saved study-A model.

Inputs are validated like the loaders' (one line naming the file, the record and the problem); outputs are
written whole or not at all (a temporary file renamed into place).
"""
from __future__ import annotations

import difflib
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from rnalib import interactions
from rnalib.interactions import pairing
from rnalib.data import (DataError, DataWarning, _read_csv, checked_column, checked_sequence, fasta_blocks, read_bytes,
                         read_text, rna_id, write_atomically)
from rnalib.embedding import embed
from rnalib.embedding.cache import EmbeddingCache, embed_cached


_NCBI_TAGS = ("ref", "gb", "emb", "dbj", "tpg", "tpe", "tpd", "sp", "tr", "lcl", "gi")
"""NCBI's pipe id tags (``gi|123|ref|NM_000014.6|``), in the order their value is preferred as the id."""
_DM3LOC_ID = re.compile(r"^[01]{6,7},ACCNUM:([^,\s]+)")


def record_id(header: str) -> str:
    """The id a FASTA header (without ``>``) names, by the databases' conventions: the first word (NCBI
    ``NM_000014.6 Homo sapiens ...``, RNAcentral ``URS0000759A9B_9606 rRNA ...``, miRBase ``hsa-miR-21-5p
    MIMAT0000076 ...``, Ensembl); of a word with ``|``, the accession after NCBI's tag (``gi|…|ref|NM_…|``) or
    else the first field (GENCODE ``ENST…|ENSG…|…``, as salmon's ``--gencode``); DM3Loc's ``LABEL,ACCNUM:…``
    gives the accession. Empty when the header names nothing."""
    match = _DM3LOC_ID.match(header.strip())
    if match:
        return match.group(1)
    words = header.split(maxsplit=1)
    if not words:
        return ""
    fields = words[0].split("|")
    if len(fields) == 1:
        return words[0]
    if fields[0] in _NCBI_TAGS:
        tagged = dict(zip(fields[0::2], fields[1::2]))
        return next((tagged[t] for t in _NCBI_TAGS if tagged.get(t)), words[0])
    return fields[0] or words[0]


def read_fasta(path: str | Path, ambiguous_to_n: bool = False) -> pd.DataFrame:
    """Records of a FASTA file (plain or compressed; decoded by ``data.read_text``): ``id`` (``record_id`` of
    the header), ``sequence`` (normalised), ``line`` (of the header) and ``ambiguous_replaced`` (IUPAC ambiguity
    letters written as N, only with ``ambiguous_to_n``; else they are an error). Empty files, other file kinds,
    sequences before a header, empty or non-ACGUTN sequences and duplicate ids are ``DataError``s."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    rows = []
    seen: dict[str, int] = {}
    for header, lineno, seq in fasta_blocks(read_text(path), str(path)):
        name = record_id(header)
        if not name:
            raise DataError(f"{path}:{lineno}: FASTA header without an id")
        if name in seen:
            raise DataError(f"{path}:{lineno}: record {name}: duplicate id (first at line {seen[name]})")
        seen[name] = lineno
        norm, replaced = checked_sequence(seq, f"{path}:{lineno}: record {name}", ambiguous_to_n)
        rows.append({"id": name, "sequence": norm, "line": lineno, "ambiguous_replaced": replaced})
    if not rows:
        raise DataError(f"{path}: no FASTA records (empty file?)")
    return pd.DataFrame(rows)


OUTPUT_FORMATS = {".parquet": ("to_parquet", {}), ".csv": ("to_csv", {}), ".tsv": ("to_csv", {"sep": "\t"}),
                  ".csv.gz": ("to_csv", {"compression": "gzip"}),
                  ".tsv.gz": ("to_csv", {"sep": "\t", "compression": "gzip"})}
"""Output suffixes and how each is written."""


def output_format(target: str | Path) -> str:
    """The output suffix of ``target`` (a key of ``OUTPUT_FORMATS``); any other is a ``DataError``."""
    name = Path(target).name.lower()
    suffix = next((s for s in sorted(OUTPUT_FORMATS, key=len, reverse=True) if name.endswith(s)), None)
    if suffix is None:
        raise DataError(f"{target}: unknown output format {''.join(Path(name).suffixes) or '(no suffix)'!r} "
                        f"(use {', '.join(OUTPUT_FORMATS)})")
    return suffix


def _write_atomic(frame: pd.DataFrame, target: Path) -> Path:
    """Write ``frame`` in the format its suffix names, whole or not at all."""
    writer, options = OUTPUT_FORMATS[output_format(target)]
    return write_atomically(Path(target), lambda tmp: getattr(frame, writer)(tmp, index=False, **options))


def _information_k(embedder) -> int:
    """The window a record needs for information: the largest k of a k-mer embedder, else 1 nucleotide."""
    ks = getattr(embedder, "ks", None) or getattr(getattr(embedder, "base", None), "ks", None)
    return max(ks) if ks else 1


def informative_kmers(seqs, k: int, where: list[str], consequence: str) -> np.ndarray:
    """Per sequence, its k-windows of A/C/G/U only (``embed.informative_windows``); a ``DataWarning`` per
    sequence with none (all N, or shorter than k), starting with its ``where`` and ending with ``consequence``."""
    counts = np.array([embed.informative_windows(s, k) for s in seqs], dtype=np.int64)
    what = "no A, C, G or U (all N)" if k == 1 else f"no {k}-mer without N (all N or shorter than {k} nt)"
    for i in np.flatnonzero(counts == 0):
        warnings.warn(f"{where[i]}: {what}; {consequence}", DataWarning, stacklevel=2)
    return counts


def embed_fasta(fasta: str | Path, output: str | Path, embedder: str = "kmer", weights: str | Path | None = None,
                kmer_k_max: int = embed.KMER_K[1], cache: EmbeddingCache | None = None, progress: bool = True,
                ambiguous_to_n: bool = False) -> pd.DataFrame:
    """One row per FASTA record: ``id``, ``embedder``, ``informative_kmers`` (windows of A/C/G/U only at the
    embedder's largest k, or nucleotides for a language model; 0 = no information, its vector is zeros or
    all-N, with a warning per record), ``ambiguous_replaced`` and the vector (``e0`` …), written to ``output``
    in the format its suffix names (``OUTPUT_FORMATS``). Vectors go through the embedding cache as they are
    computed, so a killed run resumes."""
    output_format(output)
    records = read_fasta(fasta, ambiguous_to_n)
    choice = embed.select_embedder(embedder, weights, kmer_k=(1, kmer_k_max))
    where = [f"{fasta}:{line}: record {name}" for name, line in zip(records["id"], records["line"])]
    info = informative_kmers(records["sequence"], _information_k(choice.embedder), where,
                             "flagged in the output (informative_kmers = 0)")
    vectors = embed_cached(choice.embedder, list(records["sequence"]), cache, progress=progress, desc="RNAs")
    meta = records[["id"]].assign(embedder=choice.embedder.id, informative_kmers=info,
                                  ambiguous_replaced=records["ambiguous_replaced"])
    frame = pd.concat([meta, pd.DataFrame(vectors, columns=[f"e{i}" for i in range(vectors.shape[1])])], axis=1)
    _write_atomic(frame, Path(output))
    return frame


def _unknown_id(name: str, ids: pd.Index) -> str:
    """The closest ids of a FASTA to an unknown one (difflib), for the error message."""
    close = difflib.get_close_matches(name, [str(i) for i in ids], n=3, cutoff=0.6)
    return f"closest: {', '.join(close)}" if close else f"no similar id among its {len(ids)} records"


PAIR_COLUMNS = ["x", "y", "seq_x", "seq_y", "ambiguous_replaced_x", "ambiguous_replaced_y"]


def read_pairs(path: str | Path, fasta: str | Path | None = None, ambiguous_to_n: bool = False) -> pd.DataFrame:
    """Candidate pairs: the seed's schema (``RNA_sequence_x``, ``RNA_sequence_y``) or, with ``fasta``, two
    columns ``x``, ``y`` of its record ids (an unknown id is an error listing the closest ids). Returns ``x``,
    ``y``, ``seq_x``, ``seq_y``, ``ambiguous_replaced_x``, ``ambiguous_replaced_y``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    content = read_bytes(path)
    columns = ("x", "y") if fasta else ("RNA_sequence_x", "RNA_sequence_y")
    frame = _read_csv(content, str(path), columns)
    if frame.empty:
        raise DataError(f"{path}: no pairs (a header and no rows)")
    if fasta:
        records = read_fasta(fasta, ambiguous_to_n).set_index("id")
        out = pd.DataFrame({"x": frame["x"], "y": frame["y"]})
        for side in ("x", "y"):
            unknown = ~out[side].isin(records.index)
            if unknown.any():
                i = int(unknown.to_numpy().nonzero()[0][0])
                name = out[side].iloc[i]
                raise DataError(f"{path}: row {i + 2}: {side} id {name!r} is not a record of {fasta} "
                                f"({_unknown_id(name, records.index)})")
            out[f"seq_{side}"] = out[side].map(records["sequence"]).to_numpy()
            out[f"ambiguous_replaced_{side}"] = out[side].map(records["ambiguous_replaced"]).to_numpy()
        return out[PAIR_COLUMNS]
    out = {}
    for side in ("x", "y"):
        out[f"seq_{side}"], out[f"ambiguous_replaced_{side}"] = checked_column(
            frame[f"RNA_sequence_{side}"], str(path), f"RNA_sequence_{side}", ambiguous_to_n)
        out[side] = [rna_id(seq) for seq in out[f"seq_{side}"]]
    return pd.DataFrame(out)[PAIR_COLUMNS]


def _embedder_of(model_dir: Path, trained_on: str, weights: str | Path | None):
    """The embedder a saved run was trained on, or a one-line error when it cannot be rebuilt here."""
    try:
        return embed.embedder_from_id(trained_on, weights)
    except (ValueError, FileNotFoundError) as exc:
        raise DataError(f"{model_dir}: the model's embedder {trained_on} is not available here ({exc})") from None


def predict_pairs(pairs: str | Path, model_dir: str | Path, output: str | Path, fasta: str | Path | None = None,
                  embedder: str | None = None, weights: str | Path | None = None, kmer_k_max: int | None = None,
                  cache: EmbeddingCache | None = None, progress: bool = True,
                  ambiguous_to_n: bool = False, threads: int = 1, pair_network: bool = False) -> pd.DataFrame:
    """Score candidate pairs with a saved study-A network (a ``results/interactions/<run>`` folder), written to
    ``output`` (format by suffix) with a side file ``<output>.about.txt`` naming the model, its calibration and
    the runs the protocol figures come from. Per pair: ``score`` (the network's raw output), ``probability``
    (``score`` calibrated on the validation pairs, at the validation prevalence ``calibrated_prevalence``; empty
    for a run saved without a calibrator), the call at the run's validation threshold (on ``score``), and what
    the score is worth (``interactions.trust``): whether the pair itself is a training pair (``in_training``:
    in-sample, no figure), whether x, y and their families appear in the model's training pairs, the protocol
    that case corresponds to and that protocol's measured test AUROC and AUPRC over the sibling runs' split seeds
    (empty, with ``protocol_runs`` 0 and a ``protocol_note``, for an in-sample pair, a case the report never
    measured, or "C3 or C4" when the run was saved without its families). The pairs
    are embedded with the run's own embedder; ``embedder`` (when given) must be that one. A pair with a partner
    of no information (``informative_kmers``) is flagged (``informative`` False, a warning), not scored: its
    scores, call and rank are empty and it is listed last.

    Every pair also gets what it can pair with (``interactions.pairing``, computed as for the run's training
    pairs, through the same cache): ``best_site_type`` (TargetScan type of the best miRNA site; empty without a
    miRNA, "none" without a site), ``sites`` (canonical sites), ``best_site_start`` (1-based, in the non-miRNA
    partner), ``supplementary_3p``, ``duplex_mfe`` (kcal/mol, the best windowed ViennaRNA duplex) and its 1-based
    positions ``duplex_x_start`` … ``duplex_y_end``. ``pair_network`` scores with the run's network on [emb(x);
    emb(y); pair features] (``model_pair.pt``, its own threshold, calibrator and protocol figures) instead."""
    output_format(output)
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
    name = "network_pair" if pair_network else "model"
    if pair_network and not (model_dir / interactions.PAIR_MODEL_FILE).is_file():
        raise DataError(f"{model_dir}: no {interactions.PAIR_MODEL_FILE} (a run trained with pair_network)")
    threshold = json.loads((model_dir / "metrics.json").read_text())["models"][name]["threshold"]
    table = read_pairs(pairs, fasta, ambiguous_to_n)
    k = _information_k(used)
    informative = np.ones(len(table), dtype=bool)
    for side in ("x", "y"):
        where = [f"{pairs}: row {i + 2}: {side} {name}" for i, name in enumerate(table[side])]
        informative &= informative_kmers(table[f"seq_{side}"], k, where, "the pair is flagged, not scored") > 0
    model, scaler = interactions.load_model(model_dir, pair=pair_network)
    features = interactions.pair_features(table, used, cache, progress)
    pf = pairing.interaction_features_cached(list(table["seq_x"]), list(table["seq_y"]), cache=cache, progress=progress)
    if pair_network:
        features = np.hstack([features, pairing.model_matrix(pf)])
    if features.shape[1] != scaler.n_features_in_:
        raise DataError(f"{model_dir}: features of {features.shape[1]} dimensions, the model expects "
                        f"{scaler.n_features_in_}")
    score = np.where(informative, interactions.probabilities(model, scaler, features), np.nan)
    calibrator = interactions.load_calibrator(model_dir, pair=pair_network)
    if calibrator is None:
        warnings.warn(f"{model_dir}: saved without a calibrator; calibration is unavailable (probability empty, "
                      "raw score only)", DataWarning, stacklevel=2)
        prob = np.full(len(table), np.nan)
    else:
        prob = np.where(informative, interactions.calibrate(calibrator, np.nan_to_num(score)), np.nan)
    calls = pd.array(np.where(informative, score >= threshold, False), dtype="boolean")
    calls[~informative] = pd.NA
    out = table[["x", "y"]].assign(probability=prob, score=score, interacts=calls, threshold=threshold,
                                   calibrated_prevalence=calibrator["prevalence"] if calibrator else np.nan,
                                   informative=informative)
    figures = interactions.protocol_figures(model_dir, name)
    out = pd.concat([out, pairing_columns(pf), _trust_columns(table, model_dir, figures, threads)], axis=1).assign(
        ambiguous_replaced_x=table["ambiguous_replaced_x"], ambiguous_replaced_y=table["ambiguous_replaced_y"])
    out = out.sort_values("score", ascending=False, kind="stable", na_position="last").reset_index(drop=True)
    rank = pd.array(np.arange(1, len(out) + 1), dtype="Int64")
    rank[~out["informative"].to_numpy()] = pd.NA
    out.insert(0, "rank", rank)
    about = Path(f"{output}.about.txt")
    _write_text_atomic(_about_pairs(model_dir, calibrator, figures), about)
    _write_atomic(out, Path(output))
    return out


def pairing_columns(features: pd.DataFrame) -> pd.DataFrame:
    """What a biologist plans a validation with, per pair (``interactions.pairing.FEATURES`` as columns): the best
    site's type, the site count, the best site's start and 3'-supplementary score, the best duplex's MFE and
    place."""
    rank = features["best_site_rank"]
    sites = pairing.site_counts(features)
    out = pd.DataFrame({"best_site_type": [pairing.SITE_NAMES[int(r)] if r == r else "" for r in rank],
                        "sites": pd.array(sites.round(), dtype="Int64"),
                        "best_site_start": pd.array(features["best_site_start"].round(), dtype="Int64"),
                        "supplementary_3p": features["supplementary_3p"], "duplex_mfe": features["duplex_mfe"]})
    for col in ("duplex_x_start", "duplex_x_end", "duplex_y_start", "duplex_y_end"):
        out[col] = pd.array(features[col].round(), dtype="Int64")
    return out


FIGURE_COLUMNS = ["auroc", "auroc_low", "auroc_high", "auprc", "auprc_low", "auprc_high", "runs"]
"""The protocol figures written beside each pair (prefixed ``protocol_``)."""


def _trust_columns(table: pd.DataFrame, model_dir: Path, figures: pd.DataFrame, threads: int) -> pd.DataFrame:
    """Per pair: training-pair and seen status, protocol case, that protocol's figures (``figures`` from
    ``interactions.protocol_figures``) and ``protocol_note``; a training pair (in-sample score) and a pair whose
    case is unknown get no figures."""
    cases = interactions.pair_cases(list(table["seq_x"]), list(table["seq_y"]), model_dir, threads)
    measured = figures.set_index("protocol").reindex(cases["protocol"])[FIGURE_COLUMNS].reset_index(drop=True)
    measured["runs"] = measured["runs"].fillna(0).astype(int)
    notes = [_protocol_note(c, n, t) for c, n, t in zip(cases["protocol"], measured["runs"], cases["in_training"])]
    no_figure = cases["in_training"].to_numpy() | (cases["protocol"] == interactions.FAMILIES_UNKNOWN).to_numpy()
    measured.loc[no_figure, FIGURE_COLUMNS] = np.nan
    measured.loc[no_figure, "runs"] = 0
    measured["runs"] = measured["runs"].astype(int)
    return pd.concat([cases, measured.add_prefix("protocol_")], axis=1).assign(protocol_note=notes)


def _protocol_note(protocol: str, runs: int, in_training: bool) -> str:
    """Why a pair's protocol figures are missing or thin (empty when there is nothing to say)."""
    if in_training:
        return "training pair: score is in-sample; no protocol figure applies"
    if protocol == interactions.FAMILIES_UNKNOWN:
        return "families unknown (run saved without rnas.csv.gz): C3 or C4; no single protocol figure"
    if runs == 0:
        return f"not measured: no saved run of this configuration under {protocol}"
    if runs == 1:
        return "1 split seed: no interval"
    return ""


def _about_pairs(model_dir: Path, calibrator: dict | None, figures: pd.DataFrame) -> str:
    """The side file of ``predict_pairs``: the model, its calibration and the runs behind each protocol's figures."""
    lines = [f"model: {model_dir}"]
    if calibrator is None:
        lines.append("calibration: unavailable (run saved without calibration.pt); probability is empty, "
                     "use score (raw network output) only")
    else:
        lines.append(f"calibration: {calibrator['method']} on {calibrator['n']} validation pairs "
                     f"({calibrator.get('positives', 'unknown number of')} positives; Platt scaling below "
                     f"{interactions.trust.MIN_ISOTONIC_POSITIVES}); probability = chance of an interaction at the "
                     f"validation prevalence {calibrator['prevalence']:.4f}; equal probabilities are calibrator "
                     "ties, ranks come from score")
    lines.append("protocol figures: network test AUROC/AUPRC, mean and 95% t-interval over split seeds (none with "
                 "1 seed; with 2 usually [0, 1]), of the runs trained under that protocol (other models than this "
                 "one: their own split and training size); AUPRC holds only at the test pairs' ratio of negatives")
    for row in figures.itertuples():
        schedule = f" (networks trained at {row.schedule})" if row.schedule else ""
        lines.append(f"{row.protocol}: {row.runs} run(s): {row.run_folders or 'none (not measured)'}{schedule}")
    return "\n".join(lines) + "\n"


def _about_localize(model_dir: Path, figures: pd.DataFrame) -> str:
    """The side file of ``localize``: the run and, per class, its measured figures and test counts."""
    lines = [f"model: {model_dir}", "per class: test AUROC (from predictions.csv.gz) and MCC at the tuned "
             "thresholds (metrics.json), means over the run's folds; fewest test positives/negatives in a fold"]
    for c, row in figures.iterrows():
        lines.append(f"{c}: AUROC {row['auroc']:.3f} (over {row['auroc_folds']} of {row['folds']} folds), "
                     f"MCC {row['mcc']:.3f}, positives >= {row['min_positives']}, "
                     f"negatives >= {row['min_negatives']}" + (f"; {row['note']}" if row["note"] else ""))
    return "\n".join(lines) + "\n"


def _write_text_atomic(text: str, target: Path) -> Path:
    """Write ``text`` whole or not at all."""
    return write_atomically(Path(target), lambda tmp: tmp.write_text(text))


def _kmer_range(embedder_id: str) -> tuple[int, int]:
    """(k_min, k_max) of a k-mer embedder id such as ``kmer-k1-4-freq-v1`` (else the default)."""
    if embedder_id.startswith("kmer-k"):
        low, high = embedder_id.split("-")[1][1:], embedder_id.split("-")[2]
        return int(low), int(high)
    return 1, 4


def localize(fasta: str | Path, model_dir: str | Path, output: str | Path, weights: str | Path | None = None,
             cache: EmbeddingCache | None = None, progress: bool = True, ambiguous_to_n: bool = False) -> pd.DataFrame:
    """Per-class localization probabilities and calls for new mRNAs with a saved study-B run (scl, noscl or seqcnn:
    the mean over its fold networks; calls at the mean of the folds' tuned thresholds), written to ``output``
    (format by suffix). Beside each class's probability, the run's measured test figures for that class
    (``localization.class_figures``: ``auroc_<class>``, ``mcc_<class>``, means over the run's folds, and
    ``note_<class>`` when too few test positives or negatives per fold make them unreliable); a side file
    ``<output>.about.txt`` names the run and the counts. A record of no information is flagged
    (``informative_kmers`` 0, a warning), not scored: its probabilities and calls are empty."""
    output_format(output)
    from rnalib import localization
    from rnalib.data import LOC_CLASSES

    model_dir = Path(model_dir)
    if not sorted(model_dir.glob("network_fold*.pt")):
        raise DataError(f"{model_dir}: no saved networks (a study-B scl, noscl or seqcnn run folder)")
    params = json.loads((model_dir / "manifest.json").read_text())["parameters"]
    cnn = localization.uses_cnn(params["method"], localization.LocasConfig(**params["config"]))
    used = None if cnn else _embedder_of(model_dir, params["embedder"]["used"], weights)  # a CNN reads one-hot
    records = read_fasta(fasta, ambiguous_to_n)
    where = [f"{fasta}:{line}: record {name}" for name, line in zip(records["id"], records["line"])]
    info = informative_kmers(records["sequence"], 1 if cnn else _information_k(used), where, "flagged, not scored")
    x = localization.run_inputs(records[["id", "sequence"]], params, used, cache, progress)
    probs, thresholds = localization.predict_new(model_dir, x)
    figures = localization.class_figures(model_dir)
    out = records[["id"]].assign(informative_kmers=info, ambiguous_replaced=records["ambiguous_replaced"])
    for j, c in enumerate(LOC_CLASSES):
        out[f"prob_{c}"] = np.where(info > 0, probs[:, j], np.nan)
        out[f"call_{c}"] = pd.array(np.where(info > 0, probs[:, j] >= thresholds[j], 0).astype(int), dtype="Int64")
        out.loc[info == 0, f"call_{c}"] = pd.NA
        out[f"threshold_{c}"] = thresholds[j]
        out[f"auroc_{c}"], out[f"mcc_{c}"] = figures.at[c, "auroc"], figures.at[c, "mcc"]
        out[f"note_{c}"] = figures.at[c, "note"]
    _write_text_atomic(_about_localize(model_dir, figures), Path(f"{output}.about.txt"))
    _write_atomic(out, Path(output))
    return out
