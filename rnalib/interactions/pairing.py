"""Pair features that read the interaction itself: miRNA seed sites in the partner and intermolecular duplex
energies. Unlike ``study.pair_features`` (two per-RNA embeddings side by side), every value here depends on
whether the two sequences can base-pair.

**Canonical sites** (TargetScan; Lewis et al. 2005 Cell 120:15, Grimson et al. 2007 Mol Cell 27:91, Bartel 2009
Cell 136:215, Agarwal et al. 2015 eLife 4:e05005). In the target (5′→3′), a site pairs with the miRNA's seed
(miRNA nt 2–8 counted from its 5′ end) antiparallel; t1 is the target nucleotide opposite miRNA nt 1:

=============  ============================================  ====
type           target match                                  rank
=============  ============================================  ====
8mer           Watson–Crick to miRNA nt 2–8 and an A at t1    5
7mer-m8        Watson–Crick to nt 2–8, no A at t1             4
7mer-A1        Watson–Crick to nt 2–7 and an A at t1          3
6mer           Watson–Crick to nt 2–7 only                    2
offset 6mer    Watson–Crick to nt 3–8, not to nt 2            1
=============  ============================================  ====

Each register (target position opposite miRNA nt 2) holds at most one site, of its best type. Overlapping sites
(a repeat can put two registers within 8 nt) are resolved by rank: the best one is kept, then the next that
overlaps none kept (a rule of this module: one Argonaute cannot occupy two overlapping registers). A site at the
very 3′ end of the target has no t1 and so cannot be an 8mer or 7mer-A1. A site whose window (t1 to the target
nucleotide opposite nt 8, the span read to type it) overlaps an N is not counted: its type would be a guess.

**3′-supplementary pairing** of the best site: Grimson et al. 2007's score as TargetScan uses it: the longest
run of consecutive Watson–Crick pairs between miRNA nt 9 onwards and the target upstream (5′) of the site, each
pair to miRNA nt 13–16 scoring 1 and every other pair 0.5, minus 0.5 per nt that the target loop is longer or
shorter than the miRNA loop beyond ±2 nt (offsets −4…+8 nt searched; G·U pairs do not count).

**Duplex energies** (ViennaRNA ``RNA.duplexfold``: the minimum free energy, kcal/mol at 37 °C, of an
intermolecular duplex with no intramolecular pairs; Lorenz et al. 2011 Algorithms Mol Biol 6:26, the
``RNAduplex`` program). ``duplexfold`` on a whole miRNA × lncRNA pair costs about 11 ms of CPU (22 × 615 nt on
average) and the study can draw ~2.8 × 10^5 pairs, so it runs on windows: ``site_duplex_mfe`` on the miRNA
against the best site's region (``SITE_UPSTREAM`` nt 5′ of the site's nt-8 position to 2 nt past t1), ``duplex_mfe``
the best (lowest) of that and of windows around the ``TOP_DIAGONALS`` best ungapped antiparallel stretches of
complementarity (Watson–Crick 1, G·U 0.5, over ``DIAGONAL_WIDTH`` nt, padded by ``PAD`` nt on both sides and in
both RNAs, which covers a whole miRNA of up to 32 nt): every pair, miRNA or not, gets one. All features of a pair
cost 1.3 ms of CPU; the windows find the whole-pair MFE in 30% of pairs (Pearson r 0.85, 2.2 kcal/mol weaker on
average): ``benchmarks/pairing_cost.py``. A pair that cannot form any duplex (e.g. all N) gets 0.0 kcal/mol (the
unpaired reference state) and no position.

Features are a property of the two molecules, computed once per unique pair in its original orientation: the
swapped and reversed copies of the paper's augmentation keep the original's values (``for_dataset``). The
miRNA of a pair is the partner whose category names a miRNA, else a partner of at most ``MIRNA_MAX_LEN`` nt (x
first); a pair without one gets NaN seed features (never 0: "no miRNA" is not "no site").
"""
from __future__ import annotations

import hashlib
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from tqdm import tqdm

from rnalib.data import rna_id

