"""The alignment table behind the web page: its rows with the analysts' corrections, filters, passages, review.

:mod:`reviewnlp.serve` answers HTTP and guards the requests; this module answers them:

- ``GET /api/meta`` -> the vocabulary (statuses, kinds, stances, modes and what each means), the CSV columns,
  the reports and response documents of the run
- ``GET /api/alignments?report=&response=&status=&body=&needs_review=&reviewed=&from=&to=&q=`` -> rows
- ``GET /api/passages?rec_id=`` -> the passages of a row's answer block, one of which an analyst may choose
- ``POST /api/review`` with ``{"rec_id", "reviewed", "status", "response_id", "note", "reviewer"}`` -> the
  reviewed row; the correction is appended to ``OUT/corrections.jsonl`` and shown at once

The table holds each row's :class:`~reviewnlp.records.Alignment` beside its flattened row, so a correction is
made (:func:`~reviewnlp.review.make_correction`) and applied (:func:`~reviewnlp.review.apply_corrections`) by
the same code every export uses.  A bad value is an :class:`ApiError` with the HTTP status and a message in
the API's own words.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path
from typing import Mapping, Sequence

from .errors import ReviewNLPError
from .evaluate import fold
from .export.rows import CSV_COLUMNS, alignment_rows, row_status
from .passages import KIND_MEANINGS, KIND_WORDS, STATUS_MEANINGS
from .records import KINDS, NO_RESPONSE, SHOWN_STATUSES, STATUSES, UNPAIRED, Alignment, Document, Segment, read_jsonl
from .review import (FILE as CORRECTIONS, CorrectionError, answer_passages, append_correction, apply_corrections,
                     load_corrections, make_correction, model_view, segment_map)
from .search import MAX_K, MODES, STANCES

#: The fields a review may send; any other is refused, so a misspelt field is never silently ignored.
REVIEW_FIELDS = ("rec_id", "reviewed", "status", "response_id", "note", "reviewer")

STATUS_FILTER_ERROR = f"status must be one of {', '.join(SHOWN_STATUSES)}"
REVIEW_STATUS_ERROR = f"status must be one of {', '.join(STATUSES)}, or null to keep the model's"
NO_ROW = "no recommendation with this rec_id in the run's table"
NEED_REC_ID = "rec_id is required: the rec_id of the row, as text"
NOT_OBJECT = ('the body must be one JSON object, e.g. {"rec_id": "...", "reviewed": true, "status": "partial", '
              '"note": "..."}')


class ApiError(ReviewNLPError):
    """A request the API refuses, with the HTTP status to answer and the reason in the API's words."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Table:
    """The run's alignment rows as the page shows them, corrections applied; reviews change them in place.

    Rows keep the order of ``alignments.jsonl``.  One lock serialises reviews, so two analysts saving at once
    each get their line in ``corrections.jsonl`` and a row that reflects the last of them.
    """

    def __init__(self, out_dir: str | Path, docs: Mapping[str, Document], segments: Sequence[Segment]) -> None:
        self.out_dir = Path(out_dir)
        self.docs = list(docs.values())
        self.segments = segment_map(segments)
        self._lock = threading.Lock()
        self._doc_text = {d.doc_id: fold(f"{Path(d.path).name} {d.title} {d.doc_id}") for d in self.docs}
        path = self.out_dir / "alignments.jsonl"
        alignments = list(read_jsonl(path, Alignment)) if path.is_file() else []  # a run not aligned yet
        found, _ = load_corrections(self.out_dir)
        applied, self.orphans = apply_corrections(alignments, found, self.segments)
        self.alignments: dict[str, Alignment] = {a.rec_id: a for a in applied}
        self.rows: dict[str, dict] = {a.rec_id: r for a, r in zip(applied, _page_rows(applied, self.docs))}

    # ------------------------------------------------------------ reading

    def meta(self) -> dict:
        """What the page needs before it shows anything: the vocabulary with meanings, columns, documents."""
        def doc(doc_id: str) -> dict:
            d = next((x for x in self.docs if x.doc_id == doc_id), None)
            return {"doc_id": doc_id, "name": Path(d.path).name if d else doc_id, "title": d.title if d else "",
                    "date": (d.date or "") if d else ""}

        reports = list(dict.fromkeys(r["rec_doc_id"] for r in self.rows.values()))
        responses = list(dict.fromkeys(r["response_doc_id"] for r in self.rows.values() if r["response_doc_id"]))
        return {"statuses": list(STATUSES), "shown_statuses": list(SHOWN_STATUSES), "unpaired_status": UNPAIRED,
                "status_meanings": STATUS_MEANINGS, "unpaired": NO_RESPONSE,
                "kinds": list(KINDS), "kind_words": KIND_WORDS, "kind_meanings": KIND_MEANINGS,
                "stances": list(STANCES), "modes": list(MODES), "max_k": MAX_K, "csv_columns": list(CSV_COLUMNS),
                "rows": len(self.rows), "reports": [doc(d) for d in reports], "responses": [doc(d) for d in responses],
                "documents": sorted(Path(d.path).name for d in self.docs), "corrections_file": CORRECTIONS,
                "orphaned_corrections": len(self.orphans)}

    def select(self, q: Mapping[str, str]) -> list[dict]:
        """The rows that pass every filter given in ``q`` (the API's query parameters), in table order.

        ``report`` / ``response``: the document's id, or text its file name or title contains; ``status``: one
        of the statuses, where ``gap`` is a gap of a report something answers and ``unpaired`` a row of a report
        nothing among the inputs answers; ``body``: text the recommending body, or the report's file name or
        title, contains; ``needs_review`` / ``reviewed``: ``yes`` or ``no``; ``from`` / ``to``: the report's
        date (rows of an undated report are left out while a date is set); ``q``: text the recommendation, the
        response, the label or the review note contains.  Text matches ignore case, quotes and dashes.
        """
        status = q.get("status", "")
        if status and status not in SHOWN_STATUSES:
            raise ApiError(400, STATUS_FILTER_ERROR)
        needs, reviewed = _yes_no(q, "needs_review"), _yes_no(q, "reviewed")
        date_from, date_to = _date(q, "from"), _date(q, "to")
        report, response = fold(q.get("report", "")), fold(q.get("response", ""))
        body, text = fold(q.get("body", "")), fold(q.get("q", ""))
        out = []
        for row in self.rows.values():
            if status and row["shown_status"] != status:
                continue
            if report and not self._doc_matches(report, row["rec_doc_id"]):
                continue
            if response and not (row["response_doc_id"] and self._doc_matches(response, row["response_doc_id"])):
                continue
            if body and body not in fold(row["body"]) and not self._doc_matches(body, row["rec_doc_id"]):
                continue
            if needs is not None and bool(row["needs_review"]) != needs:
                continue
            if reviewed is not None and bool(row["reviewed"]) != reviewed:
                continue
            if (date_from or date_to) and not (row["rec_date"] and (not date_from or row["rec_date"] >= date_from)
                                               and (not date_to or row["rec_date"] <= date_to)):
                continue
            if text and text not in fold(" ".join((row["recommendation_text"], row["response_text"], row["label"],
                                                   row["review_note"]))):
                continue
            out.append(row)
        return out

    def passages(self, rec_id: str) -> dict:
        """The passages of a row's answer block (seg id, page, text, kind, stance), the one now deciding
        (``chosen``) and the model's (``model``), for the review form."""
        row = self._row(rec_id)
        base = model_view(row)
        names = {d.doc_id: Path(d.path).name for d in self.docs}
        passages = [{"seg_id": s.seg_id, "page": s.page, "text": s.text, "kind": s.kind, "stance": s.stance}
                    for s in (self.segments.get(i) for i in answer_passages(base)) if s is not None]
        return {"rec_id": rec_id, "response_doc_id": base.response_doc_id,
                "response_document": names.get(base.response_doc_id or "", base.response_doc_id or ""),
                "chosen": row.response_id, "model": base.response_id, "passages": passages}

    # ------------------------------------------------------------ writing

    def review(self, payload: object) -> dict:
        """Record an analyst's judgement of one row (``payload``: the POSTed JSON) and return the row as now shown.

        The correction is checked field by field, built by :func:`make_correction`, appended to
        ``OUT/corrections.jsonl`` and applied, so the next ``/api/alignments`` shows it.
        """
        fields = _review_fields(payload)
        with self._lock:
            row = self._row(fields.pop("rec_id"))
            try:
                correction = make_correction(row, **fields)
            except CorrectionError as exc:  # a passage outside the answer block, a note too long
                raise ApiError(400, str(exc)) from exc
            try:
                append_correction(self.out_dir, correction)
            except CorrectionError as exc:  # the folder refuses the write (a planted link, permissions)
                raise ApiError(500, str(exc)) from exc
            (new,), _ = apply_corrections([row], [correction], self.segments)
            self.alignments[new.rec_id] = new
            self.rows[new.rec_id] = _page_rows([new], self.docs)[0]
            return self.rows[new.rec_id]

    # ------------------------------------------------------------ helpers

    def _row(self, rec_id: str) -> Alignment:
        if not rec_id:
            raise ApiError(400, NEED_REC_ID)
        row = self.alignments.get(rec_id)
        if row is None:
            raise ApiError(404, NO_ROW)
        return row

    def _doc_matches(self, needle: str, doc_id: str) -> bool:
        return needle == doc_id or needle in self._doc_text.get(doc_id, doc_id)


