"""CSV export: document text is data, so a cell a spreadsheet would run as a formula is neutralised."""
import csv
import json

import pytest

from conftest import FIXTURES, HashingEmbedder
from reviewnlp.export import neutralise_formula
from reviewnlp.pipeline import run

FORMULA_FIXTURE = FIXTURES / "recommendation_starting_with_formula.txt"


@pytest.fixture(scope="module")
def formula_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("formula_out")
    run([FORMULA_FIXTURE], out, embedder=HashingEmbedder())
    return out


def test_formula_cells_are_prefixed_in_csv_and_exact_in_jsonl(formula_run):
    rows = list(csv.DictReader((formula_run / "alignments.csv").read_text(encoding="utf-8-sig").splitlines()))
    recs = sorted(r["recommendation_text"] for r in rows)
    assert recs == ["'+44 The Government should publish data on kinship carers every year.",
                    "'-1 The Department should set up a kinship care taskforce by 2025.",
                    "'=HYPERLINK(\"http://attacker.example/steal\",\"Read the full recommendation\") "
                    "The Government should fund kinship carers.",
                    "'@SUM(1+1) The Government should give kinship carers paid leave."]
    for row in rows:  # no cell of any column starts a formula
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())
    exact = sorted(json.loads(l)["recommendation_text"] for l in (formula_run / "alignments.jsonl").open())
    assert exact == sorted(r[1:] for r in recs)  # JSONL keeps the text exactly


@pytest.mark.parametrize("value,expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("plain", "plain"), ("", ""), (-1.5, -1.5), (3, 3), (None, None)])
def test_neutralise_formula_touches_only_text_that_starts_a_formula(value, expected):
    assert neutralise_formula(value) == expected


def test_an_answer_longer_than_an_excel_cell_is_cut_with_a_marker(tmp_path):
    """Once: a 40,123-character answer block was cut at Excel's 32,767 limit without a word."""
    from openpyxl import load_workbook

    from reviewnlp.export import write_alignments
    from reviewnlp.records import Alignment

    block = "The Government accepts this recommendation and will fund kinship carers. " * 600
    block = ("\U0001F600" * 200 + block)[:40_123]  # characters outside the BMP count twice in Excel
    text = "The Government should fund kinship carers."
    a = Alignment(recommendation_text=text, status="accepted", response_text="We will fund them.", rec_id="r1",
                  rec_doc_id="d1", rec_page=None, rec_start=0, rec_end=len(text), body="Committee", label="1",
                  response_block={"text": block, "pages": [3, 4]})
    write_alignments(tmp_path, [a], [])
    ws = load_workbook(tmp_path / "alignments.xlsx").active
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=header.index("response_block") + 1).value
    marker = "\u2026 [cut: 40,123 characters; full text in alignments.jsonl]"
    assert cell.endswith(marker) and len(cell.encode("utf-16-le")) // 2 <= 32_767
    assert block.startswith(cell[:-len(marker)]) and len(cell) > 32_000
    assert ws.cell(row=2, column=header.index("recommendation_text") + 1).value == text  # short cells untouched
    assert json.loads((tmp_path / "alignments.jsonl").read_text())["response_block"]["text"] == block