FEATURE_VERSION = "pairing-v1"
MIRNA_MAX_LEN = 30
SITE_TYPES = ("8mer", "7mer-m8", "7mer-A1", "6mer", "offset 6mer")
SITE_RANK = {name: 5 - i for i, name in enumerate(SITE_TYPES)}  # 8mer 5 ... offset 6mer 1, none 0
SITE_NAMES = {rank: name for name, rank in SITE_RANK.items()} | {0: "none"}
"""A best-site rank's type name (``best_site_rank`` 0: no site)."""
SITE_UPSTREAM = 30  # nt of target 5' of the site's nt-8 position given to the site duplex
TOP_DIAGONALS = 2
DIAGONAL_WIDTH = 12
PAD = 10
COUNT_FEATURES = tuple("n_" + t.replace(" ", "_").replace("-", "_").lower() for t in SITE_TYPES)
SEED_FEATURES = COUNT_FEATURES + ("sites_per_kb", "best_site_rank", "best_site_start", "best_site_rel_position",
                                "supplementary_3p", "site_duplex_mfe")
DUPLEX_FEATURES = ("duplex_mfe", "duplex_x_start", "duplex_x_end", "duplex_y_start", "duplex_y_end")
FEATURES = SEED_FEATURES + DUPLEX_FEATURES
"""Columns of ``pair_interaction_features``: site counts per type, all sites per kb of the target, the best
site's rank (``SITE_RANK``; 0 none), 1-based start in the target and start / target length, its 3′-supplementary
score and site duplex MFE (kcal/mol); the best duplex's MFE (kcal/mol) and 1-based inclusive positions in x and y."""
MODEL_FEATURES = COUNT_FEATURES + ("sites_per_kb", "best_site_rank", "best_site_rel_position", "supplementary_3p",
                                 "site_duplex_mfe", "duplex_mfe")
"""What models see (positions in nt are for people; the relative position is the model's)."""

_COMP = {"A": "U", "C": "G", "G": "C", "U": "A", "N": "#"}  # N never matches anything
_PAIR = np.zeros((256, 256), dtype=np.float32)
for _a, _b, _s in (("A", "U", 1), ("U", "A", 1), ("G", "C", 1), ("C", "G", 1), ("G", "U", .5), ("U", "G", .5)):
    _PAIR[ord(_a), ord(_b)] = _s


def revcomp(seq: str) -> str:
    """Reverse complement of an RNA (N stays unmatchable)."""
    return "".join(_COMP[c] for c in reversed(seq))


# --------------------------------------------------------------------------- seed sites


def canonical_sites(mirna: str, target: str) -> list[tuple[str, int]]:
    """Canonical sites of ``mirna`` in ``target`` (both normalised RNA, 5′→3′): (type, anchor) pairs in target
    order, overlaps resolved by rank (module docstring). ``anchor`` is the 0-based target index opposite miRNA
    nt 2 (for an offset 6mer, where nt 2 would pair). Raises ValueError when the miRNA has fewer than 8 nt or an
    N in nt 2–8."""
    seed = mirna[1:8]
    if len(mirna) < 8 or "N" in seed:
        raise ValueError(f"miRNA {mirna!r}: needs A/C/G/U at nt 2-8 for seed sites")
    m2_7, m3_8, m8 = revcomp(mirna[1:7]), revcomp(mirna[2:8]), _COMP[mirna[7]]
    n = len(target)
    found: dict[int, str] = {}
    for anchor in _occurrences(target, m2_7, 5):  # anchor = last nt of the 6-mer match (opposite nt 2)
        has8 = anchor >= 6 and target[anchor - 6] == m8
        a1 = anchor + 1 < n and target[anchor + 1] == "A"
        found[anchor] = ("8mer" if a1 else "7mer-m8") if has8 else ("7mer-A1" if a1 else "6mer")
    for last in _occurrences(target, m3_8, 5):  # last = opposite nt 3, so the nt-2 register is last + 1
        anchor = last + 1
        if anchor not in found:
            found[anchor] = "offset 6mer"
    sites = []
    for anchor, kind in found.items():
        lo, hi = _window(anchor, n)
        if "N" not in target[lo:hi + 1]:
            sites.append((kind, anchor, lo, hi))
    kept: list[tuple[str, int, int, int]] = []
    for site in sorted(sites, key=lambda s: (-SITE_RANK[s[0]], s[1])):
        if all(site[3] < k[2] or site[2] > k[3] for k in kept):
            kept.append(site)
    return [(kind, anchor) for kind, anchor, _, _ in sorted(kept, key=lambda s: s[1])]


