"""Datasets: a registry of the bundled files, sha256-checked resolution, and tidy, validated loaders.

Resolution order for every registered file:
1. ``$RNALIB_DATA_DIR/<dataset>/<name>`` or the same path with ``.gz`` (a plain or gzip copy);
2. a download from the public upstream repository pinned to a commit (``pooch``), cached under
   ``$RNALIB_CACHE_DIR/data`` (``$RNALIB_DATA_URL`` replaces the upstream with a mirror laid out like
   ``RNALIB_DATA_DIR``).
The sha256 of the (uncompressed) content is verified either way.
"""
from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import re
import uuid
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

DATA_ENV = "RNALIB_DATA_DIR"
MIRROR_ENV = "RNALIB_DATA_URL"
CACHE_ENV = "RNALIB_CACHE_DIR"

LOC_CLASSES = ("Nucleus", "Exosome", "Cytosol", "Ribosome", "Membrane", "ER")
"""The papers' six classes; ``Cytosol`` is DM3Loc's Cytosol ∪ Cytoplasm."""
LABEL7_ORDER = ("Nucleus", "Exosome", "Cytosol", "Cytoplasm", "Ribosome", "Membrane", "ER")
SEED_COLUMNS = ("RNA_sequence_x", "RNA_sequence_y", "Category_x", "Category_y")
VALID_LETTERS = frozenset("ACGUN")
AMBIGUITY_LETTERS = frozenset("RYKMSWBDHV")
"""IUPAC ambiguity codes (T is read as U); ``ambiguous_to_n`` options write them as N."""


class DataError(ValueError):
    """Bad or unavailable input; the message is one line naming the file, the record and the problem."""


class DataWarning(UserWarning):
    """Something in the input worth a look (duplicates), reported rather than silently changed."""


@dataclass(frozen=True)
class DataFile:
    """One registered file: where it lives in a data folder, its content checksum, its pinned upstream."""

    dataset: str
    name: str
    sha256: str
    url: str

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.name}"


_DM3LOC = "dm3loc_rnalocate_mrna"
_DM3LOC_HEAD = "https://raw.githubusercontent.com/duolinwang/DM3Loc/ff74a1d42176e05fe78b6ddccc28d461b6447371"
_DM3LOC_FOLDS = "https://raw.githubusercontent.com/duolinwang/DM3Loc/dfe55f66cb1b0f0bb6f03dbf5d3c4cf2bb512028"
_NCRNAINTER = "ncrnainter_human_lncrna_mirna"
_NCRNAINTER_HEAD = (
    "https://raw.githubusercontent.com/zhygit2020/ncRNAInter/ac880a5f710716b4b691307f7950badeb893647a/main/data"
)
_FOLD_SHA256 = {
    "Test0": "1f827aa495b7bad5e02ea0744a81a945e199de2bbabcce42d27be2790ff2aa1b",
    "Test1": "db82c8d66968213576daf3f1f67d0760d78f4bdbe13ad257a9409d11afe12be4",
    "Test2": "1e0338e7cdd29e067e1a975f91eb521e2a26fb24efd6cfec067425231eaab487",
    "Test3": "0b093cd7c1f47a5f80635b75781e18a1df31d7248ab3285e113aeff91f93c849",
    "Test4": "6bfab55046684f158574c5966e7fd080a50fd8e3aecb7957f95c1b118402c689",
    "Train0": "d380b2e085e373932c57a6a98ee8c368ec2fb5d6779373085de8fa88706e8b13",
    "Train1": "b2d155eb87bd952a5422667457b379e85e21fea0193634d2c659f956885d4221",
    "Train2": "28b72a6f4e018ad55e73448469f804dd17b4ab8acd356785eb3cfd3bdb7382d9",
    "Train3": "d7b04e6df23aa5c0296ac7cdba48c91efdb70440c8f1db21f74dc1ce8e4d70cc",
    "Train4": "e9fb84b0a45912e5d95f79013149920151b26016903dd9a7232e20efc90d6039",
    "Val0": "25c429de43cf8595e03f9f92b6610655291e8b7fe4d219f2f6191f59d5e615f7",
    "Val1": "754d9f610df529e991a8c50f51370fece44f16a34cadb38162c841c56532173c",
    "Val2": "7c1b17d21da97844bd0a91801b4a5364303a25e11921fb982454e642e3a7ada6",
    "Val3": "1f37807652fd35871c7156cf1817238f2e377543f816f7f81621ea878835eb54",
    "Val4": "c1dedb591e3e39939dba980d932c1bcde8c7d705cd638c5693040815c71ed2b0",
}

