"""Study A's data preparation: split protocols, augmentation and negative sampling.

Everything starts from unique positive pairs, before augmentation. An RNA is **seen** when it appears in a
training pair (validation RNAs are not seen). Protocols:
- ``C1`` — the paper's random pair split (the same RNA can sit in train and test);
- ``C1m`` — C1 with its training pairs subsampled to the size C3 trains on (same seed): C1 vs C1m shows the
  data-size effect, C1m vs C3 the protocol effect;
- ``C2`` — every val/test pair has exactly one seen partner;
- ``C3`` — val/test pairs have both partners unseen (RNAs are partitioned; pairs across the cut are dropped);
- ``C4`` — as C3, but whole *families* are partitioned (miRNAs by seed, long RNAs by sequence clusters; see
  ``rnalib.interactions.families``), so no test RNA has a family member in training.
The same protocol makes test from all pairs (``test_frac``) and then val from the rest (``val_frac``), so
validation — used for early stopping and the threshold — mirrors test.

Negatives follow the protocol: in every split they are drawn per *stratum* of that split's positives — whether
the x and the y partner are seen — with x from the split's x-side RNAs and y from its y-side RNAs of the same
seen status, so the share of negatives containing an unseen RNA equals the positives' share (C1), every C2
negative has exactly one seen partner, and no C3/C4 negative has any. Never a positive pair in either order,
never a self-pair, never the same pair twice, not even in two splits: every (split, stratum) stream ranks its
candidates with its own seeded generator, and a pair wanted by two splits goes to the held-out one (test, then
val), so test negatives are distributed as if test were sampled alone, as the paper does; val loses some first
choices to test (about a tenth under C1) and train, whose pool is many times larger, absorbs the rest. Where a
split cannot supply the nominal ratio, every stratum of it is cut to the same lower ratio (structure kept) and val
and test are cut to a common ratio, so the threshold is chosen at the prevalence it is applied at.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from rnalib.data import rna_id

PROTOCOLS = ("C1", "C1m", "C2", "C3", "C4")
PROTOCOL_LABELS = {"C1": "C1 random pairs (paper)", "C1m": "C1 size-matched to C3",
                   "C2": "C2 one partner unseen", "C3": "C3 both unseen", "C4": "C4 families unseen"}
ROLES = ("train", "val", "test")
AUGMENTATIONS = ("original", "swapped", "reversed", "swapped_reversed")
_ROLE_CODE = {"train": 0, "val": 1, "test": 2}


def pair_key(a: str, b: str) -> str:
    """Order-free key of a pair of RNA ids."""
    return "|".join(sorted((a, b)))


def unique_positive_pairs(pairs: pd.DataFrame, max_pairs: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Positive pairs, one row per unordered pair (first orientation kept); optionally a seeded subsample."""
    pos = pairs[pairs["label"] == 1]
    frame = pd.DataFrame({
        "id_x": pos["id_x"].to_numpy(), "id_y": pos["id_y"].to_numpy(),
        "seq_x": pos["RNA_sequence_x"].to_numpy(), "seq_y": pos["RNA_sequence_y"].to_numpy(),
        "cat_x": pos["Category_x"].to_numpy(), "cat_y": pos["Category_y"].to_numpy(),
    })
    frame = frame[frame["id_x"] != frame["id_y"]]
    frame["pair_key"] = [pair_key(a, b) for a, b in zip(frame["id_x"], frame["id_y"])]
    frame = frame.drop_duplicates("pair_key").reset_index(drop=True)
    if max_pairs and len(frame) > max_pairs:
        frame = induced_subset(frame, max_pairs, seed)
    return frame


def induced_subset(pos: pd.DataFrame, max_pairs: int, seed: int = 0) -> pd.DataFrame:
    """About ``max_pairs`` pairs: all pairs among a seeded random subset of RNAs (the induced subgraph).

    Sampling RNAs rather than pairs keeps the graph about as dense as the full one, so node-disjoint
    protocols lose no more pairs than they would at full size.
    """
    nodes = np.array(sorted(set(pos["id_x"]) | set(pos["id_y"])))
    order = nodes[np.random.default_rng(seed).permutation(len(nodes))]
    rank = pd.Series(np.arange(len(order)), index=order)
    # a pair enters once both its RNAs are chosen: at the larger of their two ranks
    enters = np.maximum(pos["id_x"].map(rank).to_numpy(), pos["id_y"].map(rank).to_numpy())
    cutoff = np.sort(enters)[max_pairs - 1]
    return pos[enters <= cutoff].reset_index(drop=True)