def _occurrences(text: str, word: str, end_offset: int) -> Iterable[int]:
    """Index of the last letter of every (overlapping) occurrence of ``word`` (``end_offset`` = len(word) - 1)."""
    start = text.find(word)
    while start >= 0:
        yield start + end_offset
        start = text.find(word, start + 1)


def _window(anchor: int, n: int) -> tuple[int, int]:
    """Inclusive target span read to type a site: opposite miRNA nt 8 to t1 (clipped to the target)."""
    return max(anchor - 6, 0), min(anchor + 1, n - 1)


def supplementary_3p(mirna: str, target: str, anchor: int) -> float:
    """Grimson et al. 2007's 3′-supplementary pairing score of the site at ``anchor`` (module docstring):
    best over offsets −4…+8 of (consecutive Watson–Crick pairs to miRNA nt ≥ 9, 1 per pair to nt 13–16 and 0.5
    otherwise) − 0.5 × max(0, |offset| − 2). 0.0 when nothing pairs."""
    best = 0.0
    for offset in range(-4, 9):
        run_score, top = 0.0, 0.0
        for nt in range(9, len(mirna) + 1):  # 1-based miRNA position; ideal target index anchor - (nt - 2)
            t = anchor - (nt - 2) - offset
            if 0 <= t < len(target) and _COMP[mirna[nt - 1]] == target[t]:
                run_score += 1.0 if 13 <= nt <= 16 else 0.5
                top = max(top, run_score)
            else:
                run_score = 0.0
        best = max(best, top - 0.5 * max(0, abs(offset) - 2))
    return best


# --------------------------------------------------------------------------- duplexes


def _duplex(a: str, b: str) -> tuple[float, int, int, int, int]:
    """``RNA.duplexfold(a, b)``: (MFE kcal/mol, 0-based inclusive start/end in a, start/end in b); MFE 0.0 and
    positions -1 when nothing can pair."""
    import RNA

    d = RNA.duplexfold(a, b)
    if d.energy >= 1e4:
        return 0.0, -1, -1, -1, -1
    left, right = d.structure.split("&")
    return float(d.energy), d.i - len(left), d.i - 1, d.j - 1, d.j - 2 + len(right)


def complementary_diagonals(q: str, t: str, top: int = TOP_DIAGONALS, width: int | None = None
                            ) -> list[tuple[int, int, int, int]]:
    """The ``top`` best ungapped antiparallel stretches of ``width`` nt (default ``DIAGONAL_WIDTH``, at most the
    shorter length)
    between ``q`` and ``t`` (Watson–Crick 1, G·U 0.5), non-overlapping: (q start, q end, t start, t end),
    0-based inclusive, best first. Stretches that pair nothing are not returned."""
    m, n = len(q), len(t)
    w = min(width or DIAGONAL_WIDTH, m, n)
    qa = np.frombuffer(q.encode(), dtype=np.uint8)
    tr = np.frombuffer(t[::-1].encode(), dtype=np.uint8)
    score = _PAIR[qa[:, None], tr[None, :]]  # q[i] with t[n-1-j]
    skew = np.zeros((m + w, n + m - 1), dtype=np.float32)  # skew[i, j - i + m - 1] = score[i, j]
    for i in range(m):  # a slice per row: half the cost of one scatter through index arrays
        skew[i, m - 1 - i:m - 1 - i + n] = score[i]
    csum = np.zeros((m + w + 1, skew.shape[1]), dtype=np.float32)  # a zero row, then the running sums
    np.cumsum(skew, axis=0, out=csum[1:])
    windows = csum[w:w + max(m - w + 1, 1)] - csum[:max(m - w + 1, 1)]  # windows[i0, col] = rows i0..i0+w-1
    out = []
    for _ in range(top):
        i0, col = np.unravel_index(int(np.argmax(windows)), windows.shape)
        if windows[i0, col] <= 0:
            break
        windows[max(i0 - w + 1, 0):i0 + w, max(col - w + 1, 0):col + w] = -1
        d = col - (m - 1)
        j0, j1 = max(i0 + d, 0), min(i0 + w - 1 + d, n - 1)
        out.append((int(i0), int(min(i0 + w - 1, m - 1)), n - 1 - j1, n - 1 - j0))
    return out


# --------------------------------------------------------------------------- one pair