REGISTRY: dict[str, DataFile] = {
    f.key: f
    for f in [
        DataFile(
            _DM3LOC,
            "modified_multilabel_seq_nonredundent.fasta",
            "9df874f8690a86cd93ea01e8195fca51aabd15992f76a158b0344be4acf0d6f7",
            f"{_DM3LOC_HEAD}/testdata/modified_multilabel_seq_nonredundent.fasta",
        ),
        *(
            DataFile(_DM3LOC, f"folds_dm3loc_5fold/{part}.txt", sha, f"{_DM3LOC_FOLDS}/testdata/{part}.txt")
            for part, sha in _FOLD_SHA256.items()
        ),
        DataFile(
            _NCRNAINTER,
            "trainval_pairs_RNA-RNA-Interacting.csv",
            "91da37354a4d1662ede055de339144eddf3b17386de1df83c7abbd94cf78378c",
            f"{_NCRNAINTER_HEAD}/trainval_data/RNA_intrinsic/RNA-RNA-Interacting.csv",
        ),
        DataFile(
            _NCRNAINTER,
            "test_pairs_RNA-RNA-Interacting.csv",
            "3d0581325e12c631bf306cf117329862482716adc722b8e6e6d8566446cbd87a",
            f"{_NCRNAINTER_HEAD}/test_data/RNA_intrinsic/RNA-RNA-Interacting.csv",
        ),
        DataFile(
            _NCRNAINTER,
            "lncrna_names_unique_seq.csv",
            "eef67e00ac080495fc4029f0548dc769d29ac342e750928d8de2f4d9f8f3a9ed",
            f"{_NCRNAINTER_HEAD}/original_data/pair_unique_RNAs/lncrna/lncrna_names_unique_seq.csv",
        ),
        DataFile(
            _NCRNAINTER,
            "mirna_names_unique_seq.csv",
            "6fc80e1f34080f4a19cd71f124717cdd63fc1b9358122fc398cc4b0771772599",
            f"{_NCRNAINTER_HEAD}/original_data/pair_unique_RNAs/mirna/mirna_names_unique_seq.csv",
        ),
    ]
}

_USED: dict[str, dict[str, str]] = {}
"""Files resolved in this process: key -> {sha256, source}; recorded in every run manifest."""


def write_atomically(target: Path, write: Callable[[Path], object]) -> Path:
    """Write ``target`` whole or not at all: ``write`` fills a temporary file beside it (created with its
    folder), which is then renamed into place; the temporary file never outlives a failure."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def cache_dir() -> Path:
    """Root of rnalib's caches (downloads, embeddings): ``$RNALIB_CACHE_DIR`` or the user cache folder."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("rnalib"))


_COMPRESSED = {b"\x1f\x8b": ("gzip", gzip.decompress), b"BZh": ("bz2", bz2.decompress),
               b"\xfd7zXZ\x00": ("xz", lzma.decompress)}
"""Compressions databases ship, by magic bytes: name and decompressor (a ``.zip`` of one file is read too)."""
_NOT_TEXT = {b"7z\xbc\xaf\x27\x1c": "a 7z archive", b"Rar!": "a RAR archive", b"(\xb5/\xfd": "a zstd stream",
             b"PAR1": "a Parquet file", b"\xd0\xcf\x11\xe0": "an old Excel/Office file", b"%PDF": "a PDF",
             b"\x89HDF": "an HDF5 file", b"BAM\x01": "a BAM file", b"\x93NUMPY": "a NumPy array"}
"""Formats that are not text, named in the error when given where a text file is expected."""


def _unzip(raw: bytes, path: Path) -> bytes:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        if any(n.startswith("xl/") for n in names):
            raise DataError(f"{path}: an Excel workbook (.xlsx), not a text file (save it as CSV)")
        if len(names) != 1:
            raise DataError(f"{path}: a zip archive of {len(names)} files (expected exactly one)")
        return archive.read(names[0])


