"""rnalib.localization.published: the transcribed LOCAS tables equal the numbers parsed from the paper's text."""
import math
import os
import re
from pathlib import Path

import pytest

from rnalib import data
from rnalib.localization import published

REPO = Path(__file__).resolve().parent.parent
SEED_NAME = "004_fa70ff2aaeb9531b.txt"
TITLE = "LOCAS: Multi-label mRNA"


def find_paper() -> Path | None:
    """The LOCAS paper text: ``$RNALIB_SEEDS_DIR`` or the project's ``../shared/seeds`` (the named file, else any
    seed file whose text carries the LOCAS title)."""
    folders = [Path(p) for p in (os.environ.get("RNALIB_SEEDS_DIR"),) if p]
    folders += [REPO.parent / "shared" / "seeds", REPO / "shared" / "seeds"]
    for folder in folders:
        if (folder / SEED_NAME).is_file():
            return folder / SEED_NAME
        for path in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
            if TITLE in path.read_text(errors="replace")[:2000]:
                return path
    return None


@pytest.fixture(scope="module")
def paper() -> str:
    path = find_paper()
    if path is None:
        pytest.skip(f"LOCAS paper text ({SEED_NAME}) not found under $RNALIB_SEEDS_DIR or {REPO.parent}/shared/seeds")
    return path.read_text()


def _cell(text: str) -> float | None:
    text = re.sub(r"</?b>", "", text).strip()
    return None if text == "-" else float(text)


def _label(text: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", re.sub(r"</?b>", "", text)).strip()


def parse_table(paper: str, caption: str) -> tuple[list[str], dict[str, list]]:
    """The tab-separated table after the line starting with ``caption``: header cells and rows (label -> cells)."""
    lines = paper.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith(caption))
    header_at = next(k for k in range(start + 1, len(lines)) if "\t" in lines[k])
    header = lines[header_at].split("\t")
    rows = {}
    for line in lines[header_at + 1:]:
        if not line.strip():
            break
        cells = line.split("\t")
        rows[_label(cells[0])] = cells[1:]
    return header, rows


def test_table1_matches_the_paper(paper):
    header, rows = parse_table(paper, "Table 1:")
    assert [_label(h) for h in header[1:]] == list(published.CLASSES) == list(data.LOC_CLASSES)
    assert list(rows) == list(published.TABLE1_MCC)
    for method, cells in rows.items():
        assert tuple(_cell(c) for c in cells) == published.TABLE1_MCC[method], method
    frame = published.table1()
    assert frame.shape == (5, 6) and list(frame.columns) == list(data.LOC_CLASSES)
    assert math.isnan(frame.loc["mRNALoc", "Ribosome"]) and frame.loc["iLoc-mRNA", "ER"] == 0.376
    assert "published" in frame.attrs["source"]


def test_table2_matches_the_paper(paper):
    header, rows = parse_table(paper, "Table 2:")
    assert [_label(h) for h in header[1:]] == ["Nucleus", "Exosome", "Cytosol", "Ribosome", "Membrane",
                                              "End. Reticulum"]  # ER spelled out; same order
    assert list(rows) == list(published.TABLE2_SCL_ABLATION)
    for variant, cells in rows.items():
        assert tuple(_cell(c) for c in cells) == published.TABLE2_SCL_ABLATION[variant], variant
    assert published.table2().loc["With SCL"].tolist() == list(published.TABLE1_MCC["LOCAS"])


def test_table3_matches_the_paper(paper):
    header, rows = parse_table(paper, "Table 3:")
    thetas = [float(re.search(r"= ([\d.]+)", h).group(1)) for h in header[1:]]
    assert tuple(thetas) == published.THETAS
    assert rows.pop("Distribution") == ["", "", ""]  # a figure in the paper, no numbers
    assert list(rows) == list(published.TABLE3_THETA)
    for metric, cells in rows.items():
        assert tuple(_cell(c) for c in cells) == published.TABLE3_THETA[metric], metric
    frame = published.table3()
    assert frame["Clusters"].tolist() == [13, 18, 46] and frame["Clusters"].dtype.kind == "i"
    assert list(published.table3(metric_names=True).columns) == list(published.TABLE3_METRIC_KEYS.values())


def test_summary_figures_match_the_text(paper):
    text = " ".join(paper.split())
    found = {
        "example_accuracy": r"Acc\\_Exam of ([\d.]+)",
        "average_precision": r"average precision \(([\d.]+)\)",
        "coverage": r"lowest coverage \(([\d.]+)\)",
        "one_error": r"one-error rate \(([\d.]+)\)",
        "ranking_loss": r"ranking loss \(([\d.]+)\)",
        "hamming_loss": r"hamming loss \(([\d.]+)\)",
    }
    for key, pattern in found.items():
        assert float(re.search(pattern, text).group(1)) == published.SUMMARY_LOCAS[key], key
    # Text figures quoted for Table 1
    for value in ("0.605", "0.501", "0.597", "0.421", "0.142"):
        assert value in text


def test_table3_vs_text_inconsistency_is_recorded():
    """Table 3 at θ = 0.8 rounds the text's figures, except the Hamming loss (0.150 vs 0.1401)."""
    t3 = published.table3(metric_names=True).loc[0.8]
    for key in ("average_precision", "coverage", "one_error", "ranking_loss"):
        assert round(published.SUMMARY_LOCAS[key], 3) == t3[key], key
    assert round(published.SUMMARY_LOCAS["hamming_loss"], 3) != t3["hamming_loss"]
    assert any("Hamming" in note for note in published.notes())


def test_report_rows_are_the_tables_rows():
    assert published.PUBLISHED_MCC["iLoc-mRNA (published)"] == published.TABLE1_MCC["iLoc-mRNA"]
    assert published.PUBLISHED_MCC["LOCAS without SCL (published)"] == published.TABLE2_SCL_ABLATION["Without SCL"]
    assert len(published.PUBLISHED_MCC) == 7  # Table 1, the ablation and EDCLoc
    assert published.summary().to_dict() == published.PUBLISHED_LOCAS


def test_edcloc_published_figures_in_dm3loc_class_order():
    # EDCLoc (BMC Genomics 2024), per-class means over DM3Loc's five folds as its notebook prints them
    mcc = dict(zip(data.LOC_CLASSES, published.PUBLISHED_MCC["EDCLoc (published)"]))
    auroc = dict(zip(data.LOC_CLASSES, published.PUBLISHED_AUROC["EDCLoc (published)"]))
    assert mcc == {"Nucleus": 0.408, "Exosome": 0.104, "Cytosol": 0.300, "Ribosome": 0.388, "Membrane": 0.334,
                   "ER": 0.222}
    assert auroc == {"Nucleus": 0.781, "Exosome": 0.783, "Cytosol": 0.740, "Ribosome": 0.771, "Membrane": 0.758,
                     "ER": 0.698}
    dm3loc = published.PUBLISHED_MCC["DM3Loc (published)"]
    assert all(e > d for e, d in zip(published.EDCLOC_MCC, dm3loc))  # EDCLoc's claim: above DM3Loc on every class
