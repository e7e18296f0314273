"""Extraction on real corpus files and on bad files named after what they test."""
import json
import os
import shutil

import pytest
from hypothesis import given, settings, strategies as st

from conftest import CORPUS, FIXTURES, GOLDEN, SEED_BRIEFING, SMALL_PDF
from reviewnlp.errors import ExtractionError
from reviewnlp.extract import discover, extract, extract_many, scan
from reviewnlp.extract.build import DocumentBuilder
from reviewnlp.records import content_hash


def test_pdf_pages_text_and_ids():
    doc = extract(SMALL_PDF)
    assert doc.doc_id == content_hash(SMALL_PDF.read_bytes())
    assert doc.extractor.startswith("pypdfium2-")
    assert [p.number for p in doc.pages] == list(range(1, 11))
    assert doc.pages[0].start == 0 and doc.pages[-1].end == len(doc.text)
    assert all(a.end == b.start for a, b in zip(doc.pages, doc.pages[1:]))
    # The first recommendation is on printed page 4, re-flowed into one line.
    i = doc.text.index("Recommendation: Notwithstanding potential changes to contempt of court laws")
    assert doc.page_at(i) == 4
    assert "\n" not in doc.text[i:doc.text.index("use.", i)]


def test_pdf_running_headers_removed():
    doc = extract(SMALL_PDF)
    assert doc.meta["furniture"], "this report repeats a running header on every page"
    for line in doc.text.split("\n"):
        assert line.strip() not in {"4", "5", "6"}


def test_text_footnotes_lifted_linked_and_split_sentence_joined():
    doc = extract(SEED_BRIEFING)
    assert "<sup>" not in doc.text and "](" not in doc.text
    assert "to achieve frictionless data sharing by 2027" in doc.text
    note = next(f for f in doc.footnotes if f.number == "64")
    assert note.text.startswith("The Independent Review of Children's Social Care, Final Report")
    assert note.cited_pages == "p222 and 244"
    assert note.source.startswith("The Independent Review of Children's Social Care, Final Report")
    (ref,) = note.refs
    assert doc.text[:ref].endswith("improve the use and collection of data locally.”")
    note61 = next(f for f in doc.footnotes if f.number == "61")
    assert doc.text[:note61.refs[0]].endswith("The Government should introduce new national rules on the use of "
                                              "social work agencies.")
    assert note61.cited_pages == "p191"
    titles = [s.title for s in doc.sections]
    assert "2.2 Competition and Markets Authority report" in titles


def test_pdf_footnotes_leave_the_page_and_link_to_their_marker():
    doc = extract(CORPUS / "dev" / "hoc_home_affairs_summer2024_disorder_report.pdf")
    note = next(f for f in doc.footnotes if f.number == "39" and f.page == 15)
    assert note.text.startswith("Law Commission, ‘Contempt of Court: Supplementary Consultation Paper’")
    assert "Supplementary Consultation Paper’, 3 March" not in doc.text
    (ref,) = note.refs
    assert doc.text[:ref].endswith("in the interests of public safety or national security.”")
    assert doc.page_at(ref) == 15


def test_pdf_footnote_numbers_set_on_their_own_line():
    doc = extract(CORPUS / "dev" / "hoc_library_CBP-10081.pdf")
    note = next(f for f in doc.footnotes if f.number == "3" and f.page == 8)
    assert (note.source, note.cited_pages) == ("Infected Blood Inquiry, The Report: What happened and why?",
                                              "p447-448")
    assert "What happened and why? 20 May 2024" not in doc.text[doc.pages[7].start:doc.pages[8].end]


