"""Content-addressed embedding cache: key = (embedder id, RNA id), one checksummed file per entry.

Each entry is written to a temporary file and renamed into place, so a killed run leaves either a whole
entry or none; every read checks a sha256 of the payload, so a corrupt or truncated entry is deleted and
recomputed, never returned. A run started again computes only the sequences still missing.

Many small entries read one file each; a namespace that pages read by the ten thousand (study A's pair
features) is also *packed* once its entries exist (``EmbeddingCache.pack``: one checksummed ``.npz`` of keys and
vectors), and ``get_many`` reads packs first and single entries only for keys no pack holds.
"""
from __future__ import annotations

import hashlib
import io
import re
import time
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from rnalib.data import cache_dir, normalize_sequence, rna_id, write_atomically

from .embed import Embedder

_MAGIC = b"RNALIBE1"
_HEAD = len(_MAGIC) + 32


class EmbeddingCache:
    """Vectors on disk under ``root/<embedder id>/<xx>/<rna id>.npy`` (packs under ``root/<embedder id>/packs/``);
    root defaults to ``$RNALIB_CACHE_DIR/embeddings`` (or the user cache folder's ``rnalib/embeddings``)."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root else cache_dir() / "embeddings"
        self.corrupt_dropped = 0
        self.written = 0  # entries this object stored (what a run computed)
        self._packs: dict[str, dict[str, np.ndarray]] = {}  # namespace -> key -> vector, read once per object

    def path(self, embedder_id: str, key: str) -> Path:
        return self._folder(embedder_id) / key[-2:] / f"{key}.npy"

    def _folder(self, embedder_id: str) -> Path:
        return self.root / re.sub(r"[^A-Za-z0-9._-]", "_", embedder_id)

    def pack(self, embedder_id: str, vectors: dict[str, np.ndarray]) -> Path | None:
        """Write ``vectors`` (key -> vector of one length, what ``get`` returns for those keys) as one pack,
        ``packs/<sha256 of the sorted keys>.npz``: arrays ``keys`` (ASCII), ``vectors`` (float32, (n, dim)) and
        ``sha256`` (of both), written atomically. A valid pack of the same keys and length is kept as it is.
        Returns its path (None for no keys)."""
        keys = sorted(vectors)
        if not keys:
            return None
        matrix = np.vstack([np.asarray(vectors[k], dtype=np.float32) for k in keys])
        path = self._folder(embedder_id) / "packs" / f"{hashlib.sha256(chr(10).join(keys).encode()).hexdigest()}.npz"
        kept = _read_pack(path) if path.exists() else None
        if kept is None or kept[1].shape != matrix.shape:
            write_atomically(path, lambda tmp: _write_pack(tmp, np.array(keys, dtype=bytes), matrix))
        return path

    def get_many(self, embedder_id: str, keys: Sequence[str], dim: int | None = None) -> dict[str, np.ndarray]:
        """The cached vectors of ``keys`` that exist (absent keys are left out): from the namespace's packs of
        vectors of length ``dim`` (read once per cache object; a pack that fails its checksum is deleted), else
        from single entries (``get``)."""
        if embedder_id not in self._packs:
            self._packs[embedder_id] = {}
            for path in sorted((self._folder(embedder_id) / "packs").glob("*.npz")):
                try:
                    packed = _read_pack(path)
                except OSError:  # unreadable now (not corrupt): single entries serve its keys
                    continue
                if packed is None:
                    path.unlink(missing_ok=True)
                    self.corrupt_dropped += 1
                else:
                    self._packs[embedder_id].update(zip(packed[0].astype(str).tolist(), packed[1]))
        packed, found = self._packs[embedder_id], {}
        for key in keys:
            vec = packed.get(key)
            if vec is None or (dim is not None and vec.shape[0] != dim):
                vec = self.get(embedder_id, key, dim)
            if vec is not None:
                found[key] = vec
        return found

    def get(self, embedder_id: str, key: str, dim: int | None = None) -> np.ndarray | None:
        """The cached vector, or None when absent; a corrupt entry (or one of the wrong size) is deleted."""
        path = self.path(embedder_id, key)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        payload = blob[_HEAD:]
        vec = None
        if blob[:len(_MAGIC)] == _MAGIC and hashlib.sha256(payload).digest() == blob[len(_MAGIC):_HEAD]:
            try:
                vec = np.load(io.BytesIO(payload), allow_pickle=False)
            except ValueError:
                vec = None
        if vec is None or vec.ndim != 1 or (dim is not None and vec.shape[0] != dim):
            path.unlink(missing_ok=True)
            self.corrupt_dropped += 1
            return None
        return vec

    def put(self, embedder_id: str, key: str, vec: np.ndarray) -> None:
        """Store atomically: write a temporary file beside the target, then rename it into place."""
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(vec, dtype=np.float32), allow_pickle=False)
        payload = buffer.getvalue()
        write_atomically(self.path(embedder_id, key),
                         lambda tmp: tmp.write_bytes(_MAGIC + hashlib.sha256(payload).digest() + payload))
        self.written += 1


def _write_pack(path: Path, keys: np.ndarray, vectors: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, keys=keys, vectors=vectors, sha256=np.array(_pack_digest(keys, vectors)))


def _pack_digest(keys: np.ndarray, vectors: np.ndarray) -> str:
    payload = keys.astype(bytes).tobytes() + np.ascontiguousarray(vectors, dtype=np.float32).tobytes()
    return hashlib.sha256(payload).hexdigest()


def _read_pack(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(keys, vectors) of a pack whose checksum holds, else None (corrupt or truncated); OSError when the file
    cannot be read at all."""
    try:
        with np.load(path, allow_pickle=False) as packed:
            keys, vectors, digest = packed["keys"], packed["vectors"], str(packed["sha256"])
    except (ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if vectors.ndim != 2 or len(keys) != len(vectors) or _pack_digest(keys, vectors) != digest:
        return None
    return keys, vectors


def embed_cached(embedder: Embedder, seqs: Sequence[str], cache: EmbeddingCache | None = None,
                 chunk_size: int = 32, progress: bool = True, desc: str = "embedding") -> np.ndarray:
    """Embed ``seqs`` through the cache: only missing sequences are computed and each vector is stored as soon
    as it exists (embedders with ``stream`` yield them as sequences finish; others run in chunks of
    ``chunk_size``). Duplicated sequences are embedded once. Rows come back in input order. The progress bar
    shows sequences per second and nucleotides (tokens) per second.
    """
    cache = cache or EmbeddingCache()
    norm = [normalize_sequence(s) for s in seqs]
    keys = [rna_id(s) for s in norm]
    unique = dict(zip(keys, norm))
    found: dict[str, np.ndarray] = {}
    for key in unique:
        vec = cache.get(embedder.id, key, embedder.dim)
        if vec is not None:
            found[key] = vec
    missing = [key for key in unique if key not in found]
    total_nt = sum(len(unique[k]) for k in missing)
    with tqdm(total=len(missing), desc=f"{desc} [{embedder.id}]", unit="seq", disable=not progress or not missing,
              postfix={"cached": len(found), "nt": total_nt}) as bar:
        done_nt, started = 0, time.perf_counter()
        for key, vec in _computed(embedder, missing, unique, chunk_size):
            cache.put(embedder.id, key, vec)
            found[key] = vec
            done_nt += len(unique[key])
            bar.update(1)
            bar.set_postfix(cached=len(found) - bar.n, nt_per_s=f"{done_nt / max(time.perf_counter() - started, 1e-9):,.0f}",
                            refresh=False)
    out = np.empty((len(keys), embedder.dim), dtype=np.float32)
    for row, key in enumerate(keys):
        out[row] = found[key]
    return out


def _computed(embedder: Embedder, keys: list[str], seqs: dict[str, str], chunk_size: int):
    """(key, vector) pairs as they are computed: from ``embedder.stream`` when it has one (each sequence as it
    finishes), else from ``embedder.embed`` in chunks of ``chunk_size``."""
    stream = getattr(embedder, "stream", None)
    if stream is not None:
        for i, vec in stream([seqs[k] for k in keys]):
            yield keys[i], vec
        return
    for start in range(0, len(keys), chunk_size):
        chunk = keys[start:start + chunk_size]
        yield from zip(chunk, embedder.embed([seqs[k] for k in chunk]))