def mirna_side(seq_x: str, seq_y: str, cat_x: str | None = None, cat_y: str | None = None) -> str | None:
    """'x' or 'y': the partner that is a miRNA (category mentioning miRNA, else ≤ ``MIRNA_MAX_LEN`` nt, x
    first), or None."""
    for side, cat in (("x", cat_x), ("y", cat_y)):
        if isinstance(cat, str) and "mirna" in cat.lower():
            return side
    for side, seq in (("x", seq_x), ("y", seq_y)):
        if len(seq) <= MIRNA_MAX_LEN:
            return side
    return None


def pair_interaction_features(seq_x: str, seq_y: str, cat_x: str | None = None, cat_y: str | None = None,
                              name: str = "pair") -> np.ndarray:
    """``FEATURES`` of one pair (normalised A/C/G/U/N sequences, original orientation): float64 vector, NaN seed
    features without a miRNA (or for a miRNA with N in its seed), NaN best-site fields without a site.
    Raises ValueError naming ``name`` for a sequence ViennaRNA cannot read (letters outside A/C/G/U/N, empty)."""
    for side, seq in (("x", seq_x), ("y", seq_y)):
        bad = set(seq) - set("ACGUN")
        if not seq or bad:
            problem = "empty" if not seq else "letters " + "".join(sorted(bad))
            raise ValueError(f"{name}: ViennaRNA cannot read {side} ({problem})")
    out = dict.fromkeys(FEATURES, np.nan)
    side = mirna_side(seq_x, seq_y, cat_x, cat_y)
    windows: list[tuple[float, int, int, int, int]] = []  # (mfe, x0, x1, y0, y1) 0-based
    if side is not None and "N" not in (seq_x if side == "x" else seq_y)[1:8] and min(len(seq_x), len(seq_y)) >= 8:
        mirna, target = (seq_x, seq_y) if side == "x" else (seq_y, seq_x)
        sites = canonical_sites(mirna, target)
        counts = {kind: 0 for kind in SITE_TYPES}
        for kind, _ in sites:
            counts[kind] += 1
        out |= dict(zip(COUNT_FEATURES, map(float, counts.values())))
        out["sites_per_kb"] = 1000.0 * len(sites) / len(target)
        out["best_site_rank"] = 0.0
        if sites:  # best: rank, then 3'-supplementary score, then the most 5' site
            _, supplementary, _, kind, anchor = max((SITE_RANK[k], supplementary_3p(mirna, target, a), -a, k, a)
                                                    for k, a in sites)
            start = max(anchor - (6 if kind in ("8mer", "7mer-m8", "offset 6mer") else 5), 0)
            out |= {"best_site_rank": float(SITE_RANK[kind]), "best_site_start": float(start + 1),
                    "best_site_rel_position": start / len(target), "supplementary_3p": supplementary}
            lo, hi = max(anchor - 6 - SITE_UPSTREAM, 0), min(anchor + 4, len(target))
            mfe, m0, m1, t0, t1 = _duplex(mirna, target[lo:hi])
            out["site_duplex_mfe"] = mfe
            if m0 >= 0:
                windows.append((mfe, m0, m1, t0 + lo, t1 + lo) if side == "x" else (mfe, t0 + lo, t1 + lo, m0, m1))
    for x0, x1, y0, y1 in complementary_diagonals(seq_x, seq_y):
        a0, b0 = max(x0 - PAD, 0), max(y0 - PAD, 0)
        mfe, p0, p1, r0, r1 = _duplex(seq_x[a0:x1 + PAD + 1], seq_y[b0:y1 + PAD + 1])
        if p0 >= 0:
            windows.append((mfe, p0 + a0, p1 + a0, r0 + b0, r1 + b0))
    out["duplex_mfe"] = 0.0
    if windows:
        mfe, x0, x1, y0, y1 = min(windows)
        out |= {"duplex_mfe": mfe, "duplex_x_start": x0 + 1.0, "duplex_x_end": x1 + 1.0,
                "duplex_y_start": y0 + 1.0, "duplex_y_end": y1 + 1.0}
    return np.array([out[f] for f in FEATURES], dtype=float)


# --------------------------------------------------------------------------- many pairs, cached


def pair_key(x_id: str, y_id: str, side: str | None = None) -> str:
    """Content address of a pair's features: sha256 of (feature version, x id, y id, which side is the miRNA —
    ``mirna_side``, since a category can name one that length alone would not)."""
    return hashlib.sha256(f"{FEATURE_VERSION}|{x_id}|{y_id}|{side}".encode()).hexdigest()


