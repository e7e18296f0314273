"""Alignment stage: each recommendation -> the government passage that answers it, and a status.

Scoring works on arrays: dense cosine (MiniLM) mixed with lexical overlap of
content words, plus a bonus when the response sits under the same
recommendation number.  A response may not predate the recommendation when
both dates are known.  The status comes from the chosen passage's stance
(see :mod:`reviewnlp.cues`), downgraded to ``partial`` when the money
committed is well below the money recommended.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from .cues import money_amounts, stance_of
from .extract.clean import DATE_RE, first_date
from .records import Alignment, Document, Segment
from .segment import OUTLINE_LABEL_RE

METHOD = "dense+lexical-v1"
CANDIDATE_KINDS = ("commitment", "response")
# Weight of the dense score in the mix and the score below which a recommendation is a gap.
# Both were set on the dev gold (seed 001); see README "Accuracy" for the figures.
DENSE_WEIGHT = 0.75
GAP_THRESHOLD = 0.42
LABEL_BONUS = 0.25
# A statement printed under the reprint of the recommendation answers it, whatever its wording.
ANCHOR_BONUS = 0.5
TOP_K = 5
# Document pairing (see document_partners) and near-verbatim reprint detection.
PARTNER_MARGIN = 0.05
PARTNER_LIFT = 0.05
QUOTE_THRESHOLD = 0.9

STOPWORDS = frozenset("""
a about above after again all also an and any are as at be been before being below between both but by can could
did do does doing down during each few for from further had has have having he her here hers him his how i if in
into is it its itself just me more most my no nor not now of off on once only or other our out over own same she
should so some such than that the their them then there these they this those through to too under until up very
was we were what when where which while who whom why will with would you your government report review recommended
recommendation recommendations said says strategy new national including include includes
""".split())
PUBLICATION_RE = re.compile(r"\b(?:publish|published|publication|statement|response|responded|report)\b", re.I)


def content_words(text: str) -> list[str]:
    """Lower-cased content words of ``text`` (stop words and short tokens removed)."""
    return [w for w in re.findall(r"[a-z][a-z'’-]+|\d[\d,.]*", text.lower()) if w not in STOPWORDS and len(w) > 2]


def lexical_scores(query: Sequence[str], docs: Sequence[Sequence[str]], idf: dict[str, float]) -> np.ndarray:
    """IDF-weighted share of the query's content words found in each candidate (0..1)."""
    qset = set(query)
    total = sum(idf.get(w, 1.0) for w in qset) or 1.0
    return np.array([sum(idf.get(w, 1.0) for w in qset & set(d)) / total for d in docs], dtype=np.float32)


def segment_dates(doc: Document, segs: Sequence[Segment]) -> dict[str, str | None]:
    """Date each segment by the latest publication-like date stated before it in its document.

    A briefing reports several documents in turn ("On 25 May 2023, the Lords
    committee published ..."), so the running date tracks which one a passage
    belongs to; a plain report falls back to its own date.
    """
    marks: list[tuple[int, str]] = []
    for m in DATE_RE.finditer(doc.text):
        window = doc.text[max(0, m.start() - 150): m.end() + 150]
        if PUBLICATION_RE.search(window):
            iso = first_date(m.group(0))
            if iso:
                marks.append((m.start(), iso))
    out: dict[str, str | None] = {}
    i, current = 0, doc.date
    for s in sorted(segs, key=lambda s: s.start):
        while i < len(marks) and marks[i][0] < s.end:
            current = marks[i][1]
            i += 1
        out[s.seg_id] = current
    return out


def _label_key(label: str | None) -> str | None:
    """The recommendation number a label names, comparable across documents.

    "Recommendation 4a i" and an outline label "4a i" give "4a i", and a
    chapter paragraph number ("8.3") gives itself; a bare paragraph number
    ("16") is too common to match on and gives None.
    """
    if not label:
        return None
    if label.startswith("Recommendation "):
        return label[len("Recommendation "):]
    return label if OUTLINE_LABEL_RE.fullmatch(label) or re.fullmatch(r"\d{1,2}\.\d{1,2}", label) else None


