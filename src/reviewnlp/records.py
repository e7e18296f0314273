"""Typed records exchanged between pipeline stages.

Every record is a frozen dataclass with ``to_dict``/``from_dict`` so stages can
hand each other JSONL files.  Ids are derived from content, never random:
``doc_id`` is a hash of the file's bytes and child ids are ``{doc_id}:{n}``.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import heapq
import json
import os
import tempfile
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Type, TypeVar

T = TypeVar("T")

#: Status vocabulary shared with the evaluation contract.
STATUSES = ("accepted", "partial", "deferred", "rejected", "gap")
#: The match of a recommendation whose report no document in the run answers (align.match).  Its status is
#: ``gap`` in the contract, but every reader-facing output shows ``unpaired`` (:func:`shown_status`): the
#: government may well have answered it in a document the run was not given.
UNPAIRED = "unpaired"
#: The statuses a reader is shown: the contract's, and ``unpaired`` in place of an unpaired report's gaps.
SHOWN_STATUSES = (*STATUSES, UNPAIRED)
#: What every output says of a report nothing in the run answers.
NO_RESPONSE = "no response found among the inputs"
#: Segment kinds produced by :mod:`reviewnlp.segment`.
KINDS = ("recommendation", "commitment", "response", "commentary", "other")


def shown_status(status: str, match: str | None, reviewed: bool = False) -> str:
    """The status a reader is shown: ``unpaired`` for a gap only because nothing in the run answers its report,
    else ``status``.  A gap an analyst reviewed stands as their ``gap``: they confirmed the silence."""
    return UNPAIRED if match == UNPAIRED and status == "gap" and not reviewed else status


def content_hash(data: bytes) -> str:
    """Return the document id for ``data``: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(data).hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def _field_names(cls: type) -> frozenset[str]:
    # dataclasses.fields() per record was a quarter of the time a search call spent reading segments.jsonl.
    return frozenset(f.name for f in dataclasses.fields(cls))


class _Record:
    """Mixin giving dataclasses a dict round trip that ignores unknown keys."""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of this record (nested records included)."""
        return dataclasses.asdict(self)  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls: Type[T], d: dict[str, Any]) -> T:
        """Build the record from a dict, ignoring keys this version does not know."""
        names = _field_names(cls)
        kwargs = {k: v for k, v in d.items() if k in names}
        hook = getattr(cls, "_from_dict_hook", None)
        if hook:
            kwargs = hook(kwargs)
        return cls(**kwargs)


@dataclass(frozen=True)
class Page(_Record):
    """A span of a document's text that sits on one printed page (1-based)."""

    number: int
    start: int
    end: int
    ocr: bool = False


@dataclass(frozen=True)
class Section(_Record):
    """A heading and the span of text it governs."""

    title: str
    level: int
    start: int
    end: int


@dataclass(frozen=True)
class Footnote(_Record):
    """A footnote lifted out of the running text, linked to where its marker stood.

    ``refs`` are offsets into ``Document.text``; ``cited_pages`` is the page or
    paragraph reference the note gives for its source ("p191", "pp11-12", "paras 31-58").
    """

    number: str
    text: str
    page: int | None
    refs: tuple[int, ...] = ()
    source: str | None = None
    cited_pages: str | None = None

    @staticmethod
    def _from_dict_hook(kw: dict[str, Any]) -> dict[str, Any]:
        kw["refs"] = tuple(kw.get("refs", ()))
        return kw