def read_bytes(path: Path) -> bytes:
    """Content of a plain, gzip, bz2, xz or single-file zip file (decompressed, nested layers too); other
    archives and binary formats are a ``DataError`` naming what the file is."""
    raw = Path(path).read_bytes()
    for _ in range(3):
        kind = next(((name, fn) for magic, (name, fn) in _COMPRESSED.items() if raw.startswith(magic)), None)
        try:
            if kind:
                raw = kind[1](raw)
            elif raw.startswith(b"PK\x03\x04"):
                raw = _unzip(raw, Path(path))
            else:
                break
        except (OSError, EOFError, ValueError, lzma.LZMAError, zipfile.BadZipFile) as exc:
            name = kind[0] if kind else "zip"
            raise DataError(f"{path}: corrupt {name} stream ({exc})") from None
    what = next((name for magic, name in _NOT_TEXT.items() if raw.startswith(magic)), None)
    if what is None and raw[257:262] == b"ustar":
        what = "a tar archive"
    if what:
        raise DataError(f"{path}: {what}, not a text file")
    return raw


def decode_text(raw: bytes, source: str) -> str:
    """The one decoding step of every text reader: bytes (already decompressed) to ``str`` with ``\\n`` line
    ends. A UTF-8 or UTF-16 byte-order mark is honoured and dropped; CRLF and CR-only line ends become LF;
    bytes that are not UTF-8 are read as Latin-1 (every byte kept, so no id changes), with one ``DataWarning``
    naming the file. NUL bytes (binary data) are a ``DataError``."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DataError(f"{source}: broken UTF-16 text ({exc.reason} at byte {exc.start})") from None
    elif b"\x00" in raw:
        raise DataError(f"{source}: binary data (a NUL byte at byte {raw.find(0)}), not a text file")
    else:
        raw = raw.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark, also before Latin-1 bytes
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n") + 1
            warnings.warn(f"{source}: not UTF-8 (byte 0x{raw[exc.start]:02x} on line {line}); read as Latin-1",
                          DataWarning, stacklevel=2)
            text = raw.decode("latin-1")
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: Path) -> str:
    """``read_bytes`` then ``decode_text``: a user's text file as ``str`` (see both for what is accepted)."""
    return decode_text(read_bytes(Path(path)), str(path))


_NOT_FASTA_HINT = "expected FASTA: '>' header lines, each followed by sequence lines"


def text_kind(text: str) -> str | None:
    """What a text that is not FASTA looks like (FASTQ, a CSV/TSV table, an alignment, GFF), or None."""
    lines = [line for line in text.split("\n", 40)[:40] if line.strip()]
    if not lines:
        return None
    first = lines[0]
    if first.startswith("@") and len(lines) >= 3 and lines[2].startswith("+"):
        return "a FASTQ file"
    if first.startswith("# STOCKHOLM"):
        return "a Stockholm alignment"
    if first.startswith("CLUSTAL"):
        return "a Clustal alignment"
    if first.startswith("##gff") or first.count("\t") >= 8:
        return "a GFF/GTF annotation"
    if "," in first or "\t" in first:
        table = "TSV" if "\t" in first else "CSV"
        return f"a table ({table}) with columns {first.strip()[:60]!r}"
    return None


def fasta_blocks(text: str, source: str) -> list[tuple[str, int, str]]:
    """FASTA records of a decoded text: (header without '>', line number, joined sequence lines), in order.
    Blank lines are skipped; a file of another kind (``text_kind``) or text before the first header is a
    ``DataError`` naming it."""
    records: list[tuple[str, int, list[str]]] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if line.startswith(">"):
            records.append((line[1:].rstrip("\r"), lineno, []))
        elif not records:
            kind = text_kind(text)
            if kind:
                raise DataError(f"{source}: {kind}, not FASTA ({_NOT_FASTA_HINT})")
            raise DataError(f"{source}:{lineno}: sequence line before any FASTA header")
        else:
            records[-1][2].append(line.strip())
    return [(header, lineno, "".join(parts)) for header, lineno, parts in records]