@dataclass
class _Pool:
    segs: list[Segment]
    words: list[list[str]]
    rows: np.ndarray          # rows of the vector matrix
    dates: list[str | None]
    labels: list[str | None]  # the recommendation number each candidate answers, when known


def _answer_labels(segs: Sequence[Segment]) -> dict[str, str | None]:
    """Map each segment to the last recommendation number seen before it in its document.

    Responses printed under "Recommendation 7" answer recommendation 7.
    """
    out: dict[str, str | None] = {}
    current: dict[str, str | None] = {}
    for s in segs:
        key = _label_key(s.label)
        if key:
            current[s.doc_id] = key
        out[s.seg_id] = current.get(s.doc_id)
    return out


def status_for(rec: Segment, resp: Segment, context: Sequence[Segment]) -> tuple[str, str | None]:
    """Decide the status of ``rec`` answered by ``resp``; return (status, cue phrase).

    The passage's own stance wins; without one, the nearest stance in the same
    paragraph context is used; money committed far below money recommended
    makes an acceptance ``partial``.
    """
    stance = stance_of(resp.text)
    if stance is None:
        for s in context:
            stance = stance_of(s.text)
            if stance:
                break
    label, cue = (stance.label, stance.cue) if stance else ("accepted", None)
    if label == "accepted":
        asked, given = money_amounts(rec.text), money_amounts(resp.text)
        if asked and given and max(given) < 0.5 * max(asked):
            return "partial", f"£{max(given):,.0f} against £{max(asked):,.0f}"
    return label, cue


def document_partners(doc_ids: Sequence[str], rec_rows: dict[str, list[int]], cand_rows: dict[str, list[int]],
                      vectors: np.ndarray, docs: dict[str, Document] | None = None,
                      margin: float = PARTNER_MARGIN, lift: float = PARTNER_LIFT) -> dict[str, list[str]]:
    """For each document with recommendations, the documents whose statements may answer them.

    Affinity of (d, j) is the mean, over d's recommendations, of the best cosine
    to j's government statements, minus j's mean affinity to the other
    documents: a long response full of generic government language is close to
    everything, and only what rises above that says j answers d.  Partners are
    within ``margin`` of d's best centred affinity and at least ``lift`` above
    zero.  Fewer than four documents with recommendations are compared raw.
    d's own statements count unless a partner is a response to d (dated
    later, or titled as a response): then they are background.
    """
    docs = docs or {}
    rec_docs = [d for d in doc_ids if rec_rows.get(d)]
    cand_docs = [j for j in doc_ids if cand_rows.get(j)]
    raw = {(d, j): float(np.mean(np.max(vectors[rec_rows[d]] @ vectors[cand_rows[j]].T, axis=1)))
           for d in rec_docs for j in cand_docs}
    out: dict[str, list[str]] = {}
    for d in rec_docs:
        centred = {}
        for j in cand_docs:
            others = [raw[(e, j)] for e in rec_docs if e not in (d, j)]
            # Centring needs a few other documents to say what "generic" looks like; with fewer, raw
            # affinities compare fairly and centring one column but not another would not.
            centred[j] = raw[(d, j)] - (float(np.mean(others)) if len(rec_docs) >= 4 else 0.0)
        if not centred:
            out[d] = []
            continue
        best = max(centred.values())
        close = [j for j, a in centred.items() if a >= best - margin and a >= lift]
        responders = [j for j in close if j != d and _responds_to(docs.get(j), docs.get(d))]
        out[d] = sorted(set(close) - ({d} if responders else set())) or [max(centred, key=centred.get)]
    return out


RESPONSE_TITLE_RE = re.compile(r"\b(?:response|reply|responds|decision)\b", re.I)


def _responds_to(j: Document | None, d: Document | None) -> bool:
    """True when document ``j`` is a response to ``d``: it is dated later, or only it is titled as a response."""
    if j is None or d is None:
        return False
    if j.date and d.date and j.date != d.date:
        return j.date > d.date
    titled = lambda doc: bool(RESPONSE_TITLE_RE.search(f"{doc.title} {Path(doc.path).name}"))
    return titled(j) and not titled(d)


