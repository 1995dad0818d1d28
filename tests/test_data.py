import gzip
import hashlib
import http.server
import threading
import warnings
from functools import partial

import pandas as pd
import pytest

from rnalib import data

FASTA = """>0100000,ACCNUM:NM_1,Gene_ID:1,Gene_Name:A
acgtACGT
>1011000,ACCNUM:NM_2,Gene_ID:2,Gene_Name:B
GGGG
CCCC
>0001101,ACCNUM:NM_3,Gene_ID:3,Gene_Name:C
AUGN
"""


def one_line_error(excinfo, *parts):
    message = str(excinfo.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, (part, message)


def test_normalize_and_stable_id():
    assert data.normalize_sequence(" ac\ngt ") == "ACGU"
    assert data.rna_id("acgt") == data.rna_id("ACGU") != data.rna_id("ACGA")
    assert data.rna_id("ACGU").startswith("rna_") and len(data.rna_id("ACGU")) == 24
    assert data.sequence_problem("") == "empty sequence"
    assert "X" in data.sequence_problem("ACXU")
    assert data.sequence_problem("ACGUN") is None


def test_parse_fasta_labels_and_sequences():
    frame = data.parse_dm3loc_fasta(FASTA, "f.fa")
    assert list(frame.accession) == ["NM_1", "NM_2", "NM_3"]
    assert list(frame.sequence) == ["ACGUACGU", "GGGGCCCC", "AUGN"]
    assert list(frame.length) == [8, 8, 4]
    # Cytosol = Cytosol OR Cytoplasm (digits 3 and 4 of the 7-digit label)
    assert frame.loc[1, list(data.LOC_CLASSES)].tolist() == [1, 0, 1, 0, 0, 0]
    assert frame.loc[2, list(data.LOC_CLASSES)].tolist() == [0, 0, 1, 1, 0, 1]
    assert frame.loc[0, "label7"] == "0100000"


@pytest.mark.parametrize("text, parts", [
    (">0100000 NM_1 A\nACGU\n", ["f.fa:1", "malformed FASTA header"]),
    (">01000,ACCNUM:NM_1,Gene_ID:1,Gene_Name:A\nACGU\n", ["f.fa:1", "NM_1", "label field '01000'", "7 or 6 binary"]),
    (">0100002,ACCNUM:NM_1,Gene_ID:1,Gene_Name:A\nACGU\n", ["NM_1", "not 7 or 6 binary digits"]),
    (">0100000,ACCNUM:NM_1,Gene_ID:1,Gene_Name:A\nACGU\n>010000,ACCNUM:NM_2,Gene_ID:2,Gene_Name:B\nACGU\n",
     ["f.fa:3", "record NM_2", "a 6-digit label among 7-digit ones"]),
    (">0100000,ACCNUM:NM_1,Gene_ID:1,Gene_Name:A\nACGU\n>0100000,ACCNUM:NM_2,Gene_ID:2,Gene_Name:B\nACXZ\n",
     ["f.fa:3", "record NM_2", "letters outside ACGUTN: XZ"]),
    (">0100000,ACCNUM:NM_1,Gene_ID:1,Gene_Name:A\n>0100000,ACCNUM:NM_2,Gene_ID:2,Gene_Name:B\nAC\n",
     ["f.fa:1", "record NM_1", "empty sequence"]),
    ("ACGU\n>0100000,ACCNUM:NM_1,Gene_ID:1,Gene_Name:A\nACGU\n", ["f.fa:1", "before any FASTA header"]),
    ("", ["f.fa", "no FASTA records"]),
])
def test_parse_fasta_errors(text, parts):
    with pytest.raises(data.DataError) as excinfo:
        data.parse_dm3loc_fasta(text, "f.fa")
    one_line_error(excinfo, *parts)


def test_fasta_duplicates_reported_not_merged():
    text = FASTA + ">0100000,ACCNUM:NM_1,Gene_ID:9,Gene_Name:Z\nGGGGCCCC\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = data.parse_dm3loc_fasta(text, "f.fa")
    messages = [str(w.message) for w in caught if w.category is data.DataWarning]
    assert len(messages) == 2 and "1 duplicated accession" in messages[0] and "1 duplicated sequence" in messages[1]
    assert len(frame) == 4
    assert frame.attrs["duplicates"] == {"accession": 1, "sequence": 1}


def write_seed_csv(path, rows, columns=data.SEED_COLUMNS):
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False)
    return path