@lru_cache(maxsize=64)
def _verified_content(path: str, mtime_ns: int, size: int, sha256: str) -> bytes:
    content = read_bytes(Path(path))
    got = hashlib.sha256(content).hexdigest()
    if got != sha256:
        raise DataError(f"{path}: sha256 of the content is {got}, expected {sha256} (file changed or corrupt)")
    return content


def _local_candidates(entry: DataFile) -> list[Path]:
    root = os.environ.get(DATA_ENV)
    if not root:
        return []
    base = Path(root).expanduser() / entry.dataset / entry.name
    return [base, base.with_name(base.name + ".gz")]


def _download(entry: DataFile) -> Path:
    import pooch

    mirror = os.environ.get(MIRROR_ENV)
    url = f"{mirror.rstrip('/')}/{entry.dataset}/{entry.name}" if mirror else entry.url
    target = cache_dir() / "data" / entry.dataset
    fname = entry.name.replace("/", "__")
    try:
        return Path(pooch.retrieve(url, known_hash=f"sha256:{entry.sha256}", fname=fname, path=target,
                                   progressbar=False))
    except Exception as exc:  # network errors, HTTP errors, hash mismatch: one message for all
        raise DataError(
            f"{entry.key}: not found locally and the download failed ({type(exc).__name__}: {exc}). "
            f"Set {DATA_ENV} to a folder holding {entry.dataset}/{entry.name}[.gz], or allow access to {url}"
        ) from None


def resolve(key: str) -> tuple[Path, bytes]:
    """Locate a registered file (local copy, else download), verify its sha256, return path and content."""
    if key not in REGISTRY:
        raise DataError(f"{key}: not a registered data file (known: {', '.join(sorted(REGISTRY))})")
    entry = REGISTRY[key]
    path = next((p for p in _local_candidates(entry) if p.is_file()), None) or _download(entry)
    stat = path.stat()
    content = _verified_content(str(path), stat.st_mtime_ns, stat.st_size, entry.sha256)
    _USED[key] = {"sha256": entry.sha256, "source": str(path)}
    return path, content


def used_files() -> dict[str, dict[str, str]]:
    """The registered files resolved so far in this process, with checksums and where they came from."""
    return {k: dict(v) for k, v in sorted(_USED.items())}


def dataset_checksums() -> dict[str, str]:
    """Each registered data set and one checksum over its files' pinned sha256 (names a data set's exact
    version without naming a machine's path)."""
    files: dict[str, list[str]] = {}
    for entry in sorted(REGISTRY.values(), key=lambda e: e.key):
        files.setdefault(entry.dataset, []).append(f"{entry.name}:{entry.sha256}")
    return {name: hashlib.sha256("\n".join(parts).encode()).hexdigest() for name, parts in files.items()}


