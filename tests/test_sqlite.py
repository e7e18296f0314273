"""OUT/reviewnlp.sqlite (export/sqlite.py): every table, its foreign keys and full-text search, read through
plain sqlite3 and through Datasette's own client, with the analysts' corrections applied."""
import asyncio
import hashlib
import json
import shutil
import sqlite3

import pytest
import sqlite_utils
from click.testing import CliRunner

from conftest import SMALL_PDF, SMALL_REPORT, fake_run
from reviewnlp import Searcher, load_alignments, run
from reviewnlp.cli import main
from reviewnlp.errors import ReviewNLPError
from reviewnlp.review import Correction, append_correction, make_correction

REPORT, RESPONSE = SMALL_REPORT, SMALL_PDF
JOIN = ("select d.name as report, a.status, count(*) as n from alignments a "
        "join recommendations r on r.rec_id = a.rec_id join documents d on d.doc_id = r.doc_id "
        "group by d.name, a.status order by d.name, a.status")


@pytest.fixture(scope="module")
def db_run(tmp_path_factory):
    src, out = fake_run(tmp_path_factory)
    return src, out


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_table_matches_the_run_and_every_foreign_key_holds(db_run):
    src, out = db_run
    db = sqlite3.connect(out / "reviewnlp.sqlite")
    assert db.execute("pragma foreign_key_check").fetchall() == []
    counts = {t: db.execute(f"select count(*) from {t}").fetchone()[0]
              for t in ("documents", "segments", "recommendations", "alignments", "pairing")}
    assert counts == {"documents": len(_lines(out / "documents.jsonl")), "segments": len(_lines(out / "segments.jsonl")),
                      "recommendations": len(_lines(out / "alignments.jsonl")),
                      "alignments": len(_lines(out / "alignments.jsonl")), "pairing": 1}
    tables = sqlite_utils.Database(str(out / "reviewnlp.sqlite"))
    fks = {(t, fk.column, fk.other_table) for t in ("segments", "alignments", "pairing") for fk in tables[t].foreign_keys}
    assert {("segments", "doc_id", "documents"), ("alignments", "rec_id", "recommendations"),
            ("alignments", "response_id", "segments"), ("alignments", "response_doc_id", "documents"),
            ("pairing", "report_doc_id", "documents"), ("pairing", "response_doc_id", "documents")} <= fks
    (why,) = db.execute("select why from pairing").fetchone()
    assert why.startswith("reprints ")
    statuses = dict(db.execute("select rec_id, status from alignments"))
    assert statuses == {r["rec_id"]: r["status"] for r in _lines(out / "alignments.jsonl")}


def test_a_rerun_gives_the_same_bytes(db_run, tmp_path):
    src, out = db_run
    before = hashlib.sha256((out / "reviewnlp.sqlite").read_bytes()).hexdigest()
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "reviewnlp.sqlite").unlink()
    assert CliRunner().invoke(main, ["export", "-o", str(copy)]).exit_code == 0
    assert hashlib.sha256((copy / "reviewnlp.sqlite").read_bytes()).hexdigest() == before


def test_datasette_opens_it_joins_by_foreign_key_and_searches_text(db_run):
    from datasette.app import Datasette

    src, out = db_run
    ds = Datasette([str(out / "reviewnlp.sqlite")])

    async def ask():
        await ds.invoke_startup()
        joined = await ds.client.get("/reviewnlp.json", params={"sql": JOIN, "_shape": "array"})
        found = await ds.client.get("/reviewnlp/segments.json", params={"_search": "protocol", "_shape": "array"})
        labelled = await ds.client.get("/reviewnlp/alignments.json", params={"_labels": "on", "_shape": "array",
                                                                              "_size": "1"})
        return joined, found, labelled

    joined, found, labelled = asyncio.run(ask())
    assert joined.status_code == found.status_code == labelled.status_code == 200
    rows = joined.json()
    assert {r["report"] for r in rows} == {REPORT.name}
    assert sum(r["n"] for r in rows) == len(_lines(out / "alignments.jsonl"))
    hits = found.json()
    assert hits and all("protocol" in h["text"].lower() for h in hits)
    row = labelled.json()[0]
    assert row["response_doc_id"]["label"] == RESPONSE.name  # the foreign key is followed to the document's name


def test_corrections_reach_the_database_applied_or_orphaned(db_run, tmp_path):
    src, out = db_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    target = next(r for r in load_alignments(copy) if r.match == "explicit")
    new = "rejected" if target.status != "rejected" else "accepted"
    append_correction(copy, make_correction(target, status=new, note="declined on p5", reviewer="AB",
                                            at="2026-12-03T09:00:00Z"))
    append_correction(copy, Correction(rec_id="0000000000000000:s1", response_doc_id=None, status="gap", at="t"))
    assert CliRunner().invoke(main, ["export", "-o", str(copy)]).exit_code == 0
    db = sqlite3.connect(copy / "reviewnlp.sqlite")
    assert db.execute("select status, model_status, reviewed, reviewer, review_note from alignments where rec_id = ?",
                      (target.rec_id,)).fetchone() == (new, target.status, 1, "AB", "declined on p5")
    assert db.execute("select rec_id, state from corrections order by line").fetchall() == [
        (target.rec_id, "applied"), ("0000000000000000:s1", "orphaned")]


def test_the_api_names_import_from_the_package_and_a_missing_table_is_one_line(db_run, tmp_path):
    src, out = db_run
    assert [r.rec_id for r in load_alignments(out)] == [r.rec_id for r in load_alignments(out / "alignments.jsonl")]
    assert Searcher.__module__ == "reviewnlp.search" and run.__module__ == "reviewnlp.pipeline"
    with pytest.raises(ReviewNLPError) as exc:
        load_alignments(tmp_path)
    assert str(exc.value) == f"{tmp_path / 'alignments.jsonl'}: not found; make it with: reviewnlp run INPUTS -o OUT"
