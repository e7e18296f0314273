"""Structure stage: a response's answer blocks, and the passage in each that carries the decision.

A response document answers a report recommendation by recommendation: a
reprint, heading or number of the recommendation opens a block, and the
government's own text runs to the next one.  :func:`answer_block` turns the
passages that structure assigns to one recommendation into an
:class:`~reviewnlp.records.AnswerBlock` (the government's text only, the
reprint excluded, with its pages, offsets and any printed verdict line), and
:func:`decision_scores` ranks the block's sentences by how much each decides:
a printed verdict first, then sentences that decline, defer or commit to an
action on what was asked, before the warm opening words ("The government
agrees that clear governance is needed").  Pure functions over strings and
arrays; :mod:`reviewnlp.align` composes them.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from .cues import stance_of
from .pairing import QUOTE_THRESHOLD
from .records import AnswerBlock, Document, Segment

# A printed verdict on the recommendation itself: "Recommendation accepted", "This recommendation is
# accepted in full by ...", "Accepted in principle", "Not accepted".  Only the verdict's own words count:
# "the government accepts that ..." is an opinion, not a verdict.
VERDICT_LINE_RE = re.compile(
    r"(?i)^\s*(?:(?:government\s+)?response\s*[:.–-]\s*)?"
    r"(?:(?:this|the|these|that)\s+recommendations?\s+(?:is|are|was|were|has been|have been)\s+"
    r"(?:(?:fully|partly|partially|not|already)\s+)?(?:accepted|rejected|agreed|noted|implemented|not accepted)\b(?!\s+or\b)"
    r"|recommendations?\s*(?:\d{1,3}[a-z]?\s*)?(?:is\s+)?(?:accepted|rejected|agreed|noted|not accepted)\b"
    r"|(?:recommendations?\s*)?\(?\d{1,3}(?!\d)[0-9a-z()\s,–-]{0,16}?\s(?:is|are)\s+(?:(?:fully|partly|partially|not)\s+)?"
    r"(?:accepted|rejected|agreed|noted)\b"
    r"|(?:accepted|agreed|rejected|not accepted|noted)(?:\s+in\s+(?:full|part|principle))?\s*[.:]?\s*$"
    r"|(?:the\s+)?government\s+(?:accepts|rejects|does not accept)\s+(?:this|the)\s+recommendation)")
# Sentences that state what will happen (or has been done) rather than what the government thinks.
FUTURE_RE = re.compile(r"(?i)\b(?:will|shall|intends? to|intention is to|plans? to|(?:is|are) looking to|aims? to"
                       r"|(?:is|are) (?:now |currently |already )?(?:being )?(?:\w+ing)\b(?<!\bbeing))")
DONE_RE = re.compile(r"(?i)\b(?:has|have|had) (?:now |already |recently )?(?:been )?(?:\w+ed|set up|begun|made|built"
                     r"|taken|given|written|undertaken)\b|\b(?:established|published|launched|appointed|announced"
                     r"|commissioned|introduced|created) (?:in|on|by|last)\b")
# Warm words: agreement with an aim or an importance, with no action attached.
WARM_RE = re.compile(r"(?i)\b(?:agrees?|agreed|welcomes?|recognises?|recognizes?|acknowledges?|notes?|believes?"
                     r"|supports?|shares?|understands?|appreciates?)\b(?: (?:with|that|the))?")

# Weights of the decision score: generic policy-language markers, set by reading the answer blocks of
# the four dev pairs together (never per document); see ``decision_scores``.
W_VERDICT = 6.0
W_STANCE = {"rejected": 1.0, "deferred": 1.0, "partial": 1.0, "accepted": 0.0}
W_FUTURE = 0.5
W_WARM_ONLY = -0.5
W_LEXICAL = 3.0
W_DENSE = 2.0


def is_verdict(text: str) -> bool:
    """True when ``text`` is a printed verdict on a recommendation ("This recommendation is accepted in full")."""
    return bool(VERDICT_LINE_RE.search(text))


def decisiveness(text: str) -> float:
    """How much one sentence decides, from its words alone (higher decides more).

    A verdict line decides outright; a sentence that declines, defers,
    pilots or commits to an action comes next; a sentence that only agrees,
    welcomes or recognises ("The government agrees with the importance of
    ...") decides least.
    """
    if is_verdict(text):
        return W_VERDICT
    score = 0.0
    st = stance_of(text)
    future = bool(FUTURE_RE.search(text))
    if st is not None:
        score += W_STANCE[st.label]
    if future:
        score += W_FUTURE
    if WARM_RE.search(text) and not future and not DONE_RE.search(text) and (st is None or st.label == "accepted"):
        score += W_WARM_ONLY  # "agrees with the Inquiry's insights": words, not a decision
    return score


def decision_scores(texts: Sequence[str], lexical: np.ndarray, dense: np.ndarray) -> np.ndarray:
    """Score each sentence of one answer block as the passage that carries the decision.

    ``lexical`` is the IDF-weighted share of the recommendation's words each
    sentence contains and ``dense`` its cosine to the recommendation: a block
    about several asks decides each in the sentence that names it.  The
    earlier sentence wins a tie.
    """
    if not len(texts):
        return np.zeros(0, np.float32)
    words = np.array([decisiveness(t) for t in texts], dtype=np.float32)
    return words + W_LEXICAL * np.asarray(lexical, np.float32) + W_DENSE * np.asarray(dense, np.float32)


def contiguous_runs(positions: Sequence[int], gap: int) -> list[list[int]]:
    """Split sorted positions into runs whose neighbours are at most ``gap`` apart."""
    runs: list[list[int]] = []
    for p in sorted(positions):
        if runs and p - runs[-1][-1] <= gap:
            runs[-1].append(p)
        else:
            runs.append([p])
    return runs


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


def report_copies(pairing: dict[str, dict[str, str]], responders: frozenset[str], by_doc: dict[str, list[Segment]],
            row_of: dict[str, int], vectors: np.ndarray) -> dict[str, Segment]:
    """Each segment of a responding document that copies report text, mapped to the report segment it copies."""
    out: dict[str, Segment] = {}
    for d, partners in sorted(pairing.items()):
        src = by_doc.get(d, [])
        for j in partners:
            if j == d or j not in responders or not src or not by_doc.get(j):
                continue
            segs = by_doc[j]
            sim = vectors[[row_of[s.seg_id] for s in segs]] @ vectors[[row_of[x.seg_id] for x in src]].T
            best = np.argmax(sim, axis=1)
            for k, s in enumerate(segs):
                if sim[k, best[k]] >= QUOTE_THRESHOLD and s.seg_id not in out:
                    out[s.seg_id] = src[int(best[k])]
    return out


def reprint_anchors(copies: dict[str, Segment], recs: Sequence[Segment]) -> dict[str, str | None]:
    """Map each copied segment to the recommendation whose text it reprints, or None.

    A copy reprints a recommendation when the report sentence it copies lies
    inside that recommendation's span; copies of the report's discussion map
    to None (they still end the previous answer block).
    """
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for r in recs:
        spans.setdefault(r.doc_id, []).append((r.start, r.end, r.seg_id))
    return {sid: next((rec for a, b, rec in spans.get(src.doc_id, ()) if a <= src.start < b), None)
            for sid, src in copies.items()}


CONTENTS_RE = re.compile(r"(?:\.\s?){6,}|…{3,}")
# A contents entry without leaders: a title and its page or page range, no sentence punctuation
# ("Preventing future harm to patients: achieving a safety culture 41-42").
CONTENTS_LINE_RE = re.compile(r"^[^.!?;]{3,160}?\s\d{1,3}(?:\s?[-–]\s?\d{1,3})?$")


def is_contents(s: Segment) -> bool:
    """A contents-page entry ("Recommendation 3: Risk assessment ........ 16"): a pointer, not a recommendation."""
    return bool(CONTENTS_RE.search(s.text) or CONTENTS_LINE_RE.match(s.text.strip()))


ITEM_GAP_RE = re.compile(r"[\s•●▪■◦‣∙·\-–—*]*")


def items_below(doc: Document | None, rec: Segment, folded: Sequence[Segment]) -> list[Segment]:
    """The folded copies that directly follow ``rec`` as its list items (only white space or bullets between)."""
    if doc is None:
        return []
    out, end = [], rec.end
    for c in sorted((c for c in folded if c.doc_id == rec.doc_id and c.start >= rec.end), key=lambda c: c.start):
        if not ITEM_GAP_RE.fullmatch(doc.text[end:c.start]):
            break
        out.append(c)
        end = c.end
    return out


def is_fragment(text: str) -> bool:
    """A clause cut from a list: it starts in lower case (after any item marker, "F. include ...") or ends
    with ";", ",", "and" or "or"."""
    t = re.sub(r"^\(?[A-Za-z0-9]{1,3}[.)]\s+", "", text.strip())
    return bool(t) and (t[0].islower() or bool(re.search(r"(?:[;,:]|\b(?:and|or))$", t)))
