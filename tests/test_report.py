"""Excel and HTML exports: per report, structure, colours, escaping and byte-identical re-writes."""
from openpyxl import load_workbook

from reviewnlp.extract.build import DocumentBuilder
from reviewnlp.records import Alignment
from reviewnlp.export.report import STATUS_COLOURS, report_sheet_base, sheet_name, write_html, write_xlsx
from reviewnlp.export.reports import group_reports, report_line, report_summaries
from reviewnlp.export.rows import row_status


def _doc(doc_id="d1", path="corpus/report.pdf", title=None, date=None):
    b = DocumentBuilder()
    b.add("Some text.", page=1)
    return b.build(doc_id, path, "test", title=title, date=date)


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


# Three reports: an inquiry answered by the government's response, a committee report answered by the response
# and by a Library briefing, and an ombudsman's decision that nothing in the run answers.
DOCS = [_doc("inq", "corpus/inquiry_report.pdf", "The <Inquiry> Report", "2024-05-20"),
        _doc("com", "corpus/committee_report.pdf", "Committee report", "2025-04-01"),
        _doc("omb", "corpus/ombudsman_decision.pdf", "Ombudsman decision"),
        _doc("gov", "corpus/govt_response.pdf", "Government Response", "2025-07-01"),
        _doc("lib", "corpus/library_briefing.pdf", "Research Briefing")]
PAIRING = {
    "inq": {"path": "corpus/inquiry_report.pdf", "role": "report", "unpaired": False,
            "partners": [{"doc_id": "gov", "path": "corpus/govt_response.pdf",
                          "why": "reprints 3 of its recommendations"}]},
    "com": {"path": "corpus/committee_report.pdf", "role": "report", "unpaired": False,
            "partners": [{"doc_id": "gov", "path": "corpus/govt_response.pdf",
                          "why": "reprints 2 of its recommendations"},
                         {"doc_id": "lib", "path": "corpus/library_briefing.pdf",
                          "why": "closest government statements"}]},
    "omb": {"path": "corpus/ombudsman_decision.pdf", "role": "report", "unpaired": True,
            "partners": [{"doc_id": "omb", "path": "corpus/ombudsman_decision.pdf", "why": "its own statements"}]},
    "gov": {"path": "corpus/govt_response.pdf", "role": "response"},
    "lib": {"path": "corpus/library_briefing.pdf", "role": "briefing"},
}


def _row(rec_id, doc, status, answer=None, match="explicit", text=None):
    return Alignment(text or f"The Government should do {rec_id}.", status, answer, rec_id=rec_id, rec_doc_id=doc,
                     rec_page=2, rec_start=0, rec_end=5, body="Some Body", label=rec_id, match=match,
                     response_doc_id="gov" if answer else None, response_page=7 if answer else None,
                     model_status=status)


def _three_reports():
    return [_row("i1", "inq", "accepted", "We accept."), _row("i2", "inq", "partial", "We will pilot it."),
            _row("i3", "inq", "gap", match="none"),
            _row("c1", "com", "deferred", "We will consider it."), _row("c2", "com", "rejected", "We do not agree."),
            *(_row(f"o{i}", "omb", "gap", match="unpaired", text=f"DWP should remedy <injustice> {i}.")
              for i in range(1, 5))]


def test_rows_are_grouped_by_report_with_the_documents_answering_each_and_why():
    groups = group_reports(_three_reports(), DOCS, PAIRING)
    assert [(g.name, len(g.rows)) for g in groups] == [  # most rows first
        ("ombudsman_decision.pdf", 4), ("inquiry_report.pdf", 3), ("committee_report.pdf", 2)]
    omb, inq, com = groups
    assert (inq.title, inq.date, inq.role, inq.unpaired) == ("The <Inquiry> Report", "2024-05-20", "report", False)
    assert [(a.name, a.why) for a in inq.answered_by] == [("govt_response.pdf", "reprints 3 of its recommendations")]
    assert [(a.name, a.why) for a in com.answered_by] == [("govt_response.pdf", "reprints 2 of its recommendations"),
                                                          ("library_briefing.pdf", "closest government statements")]
    assert omb.unpaired and omb.answered_by == () and omb.answers_itself == ""  # its own text is no answer
    assert omb.counts == {"accepted": 0, "partial": 0, "deferred": 0, "rejected": 0, "gap": 0, "unpaired": 4}
    assert inq.counts["gap"] == 1 and inq.counts["unpaired"] == 0  # a real gap stays a gap
    assert [report_line(g) for g in groups] == [
        "report ombudsman_decision.pdf: 4 recommendations, unpaired; no response found among the inputs",
        "report inquiry_report.pdf: 3 recommendations (1 accepted, 1 partial, 1 gap); answered by govt_response.pdf",
        "report committee_report.pdf: 2 recommendations (1 deferred, 1 rejected); answered by govt_response.pdf, "
        "library_briefing.pdf"]


