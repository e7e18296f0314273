"""The alignment table grouped by report: each report's document, the documents answering it and why, its rows.

A "report" here is any document whose recommendations the rows hold (a row's ``rec_doc_id``): a review, an
inquiry, a committee report, or a briefing or response that reprints them.  Which documents answer it comes
from ``pairing.json`` (:func:`reviewnlp.align.pair.pairing_report`).  A report that nothing in the run
answers is *unpaired*: its rows carry status ``gap`` in ``alignments.jsonl``, but a reader is shown
``unpaired`` (:func:`reviewnlp.records.shown_status`), since the government may well have answered in a
document the run was not given.  Every reader-facing export (run summary, Excel, HTML) groups through
:func:`group_reports`, so they name the same reports, in the same order, with the same words.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from ..records import NO_RESPONSE, SHOWN_STATUSES, STATUSES, UNPAIRED, Alignment, Document
from .rows import alignment_rows, row_status

STATUS_COLOURS = {"accepted": "C6EFCE", "partial": "FFEB9C", "deferred": "DDEBF7", "rejected": "FFC7CE",
                  "gap": "E7E6E6", UNPAIRED: "E4DFEC"}
UNPAIRED_WHY = ("its rows are marked unpaired, not gap, since the government may have answered it in a document "
                "this run was not given")
UNPAIRED_NOTE = f"{NO_RESPONSE}: {UNPAIRED_WHY}"
NOT_KNOWN = "which documents answer it is not recorded (no pairing.json)"


@dataclass(frozen=True)
class Answer:
    """A document answering a report, and why the pairing chose it (``pairing.json``'s ``why``)."""

    doc_id: str
    name: str
    path: str
    why: str


@dataclass(frozen=True)
class ReportGroup:
    """One report's rows (:func:`~reviewnlp.export.rows.alignment_rows` dicts, in table order) and what answers it.

    ``answered_by`` lists the other documents answering it; ``answers_itself`` is pairing's ``why`` when the
    report's own statements answer it (a briefing that reports both sides, a response that reprints the
    recommendations), else "".  ``known`` is False when no pairing was recorded for it.
    """

    doc_id: str
    name: str
    path: str
    title: str
    date: str
    role: str
    answered_by: tuple[Answer, ...]
    answers_itself: str
    unpaired: bool
    known: bool
    rows: tuple[dict, ...]

    @property
    def counts(self) -> dict[str, int]:
        """Rows per shown status (:data:`SHOWN_STATUSES`, zeros included)."""
        found = Counter(row_status(r) for r in self.rows)
        return {s: found.get(s, 0) for s in SHOWN_STATUSES}


def group_reports(alignments: Sequence[Alignment], docs: Sequence[Document],
                  pairing: Mapping[str, dict] | None = None) -> list[ReportGroup]:
    """The rows grouped by report (``rec_doc_id``), most rows first, then by name.

    ``pairing`` is ``pairing.json``'s content; None (or a report it does not cover) gives a group with no
    responses known, unpaired only when every row's match is ``unpaired``.
    """
    return group_rows(alignment_rows(alignments, docs), docs, pairing)


def group_rows(rows: Sequence[dict], docs: Sequence[Document],
               pairing: Mapping[str, dict] | None = None) -> list[ReportGroup]:
    """:func:`group_reports` for rows already flattened by :func:`~reviewnlp.export.rows.alignment_rows`."""
    pairing = pairing or {}
    by_id = {d.doc_id: d for d in docs}
    by_report: dict[str, list[dict]] = {}
    for r in rows:
        by_report.setdefault(r["rec_doc_id"], []).append(r)
    names = _names({*by_report, *(p["doc_id"] for e in pairing.values() for p in e.get("partners") or ())},
                   by_id, pairing)
    groups = []
    for doc_id, members in by_report.items():
        doc, entry = by_id.get(doc_id), pairing.get(doc_id) or {}
        partners = entry.get("partners")
        known = partners is not None
        partners = [p for p in partners or () if isinstance(p, dict) and p.get("doc_id")]
        answered_by = tuple(Answer(p["doc_id"], names.get(p["doc_id"], p["doc_id"]),
                                   _path(p["doc_id"], by_id, pairing) or p.get("path") or "", str(p.get("why") or ""))
                            for p in partners if p["doc_id"] != doc_id)
        itself = next((str(p.get("why") or "its own statements") for p in partners if p["doc_id"] == doc_id), "")
        unpaired = entry.get("unpaired") is True or all(r.get("match") == UNPAIRED for r in members)
        groups.append(ReportGroup(
            doc_id=doc_id, name=names[doc_id], path=_path(doc_id, by_id, pairing),
            title=doc.title if doc else "", date=(doc.date or "") if doc else "", role=entry.get("role") or "",
            answered_by=() if unpaired else answered_by, answers_itself="" if unpaired else itself,
            unpaired=unpaired, known=known, rows=tuple(members)))
    return sorted(groups, key=lambda g: (-len(g.rows), g.name, g.doc_id))


def _path(doc_id: str, by_id: Mapping[str, Document], pairing: Mapping[str, dict]) -> str:
    doc = by_id.get(doc_id)
    return doc.path if doc else str((pairing.get(doc_id) or {}).get("path") or "")


def _names(doc_ids: set[str], by_id: Mapping[str, Document], pairing: Mapping[str, dict]) -> dict[str, str]:
    """Each document's file name; the whole path where two documents share a file name (corpus/a/report.pdf
    and corpus/b/report.pdf), so a reader can tell them apart; the id where neither is known."""
    paths = {d: _path(d, by_id, pairing) for d in doc_ids}
    short = {d: Path(p).name if p else d for d, p in paths.items()}
    taken = Counter(short.values())
    return {d: (paths[d] if taken[short[d]] > 1 and paths[d] else short[d]) for d in doc_ids}


def responses_text(group: ReportGroup) -> str:
    """What answers the report, in words: ``answered by A.pdf, B.pdf``, ``answered by itself: its own
    statements``, or :data:`NO_RESPONSE` (no reasons; :func:`report_summary` and the page give them)."""
    if group.unpaired:
        return NO_RESPONSE
    if not group.known:
        return NOT_KNOWN
    others = ", ".join(a.name for a in group.answered_by)
    if others and group.answers_itself:
        return f"answered by {others} and by itself: {group.answers_itself}"
    if group.answers_itself:
        return f"answered by itself: {group.answers_itself}"
    return f"answered by {others}" if others else NO_RESPONSE


def counts_text(group: ReportGroup) -> str:
    """``10 recommendations (3 accepted, 5 partial, 2 deferred)``, or ``9 recommendations, unpaired`` for a
    report nothing answers (its rows are not counted as gaps)."""
    counts = group.counts
    n = len(group.rows)
    head = f"{n} recommendation{'' if n == 1 else 's'}"
    shown = [s for s in SHOWN_STATUSES if counts[s] and not (group.unpaired and s == UNPAIRED)]
    listed = f" ({', '.join(f'{counts[s]} {s}' for s in shown)})" if shown else ""
    return f"{head}, unpaired{listed}" if group.unpaired else f"{head}{listed}"


def report_line(group: ReportGroup) -> str:
    """The run summary's line for a report: ``report NAME: COUNTS; RESPONSES`` (names are data: a terminal
    shows it through ``safe_line``)."""
    return f"report {group.name}: {counts_text(group)}; {responses_text(group)}"


def report_summary(group: ReportGroup) -> dict:
    """A report as ``run.json``'s ``reports`` holds it (JSON-ready, the same keys for every report).

    ``statuses`` counts the rows by status as a reader is shown them; ``unpaired_rows`` counts the gaps that
    are gaps only because nothing in the run answers the report (``alignments.jsonl`` keeps them as gaps).
    """
    counts = group.counts
    return {"doc_id": group.doc_id, "document": group.name, "path": group.path, "title": group.title,
            "date": group.date or None, "role": group.role or None, "recommendations": len(group.rows),
            "statuses": {s: counts[s] for s in STATUSES}, "unpaired_rows": counts[UNPAIRED],
            "unpaired": group.unpaired,
            "answered_by": [{"doc_id": a.doc_id, "document": a.name, "path": a.path, "why": a.why}
                            for a in group.answered_by],
            "answers_itself": group.answers_itself or None, "responses": responses_text(group),
            "line": report_line(group)}


def report_summaries(alignments: Sequence[Alignment], docs: Sequence[Document],
                     pairing: Mapping[str, dict] | None = None) -> list[dict]:
    """:func:`report_summary` of every report, in :func:`group_reports` order (``run.json``'s ``reports``)."""
    return [report_summary(g) for g in group_reports(alignments, docs, pairing)]