def find_quotes(recs: Sequence[Segment], vectors: np.ndarray, row_of: dict[str, int],
                partners: dict[str, list[str]], doc_dates: dict[str, str | None] | None = None,
                threshold: float = QUOTE_THRESHOLD) -> dict[str, str]:
    """Map recommendations that merely repeat another recommendation to the original.

    A report often repeats its recommendations in a closing list, and a
    response document reprints each one before answering it; a repeat is an
    anchor for the answer, not a second recommendation.  Repeats inside one
    document point to the first occurrence; reprints in a partner document
    point to that first occurrence too.  The original lives in the earlier
    document (by date; without dates, the one with more recommendations).
    """
    doc_dates = doc_dates or {}
    by_doc: dict[str, list[Segment]] = {}
    for r in recs:
        by_doc.setdefault(r.doc_id, []).append(r)
    quotes: dict[str, str] = {}
    for d, items in by_doc.items():
        v = vectors[[row_of[r.seg_id] for r in items]]
        sim = v @ v.T
        for i in range(1, len(items)):
            j = int(np.argmax(sim[i, :i]))
            if sim[i, j] >= threshold:
                quotes[items[i].seg_id] = quotes.get(items[j].seg_id, items[j].seg_id)
    for d, partner_docs in partners.items():
        originals = [r for r in by_doc.get(d, []) if r.seg_id not in quotes]
        for j in partner_docs:
            if j == d or not by_doc.get(j) or not originals or not _earlier(d, j, doc_dates, by_doc):
                continue
            orig = vectors[[row_of[r.seg_id] for r in originals]]
            copies = by_doc[j]
            sim = vectors[[row_of[r.seg_id] for r in copies]] @ orig.T
            for qi, q in enumerate(copies):
                oi = int(np.argmax(sim[qi]))
                if sim[qi, oi] >= threshold:
                    quotes[q.seg_id] = originals[oi].seg_id
    return quotes


def _earlier(d: str, j: str, dates: dict[str, str | None], by_doc: dict[str, list[Segment]]) -> bool:
    """True when document ``d`` holds the originals that ``j`` reprints."""
    dd, dj = dates.get(d), dates.get(j)
    if dd and dj and dd != dj:
        return dd < dj
    return (len(by_doc.get(d, [])), d) > (len(by_doc.get(j, [])), j)


def _answer_blocks(segments: Sequence[Segment], quotes: dict[str, str]) -> dict[str, set[str]]:
    """Map an original recommendation to the statements printed after its quote (until the next one)."""
    blocks: dict[str, set[str]] = {}
    current: dict[str, str | None] = {}
    for s in segments:
        if s.kind == "recommendation":
            current[s.doc_id] = quotes.get(s.seg_id)
        elif s.kind in CANDIDATE_KINDS and current.get(s.doc_id):
            blocks.setdefault(current[s.doc_id], set()).add(s.seg_id)  # type: ignore[arg-type]
    return blocks