def _page_rows(alignments: Sequence[Alignment], docs: Sequence[Document]) -> list[dict]:
    """The table rows with ``shown_status``, the status the page shows and filters by (the exports' own)."""
    return [{**r, "shown_status": row_status(r)} for r in alignment_rows(alignments, docs)]


def _review_fields(payload: object) -> dict:
    """``make_correction``'s keyword arguments from a review's JSON, each field's type and value checked."""
    if not isinstance(payload, dict):
        raise ApiError(400, NOT_OBJECT)
    unknown = sorted(set(payload) - set(REVIEW_FIELDS))
    if unknown:
        raise ApiError(400, f"unknown field {unknown[0]!r}; the fields are {', '.join(REVIEW_FIELDS)}")
    rec_id = payload.get("rec_id")
    if not isinstance(rec_id, str) or not rec_id:
        raise ApiError(400, NEED_REC_ID)
    reviewed = payload.get("reviewed", True)
    if not isinstance(reviewed, bool):
        raise ApiError(400, "reviewed must be true or false")
    status = payload.get("status")
    status = None if status == "" else status
    if status is not None and status not in STATUSES:
        raise ApiError(400, REVIEW_STATUS_ERROR)
    response_id = payload.get("response_id")
    response_id = None if response_id == "" else response_id
    if response_id is not None and not isinstance(response_id, str):
        raise ApiError(400, "response_id must be the seg_id of a passage of the answer block, or null")
    out = {"rec_id": rec_id, "reviewed": reviewed, "status": status, "response_id": response_id}
    for name in ("note", "reviewer"):
        value = payload.get(name, "")
        if not isinstance(value, str):
            raise ApiError(400, f"{name} must be text")
        out[name] = value.strip()
    return out


def _yes_no(q: Mapping[str, str], name: str) -> bool | None:
    value = q.get(name, "").strip().lower()
    if not value:
        return None
    if value not in ("yes", "no"):
        raise ApiError(400, f"{name} must be yes or no")
    return value == "yes"


def _date(q: Mapping[str, str], name: str) -> str | None:
    """An ISO date filter, checked in the words search uses for the same parameter."""
    value = q.get(name, "").strip()
    if not value:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        dt.date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"{name} date {value!r} is not a date as YYYY-MM-DD") from None
    return value