# --------------------------------------------------------------------------- splits


def _random_holdout(n: int, frac: float, rng: np.random.Generator) -> np.ndarray:
    held = np.zeros(n, dtype=bool)
    held[rng.permutation(n)[:int(round(n * frac))]] = True
    return held


def _group_holdout(gx: np.ndarray, gy: np.ndarray, frac: float, both: bool, rng: np.random.Generator) -> np.ndarray:
    """Hold out groups (RNAs or families, in seeded random order) until the held pairs reach ``frac`` of all.

    A pair is "held" when both its groups are held (``both``, C3/C4) or exactly one is (C2), "kept" when none
    is, else "dropped".
    """
    groups = np.array(sorted(set(gx) | set(gy)))
    order = groups[rng.permutation(len(groups))]
    incident: dict[str, list[int]] = {}
    for i, (a, b) in enumerate(zip(gx, gy)):
        incident.setdefault(a, []).append(i)
        if b != a:
            incident.setdefault(b, []).append(i)
    count = np.zeros(len(gx), dtype=np.int8)  # held-out endpoints per pair
    same = gx == gy
    target, reached = frac * len(gx), 0
    for group in order:
        if reached >= target:
            break
        for i in incident[group]:
            count[i] += 2 if same[i] else 1
            if both:
                reached += count[i] == 2
            else:
                reached += 1 if count[i] == 1 else (-1 if not same[i] else 0)
    held = count == 2 if both else count == 1
    return np.where(count == 0, "kept", np.where(held, "held", "dropped"))


