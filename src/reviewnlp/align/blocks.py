"""blocks: a response's answer blocks, the government's own text under each recommendation's reprint or number.

A response answers a report recommendation by recommendation: a reprint,
heading or number of the recommendation opens a block, and the government's
passages run to the next one.  This stage maps each canonical recommendation
to the passages printed under it (:func:`explicit_answers`, by reprint and by
the response's own numbering, :func:`answer_labels`), and turns the passages
chosen for one recommendation into an :class:`~reviewnlp.records.AnswerBlock`.
Pure functions over segments.
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

from ..records import AnswerBlock, Document, Segment
from ..vocab import is_verdict, label_key
from .settings import DEFAULT, BlockSettings

CONTENTS_RE = re.compile(r"(?:\.\s?){6,}|…{3,}")
# A contents entry without leaders: a title and its page or page range, no sentence punctuation
# ("Preventing future harm to patients: achieving a safety culture 41-42").
CONTENTS_LINE_RE = re.compile(r"^[^.!?;]{3,160}?\s\d{1,3}(?:\s?[-–]\s?\d{1,3})?$")


def is_contents(s: Segment) -> bool:
    """A contents-page entry ("Recommendation 3: Risk assessment ........ 16"): a pointer, not a recommendation."""
    return bool(CONTENTS_RE.search(s.text) or CONTENTS_LINE_RE.match(s.text.strip()))


def is_candidate(s: Segment, settings: BlockSettings = DEFAULT.blocks) -> bool:
    """Passages that may answer a recommendation: any non-recommendation sentence of five words or more,
    or a printed verdict of any length ("Not accepted.").  Training data is built with this same test."""
    return s.kind != "recommendation" and (len(s.text.split()) >= settings.min_candidate_words or is_verdict(s.text))


def is_fragment(text: str) -> bool:
    """A clause cut from a list: it starts in lower case (after any item marker, "F. include ...") or ends
    with ";", ",", "and" or "or"."""
    t = re.sub(r"^\(?[A-Za-z0-9]{1,3}[.)]\s+", "", text.strip())
    return bool(t) and (t[0].islower() or bool(re.search(r"(?:[;,:]|\b(?:and|or))$", t)))


def printed_under(segments: Sequence[Segment], heading: Callable[[Segment], tuple[bool, str | None]],
                  quiet: frozenset[str] | set[str] = frozenset(),
                  settings: BlockSettings = DEFAULT.blocks) -> dict[str, frozenset[str]]:
    """Map each segment to the keys of the run of headings printed before it in its document.

    ``heading(s)`` says whether ``s`` is a heading and which key it adds (None
    for none).  A run of headings with no passage between them ("11a ...
    11b ... 11c", then one answer) is a grouped response: the passages that
    follow answer them all.  The next heading after a passage starts a new
    run, and so does one past ``max_group`` distinct keys (a list or contents
    page, not one grouped answer).  Segments in ``quiet`` (reprinted report
    text) never count as a passage between headings.
    """
    out: dict[str, frozenset[str]] = {}
    current: dict[str, list[str]] = {}
    answered: dict[str, bool] = {}
    for s in segments:
        is_heading, key = heading(s)
        if is_heading:
            if answered.get(s.doc_id, True) or len(current[s.doc_id]) >= settings.max_group:
                current[s.doc_id], answered[s.doc_id] = [], False
            if key and key not in current[s.doc_id]:
                current[s.doc_id].append(key)
        if is_candidate(s, settings) and s.seg_id not in quiet:
            answered[s.doc_id] = True
        out[s.seg_id] = frozenset(current.get(s.doc_id, ()))
    return out


def answer_labels(segments: Sequence[Segment], settings: BlockSettings = DEFAULT.blocks) -> dict[str, frozenset[str]]:
    """Map each segment to the recommendation numbers it is printed under in its document.

    Responses printed under "Recommendation 7" answer recommendation 7.
    """
    def heading(s: Segment) -> tuple[bool, str | None]:
        key = None if is_contents(s) else label_key(s.label)
        return bool(key), key

    return printed_under(segments, heading, settings=settings)


def explicit_answers(segments: Sequence[Segment], quotes: dict[str, str], answering: frozenset[str],
                     anchors: dict[str, str | None] | None = None,
                     settings: BlockSettings = DEFAULT.blocks) -> dict[str, set[str]]:
    """Map each original recommendation to the passages that structure says answer it.

    A passage printed after a reprint of the recommendation in another
    document (until the next recommendation) answers the original; in a
    document whose role is a response (``answering``), a passage after a
    recommendation it states itself answers that one.  A report's closing
    list repeating its own recommendations is not an answer block.
    ``anchors`` maps a responding document's copies of report text, whatever
    their kind, to the recommendation they reprint (None for a copy of other
    report text): each opens a block, and the government's passages after it
    answer it.
    """
    anchors = anchors or {}

    def heading(s: Segment) -> tuple[bool, str | None]:
        if s.seg_id in anchors:
            return True, anchors[s.seg_id]
        if s.kind != "recommendation" or is_contents(s):
            return False, None
        original = quotes.get(s.seg_id)
        if original and original.rsplit(":", 1)[0] == s.doc_id:
            original = None  # a report repeating its own recommendation in a closing list is no answer
        if original is None and s.doc_id in answering:
            original = s.seg_id
        return True, original

    under = printed_under(segments, heading, set(anchors), settings)
    blocks: dict[str, set[str]] = {}
    for s in segments:
        if is_candidate(s, settings):
            for original in under.get(s.seg_id, ()):
                blocks.setdefault(original, set()).add(s.seg_id)
    return blocks


def contiguous_runs(positions: Sequence[int], gap: int) -> list[list[int]]:
    """Split sorted positions into runs whose neighbours are at most ``gap`` apart."""
    runs: list[list[int]] = []
    for p in sorted(positions):
        if runs and p - runs[-1][-1] <= gap:
            runs[-1].append(p)
        else:
            runs.append([p])
    return runs


def best_run(positions: Sequence[int], segments: Sequence[Segment],
             settings: BlockSettings = DEFAULT.blocks) -> list[int]:
    """The contiguous run of a scattered structural block that holds its answer (positions into ``segments``).

    A number can be mentioned in an introduction and answered pages later,
    so the passages are split into runs of neighbours; the run that prints a
    verdict, else the one with the most passages (the earliest on a tie), is
    the answer block.
    """
    runs = contiguous_runs(list(positions), settings.run_gap)
    return max(runs, key=lambda r: (any(is_verdict(segments[p].text) for p in r), len(r), -r[0]))


def answer_block(doc: Document, passages: Sequence[Segment]) -> AnswerBlock:
    """The answer block spanned by ``passages`` (the government's own sentences, in document order).

    Its text runs from the first passage to the last, so it keeps what the
    government printed between them; the verdict is the first printed
    verdict line among them.
    """
    ordered = sorted(passages, key=lambda s: s.start)
    start, end = ordered[0].start, ordered[-1].end
    verdict = next(({"text": s.text, "start": s.start, "end": s.end, "page": s.page, "seg_id": s.seg_id}
                    for s in ordered if is_verdict(s.text)), None)
    pages = tuple(sorted({s.page for s in ordered if s.page is not None}))
    return AnswerBlock(block_id=f"{doc.doc_id}:b{start}", doc_id=doc.doc_id, start=start, end=end,
                       text=doc.text[start:end], pages=pages, segments=tuple(s.seg_id for s in ordered),
                       verdict=verdict)


def block_passages(segments: Sequence[Segment], index_of: dict[str, int], block: dict,
                   settings: BlockSettings = DEFAULT.blocks) -> list[Segment]:
    """Every candidate passage inside an answer block (``AnswerBlock.to_json()``), in print order."""
    i = j = index_of[block["segments"][0]]
    # A document's segments are in print order: walk out from the block's first passage to its edges.
    while i > 0 and segments[i - 1].doc_id == block["doc_id"] and segments[i - 1].end > block["start"]:
        i -= 1
    while j + 1 < len(segments) and segments[j + 1].doc_id == block["doc_id"] and segments[j + 1].start < block["end"]:
        j += 1
    return sorted({s.seg_id: s for s in segments[i:j + 1] if is_candidate(s, settings)}.values(),
                  key=lambda s: s.start)