def test_user_csv_in_seed_schema(tmp_path):
    path = write_seed_csv(tmp_path / "lncrna_pseudo.csv", [
        ["acgt", "GGGAAAC", "lncRNA", "pseudo"],
        ["ACGU", "uuuu", "lncRNA", "pseudo"],
        ["ACGU", "GGGAAAC", "lncRNA", "pseudo"],
    ])
    with pytest.warns(data.DataWarning, match="1 duplicated pair"):
        pairs = data.load_interactions(path)
    assert len(pairs) == 3 and set(pairs.label) == {1}
    assert pairs.loc[0, "RNA_sequence_x"] == "ACGU" and pairs.loc[0, "id_x"] == pairs.loc[1, "id_x"]
    assert list(pairs.length_y) == [7, 4, 7]
    assert pairs.attrs["duplicates"] == {"pair": 1} and pairs.attrs["conflicting_pairs"] == 0
    assert set(data.unique_rnas(pairs).category) == {"lncRNA", "pseudo"}


def test_user_csv_errors(tmp_path):
    missing = write_seed_csv(tmp_path / "a.csv", [["ACGU", "ACGU", "lncRNA"]], data.SEED_COLUMNS[:3])
    with pytest.raises(data.DataError) as excinfo:
        data.load_pairs_csv(missing)
    one_line_error(excinfo, "a.csv", "missing column(s) Category_y")
    bad = write_seed_csv(tmp_path / "b.csv", [["ACGU", "ACGU", "x", "y"], ["ACGU", "AC-GU", "x", "y"]])
    with pytest.raises(data.DataError) as excinfo:
        data.load_pairs_csv(bad)
    one_line_error(excinfo, "b.csv", "row 3", "RNA_sequence_y", "letters outside ACGUTN: -")
    empty = write_seed_csv(tmp_path / "c.csv", [["", "ACGU", "x", "y"]])
    with pytest.raises(data.DataError) as excinfo:
        data.load_pairs_csv(empty)
    one_line_error(excinfo, "c.csv", "row 2", "RNA_sequence_x", "empty sequence")
    with pytest.raises(data.DataError) as excinfo:
        data.load_pairs_csv(tmp_path / "nope.csv")
    one_line_error(excinfo, "nope.csv", "no such file")
    for name, content in (("zero.csv", ""), ("blank.csv", "\n  \n")):
        (tmp_path / name).write_text(content)
        with pytest.raises(data.DataError) as excinfo:
            data.load_pairs_csv(tmp_path / name)
        one_line_error(excinfo, name, "empty file")


def test_length_filter_keeps_pairs_with_both_partners_short(tmp_path):
    path = write_seed_csv(tmp_path / "p.csv", [["A" * 5, "C" * 10, "a", "b"], ["A" * 11, "C" * 3, "a", "b"],
                                               ["A" * 10, "C" * 10, "a", "b"]])
    kept = data.length_filter(data.load_pairs_csv(path), max_len=10)
    assert kept.length_x.tolist() == [5, 10]
    summary = data.pair_summary(kept)
    assert summary["rows"] == 2 and summary["unique RNAs"] == 3 and summary["unique edges"] == 2


# --------------------------------------------------------------------------- resolution and checksums

CONTENT = b"mirna,mirna_seq\nm1,ACGU\n"


@pytest.fixture
def fake_entry(monkeypatch):
    entry = data.DataFile("demo_set", "sub/file.csv", hashlib.sha256(CONTENT).hexdigest(),
                          "http://127.0.0.1:9/unreachable/file.csv")
    monkeypatch.setitem(data.REGISTRY, entry.key, entry)
    return entry


@pytest.mark.parametrize("compressed", [False, True])
def test_resolve_local_plain_or_gzip(isolated_env, monkeypatch, fake_entry, compressed):
    root = isolated_env / "data"
    target = root / "demo_set" / "sub" / ("file.csv.gz" if compressed else "file.csv")
    target.parent.mkdir(parents=True)
    target.write_bytes(gzip.compress(CONTENT) if compressed else CONTENT)
    monkeypatch.setenv(data.DATA_ENV, str(root))
    path, content = data.resolve(fake_entry.key)
    assert path == target and content == CONTENT
    assert data.used_files()[fake_entry.key] == {"sha256": fake_entry.sha256, "source": str(target)}


def test_resolve_rejects_changed_local_copy(isolated_env, monkeypatch, fake_entry):
    target = isolated_env / "data" / "demo_set" / "sub" / "file.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(CONTENT.replace(b"ACGU", b"ACGA"))
    monkeypatch.setenv(data.DATA_ENV, str(isolated_env / "data"))
    with pytest.raises(data.DataError) as excinfo:
        data.resolve(fake_entry.key)
    one_line_error(excinfo, str(target), "sha256", fake_entry.sha256)


