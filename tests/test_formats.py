"""Files as they come from RNA databases (issue 19): label columns, compressions / BOM / line ends, non-UTF-8
headers, database header conventions, IUPAC ambiguity letters, records without information, output formats.
Every file is made here, small and invented."""
import bz2
import gzip
import io
import lzma
import tarfile
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

from rnalib import data
from rnalib.cli import newdata
from rnalib.cli.main import main
from rnalib.embedding import embed

FASTA = ">m1 a miRNA\nUGAGGUAGUAGGUUGUAUAGUU\n>l1\nACGU\nACGUUU\n"


def one_line(excinfo, *parts):
    message = str(excinfo.value)
    assert "\n" not in message, message
    for part in parts:
        assert part in message, (part, message)


def data_warnings(caught):
    return [str(w.message) for w in caught if issubclass(w.category, data.DataWarning)]


# --------------------------------------------------------------------------- 1. label columns


@pytest.mark.parametrize("name", ["Label", "LABEL", "y", "interaction", "label"])
def test_label_like_column_is_used(tmp_path, name):
    path = tmp_path / "pairs.csv"
    path.write_text(f"RNA_sequence_x,RNA_sequence_y,Category_x,Category_y,{name}\n"
                    "ACGU,GGGA,miRNA,lncRNA,1\nACGU,GGGC,miRNA,lncRNA,0\nACGA,GGGA,miRNA,lncRNA,0\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pairs = data.load_interactions(path)
    assert list(pairs["label"]) == [1, 0, 0] and name not in set(pairs.columns) - {"label"}
    assert not any("label" in m for m in data_warnings(caught))


def test_label_columns_refused_or_absent_said(tmp_path):
    two = tmp_path / "two.csv"
    two.write_text("RNA_sequence_x,RNA_sequence_y,Category_x,Category_y,Label,y\nACGU,GGGA,a,b,1,0\n")
    with pytest.raises(data.DataError) as excinfo:
        data.load_pairs_csv(two)
    one_line(excinfo, "two.csv", "2 label-like columns (Label, y)")
    bad = tmp_path / "bad.csv"
    bad.write_text("RNA_sequence_x,RNA_sequence_y,Category_x,Category_y,Label\nACGU,GGGA,a,b,yes\n")
    with pytest.raises(data.DataError) as excinfo:
        data.load_pairs_csv(bad)
    one_line(excinfo, "bad.csv", "row 2", "'yes' is not 0/1")
    none = tmp_path / "none.csv"
    none.write_text("RNA_sequence_x,RNA_sequence_y,Category_x,Category_y\nACGU,GGGA,a,b\nACGU,GGGC,a,b\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pairs = data.load_pairs_csv(none)
    said = [m for m in data_warnings(caught) if "no label column" in m]
    assert len(said) == 1 and "none.csv" in said[0] and "every row is treated as an interacting pair" in said[0]
    assert list(pairs["label"]) == [1, 1]


# --------------------------------------------------------------------------- 2. one decoding step


def _zip(raw, names=("in.fa",)):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, raw)
    return buffer.getvalue()


ENCODINGS = {
    "plain": lambda b: b, "gzip": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress, "zip": _zip,
    "bom": lambda b: b"\xef\xbb\xbf" + b, "crlf": lambda b: b.replace(b"\n", b"\r\n"),
    "cr": lambda b: b.replace(b"\n", b"\r"), "bom-crlf-gzip": lambda b: gzip.compress(b"\xef\xbb\xbf" + b.replace(
        b"\n", b"\r\n")), "utf16": lambda b: b.decode().encode("utf-16"),
}


@pytest.mark.parametrize("kind", list(ENCODINGS))
def test_every_reader_decodes_the_same_way(tmp_path, kind):
    fasta = tmp_path / "in.fa"
    fasta.write_bytes(ENCODINGS[kind](FASTA.encode()))
    records = newdata.read_fasta(fasta)
    assert list(records["id"]) == ["m1", "l1"] and list(records["sequence"]) == ["UGAGGUAGUAGGUUGUAUAGUU", "ACGUACGUUU"]
    assert list(records["line"]) == [1, 3]
    dm3loc = tmp_path / "dm3loc.fasta"
    dm3loc.write_bytes(ENCODINGS[kind](b">0011000,ACCNUM:NM_9,Gene_ID:9,Gene_Name:G\nACGT\nAC\n"))
    frame = data.load_dm3loc(dm3loc)
    assert list(frame["accession"]) == ["NM_9"] and list(frame["sequence"]) == ["ACGUAC"]
    assert frame.loc[0, list(data.LOC_CLASSES)].tolist() == [0, 0, 1, 0, 0, 0] and frame.loc[0, "gene"] == "G"
    csv = tmp_path / "pairs.csv"
    csv.write_bytes(ENCODINGS[kind](b"RNA_sequence_x,RNA_sequence_y,Category_x,Category_y,Label\nacgt,GGGA,a,b,0\n"))
    pairs = data.load_pairs_csv(csv)
    assert list(pairs.columns[:4]) == list(data.SEED_COLUMNS) and pairs.loc[0, "RNA_sequence_x"] == "ACGU"
    assert pairs.loc[0, "Category_y"] == "b" and list(pairs["label"]) == [0]


def test_dm3loc_readme_format_six_digit_labels(tmp_path):
    """DM3Loc's README documents training FASTA with a 6-digit one-hot label (Cytosol and Cytoplasm merged)."""
    path = tmp_path / "train.fasta"
    path.write_bytes(b">010000,ACCNUM:NM_001507,Gene_ID:2862,Gene_Name:MLNR\r\nATGGGC\r\n"
                     b">101001,ACCNUM:NM_2,Gene_ID:2,Gene_Name:B\r\nGGGG\r\n")
    frame = data.load_dm3loc(path)
    assert frame[list(data.LOC_CLASSES)].values.tolist() == [[0, 1, 0, 0, 0, 0], [1, 0, 1, 0, 0, 1]]
    assert list(frame["accession"]) == ["NM_001507", "NM_2"] and frame["label7"].isna().all()
    assert list(frame["sequence"]) == ["AUGGGC", "GGGG"]


def _tar_gz():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("in.fa")
        info.size = len(FASTA)
        archive.addfile(info, io.BytesIO(FASTA.encode()))
    return buffer.getvalue()


@pytest.mark.parametrize("content, problem", [
    (_tar_gz(), "a tar archive, not a text file"),
    (b"7z\xbc\xaf\x27\x1c\x00\x04rest", "a 7z archive, not a text file"),
    (_zip(FASTA.encode(), ("a.fa", "b.fa")), "a zip archive of 2 files"),
    (_zip(b"<xml/>", ("[Content_Types].xml", "xl/workbook.xml")), "an Excel workbook (.xlsx)"),
    (gzip.compress(FASTA.encode())[:20], "corrupt gzip stream"),
    (b"@read1\nACGU\n+\nIIII\n", "a FASTQ file, not FASTA"),
    (b"id,sequence\nm1,ACGU\n", "a table (CSV) with columns 'id,sequence', not FASTA"),
    (b"id\tsequence\nm1\tACGU\n", "a table (TSV)"),
    (b"# STOCKHOLM 1.0\nm1 ACGU\n//\n", "a Stockholm alignment"),
    (b">m1\nAC\x00GU\n", "binary data"),
])
def test_a_file_of_another_kind_is_named(tmp_path, content, problem):
    path = tmp_path / "in.fa"
    path.write_bytes(content)
    with pytest.raises(data.DataError) as excinfo:
        newdata.read_fasta(path)
    one_line(excinfo, str(path), problem)


def test_fasta_given_where_a_table_is_expected(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text(FASTA)
    with pytest.raises(data.DataError) as excinfo:
        data.load_pairs_csv(path)
    one_line(excinfo, "pairs.csv", "a FASTA file, not a CSV table")


# --------------------------------------------------------------------------- 3. headers not UTF-8


def test_latin1_headers_decoded_faithfully_and_said_once(tmp_path):
    path = tmp_path / "probes.fa"
    path.write_bytes(">probe_µ1 5 µM\nACGU\n>probe_é1\nGGGG\n>probe_?1\nCCCC\n".encode("latin-1"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = newdata.read_fasta(path)
    assert list(records["id"]) == ["probe_µ1", "probe_é1", "probe_?1"]  # three ids, none altered or merged
    said = data_warnings(caught)
    assert len(said) == 1 and str(path) in said[0] and "not UTF-8" in said[0] and "Latin-1" in said[0]
    assert "line 1" in said[0] and "0xb5" in said[0]
    utf8 = tmp_path / "probes_utf8.fa"
    utf8.write_text(">probe_µ1 5 µM\nACGU\n>probe_é1\nGGGG\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert list(newdata.read_fasta(utf8)["id"]) == ["probe_µ1", "probe_é1"]
    assert not data_warnings(caught)


def test_a_byte_order_mark_before_latin1_bytes_is_dropped_and_the_bad_byte_named_where_it_is(tmp_path):
    path = tmp_path / "bom_latin1.fa"
    path.write_bytes(b"\xef\xbb\xbf>m1\nACGU\n>m2\nGGGG\n>probe_\xb51\nCCCC\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = newdata.read_fasta(path)
    assert list(records["id"]) == ["m1", "m2", "probe_µ1"]
    said = data_warnings(caught)
    assert len(said) == 1 and "byte 0xb5 on line 5" in said[0]


# --------------------------------------------------------------------------- 4. database header conventions


@pytest.mark.parametrize("header, expected", [
    ("ENST00000456328.2|ENSG00000290825.1|-|-|DDX11L2-202|DDX11L2|1657|lncRNA|", "ENST00000456328.2"),
    ("NM_000014.6 Homo sapiens alpha-2-macroglobulin (A2M), transcript variant 1, mRNA", "NM_000014.6"),
    ("gi|1519245346|ref|NM_000014.6| Homo sapiens alpha-2-macroglobulin (A2M), mRNA", "NM_000014.6"),
    ("URS0000759A9B_9606 Homo sapiens (human) rRNA", "URS0000759A9B_9606"),
    ("hsa-miR-21-5p MIMAT0000076 Homo sapiens miR-21-5p", "hsa-miR-21-5p"),
    ("ENST00000394650.7 MCUB-201 cdna:protein_coding|1103", "ENST00000394650.7"),
    ("0100000,ACCNUM:NM_001507,Gene_ID:2862,Gene_Name:MLNR", "NM_001507"),
    ("plain_id", "plain_id"),
])
def test_database_header_gives_the_expected_id(header, expected):
    assert newdata.record_id(header) == expected


def test_gencode_ids_join_pairs_and_unknown_id_lists_closest(tmp_path):
    fasta = tmp_path / "gencode.fa"
    fasta.write_text(">ENST00000456328.2|ENSG00000290825.1|-|-|DDX11L2-202|DDX11L2|1657|lncRNA|\nACGUACGU\n"
                     ">ENST00000450305.2|ENSG00000223972.6|-|-|DDX11L1-201|DDX11L1|632|unprocessed|\nGGGGCCCC\n"
                     ">hsa-miR-21-5p MIMAT0000076 Homo sapiens miR-21-5p\nUAGCUUAUCAGACUGAUGUUGA\n")
    ids = tmp_path / "ids.csv"
    ids.write_text("x,y\nhsa-miR-21-5p,ENST00000456328.2\n")
    table = newdata.read_pairs(ids, fasta)
    assert table.loc[0, "seq_x"] == "UAGCUUAUCAGACUGAUGUUGA" and table.loc[0, "seq_y"] == "ACGUACGU"
    ids.write_text("x,y\nhsa-miR-21-5p,ENST00000456328\n")
    with pytest.raises(data.DataError) as excinfo:
        newdata.read_pairs(ids, fasta)
    one_line(excinfo, "row 2: y id 'ENST00000456328' is not a record of", "closest: ENST00000456328.2")
    ids.write_text("x,y\nzzzz,ENST00000456328.2\n")
    with pytest.raises(data.DataError) as excinfo:
        newdata.read_pairs(ids, fasta)
    one_line(excinfo, "x id 'zzzz'", "no similar id among its 3 records")


# --------------------------------------------------------------------------- 5. IUPAC ambiguity letters


def test_ambiguity_letters_refused_by_default_or_mapped_to_n(tmp_path, capsys):
    fasta = tmp_path / "urs.fa"
    fasta.write_text(">URS0000000001_9606 rRNA\nACGRYACGUU\n>URS0000000002_9606 rRNA\nACGUACGU\n")
    with pytest.raises(data.DataError) as excinfo:
        newdata.read_fasta(fasta)
    one_line(excinfo, f"{fasta}:1: record URS0000000001_9606", "letters outside ACGUTN: RY", "IUPAC")
    records = newdata.read_fasta(fasta, ambiguous_to_n=True)
    assert list(records["sequence"]) == ["ACGNNACGUU", "ACGUACGU"] and list(records["ambiguous_replaced"]) == [2, 0]
    out = tmp_path / "emb.csv"
    assert main(["embed", str(fasta), "-o", str(out), "--kmer-k-max", "2", "--ambiguous-to-n",
                 "--cache", str(tmp_path / "cache")]) == 0
    saved = pd.read_csv(out)
    assert list(saved["ambiguous_replaced"]) == [2, 0] and list(saved["informative_kmers"]) == [6, 7]
    # k-mer features skip windows holding N: the 1-mer block counts 8 letters, the 2-mer block 6 windows
    vec = saved.iloc[0, 4:].to_numpy(dtype=np.float32)
    np.testing.assert_allclose(vec, embed.KmerEmbedder(1, 2).embed(["ACGNNACGUU"])[0], atol=1e-6)
    assert vec[:4] == pytest.approx([2 / 8, 2 / 8, 2 / 8, 2 / 8])
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("RNA_sequence_x,RNA_sequence_y,Category_x,Category_y,label\nACGUK,GGGA,a,b,1\n")
    loaded = data.load_pairs_csv(pairs, ambiguous_to_n=True)
    assert loaded.loc[0, "RNA_sequence_x"] == "ACGUN" and list(loaded["ambiguous_replaced_x"]) == [1]
    assert main(["embed", str(fasta), "-o", str(tmp_path / "refused.csv")]) == 1
    assert "IUPAC" in capsys.readouterr().err and not (tmp_path / "refused.csv").exists()


# --------------------------------------------------------------------------- 6. records with no information


def test_records_without_information_are_warned_and_flagged(tmp_path):
    fasta = tmp_path / "in.fa"
    fasta.write_text(">allN\nNNNNNNNN\n>short\nACG\n>ok\nACGUA\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = newdata.embed_fasta(fasta, tmp_path / "out.parquet", kmer_k_max=4, cache=None, progress=False)
    said = [m for m in data_warnings(caught) if "no 4-mer without N" in m]
    assert len(said) == 2 and said[0].startswith(f"{fasta}:1: record allN") and f"{fasta}:3: record short" in said[1]
    assert list(frame["informative_kmers"]) == [0, 0, 2]
    vectors = frame.filter(regex=r"^e\d+$").to_numpy()
    assert vectors.shape == (3, 340) and not vectors[0].any() and vectors[1, :4].sum() == pytest.approx(1.0)
    assert pd.read_parquet(tmp_path / "out.parquet")["informative_kmers"].tolist() == [0, 0, 2]


# --------------------------------------------------------------------------- 7. output format by suffix


@pytest.mark.parametrize("suffix, reader", [
    (".parquet", pd.read_parquet), (".csv", pd.read_csv), (".tsv", lambda p: pd.read_csv(p, sep="\t")),
    (".csv.gz", pd.read_csv), (".TSV.GZ", lambda p: pd.read_csv(p, sep="\t")),
])
def test_embed_writes_what_the_suffix_says(tmp_path, suffix, reader):
    fasta = tmp_path / "in.fa"
    fasta.write_text(FASTA)
    out = tmp_path / f"emb{suffix}"
    assert main(["embed", str(fasta), "-o", str(out), "--cache", str(tmp_path / "cache")]) == 0
    head = out.read_bytes()[:4]
    assert (head == b"PAR1") == (suffix == ".parquet") and (head[:2] == b"\x1f\x8b") == suffix.lower().endswith(".gz")
    saved = reader(out)
    assert list(saved["id"]) == ["m1", "l1"] and (saved["embedder"] == "kmer-k1-4-freq-v1").all()  # the one default
    assert saved.shape == (2, 4 + 340)
    expected = embed.KmerEmbedder().embed(["UGAGGUAGUAGGUUGUAUAGUU", "ACGUACGUUU"])
    np.testing.assert_allclose(saved.iloc[:, 4:].to_numpy(dtype=np.float32), expected, rtol=1e-6)


@pytest.mark.parametrize("name", ["emb.xlsx", "emb.parquet.gz", "emb"])
def test_unknown_output_suffix_is_refused_before_any_work(tmp_path, capsys, name):
    fasta = tmp_path / "in.fa"
    fasta.write_text(FASTA)
    assert main(["embed", str(fasta), "-o", str(tmp_path / name), "--cache", str(tmp_path / "cache")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown output format" in err and ".csv.gz" in err
    assert not (tmp_path / name).exists() and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".tsv.gz"])
@pytest.mark.parametrize("bad", [b">x\nACGU\n>x\nACGU\n", b"@r\nACGU\n+\nIIII\n", b">x\nACGR\n",
                                 gzip.compress(b">x\nACGU\n")[:15]])
def test_on_error_an_existing_output_is_left_byte_identical(tmp_path, capsys, suffix, bad):
    fasta = tmp_path / "bad.fa"
    fasta.write_bytes(bad)
    out = tmp_path / f"existing{suffix}"
    out.write_bytes(b"the previous output\n")
    assert main(["embed", str(fasta), "-o", str(out)]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert out.read_bytes() == b"the previous output\n" and sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.fa", out.name]