def split_pairs(pos: pd.DataFrame, protocol: str = "C1", test_frac: float = 0.1, val_frac: float = 0.2,
                seed: int = 0, families: pd.Series | None = None) -> pd.DataFrame:
    """Assign each unique positive pair a role (train / val / test) or ``dropped`` under a protocol.

    ``families`` (RNA id → family label) is needed by C4 only.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown split protocol {protocol!r} (choose {', '.join(PROTOCOLS)})")
    if protocol == "C1m":
        return _size_matched(pos, test_frac, val_frac, seed)
    if protocol == "C4":
        if families is None:
            raise ValueError("protocol C4 needs RNA families (rnalib.interactions.families.assign_families)")
        missing = sorted((set(pos["id_x"]) | set(pos["id_y"])) - set(families.index))
        if missing:
            raise ValueError(f"protocol C4: {len(missing)} RNAs have no family, e.g. {missing[0]}")
    rng = np.random.default_rng(seed)
    out = pos.copy()
    out["role"] = "dropped"

    def holdout(frame: pd.DataFrame, frac: float) -> np.ndarray:
        if protocol == "C1":
            return np.where(_random_holdout(len(frame), frac, rng), "held", "kept")
        gx, gy = frame["id_x"].to_numpy(), frame["id_y"].to_numpy()
        if protocol == "C4":
            gx, gy = families.reindex(gx).to_numpy(), families.reindex(gy).to_numpy()
        return _group_holdout(gx, gy, frac, protocol != "C2", rng)

    first = holdout(out, test_frac)
    out.loc[first == "held", "role"] = "test"
    rest = out[first == "kept"]
    second = holdout(rest, val_frac)
    out.loc[rest.index[second == "held"], "role"] = "val"
    out.loc[rest.index[second == "kept"], "role"] = "train"
    if protocol == "C2":  # seen = in a training pair; dropping pairs can unsee a partner, so check at the end
        seen = seen_rnas(out[out["role"] == "train"])
        n_seen = out["id_x"].isin(seen).astype(int) + out["id_y"].isin(seen).astype(int)
        out.loc[out["role"].isin(["val", "test"]) & (n_seen != 1), "role"] = "dropped"
    return out


def _size_matched(pos: pd.DataFrame, test_frac: float, val_frac: float, seed: int) -> pd.DataFrame:
    """C1 whose training pairs are subsampled (seeded) to the number C3 trains on with the same seed."""
    target = int((split_pairs(pos, "C3", test_frac, val_frac, seed)["role"] == "train").sum())
    out = split_pairs(pos, "C1", test_frac, val_frac, seed)
    train = np.flatnonzero(out["role"].to_numpy() == "train")
    rng = np.random.default_rng([seed, 1])
    drop = rng.permutation(train)[target:]
    out.iloc[drop, out.columns.get_loc("role")] = "dropped"
    return out


def seen_rnas(train_pairs: pd.DataFrame) -> set[str]:
    """RNAs that appear in a training pair (original ids)."""
    return set(train_pairs["id_x"]) | set(train_pairs["id_y"])


# --------------------------------------------------------------------------- negatives

_STRATA = ((True, True), (True, False), (False, True), (False, False))
_ENUMERATE_LIMIT = 5_000_000  # candidate pairs per stream above which candidates are drawn, not enumerated


def _stratum_name(seen_x: bool, seen_y: bool) -> str:
    return ("s" if seen_x else "u") + ("s" if seen_y else "u")


def _priority(codes: np.ndarray, stream: int, seed: int) -> np.ndarray:
    """A pseudo-random priority per (pair, stream) that does not depend on which stream drew first."""
    key = np.uint64((seed * 1_000_003 + stream * 7_919 + 1) % (2 ** 61))
    with np.errstate(over="ignore"):
        z = codes.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + key * np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(31)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(29)
    return z


def _ranking(x: np.ndarray, y: np.ndarray, wx: np.ndarray, wy: np.ndarray, n: int, need: int,
             forbidden: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A stream's candidate pairs in random order of preference, pair weight wx·wy: (codes, x, y) with
    code = min·n + max of the two RNA indices.

    Pools up to ``_ENUMERATE_LIMIT`` pairs are enumerated and ranked by weighted sampling without replacement
    (Efraimidis–Spirakis keys); larger ones are drawn with replacement and deduplicated in draw order.
    Self-pairs and forbidden pairs never appear.
    """
    if len(x) * len(y) <= _ENUMERATE_LIMIT:
        i, j = np.repeat(np.arange(len(x)), len(y)), np.tile(np.arange(len(y)), len(x))
        keys = np.log(rng.random(len(i))) / (wx[i] * wy[j])
        order = np.argsort(-keys, kind="stable")
        xi, yi = x[i[order]], y[j[order]]
    else:
        size = 3 * need + 10_000
        xi, yi = x[rng.choice(len(x), size, p=wx / wx.sum())], y[rng.choice(len(y), size, p=wy / wy.sum())]
    codes = np.minimum(xi, yi).astype(np.int64) * n + np.maximum(xi, yi)
    ok = (xi != yi) & ~np.isin(codes, forbidden)
    codes, xi, yi = codes[ok], xi[ok], yi[ok]
    first = np.sort(np.unique(codes, return_index=True)[1])
    return codes[first], xi[first], yi[first]


def _resolve(codes: list[np.ndarray], needs: list[int], ranks: list[int], ids: list[int],
             seed: int) -> list[np.ndarray]:
    """Positions each stream keeps: the first ``need`` pairs of its ranking, where a pair wanted by several
    streams goes to the one of highest ``rank`` (ties: highest ``_priority``) and the others move further down
    their rankings. Repeats until no pair is wanted twice; the order in which streams are listed plays no part."""
    lost = [np.zeros(len(c), dtype=bool) for c in codes]
    while True:
        picks = [np.flatnonzero(~l)[:need] for l, need in zip(lost, needs)]
        wanted = np.concatenate([c[p] for c, p in zip(codes, picks)])
        stream = np.concatenate([np.full(len(p), i) for i, p in enumerate(picks)])
        prio = np.concatenate([_priority(c[p], k, seed) for k, c, p in zip(ids, codes, picks)])
        rank = np.concatenate([np.full(len(p), r) for r, p in zip(ranks, picks)])
        order = np.lexsort((~prio, -rank, wanted))  # by pair, highest rank then best priority first
        wanted, stream = wanted[order], stream[order]
        loses = np.r_[False, wanted[1:] == wanted[:-1]]
        if not loses.any():
            return picks
        for i in np.unique(stream[loses]):
            lost[i] |= np.isin(codes[i], wanted[loses & (stream == i)])


