import json

import pytest
from hypothesis import given, settings, strategies as st

from reviewnlp.errors import RecordError
from reviewnlp.records import (Alignment, Document, FailedFile, Footnote, Page, Section, Segment, atomic_write_text,
                               content_hash, read_jsonl, write_jsonl)


def _doc():
    return Document(doc_id="abc", path="x.pdf", title="T", text="Hello world. Second page.",
                    pages=(Page(1, 0, 13), Page(2, 13, 25)), sections=(Section("T", 1, 0, 25),),
                    date="2023-02-02", extractor="test", meta={"k": [1, 2]})


def test_content_hash_is_stable_and_short():
    assert content_hash(b"abc") == content_hash(b"abc")
    assert content_hash(b"abc") != content_hash(b"abd")
    assert len(content_hash(b"abc")) == 16


@pytest.mark.parametrize("record", [
    _doc(),
    Segment("abc:s00000", "abc", 0, 12, "Hello world.", 1, "T", "recommendation", None, "Review", "4c", "should",
            "rules"),
    Alignment("rec", "partial", "resp", "abc:s1", "abc", 3, 0, 3, "Review", "Recommendation 7",
              candidates=({"seg_id": "x", "score": 0.5},)),
    FailedFile("bad.pdf", "extract", "encrypted", "bad.pdf: encrypted"),
])
def test_jsonl_round_trip(tmp_path, record):
    path = tmp_path / "r.jsonl"
    write_jsonl(path, [record, record])
    back = list(read_jsonl(path, type(record)))
    assert back == [record, record]


def test_from_dict_ignores_unknown_keys():
    d = _doc().to_dict() | {"added_in_a_later_version": 1}
    assert Document.from_dict(d) == _doc()


def test_page_and_section_lookup():
    doc = _doc()
    assert doc.page_at(0) == 1 and doc.page_at(12) == 1 and doc.page_at(13) == 2 and doc.page_at(24) == 2
    assert doc.section_at(5) == "T"


def test_atomic_write_leaves_no_temp_files(tmp_path):
    atomic_write_text(tmp_path / "a.txt", "one")
    atomic_write_text(tmp_path / "a.txt", "two")
    assert (tmp_path / "a.txt").read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_read_jsonl_names_file_and_line_on_bad_record(tmp_path):
    path = tmp_path / "segments.jsonl"
    path.write_text(json.dumps({"seg_id": "x"}) + "\n")
    with pytest.raises(RecordError, match=r"segments.jsonl:1: not a Segment record"):
        list(read_jsonl(path, Segment))


# ------------------------------------------ lookups by bisection (issue 13)

def _section_at_by_scan(doc, offset):
    """The lookup as it was: every section scanned, the deepest (and of equals the later) kept."""
    best = None
    for s in doc.sections:
        if s.start <= offset < s.end and (best is None or s.level >= best.level):
            best = s
    return best.title if best else None


def _page_at_by_scan(doc, offset):
    for p in doc.pages:
        if p.start <= offset < p.end:
            return p.number
    return doc.pages[-1].number if doc.pages and offset >= doc.pages[-1].start else None


def _footnotes_in_by_scan(doc, start, end):
    return tuple(f for f in doc.footnotes if any(start <= r <= end for r in f.refs))


_SPAN = st.tuples(st.integers(0, 40), st.integers(0, 40))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), _SPAN), max_size=10),
       st.lists(st.tuples(st.integers(1, 9), _SPAN), max_size=5),
       st.lists(st.lists(st.integers(0, 40), max_size=3), max_size=5))
def test_lookups_by_bisection_equal_the_linear_scans(sections, pages, notes):
    """Any layout, nested or overlapping, empty or reversed spans: the same answer as the scans they replace."""
    doc = Document(doc_id="d", path="d.txt", title="T", text="x" * 40,
                   sections=tuple(Section(f"s{i}", level, a, b) for i, (level, (a, b)) in enumerate(sections)),
                   pages=tuple(Page(n, a, b) for n, (a, b) in pages),
                   footnotes=tuple(Footnote(str(i), "n", None, tuple(refs)) for i, refs in enumerate(notes)))
    for offset in range(-2, 44):
        assert doc.section_at(offset) == _section_at_by_scan(doc, offset)
        assert doc.page_at(offset) == _page_at_by_scan(doc, offset)
        for end in (offset - 1, offset, offset + 3):
            assert doc.footnotes_in(offset, end) == _footnotes_in_by_scan(doc, offset, end)


def test_lookup_index_is_not_a_field():
    """The cached index leaves the record as it was: equal to a fresh copy, and out of its JSON."""
    doc = _doc()
    assert doc.section_at(5) == "T" and doc.page_at(20) == 2
    assert doc == _doc() and doc.to_dict() == _doc().to_dict()
    assert Document.from_dict(json.loads(json.dumps(doc.to_dict()))) == doc
