"""Embedders: a list of sequences in, an (n, d) float32 array out, and an id naming settings and weights.

- ``kmer``: normalised k-mer spectrum (numpy only; the offline default).
- ``rnafm``: RNA-FM through the ``rna-fm`` package; last-layer token representations, mean and max pooled
  over real nucleotides only (never BOS, EOS or padding).
- ``rinalmo``: RiNALMo through multimolecule (optional extra); [CLS] or mean pooling.
- ``auto``: ``rnafm`` when weights are found, else ``kmer``; the choice and its reason are reported.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Sequence

import numpy as np

from rnalib.data import normalize_sequence, sha256_file

WEIGHTS_ENV = "RNALIB_RNAFM_WEIGHTS"
KMER_K = (1, 4)
"""The k-mer embedder's default k range (k = 1..4, 340-d): the command line's and the notebooks' setting."""


class Embedder(ABC):
    """A sequence embedder: ``embed`` maps sequences to an (n, dim) float32 array."""

    dim: int

    @property
    @abstractmethod
    def id(self) -> str:
        """Names the embedder, its settings and its weights' checksum (the embedding cache key)."""

    @abstractmethod
    def embed(self, seqs: Sequence[str]) -> np.ndarray:
        """Embed normalised sequences; row i belongs to ``seqs[i]``."""


# --------------------------------------------------------------------------- k-mer spectrum

_CODES = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate("ACGU"):
    _CODES[ord(_c)] = _i


def kmer_spectrum(seq: str, k: int) -> np.ndarray:
    """Frequencies of the 4**k k-mers over ACGU (windows holding another letter are skipped)."""
    codes = _CODES[np.frombuffer(normalize_sequence(seq).encode(), dtype=np.uint8)]
    n_windows = len(codes) - k + 1
    counts = np.zeros(4**k, dtype=np.float64)
    if n_windows <= 0:
        return counts.astype(np.float32)
    invalid = np.concatenate([[0], np.cumsum(codes < 0)])
    valid = (invalid[k:] - invalid[:-k]) == 0
    clean = np.where(codes < 0, 0, codes)
    index = np.zeros(n_windows, dtype=np.int64)
    for offset in range(k):
        index = index * 4 + clean[offset:offset + n_windows]
    counts += np.bincount(index[valid], minlength=4**k)
    total = counts.sum()
    return (counts / total if total else counts).astype(np.float32)


def informative_windows(seq: str, k: int) -> int:
    """How many length-k windows of ``seq`` hold only A, C, G, U (the windows ``kmer_spectrum`` counts); 0 for
    an all-N sequence or one shorter than k."""
    bad = np.concatenate([[0], np.cumsum(_CODES[np.frombuffer(normalize_sequence(seq).encode(), np.uint8)] < 0)])
    return int(((bad[k:] - bad[:-k]) == 0).sum()) if len(bad) > k else 0


def kmer_names(k: int) -> list[str]:
    """Column names of ``kmer_spectrum(·, k)`` in order (A, C, G, U lexicographic)."""
    return ["".join(p) for p in product("ACGU", repeat=k)]


class KmerEmbedder(Embedder):
    """Concatenated normalised k-mer spectra for k = k_min..k_max."""

    def __init__(self, k_min: int = KMER_K[0], k_max: int = KMER_K[1]):
        if not 1 <= k_min <= k_max <= 8:
            raise ValueError(f"k-mer sizes must satisfy 1 <= k_min <= k_max <= 8, got {k_min}..{k_max}")
        self.ks = tuple(range(k_min, k_max + 1))
        self.dim = sum(4**k for k in self.ks)

    @property
    def id(self) -> str:
        return f"kmer-k{self.ks[0]}-{self.ks[-1]}-freq-v1"

    def embed(self, seqs: Sequence[str]) -> np.ndarray:
        out = np.empty((len(seqs), self.dim), dtype=np.float32)
        for row, seq in enumerate(seqs):
            out[row] = np.concatenate([kmer_spectrum(seq, k) for k in self.ks])
        return out


# --------------------------------------------------------------------------- RNA-FM

RNAFM_T12 = dict(layers=12, embed_dim=640, ffn_embed_dim=5120, attention_heads=20, max_positions=1024)
"""The published RNA-FM architecture (12 layers, 640-d, 20 heads)."""