def _equalised(streams: list[dict], picks: list[np.ndarray], ratio: int) -> list[np.ndarray]:
    """Cut each split to the ratio its scarcest stratum reached (structure kept), and val and test to a common
    ratio (same prevalence where the threshold is chosen and where it is applied); warn when below nominal."""
    reached = {}
    for s, p in zip(streams, picks):
        reached[s["role"]] = min(reached.get(s["role"], ratio), len(p) / s["n_pos"])
    held = [r for r in ("val", "test") if r in reached]
    if held:
        common = min(reached[r] for r in held)
        reached.update({r: common for r in held})
    for role, value in reached.items():
        if value < ratio:
            warnings.warn(f"{role}: only 1:{value:.1f} negatives per positive exist among this split's RNAs "
                          f"(nominal 1:{ratio}); every stratum{' and val/test' if role in held else ''} cut to it",
                          stacklevel=3)
    return [p[:int(np.floor(reached[s["role"]] * s["n_pos"] + 1e-9))] for s, p in zip(streams, picks)]


def _streams(split: pd.DataFrame, forbidden: set[str]) -> tuple[np.ndarray, int, np.ndarray, list[dict]]:
    """The candidate pools negatives are drawn from: per split (role) and stratum of the positives' seen status,
    the split's x-side RNAs times its y-side RNAs of that status. Returns the RNA names (index = position), their
    number n, the codes (min·n + max) of every known positive pair among them, and one dict per stream: role,
    stratum, n_pos, id, xs, ys (names), xi, yi (their positions in names), dx, dy (the split's positive degrees)."""
    used = split[split["role"].isin(ROLES)]
    seen = seen_rnas(used[used["role"] == "train"])
    names = np.array(sorted(set(used["id_x"]) | set(used["id_y"])))
    index = pd.Series(np.arange(len(names)), index=names)
    n = len(names)
    pairs = [k.split("|") for k in forbidden]
    known = [(index[a], index[b]) for a, b in pairs if a in index.index and b in index.index]
    forbidden_codes = np.unique([min(a, b) * n + max(a, b) for a, b in known]).astype(np.int64)
    streams = []
    for role in ROLES:
        part = used[used["role"] == role]
        seen_x, seen_y = part["id_x"].isin(seen).to_numpy(), part["id_y"].isin(seen).to_numpy()
        for k, (sx, sy) in enumerate(_STRATA):
            n_pos = int(((seen_x == sx) & (seen_y == sy)).sum())
            if n_pos:
                xs = sorted(r for r in set(part["id_x"]) if (r in seen) == sx)  # the split's x side, same status
                ys = sorted(r for r in set(part["id_y"]) if (r in seen) == sy)
                streams.append({"role": role, "stratum": _stratum_name(sx, sy), "n_pos": n_pos, "k": k,
                                "id": 4 * _ROLE_CODE[role] + k, "xs": xs, "ys": ys,
                                "xi": index[xs].to_numpy(), "yi": index[ys].to_numpy(),
                                "dx": part["id_x"].value_counts(), "dy": part["id_y"].value_counts()})
    return names, n, forbidden_codes, streams