def test_run_json_summary_of_each_report():
    omb, inq, com = report_summaries(_three_reports(), DOCS, PAIRING)
    assert com == {
        "doc_id": "com", "document": "committee_report.pdf", "path": "corpus/committee_report.pdf",
        "title": "Committee report", "date": "2025-04-01", "role": "report", "recommendations": 2,
        "statuses": {"accepted": 0, "partial": 0, "deferred": 1, "rejected": 1, "gap": 0}, "unpaired_rows": 0,
        "unpaired": False,
        "answered_by": [{"doc_id": "gov", "document": "govt_response.pdf", "path": "corpus/govt_response.pdf",
                         "why": "reprints 2 of its recommendations"},
                        {"doc_id": "lib", "document": "library_briefing.pdf", "path": "corpus/library_briefing.pdf",
                         "why": "closest government statements"}],
        "answers_itself": None, "responses": "answered by govt_response.pdf, library_briefing.pdf",
        "line": "report committee_report.pdf: 2 recommendations (1 deferred, 1 rejected); answered by "
                "govt_response.pdf, library_briefing.pdf"}
    assert (omb["unpaired"], omb["unpaired_rows"], omb["statuses"]["gap"]) == (True, 4, 0)
    assert omb["responses"] == "no response found among the inputs"


def test_a_briefing_that_reports_both_sides_answers_itself():
    pairing = {"lib": {"path": "corpus/library_briefing.pdf", "role": "briefing", "unpaired": False,
                       "partners": [{"doc_id": "lib", "path": "corpus/library_briefing.pdf",
                                     "why": "its own statements"}]}}
    (g,) = group_reports([_row("b1", "lib", "accepted", "The Government accepted it.", match="retrieval")], DOCS,
                         pairing)
    assert (g.answered_by, g.answers_itself, g.unpaired) == ((), "its own statements", False)
    assert report_line(g) == ("report library_briefing.pdf: 1 recommendation (1 accepted); answered by itself: "
                              "its own statements")


def test_html_names_an_answer_from_a_text_file_without_a_page(tmp_path):
    row = Alignment("Fund carers.", "accepted", "We will fund carers.", rec_id="t1", rec_doc_id="lib", rec_page=None,
                    rec_start=0, rec_end=5, body=None, label=None, response_doc_id="gov", response_page=None)
    write_html(tmp_path / "r.html", [row], DOCS, PAIRING)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "We will fund carers.<div class=src>govt_response.pdf</div>" in page


def test_without_a_pairing_rows_are_still_grouped_by_report_and_unpaired_rows_say_so():
    omb, inq, com = group_reports(_three_reports(), DOCS, None)
    assert not inq.known and inq.answered_by == () and not inq.unpaired
    assert report_line(inq).endswith("; which documents answer it is not recorded (no pairing.json)")
    assert omb.unpaired  # every row's match says so
    assert report_line(omb).endswith("4 recommendations, unpaired; no response found among the inputs")


def test_an_analyst_who_confirms_an_unpaired_gap_sees_gap():
    row = {"status": "gap", "match": "unpaired", "reviewed": True}
    assert row_status(row) == "gap" and row_status({**row, "reviewed": False}) == "unpaired"
    assert row_status({**row, "status": "accepted"}) == "accepted"


def test_two_reports_with_the_same_file_name_are_named_by_path():
    docs = [_doc("a", "corpus/a/report.pdf"), _doc("b", "corpus/b/report.pdf")]
    groups = group_reports([_row("x", "a", "accepted", "Yes."), _row("y", "b", "accepted", "Yes.")], docs, {})
    assert [g.name for g in groups] == ["corpus/a/report.pdf", "corpus/b/report.pdf"]