def load_rnafm_checkpoint(path: str | Path):
    """Load an RNA-FM checkpoint (``{"args": Namespace, "model": state_dict}``) without running pickled code.

    ``torch.load(weights_only=True)`` with ``argparse.Namespace`` allow-listed, then rna-fm's own state-dict
    upgrade and model construction. Returns ``(model, alphabet)`` in eval mode.
    """
    import torch
    from fm.pretrained import load_model_and_alphabet_core

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: RNA-FM weights not found")
    with torch.serialization.safe_globals([argparse.Namespace]):
        try:
            data = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(f"{path}: not a loadable RNA-FM checkpoint ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict) or not {"args", "model"} <= set(data):
        raise ValueError(f"{path}: expected a dict with 'args' and 'model' (the RNA-FM checkpoint format)")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Regression weights not found")
        model, alphabet = load_model_and_alphabet_core("rna-fm", data, None, theme="rna")
    return model.eval(), alphabet


def download_rnafm():
    """Online only: rna-fm's own download of RNA-FM_pretrained.pth into torch's hub folder, loaded safely."""
    import torch

    url = "https://proj.cse.cuhk.edu.hk/rnafm/api/download?filename=RNA-FM_pretrained.pth"
    target = Path(torch.hub.get_dir()) / "checkpoints" / "RNA-FM_pretrained.pth"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(url, str(target), progress=True)
    return target


def random_rnafm_model(seed: int = 0, **arch):
    """A random-init RNA-FM model (the published architecture unless ``arch`` overrides ``RNAFM_T12``) and
    its alphabet, in eval mode."""
    import torch
    import fm

    spec = {**RNAFM_T12, **arch}
    alphabet = fm.Alphabet.from_architecture("roberta_large", theme="rna")
    torch.manual_seed(seed)
    model = fm.BioBertModel(argparse.Namespace(arch="roberta_large", emb_layer_norm_before=True, **spec), alphabet)
    return model.eval(), alphabet


def random_rnafm_checkpoint(path: str | Path, seed: int = 0, **arch) -> Path:
    """Write a random-init RNA-FM checkpoint in the exact upstream format (fairseq-style args and keys).

    ``arch`` overrides ``RNAFM_T12`` (e.g. ``layers=2, embed_dim=32`` for tests). Used by tests and benchmarks.
    """
    import torch

    model, _ = random_rnafm_model(seed, **arch)
    spec = model.args
    upstream = {}
    for key, value in model.state_dict().items():
        if key.startswith("contact_head.regression"):
            continue  # like the released file: no contact-regression weights
        prefix = "encoder." if key.startswith("lm_head.") else "encoder.sentence_encoder."
        upstream[prefix + key] = value
    args = argparse.Namespace(
        arch="roberta_large", max_positions=spec.max_positions,
        encoder_layers=spec.layers, encoder_embed_dim=spec.embed_dim,
        encoder_ffn_embed_dim=spec.ffn_embed_dim, encoder_attention_heads=spec.attention_heads,
        dropout=0.1, attention_dropout=0.1, activation_dropout=0.0,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"args": args, "model": upstream}, str(path))
    return path


def random_rinalmo_checkpoint(folder: str | Path, seed: int = 0, layers: int = 2, hidden: int = 32) -> Path:
    """Write a random-init RiNALMo model and tokenizer in multimolecule's ``save_pretrained`` layout (the
    rehearsal profile and tests)."""
    import multimolecule
    import torch

    torch.manual_seed(seed)
    config = multimolecule.RiNALMoConfig(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=4,
                                         intermediate_size=2 * hidden)
    folder = Path(folder)
    multimolecule.RiNALMoModel(config).save_pretrained(folder)
    multimolecule.RnaTokenizer().save_pretrained(folder)
    return folder


