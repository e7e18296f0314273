"""The run as one SQLite database (``OUT/reviewnlp.sqlite``), written with sqlite-utils, for Datasette.

Tables, with foreign keys between them so Datasette links each row to its document, segment and
recommendation: ``documents``, ``segments`` (full-text search on ``text``), ``recommendations``,
``alignments``, ``pairing`` (which documents answer each report) and ``corrections`` (every line of
``corrections.jsonl``, applied or orphaned).  Nested fields (the answer block, the status evidence, the
candidates) are JSON text.  Every value goes in as a bound parameter: document text never becomes SQL.

The database is built at a temp name in the output folder, then renamed over the old one, so a reader
never sees half a database and a planted link at the final name is replaced, not written through.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Sequence

from ..records import Alignment, Document, Segment

FILE = "reviewnlp.sqlite"
JSON_FIELDS = ("response_block", "status_evidence", "candidates", "responses", "rec_copies", "rec_sources",
               "model_response")


def _rows_documents(docs: Sequence[Document], pairing: dict) -> list[dict]:
    return [{"doc_id": d.doc_id, "name": Path(d.path).name, "path": d.path, "title": d.title, "date": d.date,
             "pages": len(d.pages), "extractor": d.extractor, "role": (pairing.get(d.doc_id) or {}).get("role")}
            for d in docs]


def _rows_segments(segments: Sequence[Segment]) -> list[dict]:
    return [{"seg_id": s.seg_id, "doc_id": s.doc_id, "start": s.start, "end": s.end, "page": s.page,
             "section": s.section, "kind": s.kind, "stance": s.stance, "body": s.body, "label": s.label,
             "cue": s.cue, "text": s.text} for s in segments]


def _rows_alignments(alignments: Sequence[Alignment], seg_ids: set[str]) -> tuple[list[dict], list[dict]]:
    recs, rows = [], []
    for a in alignments:
        review = a.review or {}
        recs.append({"rec_id": a.rec_id, "doc_id": a.rec_doc_id, "label": a.label, "body": a.body,
                     "text": a.recommendation_text, "page": a.rec_page, "start": a.rec_start, "end": a.rec_end})
        row = {"rec_id": a.rec_id, "status": a.status, "model_status": a.model_status or a.status,
               "status_confidence": a.status_confidence, "needs_review": a.needs_review, "match": a.match,
               "confidence": a.confidence, "cue": a.cue,
               # A response passage that is not one of the run's segments (an old table) keeps its id as text only.
               "response_id": a.response_id if a.response_id in seg_ids else None,
               "response_doc_id": a.response_doc_id, "response_text": a.response_text,
               "response_page": a.response_page, "response_start": a.response_start, "response_end": a.response_end,
               "reviewed": bool(review.get("reviewed")), "reviewer": review.get("reviewer"),
               "reviewed_at": review.get("reviewed_at"), "review_note": review.get("note"),
               "status_method": a.status_method, "method": a.method}
        for key in JSON_FIELDS:
            value = getattr(a, key)
            row[key] = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else None
        rows.append(row)
    return recs, rows


def _rows_pairing(pairing: dict, doc_ids: set[str]) -> list[dict]:
    out = []
    for report, entry in sorted(pairing.items()):
        for p in entry.get("partners") or ():
            if report in doc_ids and p.get("doc_id") in doc_ids:
                out.append({"report_doc_id": report, "response_doc_id": p["doc_id"], "why": p.get("why"),
                            "unpaired": bool(entry.get("unpaired"))})
    return out


def _rows_corrections(out_dir: Path, alignments: Sequence[Alignment], segments: Sequence[Segment]) -> list[dict]:
    """Every line of ``corrections.jsonl`` with its state: ``applied``, ``orphaned`` (with why) or
    ``superseded`` by a later line for the same row."""
    from ..review import apply_corrections, latest, load_corrections, segment_map

    found, _ = load_corrections(out_dir)
    _, orphans = apply_corrections(alignments, found, segment_map(segments))  # idempotent on applied rows
    orphaned = {o["correction_id"]: o["why"] for o in orphans}
    current = {c.correction_id for c in latest(found).values()}
    out = []
    for n, c in enumerate(found, 1):
        cid = c.correction_id
        state = "orphaned" if cid in orphaned else "applied" if cid in current else "superseded"
        out.append({"line": n, "correction_id": cid, "rec_id": c.rec_id, "response_doc_id": c.response_doc_id,
                    "reviewed": c.reviewed, "status": c.status, "response_id": c.response_id, "note": c.note,
                    "reviewer": c.reviewer, "at": c.at, "state": state, "why": orphaned.get(cid)})
    return out


def write_sqlite(path: str | Path, alignments: Sequence[Alignment], docs: Sequence[Document],
                 segments: Sequence[Segment], pairing: dict | None = None) -> None:
    """Write ``reviewnlp.sqlite``: the run's documents, segments, recommendations, alignments, pairing and
    the analysts' corrections, with foreign keys and full-text search on segment text."""
    import sqlite_utils

    path = Path(path)
    pairing = pairing or {}
    doc_ids = {d.doc_id for d in docs}
    seg_ids = {s.seg_id for s in segments}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        db = sqlite_utils.Database(tmp)
        # Tables that others point to exist even when empty (a table written without its documents or segments).
        db["documents"].create({"doc_id": str, "name": str, "path": str, "title": str, "date": str, "pages": int,
                                "extractor": str, "role": str}, pk="doc_id")
        db["documents"].insert_all(_rows_documents(docs, pairing), pk="doc_id")
        db["segments"].create({"seg_id": str, "doc_id": str, "start": int, "end": int, "page": int, "section": str,
                               "kind": str, "stance": str, "body": str, "label": str, "cue": str, "text": str},
                              pk="seg_id", foreign_keys=[("doc_id", "documents")])
        db["segments"].insert_all(_rows_segments(segments), pk="seg_id")
        recs, rows = _rows_alignments(alignments, seg_ids)
        db["recommendations"].insert_all(recs, pk="rec_id", foreign_keys=[("doc_id", "documents")])
        db["alignments"].insert_all(rows, pk="rec_id", foreign_keys=[
            ("rec_id", "recommendations"), ("response_id", "segments"), ("response_doc_id", "documents")])
        db["pairing"].insert_all(_rows_pairing(pairing, doc_ids), pk=("report_doc_id", "response_doc_id"),
                                 foreign_keys=[("report_doc_id", "documents", "doc_id"),
                                               ("response_doc_id", "documents", "doc_id")])
        # No foreign key to recommendations: an orphaned correction names a row this run does not have.
        db["corrections"].insert_all(_rows_corrections(path.parent, alignments, segments), pk="line")
        for name, columns in (("segments", {"seg_id": str, "doc_id": str, "text": str}),
                              ("recommendations", {"rec_id": str, "doc_id": str, "text": str}),
                              ("alignments", {"rec_id": str, "status": str}),
                              ("pairing", {"report_doc_id": str, "response_doc_id": str}),
                              ("corrections", {"line": int, "correction_id": str, "rec_id": str})):
            if not db[name].exists():  # an empty run still gets every table, so queries never fail on it
                db[name].create(columns, pk=list(columns)[0])
        if db["segments"].count:
            db["segments"].enable_fts(["text"], create_triggers=True)
        db.conn.commit()
        db.conn.execute("VACUUM")
        db.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        umask = os.umask(0)  # mkstemp made it 0600; outputs are for sharing, as atomic_write_bytes does
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