@pytest.fixture
def mirror(isolated_env):
    """A loopback HTTP server serving a mirror folder laid out like RNALIB_DATA_DIR."""
    root = isolated_env / "mirror"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_from_mirror_verifies_sha(monkeypatch, fake_entry, mirror):
    root, url = mirror
    (root / "demo_set" / "sub").mkdir(parents=True)
    (root / "demo_set" / "sub" / "file.csv").write_bytes(CONTENT)
    monkeypatch.setenv(data.MIRROR_ENV, url)
    path, content = data.resolve(fake_entry.key)
    assert content == CONTENT and path.is_relative_to(data.cache_dir() / "data")
    (root / "demo_set" / "sub" / "file.csv").write_bytes(b"tampered")
    path.unlink()
    with pytest.raises(data.DataError) as excinfo:
        data.resolve(fake_entry.key)
    one_line_error(excinfo, fake_entry.key, "download failed", data.DATA_ENV)


def test_unavailable_everywhere_names_the_variable_and_source(isolated_env, fake_entry):
    with pytest.raises(data.DataError) as excinfo:
        data.resolve(fake_entry.key)
    one_line_error(excinfo, fake_entry.key, "not found locally", data.DATA_ENV, fake_entry.url)


def test_registry_urls_are_pinned_to_commits():
    for entry in data.REGISTRY.values():
        assert entry.url.startswith("https://raw.githubusercontent.com/")
        assert any(len(part) == 40 and all(c in "0123456789abcdef" for c in part) for part in entry.url.split("/"))
        assert len(entry.sha256) == 64


# --------------------------------------------------------------------------- the bundled data


def test_dm3loc_bundled_counts(bundled_data):
    records = data.load_dm3loc()
    assert len(records) == 17306 and records.accession.is_unique and records.id.is_unique
    counts = records[list(data.LOC_CLASSES)].sum().to_dict()
    assert counts == {"Nucleus": 11923, "Exosome": 17156, "Cytosol": 9652, "Ribosome": 5210, "Membrane": 3232,
                      "ER": 1976}
    assert records[list(data.LOC_CLASSES)].sum(axis=1).value_counts().sort_index().tolist() == [
        3914, 2964, 4320, 4369, 1563, 176]
    assert set("".join(records.sequence.head(200))) <= set("ACGU")
    folds = data.load_dm3loc_folds()
    data.check_folds_match(records, folds)
    assert (folds.filter(like="fold") == "test").sum().tolist() == [3469, 3465, 3458, 3451, 3444]
    assert (folds.filter(like="fold") == "train").sum().tolist() == [11061, 11064, 11068, 11073, 11079]
    assert int((folds.filter(like="fold") == "test").any(axis=1).sum()) == 17287


def test_folds_equal_dm3loc_lists(bundled_data):
    folds = data.load_dm3loc_folds()
    for fold in range(5):
        for role, stem in (("train", "Train"), ("val", "Val"), ("test", "Test")):
            text = (bundled_data / "dm3loc_rnalocate_mrna" / "folds_dm3loc_5fold" / f"{stem}{fold}.txt").read_text()
            listed = {line.split(",")[1].split(":")[1] for line in text.splitlines() if line.strip()}
            assert set(folds.index[folds[f"fold{fold}"] == role]) == listed


def test_check_folds_detects_label_mismatch(bundled_data):
    records, folds = data.load_dm3loc(), data.load_dm3loc_folds()
    bad = folds.copy()
    bad.iloc[0, 0] = "000000"
    with pytest.raises(data.DataError, match=f"record {bad.index[0]}"):
        data.check_folds_match(records, bad)


def test_ncrnainter_bundled(bundled_data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pairs = data.load_interactions()
    assert any("265 duplicated pair" in str(w.message) for w in caught)
    assert len(pairs) == 27600 and int(pairs.label.sum()) == 13800
    assert pairs.attrs["conflicting_pairs"] == 11
    assert set(pairs.Category_x) == {"miRNA"} and set(pairs.Category_y) == {"lncRNA"}
    assert list(pairs.columns[:4]) == list(data.SEED_COLUMNS)
    positives = pairs[pairs.label == 1]
    assert len(positives.drop_duplicates(["id_x", "id_y"])) == 13800
    assert len(data.length_filter(positives, 1022)) == 9561
    assert data.unique_rnas(pairs).category.value_counts().to_dict() == {"lncRNA": 1499, "miRNA": 266}