class RnaFmEmbedder(Embedder):
    """RNA-FM embeddings: last layer, mean + max over real nucleotides (2 × 640 = 1280-d for the T12 model).

    Runs on ``engine.RnaFmEngine``: sequences longer than the window are embedded by overlapping windows
    (``chunking``, on by default; ``window``/``stride`` in nt), batched by token budget, with fused attention.
    """

    def __init__(self, weights: str | Path | None = None, device: str | None = None, window: int | None = None,
                 stride: int | None = None, chunking: bool = True, max_tokens: int | None = None,
                 sdpa: bool = True, threads: int | None = None):
        from .engine import RnaFmEngine

        path = Path(weights) if weights else (Path(os.environ[WEIGHTS_ENV]) if os.environ.get(WEIGHTS_ENV)
                                              else download_rnafm())
        self.weights = path
        self.weights_sha256 = sha256_file(path)
        model, alphabet = load_rnafm_checkpoint(path)
        self.engine = RnaFmEngine(model, alphabet, device, window, stride, chunking, max_tokens, sdpa,
                                  threads=threads)
        self.model, self.alphabet, self.device = self.engine.model, alphabet, self.engine.device
        self.layer, self.dim, self.window = self.engine.layer, self.engine.dim, self.engine.window

    @property
    def id(self) -> str:
        precision = "-bf16" if self.engine.autocast else ""
        return (f"rnafm-L{self.layer}-d{self.dim}-meanmax-w{self.window}s{self.engine.stride}{precision}-"
                f"{self.weights_sha256[:16]}")

    def stream(self, seqs: Sequence[str]):
        """(index, vector) pairs as sequences finish (what the cache stores as it goes)."""
        return self.engine.stream([normalize_sequence(s) for s in seqs])

    def embed(self, seqs: Sequence[str]) -> np.ndarray:
        return self.engine.embed([normalize_sequence(s) for s in seqs])


# --------------------------------------------------------------------------- RiNALMo (optional extra)

RINALMO_ENV = "RNALIB_RINALMO_WEIGHTS"
RINALMO_HUB_ID = "multimolecule/rinalmo"


def weights_checksum(folder: str | Path) -> str:
    """sha256 over a model folder's weight files (safetensors or PyTorch bins), in name order."""
    digest = hashlib.sha256()
    files = sorted(p for p in Path(folder).iterdir() if p.suffix in (".safetensors", ".bin"))
    if not files:
        raise FileNotFoundError(f"{folder}: no .safetensors or .bin weight files")
    for path in files:
        digest.update(path.name.encode())
        digest.update(bytes.fromhex(sha256_file(path)))
    return digest.hexdigest()


