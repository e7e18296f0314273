"""Extraction on real corpus files and on bad files named after what they test."""
import shutil

import pytest
from hypothesis import given, settings, strategies as st

from conftest import FIXTURES, SEED_BRIEFING, SMALL_PDF
from reviewnlp.errors import ExtractionError
from reviewnlp.extract import discover, extract, extract_many
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


def test_text_footnotes_lifted_and_split_sentence_joined():
    doc = extract(SEED_BRIEFING)
    assert "<sup>" not in doc.text and "](" not in doc.text
    assert "to achieve frictionless data sharing by 2027" in doc.text
    assert doc.meta["footnotes"]["64"].startswith("The Independent Review of Children's Social Care, Final Report")
    titles = [s.title for s in doc.sections]
    assert "2.2 Competition and Markets Authority report" in titles


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
    ("blank_page_no_text_layer.pdf", "image-only"),
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
