"""Alignments flattened into table rows, shared by every reader-facing export (CSV, Excel, HTML, the web page)."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from ..records import Alignment, Document, shown_status

CSV_COLUMNS = ("rec_id", "body", "label", "recommendation_text", "rec_document", "rec_date", "rec_page", "rec_source",
               "status", "model_status", "reviewed", "reviewer", "reviewed_at", "review_note",
               "status_confidence", "needs_review", "confidence", "cue", "match", "response_text", "response_document",
               "response_date", "response_page", "response_block", "response_block_pages", "score", "other_responses",
               "rec_doc_id", "response_doc_id")


def row_status(row: Mapping) -> str:
    """The status a reader is shown for a table row (:func:`reviewnlp.records.shown_status`)."""
    return shown_status(row["status"], row.get("match"), bool(row.get("reviewed")))


def alignment_rows(alignments: Sequence[Alignment], docs: Sequence[Document]) -> list[dict]:
    """Flatten alignments into table rows, naming documents by file name.

    ``status`` is the reviewed status where an analyst corrected the row (``model_status`` keeps the
    model's); ``rec_date`` and ``response_date`` are the documents' dates (ISO, or "" when unknown).
    """
    names = {d.doc_id: Path(d.path).name for d in docs}
    dates = {d.doc_id: d.date or "" for d in docs}
    rows = []
    for a in alignments:
        review = a.review or {}
        rows.append({
            "rec_id": a.rec_id, "body": a.body or "", "label": a.label or "",
            "recommendation_text": a.recommendation_text, "rec_document": names.get(a.rec_doc_id, a.rec_doc_id),
            "rec_date": dates.get(a.rec_doc_id, ""),
            "rec_page": a.rec_page if a.rec_page is not None else "",
            "rec_source": "; ".join(f"{s.get('source') or ''} {s.get('cited_pages') or ''}".strip()
                                    for s in a.rec_sources),
            "status": a.status, "model_status": a.model_status or a.status,
            "reviewed": bool(review.get("reviewed")), "reviewer": review.get("reviewer", ""),
            "reviewed_at": review.get("reviewed_at", ""), "review_note": review.get("note", ""),
            "status_confidence": a.status_confidence, "needs_review": a.needs_review,
            "confidence": a.confidence, "cue": a.cue or "", "response_text": a.response_text or "",
            "response_document": names.get(a.response_doc_id or "", a.response_doc_id or ""),
            "response_date": dates.get(a.response_doc_id or "", ""),
            "response_page": a.response_page if a.response_page is not None else "", "score": a.score,
            "match": a.match,
            "response_block": (a.response_block or {}).get("text", ""),
            "response_block_pages": ", ".join(map(str, (a.response_block or {}).get("pages", ()))),
            "other_responses": "; ".join(f"{names.get(r['doc_id'], r['doc_id'])} p{r['page']} ({r['probability']})"
                                         for r in a.responses[1:]),
            "rec_doc_id": a.rec_doc_id, "response_doc_id": a.response_doc_id or "",
        })
    return rows


# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    """A text cell that a spreadsheet would run as a formula gets a leading ``'``; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