class RinalmoEmbedder(Embedder):
    """RiNALMo through multimolecule (``pip install rnalib[rinalmo]``): the [CLS] token (the LOCAS paper) or
    the mean over real nucleotides of the last hidden layer.

    ``weights``: a local model folder (``save_pretrained`` layout) or, online, a hub id.
    """

    def __init__(self, weights: str | Path | None = None, pooling: str = "cls", device: str | None = None,
                 batch_size: int = 8):
        import torch

        try:
            import multimolecule  # noqa: F401  (registers the RiNALMo classes)
            from multimolecule import RiNALMoModel, RnaTokenizer
        except ImportError as exc:
            raise ImportError("RiNALMo needs the optional extra: pip install 'rnalib[rinalmo]'") from exc
        if pooling not in ("cls", "mean"):
            raise ValueError(f"unknown pooling {pooling!r} (cls or mean)")
        source = str(weights or os.environ.get(RINALMO_ENV) or RINALMO_HUB_ID)
        if not Path(source).is_dir():
            from huggingface_hub import snapshot_download

            source = snapshot_download(source)
        self.weights, self.pooling, self.batch_size = Path(source), pooling, batch_size
        self.weights_sha256 = weights_checksum(source)
        self.tokenizer = RnaTokenizer.from_pretrained(source)
        self.model = RiNALMoModel.from_pretrained(source).eval()
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model.to(self.device)
        self.dim = self.model.config.hidden_size
        self.window = self.model.config.max_position_embeddings - 2

    @property
    def id(self) -> str:
        return f"rinalmo-{self.pooling}-L{self.model.config.num_hidden_layers}-d{self.dim}-{self.weights_sha256[:16]}"

    def embed(self, seqs: Sequence[str]) -> np.ndarray:
        import torch

        from .engine import pool_rows

        seqs = [normalize_sequence(s) for s in seqs]
        for i, s in enumerate(seqs):
            if len(s) > self.window:
                raise ValueError(f"sequence {i} has {len(s)} nt; RiNALMo takes at most {self.window} nt "
                                 "(choose a truncation strategy)")
        out = np.empty((len(seqs), self.dim), dtype=np.float32)
        order = np.argsort([len(s) for s in seqs], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                enc = self.tokenizer([seqs[r] for r in rows], return_tensors="pt", padding=True)
                enc = {k: v.to(self.device) for k, v in enc.items()}
                hidden = self.model(**enc).last_hidden_state.float()
                if self.pooling == "cls":
                    pooled = hidden[:, 0]
                else:
                    lengths = torch.tensor([len(seqs[r]) for r in rows])
                    pooled = pool_rows(hidden, lengths)[:, :self.dim]
                out[rows] = pooled.cpu().numpy()
        return out


# --------------------------------------------------------------------------- long sequences

TRUNCATIONS = ("none", "5prime", "3prime", "dm3loc")


def truncate_sequence(seq: str, strategy: str, window: int) -> str:
    """Fit a sequence into ``window`` nt: keep its 5′ end, its 3′ end, or DM3Loc's split (a quarter of the
    window from the 5′ end and three quarters from the 3′ end: 1,000 + 3,000 nt for a 4,000-nt window)."""
    if strategy not in TRUNCATIONS:
        raise ValueError(f"unknown truncation {strategy!r} (choose {', '.join(TRUNCATIONS)})")
    if strategy == "none" or len(seq) <= window:
        return seq
    if strategy == "5prime":
        return seq[:window]
    if strategy == "3prime":
        return seq[-window:]
    head = window // 4
    return seq[:head] + seq[-(window - head):]


# --------------------------------------------------------------------------- windows along a sequence

LAYOUTS = ("ends", "segments")
WINDOWS_TAG = "-windows-"
"""Joins a windowed embedder's base id and its layout in its id."""
WHOLE_TAG = "+whole"
"""Ends a windowed embedder's id when the whole sequence is its first token."""


def window_sequences(seq: str, layout: str = "ends", n_windows: int = 4, window: int = 1000,
                     n_5prime: int = 1) -> list[str]:
    """``n_windows`` windows of one sequence, ordered 5′ → 3′.

    ``ends`` (DM3Loc's layout, which keeps both ends of long mRNAs): ``n_5prime`` windows of ``window`` nt tiled
    from the 5′ end and the others tiled back from the 3′ end, so window k always sits at the same distance from
    its end; in a sequence too short for all of them a window slides inward (windows overlap, none is empty).
    ``segments``: ``n_windows`` consecutive segments of (nearly) equal length covering the whole sequence.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown window layout {layout!r} (choose {', '.join(LAYOUTS)})")
    if n_windows < 1 or window < 1 or not 0 <= n_5prime <= n_windows:
        raise ValueError(f"bad window settings: n_windows={n_windows}, window={window}, n_5prime={n_5prime}")
    length = len(seq)
    if layout == "segments":
        bounds = np.linspace(0, length, n_windows + 1).round().astype(int)
        return [seq[a:max(b, a + 1)] for a, b in zip(bounds[:-1], bounds[1:])]
    last_start = max(length - window, 0)
    starts = [min(i * window, last_start) for i in range(n_5prime)]
    starts += [max(length - (j + 1) * window, 0) for j in reversed(range(n_windows - n_5prime))]
    return [seq[s:s + window] for s in starts]


class WindowedEmbedder(Embedder):
    """Embeds each window of a sequence with ``base`` and concatenates them: row i is ``n_tokens`` blocks of
    ``base.dim`` features, the whole sequence's embedding first when ``whole`` (a global token beside the
    windows; cut to the base model's input limit by DM3Loc's 5′/3′ truncation), then the windows 5′ → 3′. Its id
    names the base embedder and the layout (the cache key)."""

    def __init__(self, base: Embedder, layout: str = "ends", n_windows: int = 4, window: int = 1000,
                 n_5prime: int = 1, whole: bool = True):
        window_sequences("", layout, n_windows, window, n_5prime)  # validates the settings
        self.base, self.layout, self.n_windows, self.width, self.n_5prime = base, layout, n_windows, window, n_5prime
        self.whole = whole
        self.n_tokens = n_windows + whole
        self.token_dim = base.dim
        self.dim = base.dim * self.n_tokens

    @property
    def id(self) -> str:
        shape = f"{self.n_windows}x{self.width}-5p{self.n_5prime}" if self.layout == "ends" else f"{self.n_windows}"
        return f"{self.base.id}{WINDOWS_TAG}{self.layout}-{shape}{WHOLE_TAG if self.whole else ''}"

    def windows(self, seq: str) -> list[str]:
        """The sequences embedded for one mRNA, in token order."""
        wins = window_sequences(seq, self.layout, self.n_windows, self.width, self.n_5prime)
        if not self.whole:
            return wins
        limit = getattr(self.base, "window", None)  # a foundation model's input limit: DM3Loc's 5'/3' truncation
        return [truncate_sequence(seq, "dm3loc", limit) if limit else seq, *wins]

    def embed(self, seqs: Sequence[str]) -> np.ndarray:
        pieces = [w for s in seqs for w in self.windows(s)]
        return self.base.embed(pieces).reshape(len(seqs), self.dim)


def windowed_from_id(embedder_id: str, base: Embedder) -> WindowedEmbedder:
    """Rebuild a windowed embedder from its id around the rebuilt ``base``."""
    spec = embedder_id.split(WINDOWS_TAG, 1)[1]
    whole = spec.endswith(WHOLE_TAG)
    layout, shape = spec.removesuffix(WHOLE_TAG).split("-", 1)
    if layout == "ends":
        n, rest = shape.split("x")
        width, n_5prime = rest.split("-5p")
        return WindowedEmbedder(base, layout, int(n), int(width), int(n_5prime), whole)
    return WindowedEmbedder(base, layout, int(shape), whole=whole)


# --------------------------------------------------------------------------- selection


@dataclass(frozen=True)
class EmbedderChoice:
    """What was asked for, what is used, and why (shown in report headers and manifests)."""

    requested: str
    embedder: Embedder
    reason: str

    @property
    def fallback(self) -> bool:
        """``auto`` found no foundation-model weights (a windowed embedder is judged by its base)."""
        return self.requested == "auto" and isinstance(getattr(self.embedder, "base", self.embedder), KmerEmbedder)

    def as_dict(self) -> dict:
        return {"requested": self.requested, "used": self.embedder.id, "fallback": self.fallback,
                "reason": self.reason}


def select_embedder(name: str = "auto", weights: str | Path | None = None, kmer_k: tuple[int, int] = KMER_K,
                    device: str | None = None, pooling: str = "cls") -> EmbedderChoice:
    """Build the embedder ``name`` (auto / kmer / rnafm / rinalmo); ``auto`` uses RNA-FM only when weights are
    found, else the k-mer spectrum (a reported fallback)."""
    if name == "rinalmo":
        source = weights or os.environ.get(RINALMO_ENV) or RINALMO_HUB_ID
        return EmbedderChoice(name, RinalmoEmbedder(weights, pooling, device), f"RiNALMo requested ({Path(str(source)).name})")
    weights = weights or os.environ.get(WEIGHTS_ENV) or None
    if name == "kmer":
        return EmbedderChoice(name, KmerEmbedder(*kmer_k), "k-mer spectrum requested")
    if name == "rnafm":
        source = f"weights {Path(weights).name}" if weights else "weights downloaded by rna-fm"
        return EmbedderChoice(name, RnaFmEmbedder(weights, device=device), f"RNA-FM requested ({source})")
    if name == "auto":
        if weights and Path(weights).is_file():
            return EmbedderChoice(name, RnaFmEmbedder(weights, device=device), f"RNA-FM weights found ({Path(weights).name})")
        why = (f"RNA-FM weights not found ({Path(weights).name})" if weights else
               f"no RNA-FM weights given (parameter or {WEIGHTS_ENV})")
        return EmbedderChoice(name, KmerEmbedder(*kmer_k), f"FALLBACK to the k-mer spectrum: {why}")
    raise ValueError(f"unknown embedder {name!r} (choose auto, kmer, rnafm or rinalmo)")


def embedder_from_id(embedder_id: str, weights: str | Path | None = None, device: str | None = None) -> Embedder:
    """Rebuild the embedder a saved run used, from its id; RNA-FM weights must match the id's checksum."""
    if WINDOWS_TAG in embedder_id:
        base = embedder_from_id(embedder_id.split(WINDOWS_TAG, 1)[0], weights, device)
        built: Embedder = windowed_from_id(embedder_id, base)
    elif embedder_id.startswith("kmer-"):
        k_min, k_max = embedder_id.split("-")[1][1:], embedder_id.split("-")[2]
        built = KmerEmbedder(int(k_min), int(k_max))
    elif embedder_id.startswith("rnafm-"):
        import re

        ws = re.search(r"-w(\d+)s(\d+)", embedder_id)
        built = RnaFmEmbedder(weights, device=device, window=int(ws[1]) if ws else None,
                              stride=int(ws[2]) if ws else None)
    elif embedder_id.startswith("rinalmo-"):
        built = RinalmoEmbedder(weights, embedder_id.split("-")[1], device)
    else:
        raise ValueError(f"unknown embedder id {embedder_id!r}")
    if built.id != embedder_id:
        raise ValueError(f"embedder id {embedder_id!r} cannot be rebuilt: got {built.id!r} (other weights?)")
    return built
