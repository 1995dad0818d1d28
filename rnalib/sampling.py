"""Study A's data preparation: split protocols, augmentation and negative sampling.

Everything starts from unique positive pairs, before augmentation:
- ``C1`` — the paper's random pair split (the same RNA can sit in train and test);
- ``C2`` — every held-out pair has exactly one RNA never seen in the pairs it is held out from;
- ``C3`` — held-out pairs have both RNAs unseen (RNAs are partitioned first; pairs across the cut are dropped).
The same protocol makes test from all pairs (``test_frac``) and then val from the rest (``val_frac``), so
validation — used for early stopping and the threshold — mirrors test.

Negatives are drawn per split from that split's RNAs (x partners from its x side, y partners from its y side, so
categories are composed alike in both classes), never a positive pair in either order, never a self-pair, never
twice — not even in two different splits. Sampling runs in fixed blocks, each seeded from (seed, role, block), so the result is the same whatever the
number of workers.
"""
from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from .data import rna_id

PROTOCOLS = ("C1", "C2", "C3")
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


def _random_holdout(n: int, frac: float, rng: np.random.Generator) -> np.ndarray:
    held = np.zeros(n, dtype=bool)
    held[rng.permutation(n)[:int(round(n * frac))]] = True
    return held


def _node_holdout(pos: pd.DataFrame, frac: float, both: bool, rng: np.random.Generator) -> pd.Series:
    """Hold out RNAs (in seeded random order) until the held-out pairs reach ``frac`` of all pairs.

    Returns per pair: "held" (exactly one held-out RNA for C2, both for C3), "kept" (none), "dropped" (the rest).
    """
    nodes = np.array(sorted(set(pos["id_x"]) | set(pos["id_y"])))
    order = nodes[rng.permutation(len(nodes))]
    incident: dict[str, list[int]] = {}
    for i, (a, b) in enumerate(zip(pos["id_x"], pos["id_y"])):
        incident.setdefault(a, []).append(i)
        incident.setdefault(b, []).append(i)
    count = np.zeros(len(pos), dtype=np.int8)  # held-out endpoints per pair
    target, reached = frac * len(pos), 0
    held_nodes = set()
    for node in order:
        if reached >= target:
            break
        held_nodes.add(node)
        for i in incident[node]:
            count[i] += 1
            if both:
                reached += count[i] == 2
            else:
                reached += 1 if count[i] == 1 else -1
    status = np.where(count == 0, "kept", np.where(count == (2 if both else 1), "held", "dropped"))
    if not both:  # the seen partner of a held pair must really be seen among the kept pairs
        seen = set(pos["id_x"][status == "kept"]) | set(pos["id_y"][status == "kept"])
        for i in np.flatnonzero(status == "held"):
            partner = pos["id_y"].iat[i] if pos["id_x"].iat[i] in held_nodes else pos["id_x"].iat[i]
            if partner not in seen:
                status[i] = "dropped"
    return pd.Series(status, index=pos.index)