def test_xlsx_opens_on_a_summary_then_all_rows_then_one_sheet_per_report(tmp_path):
    path = tmp_path / "a.xlsx"
    write_xlsx(path, _three_reports(), DOCS, PAIRING)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Summary", "All", "ombudsman_decision", "inquiry_report", "committee_report"]
    assert wb.active.title == "Summary"
    ws = wb["Summary"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0] == ["report", "title", "date", "role", "responses", "why", "recommendations", "accepted",
                       "partial", "deferred", "rejected", "gap", "unpaired", "note", "sheet"]
    assert rows[1] == ["ombudsman_decision.pdf", "Ombudsman decision", None, "report",
                       "no response found among the inputs", None, 4, 0, 0, 0, 0, 0, 4,
                       "no response found among the inputs: its rows are marked unpaired, not gap, since the "
                       "government may have answered it in a document this run was not given", "ombudsman_decision"]
    assert rows[2][:13] == ["inquiry_report.pdf", "The <Inquiry> Report", "2024-05-20", "report",
                            "govt_response.pdf", "govt_response.pdf: reprints 3 of its recommendations",
                            3, 1, 1, 0, 0, 1, 0]
    assert rows[3][4:6] == ["govt_response.pdf; library_briefing.pdf",
                            "govt_response.pdf: reprints 2 of its recommendations; library_briefing.pdf: closest "
                            "government statements"]
    assert rows[4][:13] == ["All 3 reports", None, None, None, None, None, 9, 1, 1, 1, 1, 1, 4]
    assert ws.auto_filter.ref == "A1:O4" and ws.freeze_panes == "A2"  # the totals row stays out of the filter
    assert ws["O3"].hyperlink.location == "'inquiry_report'!A1"
    assert ws["L1"].fill.start_color.rgb.endswith(STATUS_COLOURS["gap"])

    every = wb["All"]
    header = [c.value for c in every[1]]
    assert header[:8] == ["report", "label", "recommendation_text", "rec_page", "body", "status", "model_status",
                          "match"]
    assert every.max_row == 10 and every.auto_filter.ref == "A1:X10" and every.freeze_panes == "A2"
    col = {h: i + 1 for i, h in enumerate(header)}
    first = [every.cell(row=2, column=col[h]).value for h in ("report", "recommendation_text", "status",
                                                             "model_status", "match")]
    # An unpaired row is shown as unpaired, never as the government's silence; the model's reading stays beside it.
    assert first == ["ombudsman_decision.pdf", "DWP should remedy <injustice> 1.", "unpaired", "gap", "unpaired"]
    assert every.cell(row=2, column=col["status"]).fill.start_color.rgb.endswith(STATUS_COLOURS["unpaired"])
    assert every.cell(row=2, column=col["recommendation_text"]).alignment.wrap_text
    assert [every.cell(row=r, column=col["status"]).value for r in range(2, 11)] == [
        "unpaired"] * 4 + ["accepted", "partial", "gap", "deferred", "rejected"]
    inq = wb["inquiry_report"]
    assert [c.value for c in inq[1]] == header and inq.max_row == 4 and inq.freeze_panes == "A2"
    assert [inq.cell(row=r, column=col["rec_id"]).value for r in (2, 3, 4)] == ["i1", "i2", "i3"]
    assert inq.cell(row=4, column=col["status"]).fill.start_color.rgb.endswith(STATUS_COLOURS["gap"])


def test_xlsx_and_html_are_byte_identical_when_rewritten(tmp_path):
    for name, write in (("a.xlsx", write_xlsx), ("r.html", write_html)):
        write(tmp_path / name, _three_reports(), DOCS, PAIRING)
        first = (tmp_path / name).read_bytes()
        write(tmp_path / name, _three_reports(), DOCS, PAIRING)
        assert (tmp_path / name).read_bytes() == first


def test_sheet_names_are_excel_safe_and_unique():
    taken: set[str] = set()
    a = sheet_name("Public Administration and Constitutional Affairs Committee", taken)
    b = sheet_name("Public Administration and Constitutional Affairs Committee", taken)
    c = sheet_name("What? [draft]: a/b", taken)
    assert len(a) <= 31 and len(b) <= 31 and a != b and b.endswith("(2)")
    assert not set("[]:*?/\\") & set(c)
    assert sheet_name("'quoted'", taken) == "quoted"  # Excel refuses a name that starts or ends with '
    assert sheet_name("History", taken) == "History (2)"  # a name Excel keeps for itself


def test_a_long_report_name_keeps_both_ends_in_its_sheet_name():
    assert report_sheet_base("hoc_home_affairs_summer2024_disorder_report.pdf") == "hoc_home_affai…_disorder_report"
    assert report_sheet_base("covid_inquiry_module1_report.pdf") == "covid_inquiry_module1_report"