def sha256_file(path: Path) -> str:
    """sha256 of a file's content as stored (user-provided inputs, weights)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- sequences


def normalize_sequence(seq: str) -> str:
    """Upper case, whitespace removed, DNA T written as U."""
    return "".join(str(seq).split()).upper().replace("T", "U")


def sequence_problem(seq: str) -> str | None:
    """Why a normalised sequence is invalid, or None when it is fine."""
    if not seq:
        return "empty sequence"
    bad = set(seq) - VALID_LETTERS
    if bad:
        hint = " (IUPAC ambiguity codes: the ambiguous_to_n option maps them to N)" if bad & AMBIGUITY_LETTERS else ""
        return f"letters outside ACGUTN: {''.join(sorted(bad))}{hint}"
    return None


def mask_ambiguity(seq: str) -> tuple[str, int]:
    """A normalised sequence with its IUPAC ambiguity letters (R Y K M S W B D H V) written as N, and how
    many letters were replaced."""
    replaced = sum(seq.count(c) for c in AMBIGUITY_LETTERS)
    return (seq.translate({ord(c): "N" for c in AMBIGUITY_LETTERS}) if replaced else seq), replaced


def rna_id(seq: str) -> str:
    """Stable id of an RNA: a hash of its normalised sequence (joins embeddings and results across studies)."""
    return "rna_" + hashlib.sha256(normalize_sequence(seq).encode()).hexdigest()[:20]


def checked_sequence(seq: str, where: str, ambiguous_to_n: bool = False) -> tuple[str, int]:
    """The normalised sequence and the number of ambiguity letters written as N (0 unless ``ambiguous_to_n``);
    an invalid sequence is a ``DataError`` starting with ``where``."""
    norm, replaced = normalize_sequence(seq), 0
    if ambiguous_to_n:
        norm, replaced = mask_ambiguity(norm)
    problem = sequence_problem(norm)
    if problem:
        raise DataError(f"{where}: {problem}")
    return norm, replaced



def checked_column(values, source: str, column: str, ambiguous_to_n: bool = False) -> tuple[list[str], list[int]]:
    """``checked_sequence`` of each value of a table's sequence column (errors name ``source``, the row as the
    file counts it, header = row 1, and ``column``): the normalised sequences and the letters written as N."""
    checked = [checked_sequence(s, f"{source}: row {i + 2}: {column}", ambiguous_to_n) for i, s in enumerate(values)]
    return [seq for seq, _ in checked], [n for _, n in checked]

# --------------------------------------------------------------------------- DM3Loc (study B)

_HEADER = re.compile(r"^>(?P<label>[^,]*),ACCNUM:(?P<acc>[^,]+),Gene_ID:(?P<gene_id>[^,]*),Gene_Name:(?P<gene>.*)$")


def _parse_header(line: str, source: str, lineno: int, width: int | tuple[int, ...]) -> dict[str, str]:
    match = _HEADER.match(line.rstrip("\r\n"))
    if not match:
        raise DataError(
            f"{source}:{lineno}: malformed FASTA header {line.strip()[:60]!r} "
            "(expected >LABEL,ACCNUM:...,Gene_ID:...,Gene_Name:...)"
        )
    rec = match.groupdict()
    widths = (width,) if isinstance(width, int) else width
    if len(rec["label"]) not in widths or set(rec["label"]) - {"0", "1"}:
        raise DataError(f"{source}:{lineno}: record {rec['acc']}: label field {rec['label']!r} is not "
                        f"{' or '.join(map(str, widths))} binary digits")
    return rec


def parse_dm3loc_fasta(text: str, source: str = "<fasta>", ambiguous_to_n: bool = False) -> pd.DataFrame:
    """Parse DM3Loc's multi-label FASTA: ``>LABEL,ACCNUM:..,Gene_ID:..,Gene_Name:..`` + sequence lines, LABEL
    being 7 digits (Nucleus, Exosome, Cytosol, Cytoplasm, Ribosome, Membrane, ER: the bundled file) or 6 digits
    (Cytosol∪Cytoplasm merged: the format of DM3Loc's README and fold lists; ``label7`` is then None).
    One row per record: id, accession, gene_id, gene, sequence, length, label7, the six classes (0/1); with
    ``ambiguous_to_n`` also ``ambiguous_replaced`` (letters written as N per record)."""
    records: list[dict] = []
    for header, lineno, seq in fasta_blocks(text, source):
        rec = _parse_header(">" + header, source, lineno, width=(7, 6))
        if records and len(rec["label"]) != len(records[0]["label"]):
            raise DataError(f"{source}:{lineno}: record {rec['acc']}: a {len(rec['label'])}-digit label among "
                            f"{len(records[0]['label'])}-digit ones")
        records.append({**rec, "line": lineno, "seq": seq})
    if not records:
        raise DataError(f"{source}: no FASTA records found")
    rows = []
    for rec in records:
        seq, replaced = checked_sequence(rec["seq"], f"{source}:{rec['line']}: record {rec['acc']}", ambiguous_to_n)
        labels = _dm3loc_labels(rec["label"])
        rows.append({"id": rna_id(seq), "accession": rec["acc"], "gene_id": rec["gene_id"], "gene": rec["gene"],
                     "sequence": seq, "length": len(seq), "label7": rec["label"] if len(rec["label"]) == 7 else None,
                     **labels, "ambiguous_replaced": replaced})
    frame = pd.DataFrame(rows, columns=["id", "accession", "gene_id", "gene", "sequence", "length", "label7",
                                        *LOC_CLASSES, *(["ambiguous_replaced"] if ambiguous_to_n else [])])
    _report_duplicates(frame, ["accession"], source, "accession")
    _report_duplicates(frame, ["id"], source, "sequence")
    return frame


def _dm3loc_labels(label: str) -> dict[str, int]:
    """The six paper classes (0/1) of a 7-digit label (Cytosol = Cytosol OR Cytoplasm) or a 6-digit one."""
    digits = [int(c) for c in label]
    if len(digits) == 6:
        return dict(zip(LOC_CLASSES, digits))
    labels = dict(zip(LABEL7_ORDER, digits))
    labels["Cytosol"] = labels["Cytosol"] | labels.pop("Cytoplasm")
    return labels


def load_dm3loc(path: str | Path | None = None, ambiguous_to_n: bool = False) -> pd.DataFrame:
    """DM3Loc's non-redundant mRNA set (or a file in its format, plain or compressed): one row per record, the
    six paper labels (0/1) and the raw 7-digit label (see ``parse_dm3loc_fasta``)."""
    if path is None:
        src, content = resolve(f"{_DM3LOC}/modified_multilabel_seq_nonredundent.fasta")
    else:
        src, content = Path(path), read_bytes(Path(path))
    return parse_dm3loc_fasta(decode_text(content, str(src)), str(src), ambiguous_to_n)


def parse_fold_list(text: str, source: str) -> pd.DataFrame:
    """One DM3Loc fold file: full headers with the older 6-digit label; returns accession and label6."""
    rows = []
    for lineno, line in enumerate(io.StringIO(text), start=1):
        if line.strip():
            rec = _parse_header(line, source, lineno, width=6)
            rows.append({"accession": rec["acc"], "label6": rec["label"]})
    return pd.DataFrame(rows, columns=["accession", "label6"])


def load_dm3loc_folds(folder: str | Path | None = None, n_folds: int = 5) -> pd.DataFrame:
    """DM3Loc's own folds as a table: index = accession, columns fold0..fold4, values train/val/test."""
    parts: dict[int, pd.Series] = {}
    labels: list[pd.DataFrame] = []
    for fold in range(n_folds):
        pieces = []
        for role, stem in (("train", "Train"), ("val", "Val"), ("test", "Test")):
            if folder is None:
                src, content = resolve(f"{_DM3LOC}/folds_dm3loc_5fold/{stem}{fold}.txt")
            else:
                src = Path(folder) / f"{stem}{fold}.txt"
                content = read_bytes(src)
            listed = parse_fold_list(decode_text(content, str(src)), str(src))
            labels.append(listed)
            pieces.append(pd.Series(role, index=listed["accession"]))
        column = pd.concat(pieces)
        dup = column.index[column.index.duplicated()]
        if len(dup):
            raise DataError(f"fold {fold}: accession {dup[0]} is listed in more than one of Train/Val/Test")
        parts[fold] = column
    table = pd.DataFrame({f"fold{k}": v for k, v in parts.items()})
    if table.isna().any().any():
        missing = table[table.isna().any(axis=1)].index[0]
        raise DataError(f"DM3Loc folds: accession {missing} is missing from some fold's Train/Val/Test lists")
    label6 = pd.concat(labels).drop_duplicates().set_index("accession")["label6"]
    if label6.index.duplicated().any():
        raise DataError(f"DM3Loc folds: accession {label6.index[label6.index.duplicated()][0]} has two labels")
    table.insert(0, "label6", label6.reindex(table.index))
    table.index.name = "accession"
    return table.sort_index()


def check_folds_match(records: pd.DataFrame, folds: pd.DataFrame) -> None:
    """The fold lists cover exactly the FASTA's accessions and their 6-digit labels equal the merged labels."""
    fasta_acc, fold_acc = set(records["accession"]), set(folds.index)
    if fasta_acc != fold_acc:
        extra = sorted(fold_acc - fasta_acc)[:1] or sorted(fasta_acc - fold_acc)[:1]
        raise DataError(f"DM3Loc folds: accession sets differ from the FASTA (e.g. {extra[0]})")
    merged = records.set_index("accession")[list(LOC_CLASSES)].astype(str).agg("".join, axis=1)
    bad = merged.index[merged != folds["label6"].reindex(merged.index)]
    if len(bad):
        raise DataError(f"DM3Loc folds: record {bad[0]}: fold label {folds.at[bad[0], 'label6']} "
                        f"!= FASTA label merged to six classes {merged[bad[0]]}")


# --------------------------------------------------------------------------- interactions (study A)


def _read_csv(content: bytes, source: str, required: tuple[str, ...]) -> pd.DataFrame:
    """A CSV (or, by its header line, TSV) table of strings, decoded by ``decode_text``; an empty file, a FASTA
    file, an unreadable table or missing ``required`` columns are a ``DataError``."""
    text = decode_text(content, source)
    if not text.strip():
        raise DataError(f"{source}: empty file (expected a CSV with a header: {', '.join(required)})")
    if text.lstrip().startswith(">"):
        raise DataError(f"{source}: a FASTA file, not a CSV table (expected a header: {', '.join(required)})")
    header = text.lstrip().split("\n", 1)[0]
    sep = "\t" if "\t" in header and "," not in header else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{source}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {', '.join(missing)} (found: {', '.join(frame.columns)})")
    return frame


def find_duplicates(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """All rows whose values in ``cols`` occur more than once (both copies shown)."""
    return frame[frame.duplicated(cols, keep=False)].sort_values(cols)


def _report_duplicates(frame: pd.DataFrame, cols: list[str], source: str, what: str) -> None:
    """Warn about duplicated keys (kept as they are) and count them in ``frame.attrs["duplicates"]``."""
    dup = find_duplicates(frame, cols)
    n = dup.drop_duplicates(cols).shape[0]
    if n:
        warnings.warn(f"{source}: {n} duplicated {what}(s) kept as they are, e.g. {dup.iloc[0][cols].tolist()}",
                      DataWarning, stacklevel=3)
    frame.attrs.setdefault("duplicates", {})[what] = n


def _finish_pairs(frame: pd.DataFrame, source: str, ambiguous_to_n: bool = False) -> pd.DataFrame:
    """Normalise and validate both sequences, add ids, lengths and label; report duplicated pairs."""
    for side in ("x", "y"):
        col = f"RNA_sequence_{side}"
        frame[col], replaced = checked_column(frame[col], source, col, ambiguous_to_n)
        frame[f"id_{side}"] = [rna_id(s) for s in frame[col]]
        frame[f"length_{side}"] = frame[col].str.len()
        if ambiguous_to_n:
            frame[f"ambiguous_replaced_{side}"] = replaced
    if "label" in frame.columns:
        bad = ~frame["label"].astype(str).isin({"0", "1", "0.0", "1.0"})
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise DataError(f"{source}: row {i + 2}: label {frame['label'].iloc[i]!r} is not 0/1")
        frame["label"] = frame["label"].astype(float).astype(int)
    else:
        frame["label"] = 1  # the seed's CSV lists interacting pairs only
    _report_duplicates(frame, ["id_x", "id_y"], source, "pair")
    conflicts = frame.groupby(["id_x", "id_y"])["label"].nunique()
    frame.attrs["conflicting_pairs"] = int((conflicts > 1).sum())
    return frame.reset_index(drop=True)


LABEL_NAMES = frozenset({"label", "labels", "y", "interaction", "interactions", "interacts", "interacting",
                         "isinteracting", "class", "target"})
"""Column names (compared lower case, letters only) read as a pair table's 0/1 label."""


def label_column(columns: list[str], source: str) -> str | None:
    """The one column of a pair table that looks like a label (``Label``, ``LABEL``, ``y``, ``interaction``...),
    or None (with a ``DataWarning`` that every row is read as a positive); two such columns are a ``DataError``."""
    found = [c for c in columns if re.sub(r"[^a-z]", "", str(c).lower()) in LABEL_NAMES]
    if len(found) > 1:
        raise DataError(f"{source}: {len(found)} label-like columns ({', '.join(found)}); keep one, named label")
    if not found:
        warnings.warn(f"{source}: no label column (label, Label, y, interaction...); every row is treated as an "
                      "interacting pair (label 1)", DataWarning, stacklevel=3)
    return found[0] if found else None


def load_pairs_csv(path: str | Path, ambiguous_to_n: bool = False) -> pd.DataFrame:
    """A user's interaction table (CSV or TSV, plain or compressed) in the seed's schema (``RNA_sequence_x,
    RNA_sequence_y, Category_x, Category_y``) with an optional 0/1 label column under any name ``label_column``
    recognises (absent: every row is an interacting pair, with a warning). With ``ambiguous_to_n``, IUPAC
    ambiguity letters become N, counted in ``ambiguous_replaced_x`` / ``_y``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    frame = _read_csv(read_bytes(path), str(path), SEED_COLUMNS)
    label = label_column([c for c in frame.columns if c not in SEED_COLUMNS], str(path))
    keep = [*SEED_COLUMNS, *(c for c in ("Category_Couple", label) if c in frame.columns)]
    frame = frame[keep].rename(columns={label: "label"}) if label else frame[keep].copy()
    frame.insert(4, "source_split", "all")
    return _finish_pairs(frame, str(path), ambiguous_to_n)


def load_ncrnainter() -> pd.DataFrame:
    """The bundled ncRNAInter human miRNA–lncRNA pairs, mapped to the seed's schema (x = miRNA, y = lncRNA)."""
    seqs = {}
    for kind, name in (("mirna", "mirna_names_unique_seq.csv"), ("lncrna", "lncrna_names_unique_seq.csv")):
        src, content = resolve(f"{_NCRNAINTER}/{name}")
        table = _read_csv(content, str(src), (kind, f"{kind}_seq", f"{kind}_id"))
        seqs[kind] = table.set_index(f"{kind}_id")[[kind, f"{kind}_seq"]]
    frames = []
    for split, name in (("trainval", "trainval_pairs_RNA-RNA-Interacting.csv"),
                        ("test", "test_pairs_RNA-RNA-Interacting.csv")):
        src, content = resolve(f"{_NCRNAINTER}/{name}")
        pairs = _read_csv(content, str(src), ("mirna_id", "lncrna_id", "Label"))
        for kind in ("mirna", "lncrna"):
            unknown = ~pairs[f"{kind}_id"].isin(seqs[kind].index)
            if unknown.any():
                i = int(unknown.to_numpy().nonzero()[0][0])
                raise DataError(f"{src}: row {i + 2}: {kind}_id {pairs[f'{kind}_id'].iloc[i]} has no sequence")
        mi = seqs["mirna"].loc[pairs["mirna_id"]].to_numpy()
        lnc = seqs["lncrna"].loc[pairs["lncrna_id"]].to_numpy()
        frames.append(pd.DataFrame({
            "RNA_sequence_x": mi[:, 1], "RNA_sequence_y": lnc[:, 1],
            "Category_x": "miRNA", "Category_y": "lncRNA", "source_split": split,
            "name_x": mi[:, 0], "name_y": lnc[:, 0], "label": pairs["Label"].to_numpy(),
        }))
    return _finish_pairs(pd.concat(frames, ignore_index=True), f"{_NCRNAINTER} pairs")


def load_interactions(path: str | Path | None = None, ambiguous_to_n: bool = False) -> pd.DataFrame:
    """Interaction pairs in the seed's schema: a user's CSV when ``path`` is given (see ``load_pairs_csv``), else
    the bundled ncRNAInter set."""
    return load_pairs_csv(path, ambiguous_to_n) if path else load_ncrnainter()


def length_filter(pairs: pd.DataFrame, max_len: int = 1022) -> pd.DataFrame:
    """Pairs whose two partners are both at most ``max_len`` nucleotides (the paper's RNA-FM window)."""
    keep = (pairs["length_x"] <= max_len) & (pairs["length_y"] <= max_len)
    return pairs[keep].reset_index(drop=True)


def unique_rnas(pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct RNA of a pair table: id, sequence, category, length."""
    sides = [
        pairs[[f"id_{s}", f"RNA_sequence_{s}", f"Category_{s}", f"length_{s}"]].set_axis(
            ["id", "sequence", "category", "length"], axis=1)
        for s in ("x", "y")
    ]
    return pd.concat(sides).drop_duplicates("id").reset_index(drop=True)


def pair_summary(pairs: pd.DataFrame) -> pd.Series:
    """Rows, unique RNAs (also per category) and unique edges of a pair table."""
    rnas = unique_rnas(pairs)
    return pd.Series({"rows": len(pairs), "unique RNAs": len(rnas),
                      "unique edges": len(pairs.drop_duplicates(["id_x", "id_y"])),
                      **rnas["category"].value_counts().sort_index().add_prefix("RNAs: ").to_dict()})
