"""An analyst's corrections to the alignment table: recorded once, applied by every export and every later run.

A correction is one line of ``OUT/corrections.jsonl``, appended (never rewritten) by the web page or by
:func:`append_correction`.  It is keyed by stable ids, the recommendation's ``rec_id`` and the id of the
response document its row was answered from, and holds the analyst's whole judgement of that row: reviewed,
the status they give it (or none: the model's stands), the passage of the answer block they chose as the
deciding one (or none), a note, who and when.  The latest line for a key wins.

:func:`apply_corrections` is the only place corrections change a row.  It is idempotent: each row keeps
the model's status in ``model_status`` and, when the analyst chose another passage, the model's in
``model_response``, so applying the corrections again (``reviewnlp export``, a rerun) starts from the
model's reading.  A correction whose row is gone after a rerun is returned as an orphan with the reason,
for ``run.json``; it is never dropped silently.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .errors import ReviewNLPError
from .records import STATUSES, Alignment, Segment, _Record, read_jsonl

FILE = "corrections.jsonl"
METHOD = "review-v1"
MAX_NOTE_CHARS = 4000
MAX_REVIEWER_CHARS = 200
# The response fields a chosen passage replaces; the model's values are kept under ``model_response``.
RESPONSE_FIELDS = ("response_text", "response_id", "response_page", "response_start", "response_end")


class CorrectionError(ReviewNLPError):
    """A correction that cannot be recorded (a bad status, a passage outside the answer, an unknown row)."""


@dataclass(frozen=True)
class Correction(_Record):
    """One analyst's judgement of one row of the alignment table.

    ``status`` None keeps the model's status; ``response_id`` None keeps the model's deciding passage (else
    the ``seg_id`` of another passage of the row's answer block).  ``at`` is an ISO 8601 UTC time.
    """

    rec_id: str
    response_doc_id: str | None
    reviewed: bool = True
    status: str | None = None
    response_id: str | None = None
    note: str = ""
    reviewer: str = ""
    at: str = ""

    @property
    def key(self) -> tuple[str, str | None]:
        """What the correction is about: the recommendation and the document its answer came from."""
        return (self.rec_id, self.response_doc_id)

    @property
    def correction_id(self) -> str:
        """A content-derived id: the same judgement made twice has the same id."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode("utf-8")).hexdigest()[:16]


def now_utc() -> str:
    """The current time as ``at`` records it (seconds, UTC, ``Z``)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def make_correction(row: Alignment, *, reviewed: bool = True, status: str | None = None,
                    response_id: str | None = None, note: str = "", reviewer: str = "",
                    at: str | None = None) -> Correction:
    """A checked correction of ``row``: the status is one of :data:`STATUSES`, a chosen passage is one of
    the row's answer block's segments, and text fields are bounded.  Raises :class:`CorrectionError`."""
    if status is not None and status not in STATUSES:
        raise CorrectionError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if response_id is not None and response_id not in answer_passages(row):
        raise CorrectionError(f"{response_id!r} is not a passage of this recommendation's answer block")
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        raise CorrectionError(f"the note must be text of at most {MAX_NOTE_CHARS} characters")
    if not isinstance(reviewer, str) or len(reviewer) > MAX_REVIEWER_CHARS:
        raise CorrectionError(f"the reviewer must be text of at most {MAX_REVIEWER_CHARS} characters")
    base = model_view(row)
    if response_id == base.response_id:
        response_id = None  # choosing the model's own passage is no correction of it
    return Correction(rec_id=row.rec_id, response_doc_id=base.response_doc_id, reviewed=bool(reviewed),
                      status=status, response_id=response_id, note=note, reviewer=reviewer, at=at or now_utc())


def answer_passages(row: Alignment) -> tuple[str, ...]:
    """The seg ids an analyst may choose as the deciding passage: the answer block's segments, else the
    passages retrieval kept as answers."""
    block = row.response_block or {}
    if block.get("segments"):
        return tuple(block["segments"])
    return tuple(r["seg_id"] for r in row.responses if r.get("seg_id"))


# One lock per process: the web server appends from several threads.
_APPEND_LOCK = threading.Lock()


def append_correction(out_dir: str | Path, correction: Correction) -> Path:
    """Append one correction to ``OUT/corrections.jsonl`` as a single line, fsynced.

    The file is opened with ``O_NOFOLLOW``: a planted link there is refused, never written through.
    """
    path = Path(out_dir) / FILE
    line = (json.dumps(correction.to_dict(), ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    with _APPEND_LOCK:
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as exc:
            raise CorrectionError(f"{path}: cannot record the correction ({exc.strerror or exc})") from exc
        try:
            if not os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False)) or os.fstat(fd).st_nlink > 1:
                raise CorrectionError(f"{path}: not a plain file of this folder (a link); move it away")
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
    return path


def load_corrections(out_dir: str | Path) -> tuple[list[Correction], list[str]]:
    """Every correction in ``OUT/corrections.jsonl`` in file order, and one message per line that is not one.

    A missing file is no corrections.  A damaged line (a torn last write, an edit) is reported, not fatal.
    """
    path = Path(out_dir) / FILE
    try:
        raw = path.read_bytes() if not path.is_symlink() else b""
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        return [], [f"{path}: unreadable ({exc.strerror or exc})"]
    found, problems = [], []
    for n, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            if not isinstance(d, dict) or not isinstance(d.get("rec_id"), str):
                raise ValueError("no 'rec_id'")
            c = Correction.from_dict(d)
            if c.status is not None and c.status not in STATUSES:
                raise ValueError(f"unknown status {c.status!r}")
        except (ValueError, TypeError) as exc:
            problems.append(f"{path}:{n}: not a correction ({exc})")
            continue
        found.append(c)
    return found, problems


def latest(corrections: Iterable[Correction]) -> dict[tuple[str, str | None], Correction]:
    """The last correction for each key (a later judgement replaces an earlier one)."""
    out: dict[tuple[str, str | None], Correction] = {}
    for c in corrections:
        out[c.key] = c
    return out


def model_view(row: Alignment) -> Alignment:
    """The row as the model left it: any applied correction undone."""
    if not row.review and row.model_status is None:
        return row
    changes: dict[str, Any] = {"status": row.model_status or row.status, "review": None, "model_status": None,
                               "model_response": None}
    if row.model_response:
        changes.update({k: row.model_response.get(k) for k in RESPONSE_FIELDS})
    return dataclasses.replace(row, **changes)


def apply_corrections(alignments: Sequence[Alignment], corrections: Iterable[Correction],
                      segments: Mapping[str, Segment]) -> tuple[list[Alignment], list[dict]]:
    """Rows with the analysts' corrections applied, and the corrections that found no row (with ``why``).

    Every row comes back with ``model_status`` set; a reviewed row also gets ``review`` (reviewed, reviewer,
    reviewed_at, note, correction_id, the passage chosen) and, if a passage was chosen, ``model_response``.
    ``segments`` maps seg ids to segments, for the text, page and offsets of a chosen passage.
    """
    wanted = latest(corrections)
    used: set[tuple[str, str | None]] = set()
    bases = [model_view(r) for r in alignments]
    out = []
    for base in bases:
        c = wanted.get((base.rec_id, base.response_doc_id))
        if c is None:
            out.append(dataclasses.replace(base, model_status=base.status))
            continue
        chosen = segments.get(c.response_id) if c.response_id else None
        if c.response_id and (chosen is None or c.response_id not in answer_passages(base)):
            # The passage the analyst chose is gone: the row stays the model's and the correction an orphan.
            out.append(dataclasses.replace(base, model_status=base.status))
            continue
        used.add(c.key)
        changes: dict[str, Any] = {
            "model_status": base.status,
            "status": c.status or base.status,
            "review": {"reviewed": c.reviewed, "reviewer": c.reviewer, "reviewed_at": c.at, "note": c.note,
                       "status": c.status, "response_id": c.response_id, "correction_id": c.correction_id,
                       "method": METHOD},
        }
        if chosen is not None:
            changes["model_response"] = {k: getattr(base, k) for k in RESPONSE_FIELDS}
            changes.update({"response_text": chosen.text, "response_id": chosen.seg_id, "response_page": chosen.page,
                            "response_start": chosen.start, "response_end": chosen.end})
        out.append(dataclasses.replace(base, **changes))
    rows_by_rec = {b.rec_id: b for b in bases}
    orphans = []
    for key, c in wanted.items():
        if key in used:
            continue
        row = rows_by_rec.get(c.rec_id)
        if row is None:
            why = "the recommendation is not in this run's table (its document changed, or was left out)"
        elif row.response_doc_id != c.response_doc_id:
            why = (f"the recommendation is now answered from another document ({row.response_doc_id or 'none'}, "
                   f"was {c.response_doc_id or 'none'})")
        else:
            why = f"the chosen passage {c.response_id} is no longer part of the recommendation's answer"
        orphans.append({**c.to_dict(), "correction_id": c.correction_id, "why": why})
    return out, orphans


def segment_map(segments: Iterable[Segment]) -> dict[str, Segment]:
    """Seg id -> segment, as :func:`apply_corrections` reads them."""
    return {s.seg_id: s for s in segments}


def training_examples(out_dir: str | Path) -> list[dict]:
    """The reviewed rows of a finished run as labelled examples for ``scripts/train_status.py --corrections``.

    Each is in ``data/status_examples.jsonl``'s form: the recommendation, the answer block's passages (text,
    page, offsets), the printed verdict, and the reviewed status (the analyst's, or the model's when they
    marked the row reviewed without changing it).  Gaps and rows with no answer block are left out (there
    is nothing to classify).  ``group`` is the report's file name, so grouped cross-validation keeps each
    report's rows together.
    """
    out_dir = Path(out_dir)
    rows = {r.rec_id: r for r in read_jsonl(out_dir / "alignments.jsonl", Alignment)}
    docs = {}
    with open(out_dir / "documents.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)
                docs[d["doc_id"]] = Path(d["path"]).name
    segs = segment_map(read_jsonl(out_dir / "segments.jsonl", Segment))
    found, _ = load_corrections(out_dir)
    applied, _ = apply_corrections(list(rows.values()), found, segs)
    out = []
    for row in applied:
        if not (row.review and row.review.get("reviewed")) or row.status == "gap":
            continue
        passages = [segs[s] for s in answer_passages(row) if s in segs]
        if not passages:
            continue
        verdict = (row.response_block or {}).get("verdict") or {}
        report = docs.get(row.rec_doc_id, row.rec_doc_id)
        out.append({"id": f"correction:{row.review['correction_id']}", "unit": f"correction:{row.rec_id}",
                    "group": f"corrections:{report}", "scope": "whole", "rec_doc": report,
                    "rec": row.recommendation_text,
                    "response_doc": docs.get(row.response_doc_id or "", row.response_doc_id),
                    "block": {"start": passages[0].start, "end": passages[-1].end},
                    "passages": [{"start": s.start, "end": s.end, "page": s.page, "text": s.text} for s in passages],
                    "verdict": verdict.get("text") if isinstance(verdict, dict) else verdict,
                    "status": row.status, "also_ok": [], "source": "corrections", "reviewer": row.review["reviewer"],
                    "note": row.review["note"]})
    return out