def test_html_report_has_a_section_per_report_with_its_responses_and_a_status_bar(tmp_path):
    path = tmp_path / "report.html"
    write_html(path, _three_reports(), DOCS, PAIRING)
    page = path.read_text(encoding="utf-8")
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org", "")
    assert ("<p>9 recommendations from 3 reports. 1 accepted, 1 partial, 1 deferred, 1 rejected, 1 gap; and 4 "
            "unpaired, from 1 report with no response found among the inputs (not counted as gaps).</p>") in page
    sections = page.split("<section ")[1:]
    assert [s.split("<h2>")[1].split("</h2>")[0] for s in sections] == [
        "ombudsman_decision.pdf", "inquiry_report.pdf", "committee_report.pdf"]
    omb, inq, com = sections
    assert ("<p class=unpaired><b>no response found among the inputs</b>: its rows are marked unpaired, not gap, "
            "since the government may have answered it in a document this run was not given.</p>") in omb
    assert omb.count("<td class='st unpaired'>unpaired</td>") == 4 and "'st gap'" not in omb
    assert "DWP should remedy &lt;injustice&gt; 1." in omb  # escaped, never raw markup
    assert "The &lt;Inquiry&gt; Report · 2024-05-20 · report" in inq
    assert "<li><b>govt_response.pdf</b>: reprints 3 of its recommendations</li>" in inq
    assert "We accept.<div class=src>govt_response.pdf, p7</div>" in inq
    assert "<td class='st gap'>gap" in inq and "no response found</span>" in inq  # a real gap stays a gap
    assert ("<li><b>govt_response.pdf</b>: reprints 2 of its recommendations</li><li><b>library_briefing.pdf</b>: "
            "closest government statements</li>") in com
    assert "<p>2 recommendations (1 deferred, 1 rejected)</p>" in com
    for s in sections:  # each has its status bar
        assert "<svg role=img" in s and "<rect" in s
    assert "<svg role=img aria-label='4 unpaired'" in omb and "<title>unpaired: 4</title>" in omb
    assert page.count("<a href='#report-") == 3 and "id='report-3'" in page


def test_html_report_is_self_contained_with_quotes_and_pages(tmp_path):
    path = tmp_path / "report.html"
    write_html(path, _rows(), [_doc()])
    page = path.read_text(encoding="utf-8")
    assert "<svg" in page and "<script" not in page and "http" not in page.replace("http://www.w3.org", "")
    assert "Ofsted should get &lt;new&gt; powers." in page  # escaped, never raw markup
    assert "We will test a regime.<div class=src>report.pdf, p9</div>" in page
    assert "<h2>report.pdf</h2>" in page and "p3, Competition and Markets Authority" in page
    assert "no response found" in page
    assert "1 partial, 0 deferred, 1 rejected, 1 gap." in page


def test_whole_answer_block_is_shown_in_csv_xlsx_and_html(tmp_path):
    from reviewnlp.export import write_csv

    write_csv(tmp_path / "a.csv", _rows(), [_doc()])
    write_xlsx(tmp_path / "a.xlsx", _rows(), [_doc()])
    write_html(tmp_path / "r.html", _rows(), [_doc()])
    csv_text = (tmp_path / "a.csv").read_text(encoding="utf-8-sig")
    assert "response_block,response_block_pages" in csv_text.splitlines()[0]
    assert "We agree. We will test a <regime> in two areas.,\"9, 10\"" in csv_text
    ws = load_workbook(tmp_path / "a.xlsx")["All"]
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
    write_xlsx(path, rows, [_doc("d1", "corpus/=cmd()|report.pdf", title="=HYPERLINK(\"x\")")])
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 3 and not any("<f>" in z.read(n).decode() for n in sheets)  # no formula anywhere
    wb = load_workbook(path)
    assert [(c.value, c.data_type) for c in wb["All"]["C"][1:]] == [
        ('=HYPERLINK("http://attacker.example","click")', "s"), ("+1 and -1 and @SUM(A1)", "s")]
    assert [(c.value, c.data_type) for c in wb["Summary"][2][:2]] == [
        ("=cmd()|report.pdf", "s"), ('=HYPERLINK("x")', "s")]


def test_no_recommendations_gives_a_summary_and_an_all_sheet_with_headers_only(tmp_path):
    path = tmp_path / "empty.xlsx"
    write_xlsx(path, [], [_doc()])
    wb = load_workbook(path)
    assert wb.sheetnames == ["Summary", "All"]
    assert [c.value for c in wb["All"][1]][:3] == ["report", "label", "recommendation_text"]
    assert wb["All"].max_row == 1
    assert [c.value for c in wb["Summary"][2]][:7] == ["All 0 reports", None, None, None, None, None, 0]
    write_html(tmp_path / "r.html", [], [_doc()])
    assert "<p>0 recommendations from 0 reports." in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_xlsx_drops_control_characters_left_in_an_old_alignments_file(tmp_path):
    row = Alignment("Fund\x07 carers\x1b.", "gap", None, rec_id="r1", rec_doc_id="d1", rec_page=1, rec_start=0,
                    rec_end=5, body="Review", label=None)
    write_xlsx(tmp_path / "a.xlsx", [row], [_doc()])
    assert load_workbook(tmp_path / "a.xlsx")["All"]["C2"].value == "Fund carers."