def interaction_features_cached(seq_x: Sequence[str], seq_y: Sequence[str], cat_x: Sequence[str | None] | None = None,
                                cat_y: Sequence[str | None] | None = None, cache=None, progress: bool = True,
                                desc: str = "pair features", pack: bool = False) -> pd.DataFrame:
    """``FEATURES`` of each (x, y) pair as given (rows in input order; normalised sequences), through the
    content-addressed cache (``rnalib.embedding.cache.EmbeddingCache``, namespace ``FEATURE_VERSION``): each unique
    pair is computed once, stored as soon as it exists, and found the next time (``cache.written`` counts what was
    computed). Packs (``EmbeddingCache.pack``) are read first, so a page reads a few files rather than one per
    pair; ``pack`` also writes these pairs' features as one (what ``rnalib.interactions.study.warm_pair_features``
    does for its shard)."""
    from rnalib.embedding.cache import EmbeddingCache

    cache = cache or EmbeddingCache()
    cat_x = list(cat_x) if cat_x is not None else [None] * len(seq_x)
    cat_y = list(cat_y) if cat_y is not None else [None] * len(seq_y)
    keys = [pair_key(rna_id(sx), rna_id(sy), mirna_side(sx, sy, cx, cy))
            for sx, sy, cx, cy in zip(seq_x, seq_y, cat_x, cat_y)]
    rows = {key: vec.astype(float) for key, vec in cache.get_many(FEATURE_VERSION, set(keys), len(FEATURES)).items()}
    todo: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key not in rows:
            todo.setdefault(key, i)
    for key, i in tqdm(todo.items(), desc=desc, unit="pair", disable=not progress or not todo):
        vec = pair_interaction_features(seq_x[i], seq_y[i], cat_x[i], cat_y[i],
                                        name=f"pair {rna_id(seq_x[i])} | {rna_id(seq_y[i])}")
        cache.put(FEATURE_VERSION, key, vec)
        rows[key] = vec.astype(np.float32).astype(float)  # what a later read returns
    if pack:
        cache.pack(FEATURE_VERSION, rows)
    return pd.DataFrame(np.vstack([rows[k] for k in keys]) if keys else np.empty((0, len(FEATURES))),
                        columns=list(FEATURES))


def for_dataset(dataset: pd.DataFrame, cache=None, progress: bool = True) -> pd.DataFrame:
    """``FEATURES`` for every row of a study-A dataset (``sampling.build_dataset``): computed on the rows in their
    original orientation and copied to their augmented copies (swapped and reversed copies keep the original's
    features; rows joined by ``pair_key``). Index as ``dataset``."""
    orig = dataset[dataset["augmentation"] == "original"]
    feats = interaction_features_cached(list(orig["seq_x"]), list(orig["seq_y"]), list(orig["cat_x"]),
                                        list(orig["cat_y"]), cache, progress)
    feats.index = orig["pair_key"].to_numpy()
    return feats.loc[dataset["pair_key"].to_numpy()].set_index(dataset.index)


def model_matrix(features: pd.DataFrame) -> np.ndarray:
    """What a model reads: ``MODEL_FEATURES`` with NaN set to 0, plus two indicators (has a miRNA; has a site),
    so "no site" and "no miRNA" stay distinguishable. Shape (n, len(MODEL_FEATURES) + 2)."""
    part = features[list(MODEL_FEATURES)]
    has_mirna = features["best_site_rank"].notna().to_numpy(float)
    has_site = (features["best_site_rank"] > 0).to_numpy(float)
    return np.column_stack([part.fillna(0.0).to_numpy(float), has_mirna, has_site])


def site_counts(features: pd.DataFrame) -> pd.Series:
    """Canonical sites of every type per pair (``COUNT_FEATURES`` summed); NaN for a pair without a miRNA."""
    return features[list(COUNT_FEATURES)].sum(axis=1, min_count=1)


def seed_match_scores(features: pd.DataFrame) -> np.ndarray:
    """Seed-match baseline (no training): the best site's rank, then the number of sites, as one score
    rank + count / (count + 1) (so any better site type outranks any count); 0 without a miRNA."""
    rank = features["best_site_rank"].fillna(0.0).to_numpy(float)
    count = site_counts(features).fillna(0.0).to_numpy(float)
    return rank + count / (count + 1.0)