def sample_negatives(split: pd.DataFrame, forbidden: set[str], ratio: int = 20, weighting: str = "uniform",
                     seed: int = 0) -> pd.DataFrame:
    """Negatives for every split of ``split`` (unique positives with a ``role``), stratified by seen status.

    Returns id_x, id_y, role and stratum (two letters for x and y: ``s`` seen, ``u`` unseen in training).
    ``weighting``: ``uniform`` (each RNA of a pool equally likely) or ``degree`` (degree-weighted: in proportion
    to its positive pairs in that split, which weakens partner count as a class signal without removing it).
    ``forbidden``: pair keys of every known positive.
    """
    if weighting not in ("uniform", "degree"):
        raise ValueError(f"unknown negative weighting {weighting!r} (uniform or degree)")
    names, n, forbidden_codes, streams = _streams(split, forbidden)
    rankings = []
    for s in streams:
        rng = np.random.default_rng([seed, _ROLE_CODE[s["role"]], s["k"]])
        rankings.append(_ranking(s["xi"], s["yi"], _weights(s["xs"], s["dx"], weighting),
                                 _weights(s["ys"], s["dy"], weighting), n, ratio * s["n_pos"], forbidden_codes, rng))
    picks = _resolve([r[0] for r in rankings], [ratio * s["n_pos"] for s in streams],
                     [_ROLE_CODE[s["role"]] for s in streams], [s["id"] for s in streams], seed)
    frames = [pd.DataFrame({"id_x": names[xi[p]], "id_y": names[yi[p]], "role": s["role"], "stratum": s["stratum"]})
              for s, (_, xi, yi), p in zip(streams, rankings, _equalised(streams, picks, ratio))]
    columns = ["id_x", "id_y", "role", "stratum"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def negative_pools(split: pd.DataFrame, forbidden: set[str]) -> pd.DataFrame:
    """Per split (role), how many distinct pairs its negatives could be drawn from: the candidate pairs of
    ``sample_negatives``' streams (``_streams``: same RNAs, same strata), unordered, less self-pairs and every pair
    in ``forbidden`` (all known positives, including any the protocol dropped). Columns role, candidates."""
    _, n, forbidden_codes, streams = _streams(split, forbidden)
    counts = dict.fromkeys(ROLES, 0)
    for s in streams:
        xi, yi = s["xi"], s["yi"]
        codes = np.unique(np.concatenate([np.minimum(x, yi).astype(np.int64) * n + np.maximum(x, yi)
                                          for x in xi[:, None]] if len(xi) else [np.empty(0, np.int64)]))
        codes = codes[(codes // n != codes % n) & ~np.isin(codes, forbidden_codes)]
        counts[s["role"]] += len(codes)
    return pd.DataFrame({"role": list(counts), "candidates": list(counts.values())})


def _weights(ids: list[str], degree: pd.Series, weighting: str) -> np.ndarray:
    return degree.reindex(ids).to_numpy(dtype=float) if weighting == "degree" else np.ones(len(ids))


# --------------------------------------------------------------------------- the whole data set


def augment(rows: pd.DataFrame, reverse: bool = True) -> pd.DataFrame:
    """Original, swapped (y, x), reversed (both sequences reversed) and swapped + reversed copies.

    ``src_x`` / ``src_y`` keep the original RNA ids of each copy's partners (a reversed sequence gets an id of
    its own in ``id_x`` / ``id_y``). ``reverse=False`` keeps only original and swapped (reversing an RNA breaks
    its base pairing).
    """
    ids: dict[str, str] = {}

    def rev_id(seq: str) -> str:
        if seq not in ids:
            ids[seq] = rna_id(seq)
        return ids[seq]

    copies = []
    for name in AUGMENTATIONS if reverse else AUGMENTATIONS[:2]:
        swap, flip = "swapped" in name, "reversed" in name
        frame = rows.copy()
        for col in ("seq", "cat", "id"):
            a, b = (f"{col}_y", f"{col}_x") if swap else (f"{col}_x", f"{col}_y")
            frame[f"{col}_x"], frame[f"{col}_y"] = rows[a].to_numpy(), rows[b].to_numpy()
        frame["src_x"], frame["src_y"] = frame["id_x"].to_numpy(), frame["id_y"].to_numpy()
        if flip:
            frame["seq_x"] = [s[::-1] for s in frame["seq_x"]]
            frame["seq_y"] = [s[::-1] for s in frame["seq_y"]]
            frame["id_x"] = [rev_id(s) for s in frame["seq_x"]]
            frame["id_y"] = [rev_id(s) for s in frame["seq_y"]]
        frame["augmentation"] = name
        copies.append(frame)
    return pd.concat(copies, ignore_index=True)


DATASET_COLUMNS = ["id_x", "id_y", "src_x", "src_y", "seq_x", "seq_y", "cat_x", "cat_y", "label", "role",
                   "augmentation", "is_negative", "stratum", "pair_key"]


def build_dataset(pos: pd.DataFrame, protocol: str = "C1", ratio: int = 20, weighting: str = "uniform",
                  reverse: bool = True, test_frac: float = 0.1, val_frac: float = 0.2, seed: int = 0,
                  families: pd.Series | None = None) -> pd.DataFrame:
    """Split unique positives, sample negatives per split, augment every split; one row per pair used.

    Columns: ``DATASET_COLUMNS`` (``pair_key`` names the original unique pair that a row is a copy of;
    ``stratum`` the pair's seen status, x then y).
    """
    split = split_pairs(pos, protocol, test_frac, val_frac, seed, families)
    for role in ROLES:
        if not (split["role"] == role).any():
            raise ValueError(f"protocol {protocol}: the {role} split is empty; use more pairs")
    negatives = sample_negatives(split, set(pos["pair_key"]), ratio, weighting, seed)
    seqs = dict(zip(pos["id_x"], pos["seq_x"])) | dict(zip(pos["id_y"], pos["seq_y"]))
    cats = dict(zip(pos["id_x"], pos["cat_x"])) | dict(zip(pos["id_y"], pos["cat_y"]))
    seen = seen_rnas(split[split["role"] == "train"])
    positives = split[split["role"].isin(ROLES)].assign(label=1, is_negative=False)
    positives["stratum"] = [_stratum_name(a in seen, b in seen) for a, b in zip(positives["id_x"], positives["id_y"])]
    negatives = negatives.assign(
        label=0, is_negative=True, seq_x=negatives["id_x"].map(seqs), seq_y=negatives["id_y"].map(seqs),
        cat_x=negatives["id_x"].map(cats), cat_y=negatives["id_y"].map(cats),
        pair_key=[pair_key(a, b) for a, b in zip(negatives["id_x"], negatives["id_y"])])
    parts = []
    for role in ROLES:
        both = pd.concat([positives[positives["role"] == role], negatives[negatives["role"] == role]],
                         ignore_index=True)
        parts.append(augment(both, reverse))
    return pd.concat(parts, ignore_index=True)[DATASET_COLUMNS]


def original_pairs(dataset: pd.DataFrame) -> pd.DataFrame:
    """The rows in their original orientation (one per unique pair)."""
    return dataset[dataset["augmentation"] == "original"]


def training_degrees(dataset: pd.DataFrame) -> pd.Series:
    """Positive-pair count of each RNA in the training split (original ids): the shortcut signal."""
    orig = original_pairs(dataset)
    train = orig[(orig["role"] == "train") & (orig["label"] == 1)]
    return pd.concat([train["id_x"], train["id_y"]]).value_counts()


def structure(dataset: pd.DataFrame) -> pd.DataFrame:
    """Per split and class: pairs, realised negatives per positive, the shares of pairs with both, exactly one or
    no partner seen in training — equal shares across classes mean the negatives follow the protocol — and the
    partners' mean training degree (what the degree-only baseline scores)."""
    orig = original_pairs(dataset)
    seen = seen_rnas(orig[(orig["role"] == "train") & (orig["label"] == 1)])
    n_seen = orig["id_x"].isin(seen).astype(int) + orig["id_y"].isin(seen).astype(int)
    degrees = training_degrees(dataset)
    degree = orig["id_x"].map(degrees).fillna(0) + orig["id_y"].map(degrees).fillna(0)
    frame = orig.assign(n_seen=n_seen, degree=degree, cls=np.where(orig["label"] == 1, "positive", "negative"))
    rows = []
    for (role, cls), part in frame.groupby(["role", "cls"], sort=False):
        rows.append({"role": role, "class": cls, "pairs": len(part),
                     "both seen": (part["n_seen"] == 2).mean(), "one seen": (part["n_seen"] == 1).mean(),
                     "none seen": (part["n_seen"] == 0).mean(), "any unseen": (part["n_seen"] < 2).mean(),
                     "mean training degree (x + y)": part["degree"].mean()})
    out = pd.DataFrame(rows).set_index(["role", "class"]).reindex(
        [(r, c) for r in ROLES for c in ("positive", "negative")])
    pos = out.xs("positive", level="class")["pairs"]
    out["negatives per positive"] = [out.loc[(r, "negative"), "pairs"] / pos[r] if c == "negative" else np.nan
                                     for r, c in out.index]
    return out


def negative_pool_use(dataset: pd.DataFrame, forbidden: set[str]) -> pd.DataFrame:
    """Per split: its negatives against every pair they could have been drawn from (``negative_pools`` of the
    dataset's original positives; ``forbidden``: the pair keys of every known positive, as given to
    ``sample_negatives``). Columns role, negatives, candidates, share. A share near 1 means the pool is
    exhausted: any weighting of the draw picks nearly the same negatives, so degree-weighted and uniform
    negatives cannot differ much there."""
    orig = original_pairs(dataset)
    pools = negative_pools(orig[orig["label"] == 1], forbidden)
    pools["negatives"] = [int(((orig["role"] == r) & (orig["label"] == 0)).sum()) for r in pools["role"]]
    pools["share"] = pools["negatives"] / pools["candidates"].where(pools["candidates"] > 0)
    return pools[["role", "negatives", "candidates", "share"]]