@dataclass(frozen=True)
class Document(_Record):
    """Extracted, cleaned text of one input file with its page map.

    ``text`` is what every offset in the pipeline points into.
    """

    doc_id: str
    path: str
    title: str
    text: str
    pages: tuple[Page, ...] = ()
    sections: tuple[Section, ...] = ()
    footnotes: tuple[Footnote, ...] = ()
    date: str | None = None
    extractor: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def _from_dict_hook(kw: dict[str, Any]) -> dict[str, Any]:
        kw["pages"] = tuple(Page.from_dict(p) for p in kw.get("pages", ()))
        kw["sections"] = tuple(Section.from_dict(s) for s in kw.get("sections", ()))
        kw["footnotes"] = tuple(Footnote.from_dict(f) for f in kw.get("footnotes", ()))
        return kw

    # Segmentation asks these three for every segment; a scan of every page, section or note per call made
    # 32,000 headings take 103 s.  Each builds a sorted index once (cached on the instance, outside the fields,
    # so equality and to_dict are unchanged) and answers by bisection.

    @functools.cached_property
    def _note_index(self) -> tuple[list[int], list[int]]:
        pairs = sorted((r, i) for i, f in enumerate(self.footnotes) for r in f.refs)
        return [r for r, _ in pairs], [i for _, i in pairs]

    def footnotes_in(self, start: int, end: int) -> tuple[Footnote, ...]:
        """Footnotes whose markers fall inside ``[start, end]`` (a marker sits just after its sentence)."""
        refs, notes = self._note_index
        hit = set(notes[bisect_left(refs, start):bisect_right(refs, end)])
        return tuple(self.footnotes[i] for i in sorted(hit))

    @functools.cached_property
    def _page_index(self) -> tuple[list[int], list[Any]]:
        # The first page in order wins where page spans overlap, as a scan in order would find.
        return _stab_index([(p.start, p.end, i, p) for i, p in enumerate(self.pages)])

    def page_at(self, offset: int) -> int | None:
        """Return the page number holding character ``offset``, or None without a page map."""
        page = _stab(self._page_index, offset)
        if page is not None:
            return page.number
        return self.pages[-1].number if self.pages and offset >= self.pages[-1].start else None

    @functools.cached_property
    def _section_index(self) -> tuple[list[int], list[Any]]:
        # Innermost is the deepest level; of equal levels the later section, as a scan in order would keep.
        return _stab_index([(s.start, s.end, (-s.level, -i), s) for i, s in enumerate(self.sections)])

    def section_at(self, offset: int) -> str | None:
        """Return the title of the innermost section holding ``offset``."""
        best = _stab(self._section_index, offset)
        return best.title if best is not None else None


def _stab_index(spans: list[tuple[int, int, Any, Any]]) -> tuple[list[int], list[Any]]:
    """For ``(start, end, key, item)`` spans, the boundaries between which the set of spans holding an
    offset is constant, and for each boundary the item of lowest key holding it (None where none does).

    One sweep over the sorted boundaries with a heap of the open spans: O(n log n) for any layout,
    nested, overlapping or not.
    """
    spans = sorted((s for s in spans if s[0] < s[1]), key=lambda s: s[0])
    bounds = sorted({x for s in spans for x in s[:2]})
    heap: list[tuple[Any, int, int]] = []  # (key, end, index into spans): the top is the best open span
    best: list[Any] = []
    nxt = 0
    for b in bounds:
        while nxt < len(spans) and spans[nxt][0] <= b:
            _, end, key, _ = spans[nxt]
            heapq.heappush(heap, (key, end, nxt))
            nxt += 1
        while heap and heap[0][1] <= b:
            heapq.heappop(heap)  # closed spans leave only when they reach the top: the top is always open
        best.append(spans[heap[0][2]][3] if heap else None)
    return bounds, best


def _stab(index: tuple[list[int], list[Any]], offset: int) -> Any:
    """The item :func:`_stab_index` found for ``offset``."""
    bounds, best = index
    i = bisect_right(bounds, offset) - 1
    return best[i] if i >= 0 else None


@dataclass(frozen=True)
class Segment(_Record):
    """A sentence or list item of a document, classified.

    Invariant: ``document.text[start:end] == text``.
    """

    seg_id: str
    doc_id: str
    start: int
    end: int
    text: str
    page: int | None
    section: str | None
    kind: str = "other"
    stance: str | None = None
    body: str | None = None
    label: str | None = None
    cue: str | None = None
    method: str = ""
    footnotes: tuple[str, ...] = ()
    addressee: str | None = None
    action: str | None = None
    amounts: tuple[dict[str, Any], ...] = ()
    deadline: dict[str, Any] | None = None

    @staticmethod
    def _from_dict_hook(kw: dict[str, Any]) -> dict[str, Any]:
        kw["footnotes"] = tuple(kw.get("footnotes", ()))
        kw["amounts"] = tuple(kw.get("amounts", ()))
        return kw