def align(docs: Sequence[Document], segments: Sequence[Segment], vectors: np.ndarray,
          row_of: dict[str, int], gap_threshold: float = GAP_THRESHOLD) -> list[Alignment]:
    """Align every recommendation segment to its best response; one Alignment per recommendation.

    Recommendations that only quote another document's recommendation are not
    rows of their own; the statements under the quote answer the original.
    """
    by_doc: dict[str, list[Segment]] = {}
    for s in segments:
        by_doc.setdefault(s.doc_id, []).append(s)
    dates: dict[str, str | None] = {}
    for d in docs:
        dates.update(segment_dates(d, by_doc.get(d.doc_id, [])))
    answer_label = _answer_labels(segments)
    recs = [s for s in segments if s.kind == "recommendation"]
    cands = [s for s in segments if s.kind in CANDIDATE_KINDS]
    doc_ids = list(by_doc)
    rec_rows = {d: [row_of[s.seg_id] for s in by_doc[d] if s.kind == "recommendation"] for d in doc_ids}
    cand_rows = {d: [row_of[s.seg_id] for s in by_doc[d] if s.kind in CANDIDATE_KINDS] for d in doc_ids}
    partners = document_partners(doc_ids, rec_rows, cand_rows, vectors, {d.doc_id: d for d in docs})
    quotes = find_quotes(recs, vectors, row_of, partners, {d.doc_id: d.date for d in docs})
    blocks = _answer_blocks(segments, quotes)
    words = [content_words(s.text) for s in cands]
    df = Counter(w for ws in words for w in set(ws))
    n = max(1, len(cands))
    idf = {w: math.log(1 + n / c) for w, c in df.items()}
    index_of = {s.seg_id: i for i, s in enumerate(segments)}
    cand_doc = np.array([s.doc_id for s in cands])
    doc_by_id = {d.doc_id: d for d in docs}
    out = []
    for rec in recs:
        if rec.seg_id in quotes:
            continue
        allowed = np.isin(cand_doc, partners.get(rec.doc_id, [rec.doc_id]))
        sel = np.flatnonzero(allowed)
        pool = _Pool([cands[i] for i in sel], [words[i] for i in sel],
                     np.array([row_of[cands[i].seg_id] for i in sel], dtype=np.int64),
                     [dates.get(cands[i].seg_id) for i in sel], [answer_label.get(cands[i].seg_id) for i in sel])
        cand_vecs = vectors[pool.rows] if len(sel) else np.zeros((0, vectors.shape[1]), np.float32)
        al = _align_one(rec, pool, cand_vecs, vectors[row_of[rec.seg_id]], idf, dates.get(rec.seg_id),
                        segments, index_of, gap_threshold, blocks.get(rec.seg_id, set()))
        doc = doc_by_id.get(rec.doc_id)
        if doc is not None and rec.footnotes:
            notes = doc.footnotes_in(rec.start, rec.end)
            al = replace(al, rec_sources=tuple({"footnote": f.number, "source": f.source, "cited_pages": f.cited_pages,
                                                "text": f.text} for f in notes))
        out.append(al)
    return out


def _align_one(rec: Segment, pool: _Pool, cand_vecs: np.ndarray, rec_vec: np.ndarray, idf: dict[str, float],
               rec_date: str | None, segments: Sequence[Segment], index_of: dict[str, int],
               gap_threshold: float, anchored: set[str]) -> Alignment:
    base = dict(recommendation_text=rec.text, rec_id=rec.seg_id, rec_doc_id=rec.doc_id, rec_page=rec.page,
                rec_start=rec.start, rec_end=rec.end, body=rec.body, label=rec.label, method=METHOD)
    if not pool.segs:
        return Alignment(status="gap", response_text=None, **base)
    dense = cand_vecs @ rec_vec
    lex = lexical_scores(content_words(rec.text), pool.words, idf)
    score = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * lex
    key = _label_key(rec.label)
    label_match = np.array([key is not None and lab == key and s.doc_id != rec.doc_id
                            for lab, s in zip(pool.labels, pool.segs)], dtype=bool)
    anchor = np.array([s.seg_id in anchored for s in pool.segs], dtype=bool)
    score = score + LABEL_BONUS * label_match + ANCHOR_BONUS * anchor
    if rec_date:
        too_early = np.array([d is not None and d < rec_date for d in pool.dates])
        score = np.where(too_early, -1.0, score)
    order = np.argsort(-score, kind="stable")[:TOP_K]
    top = [(pool.segs[i], float(score[i]), float(dense[i]), float(lex[i])) for i in order if score[i] > 0]
    candidates = tuple({"seg_id": s.seg_id, "score": round(sc, 4), "dense": round(de, 4), "lexical": round(le, 4)}
                       for s, sc, de, le in top)
    if not top or top[0][1] < gap_threshold:
        best = top[0][1] if top else 0.0
        return Alignment(status="gap", response_text=None, score=round(best, 4),
                         confidence=round(_sigmoid((gap_threshold - best) * 12), 3), candidates=candidates, **base)
    resp, sc, _, _ = top[0]
    i = index_of[resp.seg_id]
    context = [s for s in segments[max(0, i - 2): i + 3] if s.doc_id == resp.doc_id and s.seg_id != resp.seg_id]
    status, cue = status_for(rec, resp, context)
    return Alignment(status=status, response_text=resp.text, response_id=resp.seg_id,
                     response_doc_id=resp.doc_id, response_page=resp.page, response_start=resp.start,
                     response_end=resp.end, score=round(sc, 4),
                     confidence=round(_sigmoid((sc - gap_threshold) * 12), 3), cue=cue, candidates=candidates,
                     **base)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
