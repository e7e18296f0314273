import json

import pytest

from reviewnlp.errors import RecordError
from reviewnlp.records import (Alignment, Document, FailedFile, Page, Section, Segment, atomic_write_text,
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