@dataclass(frozen=True)
class AnswerBlock(_Record):
    """A response's answer to one recommendation: the government's own text under its reprint or number.

    ``start``/``end`` are offsets into the response document's text (the
    reprint excluded); ``segments`` the government passages it holds;
    ``verdict`` the printed verdict line ("This recommendation is accepted in
    full"), with its offsets and page, when there is one.
    """

    block_id: str
    doc_id: str
    start: int
    end: int
    text: str
    pages: tuple[int, ...] = ()
    segments: tuple[str, ...] = ()
    verdict: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The block as plain JSON types (lists, not tuples), as it reads back from a file."""
        return json.loads(json.dumps(self.to_dict()))

    @staticmethod
    def _from_dict_hook(kw: dict[str, Any]) -> dict[str, Any]:
        kw["pages"] = tuple(kw.get("pages", ()))
        kw["segments"] = tuple(kw.get("segments", ()))
        return kw


@dataclass(frozen=True)
class Alignment(_Record):
    """One recommendation and the passage judged to answer it (None for a gap).

    The first three fields are the evaluation contract; the rest is provenance.
    """

    recommendation_text: str
    status: str
    response_text: str | None
    rec_id: str
    rec_doc_id: str
    rec_page: int | None
    rec_start: int
    rec_end: int
    body: str | None
    label: str | None
    response_id: str | None = None
    response_doc_id: str | None = None
    response_page: int | None = None
    response_start: int | None = None
    response_end: int | None = None
    score: float = 0.0
    confidence: float = 0.0
    cue: str | None = None
    candidates: tuple[dict[str, Any], ...] = ()
    method: str = ""
    rec_sources: tuple[dict[str, Any], ...] = ()
    match: str = "none"
    responses: tuple[dict[str, Any], ...] = ()
    status_confidence: float = 0.0
    status_method: str = ""
    # The whole answer (AnswerBlock.to_dict()) when structure found one; response_text is its deciding passage.
    response_block: dict[str, Any] | None = None
    status_evidence: dict[str, Any] | None = None
    rec_copies: tuple[dict[str, Any], ...] = ()
    # The least certain rows (status_confidence below the status stage's review_below), and gaps found by
    # retrieval rather than structure: an analyst checks these first.
    needs_review: bool = False
    # Set by review.apply_corrections: the model's status (every row), the analyst's judgement (reviewed rows:
    # reviewed, reviewer, reviewed_at, note, status, response_id, correction_id) and, when the analyst chose
    # another deciding passage, the model's response fields.
    model_status: str | None = None
    review: dict[str, Any] | None = None
    model_response: dict[str, Any] | None = None

    @staticmethod
    def _from_dict_hook(kw: dict[str, Any]) -> dict[str, Any]:
        for key in ("candidates", "rec_sources", "responses", "rec_copies"):
            kw[key] = tuple(kw.get(key, ()))
        return kw


ROLES = ("report", "response", "briefing", "other")


@dataclass(frozen=True)
class Role(_Record):
    """What a document is to alignment, decided before anything is paired, with the evidence for it.

    ``role`` is one of :data:`ROLES`: a report makes recommendations, a
    response answers them (its copies of them are anchors, never rows), a
    briefing reports both sides, and anything else is ``other``.
    """

    doc_id: str
    role: str
    why: tuple[str, ...] = ()
    # Who recommends in it: a report's own author, or the body a lone response answers.
    author: str | None = None

    @staticmethod
    def _from_dict_hook(kw: dict[str, Any]) -> dict[str, Any]:
        kw["why"] = tuple(kw.get("why", ()))
        return kw


@dataclass(frozen=True)
class Pairing(_Record):
    """Which documents answer each document's recommendations, and why, with every document's role.

    ``partners[d]`` are the documents whose passages may answer d's
    recommendations; ``why[d][j]`` says why j is one; ``answerers[d]`` are
    those that answer d by structure (reprints, numbers, a response to it).
    A response that answers a report of the run has no entry of its own.
    """

    partners: dict[str, tuple[str, ...]]
    why: dict[str, dict[str, str]]
    answerers: dict[str, tuple[str, ...]]
    roles: dict[str, Role]

    @property
    def responders(self) -> frozenset[str]:
        """The documents that answer some report of the run by structure."""
        return frozenset(j for js in self.answerers.values() for j in js)


@dataclass(frozen=True)
class Recommendation(_Record):
    """One canonical recommendation: the segment that stands for it, its span (with the list items that
    finish its lead-in) and the other places it is printed (``copies``: summaries, closing lists,
    a response's reprints).  ``doc.text[start:end] == text``."""

    rec_id: str
    doc_id: str
    start: int
    end: int
    text: str
    segments: tuple[str, ...] = ()
    copies: tuple[dict[str, Any], ...] = ()
    # Who recommends it: the author of the report it stands in, unless its text quotes another body.
    body: str | None = None

    @staticmethod
    def _from_dict_hook(kw: dict[str, Any]) -> dict[str, Any]:
        kw["segments"] = tuple(kw.get("segments", ()))
        kw["copies"] = tuple(kw.get("copies", ()))
        return kw


@dataclass(frozen=True)
class Match(_Record):
    """Which passages answer one recommendation, and how that was found.

    ``method`` is ``explicit`` (structure: its label, reprint or block),
    ``retrieval`` (the reranker, where a document has no blocks), ``none``
    (nothing reached the reranker's threshold) or ``unpaired`` (no document
    in the run answers its report).  ``passages`` are segment ids, best first,
    with the reranker's ``probabilities``; ``block`` the answer block.
    """

    rec_id: str
    method: str
    passages: tuple[str, ...] = ()
    probabilities: tuple[float, ...] = ()
    coverage: tuple[float, ...] = ()
    block: AnswerBlock | None = None
    score: float = 0.0
    candidates: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class FailedFile(_Record):
    """A file the pipeline could not process, and why (one line)."""

    path: str
    stage: str
    cause: str
    message: str


# ---------------------------------------------------------------- JSONL I/O


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` via a temp file and rename, so readers never see half a file."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_npy(path: str | os.PathLike[str], array) -> None:
    """Write a numpy array as ``.npy`` through :func:`atomic_write_bytes`."""
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, array)
    atomic_write_bytes(path, buf.getvalue())


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file, fsync and rename."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        exc.filename = exc.filename or str(path)
        raise
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates 0600; outputs are for sharing, so use the usual mode under the umask.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename in (None, tmp):
            exc.filename = str(path)  # a full disk fails in write(), which names no file: name the one meant
        raise


def dumps(record: Any) -> str:
    """Serialise a record (or dict) as one deterministic JSON line."""
    d = record.to_dict() if hasattr(record, "to_dict") else record
    return json.dumps(d, ensure_ascii=False, sort_keys=False, separators=(",", ":"))


def write_jsonl(path: str | os.PathLike[str], records: Iterable[Any]) -> int:
    """Atomically write records as JSONL; return how many were written."""
    lines = [dumps(r) for r in records]
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return len(lines)


def read_jsonl(path: str | os.PathLike[str], cls: Type[T]) -> Iterator[T]:
    """Yield records of type ``cls`` from a JSONL file."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield cls.from_dict(json.loads(line))  # type: ignore[attr-defined]
                except (json.JSONDecodeError, TypeError) as exc:
                    from .errors import RecordError

                    raise RecordError(f"{path}:{n}: not a {cls.__name__} record ({exc})") from exc