@pytest.mark.parametrize("golden,pdf,page", [
    ("hoc_home_affairs_summer2024_disorder_report_p15.txt", "hoc_home_affairs_summer2024_disorder_report.pdf", 15),
    ("hoc_library_CBP-10081_p8.txt", "hoc_library_CBP-10081.pdf", 8),
    ("infected_blood_inquiry_govt_response_p11.txt", "infected_blood_inquiry_govt_response.pdf", 11),
])
def test_golden_pages(golden, pdf, page):
    """Furniture, footnotes and page numbers gone, labels split off, sentences joined across the page."""
    doc = extract(CORPUS / "dev" / pdf)
    p = next(x for x in doc.pages if x.number == page)
    assert doc.text[p.start:p.end] == (GOLDEN / golden).read_text()


def test_sentence_split_by_page_break_is_joined():
    doc = extract(CORPUS / "dev" / "hoc_library_CBP-10081.pdf")
    i = doc.text.index("estimates that 1,250 people with bleeding disorders were infected with HIV")
    assert doc.page_at(i) == 8
    assert doc.page_at(doc.text.index("infected with HIV and between 2,400", i)) == 9


def test_pdf_sections_from_type_size_bold_and_numbering():
    titles = [(s.level, s.title) for s in extract(SMALL_PDF).sections]
    assert (2, "1. Social media mis- and disinformation") in titles
    assert (1, "Introduction") in titles
    assert not any(t.startswith("Recommendation:") for _, t in titles)


def test_ocr_reads_rasterised_page_with_its_page_number():
    doc = extract(FIXTURES / "text_page_then_rasterised_page.pdf")
    assert [(p.number, p.ocr) for p in doc.pages] == [(1, False), (2, True)]
    assert "+tesseract" in doc.extractor
    i = doc.text.index("we recommend that the CPS publish its new media protocol")
    assert doc.page_at(i) == 2
    assert doc.page_at(doc.text.index("Contacts")) == 1


def test_image_only_without_ocr_is_a_clear_error(monkeypatch):
    import reviewnlp.extract.pdf as pdf_backend

    monkeypatch.setattr(pdf_backend, "ocr_available", lambda: False)
    path = FIXTURES / "rasterised_page_only.pdf"
    with pytest.raises(ExtractionError) as info:
        extract(path)
    assert str(info.value) == f"{path}: image-only (no text layer and OCR (tesseract) is not installed)"


def test_html_boilerplate_and_comments_dropped():
    doc = extract(FIXTURES / "saved_page_with_site_chrome.html")
    assert doc.title == "Kinship care: what the review recommended"
    for junk in ("Thank you for visiting", "Share on social media", "cheap watches", "Akismet", "cookies",
                 "should not appear", "Related posts", "News and blogs"):
        assert junk not in doc.text
    assert "• The Government should develop a legal definition of kinship care." in doc.text


@pytest.mark.parametrize("name,cause", [
    ("encrypted_user_password.pdf", "encrypted"),
    ("truncated_half_file.pdf", "corrupt"),
    ("blank_page_no_text_layer.pdf", "empty"),
])
def test_bad_pdfs_give_one_line_cause(name, cause):
    with pytest.raises(ExtractionError) as info:
        extract(FIXTURES / name)
    assert info.value.cause == cause
    assert str(info.value).startswith(f"{FIXTURES / name}: {cause}")
    assert "\n" not in str(info.value)


def test_zero_byte_unsupported_and_binary(tmp_path):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    other = tmp_path / "notes.docx"
    other.write_bytes(b"PK\x03\x04")
    binary = tmp_path / "data.txt"
    binary.write_bytes(b"\x00\x01\x02" * 10)
    assert str(pytest.raises(ExtractionError, extract, empty).value) == f"{empty}: empty (zero-byte file)"
    assert str(pytest.raises(ExtractionError, extract, other).value) == f"{other}: unsupported (suffix '.docx')"
    assert pytest.raises(ExtractionError, extract, binary).value.cause == "unsupported"


def test_batch_continues_past_bad_files(tmp_path):
    shutil.copy(SMALL_PDF, tmp_path / "good.pdf")
    shutil.copy(FIXTURES / "encrypted_user_password.pdf", tmp_path / "locked.pdf")
    (tmp_path / "empty.txt").write_bytes(b"")
    shutil.copy(SMALL_PDF, tmp_path / "same_bytes_again.pdf")
    docs, failed = extract_many(discover([tmp_path]))
    assert len(docs) == 1  # identical bytes, one document
    assert sorted(f.cause for f in failed) == ["empty", "encrypted"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=0, max_size=40), st.integers(1, 4), st.booleans()), max_size=25))