def split_pairs(pos: pd.DataFrame, protocol: str = "C1", test_frac: float = 0.1, val_frac: float = 0.2,
                seed: int = 0) -> pd.DataFrame:
    """Assign each unique positive pair a role (train / val / test) or ``dropped`` under a protocol."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown split protocol {protocol!r} (choose {', '.join(PROTOCOLS)})")
    rng = np.random.default_rng(seed)
    out = pos.copy()
    out["role"] = "dropped"

    def holdout(frame: pd.DataFrame, frac: float) -> pd.Series:
        if protocol == "C1":
            return pd.Series(np.where(_random_holdout(len(frame), frac, rng), "held", "kept"), index=frame.index)
        return _node_holdout(frame.reset_index(drop=True), frac, protocol == "C3", rng).set_axis(frame.index)

    first = holdout(out, test_frac)
    out.loc[first == "held", "role"] = "test"
    rest = out[first == "kept"]
    second = holdout(rest, val_frac)
    out.loc[second.index[second == "held"], "role"] = "val"
    out.loc[second.index[second == "kept"], "role"] = "train"
    if protocol == "C2":  # dropping pairs can unsee a partner: enforce "exactly one partner seen" at the end
        for role, earlier in (("val", ["train"]), ("test", ["train", "val"])):
            before = out[out["role"].isin(earlier)]
            seen = set(before["id_x"]) | set(before["id_y"])
            held = out["role"] == role
            exactly_one = np.array([(a in seen) != (b in seen) for a, b in zip(out["id_x"], out["id_y"])])
            out.loc[held & ~exactly_one, "role"] = "dropped"
    return out


# --------------------------------------------------------------------------- negatives


def _sample_block(x_ids: np.ndarray, y_ids: np.ndarray, px: np.ndarray, py: np.ndarray, size: int,
                  seed: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(list(seed))
    return x_ids[rng.choice(len(x_ids), size, p=px)], y_ids[rng.choice(len(y_ids), size, p=py)]


def sample_negatives(split_pos: pd.DataFrame, forbidden: set[str], ratio: int = 20, weighting: str = "uniform",
                     seed: int = 0, role: str = "train", workers: int = 10, block_size: int = 4096,
                     max_blocks: int = 400) -> pd.DataFrame:
    """``ratio`` negatives per positive pair of one split, from that split's RNAs.

    ``weighting``: ``uniform`` (each RNA equally likely) or ``degree`` (RNAs drawn in proportion to their number
    of positive pairs in the split, so that partner count is no longer a class signal). ``forbidden`` holds the
    pair keys of every positive pair of the data set.
    """
    if weighting not in ("uniform", "degree"):
        raise ValueError(f"unknown negative weighting {weighting!r} (uniform or degree)")
    need = ratio * len(split_pos)
    x_deg = split_pos["id_x"].value_counts().sort_index()
    y_deg = split_pos["id_y"].value_counts().sort_index()
    x_ids, y_ids = x_deg.index.to_numpy(), y_deg.index.to_numpy()
    px = (x_deg / x_deg.sum()).to_numpy() if weighting == "degree" else np.full(len(x_ids), 1 / len(x_ids))
    py = (y_deg / y_deg.sum()).to_numpy() if weighting == "degree" else np.full(len(y_ids), 1 / len(y_ids))
    taken: set[str] = set()
    rows: list[tuple[str, str]] = []
    block = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        while len(rows) < need and block < max_blocks:
            ids = range(block, min(block + max(1, workers), max_blocks))
            blocks = pool.map(lambda b: _sample_block(x_ids, y_ids, px, py, block_size,
                                                      (seed, _ROLE_CODE.get(role, 3), b)), ids)
            for xs, ys in blocks:  # merged in block order: independent of the worker count
                for a, b in zip(xs, ys):
                    key = pair_key(a, b)
                    if a != b and key not in forbidden and key not in taken:
                        taken.add(key)
                        rows.append((a, b))
                        if len(rows) == need:
                            break
                if len(rows) == need:
                    break
            block = ids[-1] + 1
    if len(rows) < need:
        warnings.warn(f"{role}: only {len(rows)} of {need} negatives exist among this split's RNAs "
                      f"(ratio 1:{len(rows) / max(len(split_pos), 1):.1f})", stacklevel=2)
    return pd.DataFrame(rows, columns=["id_x", "id_y"])


# --------------------------------------------------------------------------- the whole data set


def augment(rows: pd.DataFrame, reverse: bool = True) -> pd.DataFrame:
    """Original, swapped (y, x), reversed (both sequences reversed) and swapped + reversed copies.

    ``reverse=False`` keeps only original and swapped (reversing an RNA breaks its base pairing).
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
        sx, sy = ("seq_y", "seq_x") if swap else ("seq_x", "seq_y")
        ix, iy = ("id_y", "id_x") if swap else ("id_x", "id_y")
        cx, cy = ("cat_y", "cat_x") if swap else ("cat_x", "cat_y")
        frame["seq_x"], frame["seq_y"] = rows[sx].to_numpy(), rows[sy].to_numpy()
        frame["cat_x"], frame["cat_y"] = rows[cx].to_numpy(), rows[cy].to_numpy()
        if flip:
            frame["seq_x"] = [s[::-1] for s in frame["seq_x"]]
            frame["seq_y"] = [s[::-1] for s in frame["seq_y"]]
            frame["id_x"] = [rev_id(s) for s in frame["seq_x"]]
            frame["id_y"] = [rev_id(s) for s in frame["seq_y"]]
        else:
            frame["id_x"], frame["id_y"] = rows[ix].to_numpy(), rows[iy].to_numpy()
        frame["augmentation"] = name
        copies.append(frame)
    return pd.concat(copies, ignore_index=True)


def build_dataset(pos: pd.DataFrame, protocol: str = "C1", ratio: int = 20, weighting: str = "uniform",
                  reverse: bool = True, test_frac: float = 0.1, val_frac: float = 0.2, seed: int = 0,
                  workers: int = 10) -> pd.DataFrame:
    """Split unique positives, sample negatives per split, augment every split; one row per pair used.

    Columns: id_x, id_y, seq_x, seq_y, cat_x, cat_y, label, role, augmentation, is_negative, pair_key
    (``pair_key`` names the original unique pair that a row is a copy of).
    """
    split = split_pairs(pos, protocol, test_frac, val_frac, seed)
    forbidden = set(pos["pair_key"])
    seqs = dict(zip(pos["id_x"], pos["seq_x"])) | dict(zip(pos["id_y"], pos["seq_y"]))
    cats = dict(zip(pos["id_x"], pos["cat_x"])) | dict(zip(pos["id_y"], pos["cat_y"]))
    parts = []
    for role in ROLES:
        positives = split[split["role"] == role].drop(columns="role")
        if positives.empty:
            raise ValueError(f"protocol {protocol}: the {role} split is empty; use more pairs")
        negatives = sample_negatives(positives, forbidden, ratio, weighting, seed, role, workers)
        forbidden |= {pair_key(a, b) for a, b in zip(negatives["id_x"], negatives["id_y"])}  # one split each
        negatives["seq_x"], negatives["seq_y"] = negatives["id_x"].map(seqs), negatives["id_y"].map(seqs)
        negatives["cat_x"], negatives["cat_y"] = negatives["id_x"].map(cats), negatives["id_y"].map(cats)
        negatives["pair_key"] = [pair_key(a, b) for a, b in zip(negatives["id_x"], negatives["id_y"])]
        both = pd.concat([positives.assign(label=1, is_negative=False),
                          negatives.assign(label=0, is_negative=True)], ignore_index=True)
        parts.append(augment(both, reverse).assign(role=role))
    columns = ["id_x", "id_y", "seq_x", "seq_y", "cat_x", "cat_y", "label", "role", "augmentation",
               "is_negative", "pair_key"]
    return pd.concat(parts, ignore_index=True)[columns]


def training_degrees(dataset: pd.DataFrame) -> pd.Series:
    """Positive-pair count of each RNA in the training split (original orientation): the shortcut signal."""
    train = dataset[(dataset["role"] == "train") & (dataset["label"] == 1) & (dataset["augmentation"] == "original")]
    return pd.concat([train["id_x"], train["id_y"]]).value_counts()
