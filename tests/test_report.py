"""Excel and HTML exports: structure, colours, escaping and byte-identical re-writes."""
from openpyxl import load_workbook

from reviewnlp.extract.build import DocumentBuilder
from reviewnlp.records import Alignment
from reviewnlp.export.report import STATUS_COLOURS, sheet_name, write_html, write_xlsx


def _doc():
    b = DocumentBuilder()
    b.add("Some text.", page=1)
    return b.build("d1", "corpus/report.pdf", "test")


def _rows():
    base = dict(rec_doc_id="d1", rec_page=3, rec_start=0, rec_end=5, label=None)
    return [
        Alignment("Ofsted should get <new> powers.", "partial", "We will test a regime.", rec_id="r1",
                  body="Competition and Markets Authority", response_doc_id="d1", response_page=9, cue="test",
                  response_block={"text": "We agree. We will test a <regime> in two areas.", "pages": [9, 10]}, **base),
        Alignment("Levy a windfall tax.", "gap", None, rec_id="r2", body="Competition and Markets Authority", **base),
        Alignment("Make care experience a protected characteristic.", "rejected", "We do not agree.", rec_id="r3",
                  body="Independent Review: Children's Social Care [2022]", response_doc_id="d1", response_page=4,
                  **base),
    ]


def test_xlsx_one_sheet_per_body_with_filters_wrapping_and_colours(tmp_path):
    path = tmp_path / "a.xlsx"
    write_xlsx(path, _rows(), [_doc()])
    wb = load_workbook(path)
    # Largest body first; ":" and "[]" are not allowed in sheet names.
    assert wb.sheetnames == ["Competition and Markets Authori", "Independent Review Children's S"]
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[:5] == ["label", "recommendation_text", "rec_document", "rec_page", "status"]
    assert ws.auto_filter.ref == "A1:P3" and ws.freeze_panes == "A2"
    assert ws["B2"].alignment.wrap_text and ws["B2"].value == "Ofsted should get <new> powers."
    assert ws["E2"].value == "partial" and ws["E2"].fill.start_color.rgb.endswith(STATUS_COLOURS["partial"])
    assert ws["E3"].fill.start_color.rgb.endswith(STATUS_COLOURS["gap"])


def test_xlsx_and_html_are_byte_identical_when_rewritten(tmp_path):
    for name, write in (("a.xlsx", write_xlsx), ("r.html", write_html)):
        write(tmp_path / name, _rows(), [_doc()])
        first = (tmp_path / name).read_bytes()
        write(tmp_path / name, _rows(), [_doc()])
        assert (tmp_path / name).read_bytes() == first


def test_sheet_names_are_excel_safe_and_unique():
    taken: set[str] = set()
    a = sheet_name("Public Administration and Constitutional Affairs Committee", taken)
    b = sheet_name("Public Administration and Constitutional Affairs Committee", taken)
    c = sheet_name("What? [draft]: a/b", taken)
    assert len(a) <= 31 and len(b) <= 31 and a != b and b.endswith("(2)")
    assert not set("[]:*?/\\") & set(c)


def test_html_report_is_self_contained_with_chart_quotes_and_pages(tmp_path):
    path = tmp_path / "report.html"
    write_html(path, _rows(), [_doc()])
    page = path.read_text(encoding="utf-8")
    assert "<svg" in page and "<script" not in page and "http" not in page.replace("http://www.w3.org", "")
    assert "Ofsted should get &lt;new&gt; powers." in page  # escaped, never raw markup
    assert "We will test a regime.<div class=src>report.pdf, p9</div>" in page
    assert "report.pdf, p3" in page and "no response found" in page
    assert "1 partial, 0 deferred, 1 rejected, 1 gap" in page


def test_whole_answer_block_is_shown_in_csv_xlsx_and_html(tmp_path):
    from reviewnlp.export import write_csv

    write_csv(tmp_path / "a.csv", _rows(), [_doc()])
    write_xlsx(tmp_path / "a.xlsx", _rows(), [_doc()])
    write_html(tmp_path / "r.html", _rows(), [_doc()])
    csv_text = (tmp_path / "a.csv").read_text(encoding="utf-8-sig")
    assert "response_block,response_block_pages" in csv_text.splitlines()[0]
    assert "We agree. We will test a <regime> in two areas.,\"9, 10\"" in csv_text
    ws = load_workbook(tmp_path / "a.xlsx").worksheets[0]
    header = [c.value for c in ws[1]]
    col = header.index("response_block")
    assert ws.cell(row=2, column=col + 1).value == "We agree. We will test a <regime> in two areas."
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<summary>whole answer (pp. 9, 10)</summary>We agree. We will test a &lt;regime&gt; in two areas." in html


def test_xlsx_writes_formula_like_text_as_strings_never_formulas(tmp_path):
    import zipfile

    rows = [Alignment('=HYPERLINK("http://attacker.example","click")', "gap", None, rec_id="r1", rec_doc_id="d1",
                      rec_page=1, rec_start=0, rec_end=5, body="Review", label=None),
            Alignment("+1 and -1 and @SUM(A1)", "gap", None, rec_id="r2", rec_doc_id="d1", rec_page=1, rec_start=0,
                      rec_end=5, body="Review", label=None)]
    path = tmp_path / "a.xlsx"
    write_xlsx(path, rows, [_doc()])
    sheet = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula element anywhere
    ws = load_workbook(path)["Review"]
    assert [(c.value, c.data_type) for c in ws["B"][1:]] == [
        ('=HYPERLINK("http://attacker.example","click")', "s"), ("+1 and -1 and @SUM(A1)", "s")]


def test_no_recommendations_gives_a_workbook_with_a_header_only_sheet(tmp_path):
    path = tmp_path / "empty.xlsx"
    write_xlsx(path, [], [_doc()])
    wb = load_workbook(path)
    assert wb.sheetnames == ["Recommendations"]
    assert [c.value for c in wb["Recommendations"][1]][:2] == ["label", "recommendation_text"]
    assert wb["Recommendations"].max_row == 1


def test_xlsx_drops_control_characters_left_in_an_old_alignments_file(tmp_path):
    row = Alignment("Fund\x07 carers\x1b.", "gap", None, rec_id="r1", rec_doc_id="d1", rec_page=1, rec_start=0,
                    rec_end=5, body="Review", label=None)
    write_xlsx(tmp_path / "a.xlsx", [row], [_doc()])
    assert load_workbook(tmp_path / "a.xlsx")["Review"]["B2"].value == "Fund carers."