def test_builder_page_map_covers_text_exactly(items):
    b = DocumentBuilder()
    pages_seen = []
    for text, page, is_heading in sorted(items, key=lambda t: t[1]):
        b.add(text, page=page, heading=1 if is_heading else None)
        pages_seen.append(page)
    doc = b.build("d", "p", "test")
    if doc.pages:
        assert doc.pages[0].start == 0 and doc.pages[-1].end == len(doc.text)
        assert all(a.end == b.start for a, b in zip(doc.pages, doc.pages[1:]))
    for s in doc.sections:
        assert 0 <= s.start <= s.end <= len(doc.text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet=st.sampled_from("ab .,\n"), max_size=30),
                          st.lists(st.integers(1, 99), max_size=2)), max_size=12))
def test_builder_markers_become_offsets_inside_the_text(items):
    from reviewnlp.extract.build import MARK_CLOSE, MARK_OPEN

    b = DocumentBuilder()
    for i, (text, nums) in enumerate(items):
        marked = text + "".join(f"{MARK_OPEN}{n}{MARK_CLOSE}" for n in nums)
        b.add(marked, page=1 + i // 3)
        for n in nums:
            b.add_footnote(str(n), f"note {n}", page=1 + i // 3)
    doc = b.build("d", "p", "test")
    assert MARK_OPEN not in doc.text and MARK_CLOSE not in doc.text
    for f in doc.footnotes:
        assert all(0 <= r <= len(doc.text) for r in f.refs)


# ------------------------------------------------ hostile inputs (issue 13)


def test_utf16_and_utf32_text_with_bom_is_decoded_not_rejected_as_binary():
    for name in ("utf16_le_text_with_bom.txt", "utf32_be_text_with_bom.txt"):
        doc = extract(FIXTURES / name)
        assert doc.text.startswith("Recommendation 1: The Department for Education should publish national data")
        assert "\x00" not in doc.text and "\ufeff" not in doc.text


def test_nul_bytes_after_the_first_4kb_are_removed_from_text_and_counted():
    doc = extract(FIXTURES / "nul_bytes_after_first_4kb.txt")
    assert "\x00" not in doc.text
    assert "Recommendation 2: The Government should fund kinship carers." in doc.text
    assert doc.meta["illegal_chars_removed"] == 2


def test_control_characters_are_removed_at_extraction_and_recorded():
    doc = extract(FIXTURES / "recommendation_with_bel_control_char.txt")
    assert doc.text.split("\n")[0] == "Recommendation 3: The Government should introduce a kinship allowance by 2026."
    assert doc.meta["illegal_chars_removed"] == 2  # BEL and ESC
    b = DocumentBuilder()
    b.add("Form\x0cfeed and a lone surrogate \ud800 here.", page=1)
    b.add_footnote("1", "note\x07 text")
    doc = b.build("d", "p", "test", title="Title\x1b")
    assert doc.text == "Form feed and a lone surrogate  here." and doc.title == "Title"
    assert doc.footnotes[0].text == "note text" and doc.meta["illegal_chars_removed"] == 4


def test_govuk_page_chrome_is_dropped_and_the_published_date_kept():
    doc = extract(FIXTURES / "govuk_page_with_feedback_and_related_links.html")
    for chrome in ("Is this page useful", "Report a problem with this page", "Related content", "Explore the topic",
                   "Championing kinship care", "From:", "Department for Education\n", "Published", "this page is"):
        assert chrome not in doc.text, chrome
    assert "The government accepts this recommendation in principle and will pilot" in doc.text
    assert doc.date == "2023-12-15"


def test_govuk_chrome_in_scraped_text_is_dropped(tmp_path):
    page = tmp_path / "govuk_scraped.txt"
    page.write_text("# Kinship care strategy\nFrom:\nDepartment for Education\nPublished\n15 December 2023\n\n"
                    "The government accepts this recommendation in principle and will pilot an allowance.\n\n"
                    "## Related content\n- [Championing kinship care](/x)\n- Independent review: final report\n\n"
                    "### Explore the topic\n- Children's social care\n\nIs this page useful?\n- Yes this page is useful\n"
                    "- No this page is not useful\nReport a problem with this page\n", encoding="utf-8")
    doc = extract(page)
    assert doc.text == ("Kinship care strategy\nThe government accepts this recommendation in principle and will "
                        "pilot an allowance.")
    assert doc.date == "2023-12-15"


def test_fifo_device_and_oversized_files_are_refused_before_reading(tmp_path):
    import os

    from reviewnlp.extract import read_source

    fifo = tmp_path / "named_pipe.txt"
    os.mkfifo(fifo)  # nobody writes: reading it would block for ever
    assert str(pytest.raises(ExtractionError, extract, fifo).value) == \
        f"{fifo}: unsupported (a FIFO, not a regular file)"
    assert str(pytest.raises(ExtractionError, extract, "/dev/zero").value) == \
        "/dev/zero: unsupported (a character device, not a regular file)"
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 300_000)  # 1.5 MB
    err = pytest.raises(ExtractionError, read_source, big, 1).value
    assert (err.cause, str(err)) == ("too-large", f"{big}: too-large (1.4 MB; the limit is 1 MB (--max-file-mb))")
    assert len(read_source(big, 2)) == 1_500_000


def test_scan_names_every_skipped_entry_with_its_reason(tmp_path):
    import os
    import socket

    (tmp_path / "good.txt").write_text("Some text.\n")
    (tmp_path / ".hidden.txt").write_text("hidden\n")
    os.mkfifo(tmp_path / "pipe.txt")
    os.symlink("loop_b", tmp_path / "loop_a.txt")
    os.symlink("loop_a.txt", tmp_path / "loop_b")
    os.symlink("missing.txt", tmp_path / "dangling.txt")
    os.symlink("/dev/zero", tmp_path / "zero.txt")
    (tmp_path / "sub").mkdir()
    os.symlink("..", tmp_path / "sub" / "up")  # a folder loop through a link
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock.txt"))
    try:
        files, skipped = scan([tmp_path])
    finally:
        sock.close()
    assert files == [tmp_path / "good.txt"]
    assert skipped == [(str(tmp_path / "dangling.txt"), "broken symlink"),
                       (str(tmp_path / "loop_a.txt"), "symlink loop"),
                       (str(tmp_path / "loop_b"), "symlink loop"),
                       (str(tmp_path / "pipe.txt"), "a FIFO, not a regular file"),
                       (str(tmp_path / "sock.txt"), "a socket, not a regular file"),
                       (str(tmp_path / "sub" / "up"), "symlink to a folder, not followed"),
                       (str(tmp_path / "zero.txt"), "symlink to a character device, not followed")]


def test_a_hard_wrapped_response_opens_a_paragraph_at_each_lead_verdict_and_lettered_part(tmp_path):
    """aus_robodebt: a text response with no blank lines, where "Recommendation 11.2:" ran on from the answer
    before it and "The Government accepts this recommendation." ran on from the last list item."""
    from reviewnlp.extract import extract

    p = tmp_path / "response.txt"
    p.write_text("Services Australia will produce clear documentation for exclusion criteria.\n"
                 "Recommendation 11.2: Identification of circumstances\n"
                 "Services Australia should ensure that its processes extend to every recipient:\n"
                 "• avoiding language which reinforces stigma\n"
                 "• explaining processes in plain\nlanguage.\n"
                 "The Government accepts this recommendation.\n"
                 "7b. This should include data about funding.\n", encoding="utf-8")
    paras = extract(p).text.split("\n")
    assert paras[1].startswith("Recommendation 11.2: Identification of circumstances Services Australia")
    assert paras[3] == "• explaining processes in plain language."
    assert paras[4] == "The Government accepts this recommendation."
    assert paras[5].startswith("7b. This should include")


def test_ocr_reads_text_drawn_as_vector_outlines():
    # A page whose glyphs are filled paths has no text layer and no image object; it must be OCRed, not read
    # as empty (issue 19: 12 of 16 pages of a response were silently lost).
    doc = extract(FIXTURES / "text_drawn_as_vector_outlines.pdf")
    assert [(p.number, p.ocr) for p in doc.pages] == [(1, True)]
    assert "The Government accepts this recommendation" in doc.text
    assert doc.meta["ocr_pages"] == [1]


def test_file_links_leaving_the_input_folder_are_skipped_through_the_cli(tmp_path):
    """A folder you are sent may link to /etc/passwd: the run names the link and never reads its target."""
    from click.testing import CliRunner

    from reviewnlp.cli import main

    inp, out = tmp_path / "in", tmp_path / "out"
    (inp / "sub").mkdir(parents=True)
    (inp / "a.txt").write_text("We recommend that the Government should fund kinship carers.\n", encoding="utf-8")
    outside = tmp_path / "secret.txt"
    outside.write_text("We recommend that this secret is never read.\n", encoding="utf-8")
    (inp / "passwd.txt").symlink_to("/etc/passwd")
    (inp / "secret.txt").symlink_to(outside)
    (inp / "sub" / "inside.txt").symlink_to(inp / "a.txt")  # a link within the folder is still a file of it
    res = CliRunner().invoke(main, ["run", str(inp), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    why = "symlink to a file outside the input folder, not followed"
    assert f"  skipped: {inp / 'passwd.txt'}: {why}\n" in res.output
    assert f"  skipped: {inp / 'secret.txt'}: {why}\n" in res.output
    docs = (out / "documents.jsonl").read_text(encoding="utf-8")
    assert "secret is never read" not in docs and "root:" not in docs
    assert {json.loads(line)["path"] for line in docs.splitlines()} == {str(inp / "a.txt")}  # one doc, two names


def test_a_file_name_that_is_not_utf8_is_skipped_and_the_batch_goes_on(tmp_path):
    from click.testing import CliRunner

    from reviewnlp.cli import main

    inp, out = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    (inp / "a.txt").write_text("We recommend that the Government should fund kinship carers.\n", encoding="utf-8")
    bad = os.fsencode(inp) + b"/bad_\xff.txt"
    with open(bad, "wb") as fh:
        fh.write(b"We recommend x.\n")
    for _ in range(2):  # and the same on a rerun
        res = CliRunner().invoke(main, ["run", str(inp), "-o", str(out), "-q"])
        assert res.exit_code == 0, res.output
        assert f"  skipped: {inp}/bad_\\xff.txt: the file name is not valid UTF-8; rename it\n" in res.output
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["skipped"] == [
        {"path": f"{inp}/bad_\\xff.txt", "reason": "the file name is not valid UTF-8; rename it"}]


# ------------------------------------------------ markup that leaked into the text (round two)


def test_markdown_links_leave_only_their_text_whatever_the_url(tmp_path):
    """Once: "[t](javascript:alert(1))" left "t)" in the text."""
    page = tmp_path / "links.md"
    page.write_text("The Government should fund [kinship carers](javascript:alert(1)) at once.\n\n"
                    "See [the review](https://en.wikipedia.org/wiki/Review_(law) \"The review\") and "
                    "[the plan](<https://example.org/a plan>) and ![a chart](chart.png).\n", encoding="utf-8")
    assert extract(page).text == ("The Government should fund kinship carers at once.\n"
                                  "See the review and the plan and a chart.")


def test_raw_html_in_markdown_and_text_shows_as_a_renderer_would(tmp_path):
    """Once: "<a href=...>" and other raw tags stayed in the text of .md and .txt inputs."""
    body = ('The Government should fund <a href="https://example.org/x?a=1&b=2" title="a > b">kinship '
            "carers</a>.<br>It <strong>accepts</strong> this.\n\n<div class=\"note\">\nA <span>second</span> "
            "point<sup>1</sup>.\n</div>\n<!-- an editor's\nnote -->\n<script>alert(1)</script>\n\n"
            "<sup>1</sup> A footnote.\n\nCosts rose where 3 < 5 and 7 > 2.\n")
    for name in ("raw.md", "raw.txt"):
        page = tmp_path / name
        page.write_text(body, encoding="utf-8")
        doc = extract(page)
        assert doc.text.startswith("The Government should fund kinship carers. It accepts this.\n"
                                   "A second point"), doc.text
        assert doc.text.endswith("\nCosts rose where 3 < 5 and 7 > 2."), doc.text
        for leak in ("<", "href", "alert", "editor", "div", "span"):
            assert leak not in doc.text.replace("3 < 5", ""), leak
        assert [f.text for f in doc.footnotes] == ["A footnote."]


def test_html_doctype_internal_subset_does_not_leak_into_the_text(tmp_path):
    """Once: '<!DOCTYPE html [ <!ENTITY x "y"> ]>' left "]>" at the top of the text."""
    page = tmp_path / "subset.html"
    page.write_text('<!DOCTYPE html [ <!ENTITY x "y"> <!ENTITY z "]>"> ]>\n<html><head><title>T</title></head>'
                    "<body><p>The Government should fund kinship carers.</p></body></html>\n", encoding="utf-8")
    assert extract(page).text == "The Government should fund kinship carers."


# ---------------------------------------------------------------- OCR limits (render size, pages, seconds)


def _ocr_installed():
    from reviewnlp.extract.ocr import ocr_available

    if not ocr_available():
        pytest.skip("tesseract is not installed")


def test_ocr_dpi_holds_each_render_to_the_pixel_cap():
    from reviewnlp.extract.ocr import MAX_OCR_PIXELS, MIN_OCR_DPI, OCR_DPI, ocr_dpi

    assert ocr_dpi(612, 792) == ocr_dpi(1191, 1684) == OCR_DPI  # Letter and A2 at full resolution
    assert ocr_dpi(6000, 6000) == 75
    assert ocr_dpi(14400, 14400) < MIN_OCR_DPI
    for w, h in [(612, 792), (1684, 2384), (6000, 6000), (14400, 300), (300, 14400)]:
        dpi = ocr_dpi(w, h)
        assert (w * dpi / 72) * (h * dpi / 72) <= MAX_OCR_PIXELS


def test_the_ocr_budget_counts_pages_and_seconds():
    from reviewnlp.extract.ocr import OcrBudget

    now = [100.0]
    budget = OcrBudget(max_pages=3, max_seconds=10.0, clock=lambda: now[0])
    for seconds in (2.0, 3.0):
        assert budget.refusal() is None
        start = budget.clock()
        now[0] += seconds
        budget.spend(start)
    assert budget.left() == 5.0 and budget.refusal() is None
    start = budget.clock()
    now[0] += 6.0
    budget.spend(start)
    assert budget.refusal() == "pages" and budget.left() == 0.0
    assert OcrBudget(max_pages=200, max_seconds=0.0).refusal() == "seconds"


def test_a_page_too_large_to_render_is_not_ocred_and_says_so():
    # No tesseract is needed to see it: even at 72 dpi the render would be 207 megapixels, and 40 are allowed.
    path = FIXTURES / "image_only_page_14400_pt_square.pdf"
    with pytest.raises(ExtractionError) as info:
        extract(path)
    assert str(info.value) == (f"{path}: ocr-limit (page 1 not OCRed: too large (14400 x 14400 pt) to render at "
                               "72 dpi within 40 megapixels (MAX_OCR_PIXELS))")
    assert info.value.cause == "ocr-limit"


def test_a_6000_pt_image_page_is_read_at_a_lower_resolution_in_seconds_and_the_run_says_so(tmp_path):
    """Once: a 3 KB PDF of one 6000 pt page took 44 s and 4.3 GB (plus 2.3 GB in tesseract) at 300 dpi."""
    import subprocess
    import sys
    import time

    _ocr_installed()
    path = FIXTURES / "image_only_page_6000_pt_square.pdf"
    t = time.monotonic()
    doc = extract(path)
    assert time.monotonic() - t < 20
    assert doc.text == "We recommend that the Government publishes a plan."
    note = "page 1 OCRed at 75 dpi, not 300: 6000 x 6000 pt at 300 dpi is over 40 megapixels (MAX_OCR_PIXELS)"
    assert doc.meta["ocr_limits"] == [note] and doc.meta["ocr_pages"] == [1]
    res = subprocess.run([sys.executable, "-m", "reviewnlp", "run", "-q", str(path), "-o", str(tmp_path / "out")],
                         capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"  OCR limit: {path}: {note}\n" in res.stdout
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    assert manifest["documents"][0]["ocr_limits"] == [note]


def test_a_page_listed_again_and_again_is_ocred_only_up_to_the_page_budget():
    """A 600 KB page tree can list one image-only page 100,000 times (14 hours of OCR); 12 here, budget 2."""
    from reviewnlp.extract.ocr import OcrBudget
    from reviewnlp.extract.pdf import extract_pdf

    _ocr_installed()
    path = FIXTURES / "image_page_listed_12_times.pdf"
    doc = extract_pdf(path, "id", budget=OcrBudget(max_pages=2))
    assert [p.number for p in doc.pages] == list(range(1, 13)) and doc.meta["ocr_pages"] == [1, 2]
    assert doc.meta["ocr_limits"] == ["10 pages (first: page 3) not OCRed: over the OCR budget of 2 pages per "
                                      "document (MAX_OCR_PAGES)"]
    assert doc.text.count("We recommend that the Government publishes a plan.") == 2


def test_the_ocr_time_budget_stops_tesseract_and_names_the_pages():
    from reviewnlp.extract.ocr import OcrBudget
    from reviewnlp.extract.pdf import extract_pdf

    _ocr_installed()
    path = FIXTURES / "image_page_listed_12_times.pdf"
    with pytest.raises(ExtractionError) as info:  # tesseract cannot read a page in 50 ms: it is killed
        extract_pdf(path, "id", budget=OcrBudget(max_seconds=0.05))
    assert str(info.value) == (f"{path}: ocr-limit (12 pages (first: page 1) not OCRed: over the OCR budget of "
                               "0.05 s per document (MAX_OCR_SECONDS))")


@pytest.mark.slow
def test_a_page_listed_100000_times_is_done_within_the_default_ocr_budget(tmp_path, monkeypatch):
    """The issue's 600 KB file: at most MAX_OCR_PAGES pages or MAX_OCR_SECONDS of OCR, then a note (minutes)."""
    import importlib.util
    import time

    from reviewnlp.extract.ocr import MAX_OCR_PAGES, MAX_OCR_SECONDS

    _ocr_installed()
    monkeypatch.syspath_prepend(str(FIXTURES))  # the maker imports its sibling pdf_objects, as when run from there
    spec = importlib.util.spec_from_file_location("make_ocr_limit_pdfs", FIXTURES / "make_ocr_limit_pdfs.py")
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    path = tmp_path / "image_page_listed_100000_times.pdf"
    path.write_bytes(maker.pdf(612, 792, 100_000))
    t = time.monotonic()
    doc = extract(path)
    assert time.monotonic() - t < MAX_OCR_SECONDS + 120
    (note,) = doc.meta["ocr_limits"]
    n = len(doc.meta["ocr_pages"])
    assert 0 < n <= MAX_OCR_PAGES and len(doc.pages) == 100_000
    assert note.startswith(f"{100_000 - n} pages (first: page {n + 1}) not OCRed: over the OCR budget of ")
