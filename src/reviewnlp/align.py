"""Alignment stage: each recommendation -> the passages that answer it, a status and its evidence.

Explicit matches come first: the passages printed under a reprint of the
recommendation or under its number in a response (see :mod:`reviewnlp.pairing`
for the pairing and folding).  Otherwise every passage of the partner
documents is a candidate, scored by the trained reranker
(:mod:`reviewnlp.rerank`) on pair features computed over arrays; below its
calibrated threshold the recommendation is a gap.  A response may not predate
the recommendation when both dates are known.  The cue rules read the
deciding passage's stance (:mod:`reviewnlp.cues`), qualified by the other
answering passages, money and counts; :mod:`reviewnlp.status`'s trained
classifier then decides the status over the whole answer, with the rules'
reading among its features.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Sequence

import numpy as np

from .cues import GOV_VOICE_RE, count_short, money_short, stance_of
from .records import Alignment, Document, Segment
from .rerank import PoolText, Reranker, is_gov, load as load_reranker, pair_features, pool_text
from .status import StatusClassifier, StatusInput, load as load_status_model
from .structure import (answer_block, contiguous_runs, decision_scores, is_contents, is_fragment, is_verdict,
                        items_below, report_copies, reprint_anchors)
from .pairing import (QUOTE_THRESHOLD, contained_copies, find_quotes, informal_restatements, label_key, label_quotes,
                      list_continuations, numbered_answers, pair_documents, pairing_report, prefer_answered,
                      responds_to, restated_copies, segment_dates, titled_response, unpaired)

METHOD = "structure+rerank-v3"
# Government statements: what document pairing compares recommendations with.
GOV_KINDS = ("commitment", "response")
MIN_CANDIDATE_WORDS = 5
TOP_K = 5
MAX_RESPONSES = 5
# More numbers than this in a row, with no passage between, are a list or contents page, not one grouped answer.
MAX_GROUP = 6
# Segments apart before an answer block counts as a new run (see _best_run).
RUN_GAP = 6
# Retrieval before reranking: candidates kept per recommendation, and the first-stage mix.
POOL_K = 1000
DENSE_WEIGHT = 0.75
# Passages, best first, whose stances qualify the status of a retrieved answer.
STATUS_PASSAGES = 3
BULLET_START_RE = re.compile(r"\s*(?:[-•*▪◦●]|\(?[a-z0-9]{1,3}[.)])\s")
GOV_LEADIN_RE = re.compile(r"(?i)\b(?:government|department|minister|strategy)(?:'s|’s)?\b.*\b(?:proposals?|plans?|"
                           r"commitments?|actions?|reforms?|measures|will|would|include|includes|including)\b")
STOPWORDS = frozenset("""
a about above after again all also an and any are as at be been before being below between both but by can could
did do does doing down during each few for from further had has have having he her here hers him his how i if in
into is it its itself just me more most my no nor not now of off on once only or other our out over own same she
should so some such than that the their them then there these they this those through to too under until up very
was we were what when where which while who whom why will with would you your government report review recommended
recommendation recommendations said says strategy new national including include includes
""".split())
def content_words(text: str) -> list[str]:
    """Lower-cased content words of ``text`` (stop words and short tokens removed)."""
    return [w for w in re.findall(r"[a-z][a-z'’-]+|\d[\d,.]*", text.lower()) if w not in STOPWORDS and len(w) > 2]


def lexical_scores(query: Sequence[str], docs: Sequence[Sequence[str]], idf: dict[str, float]) -> np.ndarray:
    """IDF-weighted share of the query's content words found in each candidate (0..1)."""
    qset = set(query)
    return np.array([idf_share(qset, set(d), idf) for d in docs], dtype=np.float32)


def idf_share(words: Iterable[str], other: set[str], idf: dict[str, float]) -> float:
    """IDF-weighted share of ``words`` (as a set) that ``other`` contains; 0 for no words."""
    ws = set(words)
    total = sum(idf.get(w, 1.0) for w in ws)
    return sum(idf.get(w, 1.0) for w in ws & other) / total if total else 0.0


def _printed_under(segments: Sequence[Segment], heading: Callable[[Segment], tuple[bool, str | None]],
                   quiet: frozenset[str] | set[str] = frozenset()) -> dict[str, frozenset[str]]:
    """Map each segment to the keys of the run of headings printed before it in its document.

    ``heading(s)`` says whether ``s`` is a heading and which key it adds (None
    for none).  A run of headings with no passage between them ("11a ...
    11b ... 11c", then one answer) is a grouped response: the passages that
    follow answer them all.  The next heading after a passage starts a new
    run, and so does one past ``MAX_GROUP`` distinct keys (a list or contents
    page, not one grouped answer).  Segments in ``quiet`` (reprinted report
    text) never count as a passage between headings.
    """
    out: dict[str, frozenset[str]] = {}
    current: dict[str, list[str]] = {}
    answered: dict[str, bool] = {}
    for s in segments:
        is_heading, key = heading(s)
        if is_heading:
            if answered.get(s.doc_id, True) or len(current[s.doc_id]) >= MAX_GROUP:
                current[s.doc_id], answered[s.doc_id] = [], False
            if key and key not in current[s.doc_id]:
                current[s.doc_id].append(key)
        if _is_candidate(s) and s.seg_id not in quiet:
            answered[s.doc_id] = True
        out[s.seg_id] = frozenset(current.get(s.doc_id, ()))
    return out


def _answer_labels(segs: Sequence[Segment]) -> dict[str, frozenset[str]]:
    """Map each segment to the recommendation numbers it is printed under in its document.

    Responses printed under "Recommendation 7" answer recommendation 7.
    """
    def heading(s: Segment) -> tuple[bool, str | None]:
        key = None if is_contents(s) else label_key(s.label)
        return bool(key), key

    return _printed_under(segs, heading)


def status_for(rec: Segment, resp: Segment, context: Sequence[Segment],
               also: Sequence[Segment] = ()) -> tuple[str, str | None]:
    """Decide the status of ``rec`` answered by ``resp``; return (status, cue phrase).

    The passage's own stance wins; without one, the nearest stance in the same
    paragraph context is used.  Other passages that also answer it (``also``)
    qualify an acceptance: one that pilots or tests it makes the whole
    ``partial``, as do money committed far below money asked and a smaller
    count of the same thing ("two years" against "a five-year framework").
    """
    status, cue, _ = _status(rec, resp, context, also)
    return status, cue


def _status(rec: Segment, resp: Segment, context: Sequence[Segment],
            also: Sequence[Segment]) -> tuple[str, str | None, str]:
    """(status, cue, rule that decided it): see :func:`status_for`."""
    stance, method = stance_of(resp.text), "cue"
    if stance is None:
        method = "context-cue"
        for s in context:
            stance = stance_of(s.text)
            if stance:
                break
    label, cue = (stance.label, stance.cue) if stance else ("accepted", None)
    if stance is None:
        method = "default"
    if label == "accepted":
        short = money_short(rec.text, [resp.text])
        if short:
            return "partial", short, "money"
        short = count_short(rec.text, [o.text for o in (resp, *also)])
        if short:
            return "partial", short, "count"
        for other in also:
            st = stance_of(other.text)
            if st and st.label == "partial":
                return "partial", st.cue, "pilot-elsewhere"
    return label, cue, method


def explicit_answers(segments: Sequence[Segment], quotes: dict[str, str],
                     docs: dict[str, Document], anchors: dict[str, str | None] | None = None) -> dict[str, set[str]]:
    """Map each original recommendation to the passages that structure says answer it.

    A passage printed after a reprint of the recommendation in another
    document (until the next recommendation) answers the original; in a
    document titled as a response, a passage after a recommendation it states
    itself answers that one.  A report's closing list repeating its own
    recommendations is not an answer block.  ``anchors`` maps a responding
    document's copies of report text, whatever their kind, to the
    recommendation they reprint (None for a copy of other report text): each
    opens a block, and the government's passages after it answer it.
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
        if original is None and titled_response(docs.get(s.doc_id)):
            original = s.seg_id
        return True, original

    under = _printed_under(segments, heading, set(anchors))
    blocks: dict[str, set[str]] = {}
    for s in segments:
        if _is_candidate(s):
            for original in under.get(s.seg_id, ()):
                blocks.setdefault(original, set()).add(s.seg_id)
    return blocks


def _is_candidate(s: Segment) -> bool:
    """Passages that may answer a recommendation: any non-recommendation sentence of five words or more,
    or a printed verdict of any length ("Not accepted.")."""
    return s.kind != "recommendation" and (len(s.text.split()) >= MIN_CANDIDATE_WORDS or is_verdict(s.text))


def _section_words(title: str | None) -> set[str]:
    """Topic words of a section title; numbers are left out, since "Recommendation 5" would match by label."""
    return {w for w in content_words(title or "") if w[0].isalpha()}


def _list_voice(docs: dict[str, Document], segments: Sequence[Segment]) -> list[bool]:
    """Government voice per segment, passed from a list's lead-in to its items.

    A briefing lists the government's proposals under a lead-in ("The
    Government's other proposals include:"); the items ("Testing the use of
    regional care cooperatives") carry no actor of their own.
    """
    out, leadin_gov = [], {}
    for s in segments:
        text = docs[s.doc_id].text if s.doc_id in docs else ""
        line_start = text.rfind("\n", 0, s.start) + 1
        is_item = bool(BULLET_START_RE.match(text[line_start:s.start + 2])) and line_start >= s.start - 3
        gov = is_gov(s)
        if is_item:
            gov = gov or leadin_gov.get(s.doc_id, False)
        else:
            leadin_gov[s.doc_id] = s.text.rstrip().endswith(":") and bool(
                GOV_VOICE_RE.search(s.text) or GOV_LEADIN_RE.search(s.text))
        out.append(gov)
    return out


@dataclass
class AlignContext:
    """Everything alignment computes once per run: pairing, explicit answers, candidate texts and IDF."""

    segments: list[Segment]
    vectors: np.ndarray
    row_of: dict[str, int]
    docs: dict[str, Document]
    dates: dict[str, str | None]
    answer_label: dict[str, frozenset[str]]
    partners: dict[str, list[str]]
    quotes: dict[str, str]
    explicit: dict[str, set[str]]
    cands: list[Segment]
    cand_rows: np.ndarray
    pool: PoolText
    idf: dict[str, float]
    index_of: dict[str, int]
    # Arrays over candidates, so each recommendation's pool is found without a Python loop
    # (documents are ``pool.doc_ids``).
    cand_date: np.ndarray       # running publication date, "" when unknown
    cand_index: dict[str, int]  # seg_id -> candidate row
    label_cands: dict[str, np.ndarray]  # recommendation number -> candidate rows printed under it
    label_docs: dict[str, set[str]]     # recommendation number -> documents that print answers under it
    terms: object               # scipy CSR, candidates x vocabulary, 1 where the word occurs
    vocab: dict[str, int]
    responders: frozenset[str] = frozenset()  # documents that answer another document of the run
    pairing: dict[str, dict[str, str]] = field(default_factory=dict)  # report -> {partner: why}
    answerers: dict[str, frozenset[str]] = field(default_factory=dict)  # report -> documents answering it by structure

    def recommendations(self) -> list[Segment]:
        """The original recommendations: one row each (reprints and repeats fold into them).

        A document that responds to another in the run prints that report's
        recommendations to answer them: what it prints is an anchor, never a row.
        """
        return [s for s in self.segments if s.kind == "recommendation" and s.seg_id not in self.quotes
                and not is_contents(s) and s.doc_id not in self.responders and not self._leads_in(s)]

    def _leads_in(self, s: Segment) -> bool:
        """An unnumbered lead-in ("Accordingly, I recommend that:") whose list items below are the recommendations.

        A numbered one ("6a All patients ... should receive the following care:") is the parent of its items.
        """
        if s.label or not s.text.rstrip().endswith(":"):
            return False
        i = self.index_of[s.seg_id]
        # The items may sit under a numbered title ("5 Ending a defensive culture"), so look two ahead.
        return any(x.doc_id == s.doc_id and x.kind == "recommendation" for x in self.segments[i + 1:i + 3])


def prepare(docs: Sequence[Document], segments: Sequence[Segment], vectors: np.ndarray,
            row_of: dict[str, int]) -> AlignContext:
    """Pair documents, find reprints and structural answers, and precompute candidate features."""
    segments = list(segments)
    doc_by_id = {d.doc_id: d for d in docs}
    by_doc: dict[str, list[Segment]] = {}
    for s in segments:
        by_doc.setdefault(s.doc_id, []).append(s)
    dates: dict[str, str | None] = {}
    for d in docs:
        dates.update(segment_dates(d, by_doc.get(d.doc_id, [])))
    partners, pairing = pair_documents(docs, by_doc, vectors, row_of, GOV_KINDS)
    # A numbered answer in a response ("Recommendation 2" over "Not accepted. We will keep ...") was read as
    # the recommendation it answers; once the documents are paired it is what it is, an answer.
    answers = numbered_answers(pairing, by_doc, vectors, row_of)
    # A printed verdict ("Recommendations 12) a-c) are accepted in full") answers, whatever its label made it.
    answers |= {s.seg_id for s in segments if s.kind == "recommendation" and is_verdict(s.text)}
    if answers:
        segments = [replace(s, kind="response") if s.seg_id in answers else s for s in segments]
        by_doc = {}
        for s in segments:
            by_doc.setdefault(s.doc_id, []).append(s)
    recs = [s for s in segments if s.kind == "recommendation" and not is_contents(s)]
    quotes = find_quotes(recs, vectors, row_of, partners, {d.doc_id: d.date for d in docs})
    # Who answers a report by structure: a partner that reprints its recommendations, answers under its numbers,
    # or is titled as its (later) response.  A briefing that reports recommendations and answers both is none.
    answerers = {d: frozenset(j for j, why in js.items() if j != d and (
        why.startswith(("reprints", "answers")) or titled_response(doc_by_id.get(j))
        and responds_to(doc_by_id.get(j), doc_by_id.get(d)))) for d, js in pairing.items()}
    responders = frozenset(j for js in answerers.values() for j in js)
    quotes.update(label_quotes(recs, quotes, doc_by_id, answerers))
    quotes.update(contained_copies(recs, quotes))
    copies = report_copies(pairing, responders, by_doc, row_of, vectors)
    anchors = reprint_anchors(copies, recs)
    reprinted = {r for r in anchors.values() if r}  # the copies a response answers
    quotes.update(restated_copies(recs, quotes, vectors, row_of, {quotes.get(r, r) for r in reprinted}))
    quotes.update(informal_restatements(recs, quotes, vectors, row_of))
    for cont, head in list_continuations(segments, doc_by_id).items():
        quotes.setdefault(cont, quotes.get(head, head))
    quotes = prefer_answered(quotes, reprinted, {s.seg_id: s.doc_id for s in recs})
    gov = _list_voice(doc_by_id, segments)
    keep = [i for i, s in enumerate(segments) if _is_candidate(s) and s.seg_id not in copies]
    cands = [segments[i] for i in keep]
    words = [content_words(s.text) for s in cands]
    df = Counter(w for ws in words for w in set(ws))
    n = max(1, len(cands))
    idf = {w: math.log(1 + n / c) for w, c in df.items()}
    pool = pool_text(cands, words, [_section_words(s.section) for s in cands], [gov[i] for i in keep])
    answer_label = _answer_labels(segments)
    label_rows: dict[str, list[int]] = {}
    label_docs: dict[str, set[str]] = {}
    for i, s in enumerate(cands):
        for lab in answer_label.get(s.seg_id, ()):
            label_rows.setdefault(lab, []).append(i)
    for s in segments:
        for lab in answer_label.get(s.seg_id, ()):
            label_docs.setdefault(lab, set()).add(s.doc_id)
    vocab = {w: j for j, w in enumerate(sorted(df))}
    return AlignContext(segments, vectors, row_of, doc_by_id, dates, answer_label, partners, quotes,
                        explicit_answers(segments, quotes, doc_by_id,
                                         {sid: quotes.get(r, r) if r else None for sid, r in anchors.items()}), cands,
                        np.array([row_of[s.seg_id] for s in cands], dtype=np.int64), pool, idf,
                        {s.seg_id: i for i, s in enumerate(segments)},
                        np.array([dates.get(s.seg_id) or "" for s in cands], dtype=str),
                        {s.seg_id: i for i, s in enumerate(cands)},
                        {k: np.array(v, dtype=np.int64) for k, v in label_rows.items()}, label_docs,
                        _term_matrix(words, vocab), vocab, responders, pairing, answerers)


def _term_matrix(words: Sequence[list[str]], vocab: dict[str, int]):
    """Binary candidates x vocabulary matrix (CSR)."""
    from scipy.sparse import csr_matrix

    rows, cols = [], []
    for i, ws in enumerate(words):
        for j in sorted({vocab[w] for w in ws}):
            rows.append(i)
            cols.append(j)
    return csr_matrix((np.ones(len(rows), np.float64), (rows, cols)), shape=(len(words), len(vocab)))


@dataclass
class Candidates:
    """One recommendation's candidate passages: pool rows, scores and pair features."""

    sel: np.ndarray        # rows of ctx.cands
    dense: np.ndarray
    lexical: np.ndarray
    explicit: np.ndarray   # bool: structure says this passage answers the recommendation
    features: np.ndarray


def candidates(ctx: AlignContext, rec: Segment) -> Candidates:
    """Passages of the recommendation's partner documents that may answer it, with their pair features.

    Passages dated before the recommendation are dropped: a response cannot
    predate what it answers; so are near-copies of it (a reprint is no
    answer).  Retrieval keeps the explicit matches and the ``POOL_K`` best by
    ``0.75 x cosine + 0.25 x IDF word overlap``; only those get the full pair
    features the reranker reads.
    """
    allowed = sorted(set(ctx.partners.get(rec.doc_id, [rec.doc_id])))
    n = len(ctx.cands)
    cand_doc = ctx.pool.doc_ids
    mask = np.isin(cand_doc, allowed) if n else np.zeros(0, bool)
    exp = np.zeros(n, bool)
    for sid in ctx.explicit.get(rec.seg_id, ()):
        if sid in ctx.cand_index:
            exp[ctx.cand_index[sid]] = True
    key = _answered_key(ctx, label_key(rec.label), rec.doc_id)
    if key is not None and key in ctx.label_cands:
        rows = ctx.label_cands[key]
        # Numbers are common to all numbered documents: only a document that answers this one by structure
        # (reprints, its numbers' content, a response's title) answers by number.
        rows = rows[np.isin(cand_doc[rows], sorted(ctx.answerers.get(rec.doc_id, ())))]
        exp[rows] = True
    mask |= exp
    rec_date = ctx.dates.get(rec.seg_id)
    if rec_date:
        mask &= ~((ctx.cand_date != "") & (ctx.cand_date < rec_date))
    idx = np.flatnonzero(mask)
    rec_vec = ctx.vectors[ctx.row_of[rec.seg_id]]
    dense = (ctx.vectors[ctx.cand_rows[idx]] @ rec_vec).astype(np.float32) if len(idx) else np.zeros(0, np.float32)
    # A passage that repeats the recommendation (a reprint's continuation) is not its answer.
    fresh = dense < QUOTE_THRESHOLD
    idx, dense = idx[fresh], dense[fresh]
    rec_words = content_words(rec.text)
    lex = _lexical(ctx, rec_words, idx)
    if len(idx) > POOL_K:
        first = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * lex
        top = np.argsort(-first, kind="stable")[:POOL_K]
        keep = np.zeros(len(idx), bool)
        keep[top] = True
        keep |= exp[idx]
        idx, dense, lex = idx[keep], dense[keep], lex[keep]
    rset = set(rec_words)
    lex_rev = np.array([idf_share(ctx.pool.word_sets[i], rset, ctx.idf) for i in idx], dtype=np.float32)
    feats = pair_features(rec, rec_words, _section_words(rec.section), dense, lex, lex_rev,
                          ctx.pool, idx, ctx.idf, content_words(rec.action or ""))
    return Candidates(idx, dense, lex, exp[idx], feats)


def _lexical(ctx: AlignContext, rec_words: Sequence[str], idx: np.ndarray) -> np.ndarray:
    """:func:`lexical_scores` of ``rec_words`` against candidate rows ``idx``, as one sparse product."""
    qset = set(rec_words)
    total = sum(ctx.idf.get(w, 1.0) for w in qset) or 1.0
    q = np.zeros(len(ctx.vocab))
    for w in qset:
        if w in ctx.vocab:
            q[ctx.vocab[w]] = ctx.idf[w]
    if not len(idx):
        return np.zeros(0, np.float32)
    return (np.asarray(ctx.terms[idx] @ q).ravel() / total).astype(np.float32)  # type: ignore[index]


def _answered_key(ctx: AlignContext, key: str | None, rec_doc: str) -> str | None:
    """The recommendation number that another document answers under: the label itself or its parent.

    A response often answers "6a" as a whole where the report splits it into
    "6a i", "6a ii"; the items then share the parent's answer.
    """
    while key:
        if ctx.label_docs.get(key, set()) - {rec_doc}:
            return key
        parent = re.sub(r"(?: [ivx]+|[a-z])$", "", key)
        key = parent if parent != key else None
    return None


def align(docs: Sequence[Document], segments: Sequence[Segment], vectors: np.ndarray,
          row_of: dict[str, int], reranker: Reranker | None = None,
          pairing: dict | None = None) -> list[Alignment]:
    """Align every recommendation to the passages that answer it; one Alignment per recommendation.

    Explicit matches come first (the response repeats the recommendation's
    number, or prints its answer under a reprint of it); otherwise the trained
    reranker scores the candidates and a recommendation whose best passage
    falls below the calibrated threshold is a gap.
    """
    reranker = reranker or load_reranker()
    status_model = load_status_model()
    ctx = prepare(docs, segments, vectors, row_of)
    if pairing is not None:
        pairing.update(pairing_report(ctx.pairing, ctx.docs, ctx.partners))
    folded: dict[str, list[Segment]] = {}
    for sid, original in ctx.quotes.items():
        folded.setdefault(original, []).append(ctx.segments[ctx.index_of[sid]])
    out = []
    for rec in ctx.recommendations():
        al = _align_one(ctx, rec, reranker)
        doc = ctx.docs.get(rec.doc_id)
        items = items_below(doc, rec, folded.get(rec.seg_id, []))
        if items:
            # A numbered lead-in and the list items that finish it are one recommendation, printed as one span.
            end = items[-1].end
            al = replace(al, recommendation_text=doc.text[rec.start:end], rec_end=end)
        others = [c for c in folded.get(rec.seg_id, []) if c not in items]
        if others:
            # The other places it is printed: a summary or closing list, a response's reprint.
            al = replace(al, rec_copies=tuple({"seg_id": c.seg_id, "doc_id": c.doc_id, "page": c.page, "start": c.start,
                                               "end": c.end, "label": c.label}
                                              for c in sorted(others, key=lambda c: (c.doc_id, c.start))))
        if al.status != "gap":
            al = decide_status(ctx, al, [rec, *items], status_model)
        if doc is not None and rec.footnotes:
            notes = doc.footnotes_in(rec.start, rec.end)
            al = replace(al, rec_sources=tuple({"footnote": f.number, "source": f.source, "cited_pages": f.cited_pages,
                                                "text": f.text} for f in notes))
        out.append(al)
    return out


def _align_one(ctx: AlignContext, rec: Segment, reranker: Reranker) -> Alignment:
    base = dict(recommendation_text=rec.text, rec_id=rec.seg_id, rec_doc_id=rec.doc_id, rec_page=rec.page,
                rec_start=rec.start, rec_end=rec.end, body=rec.body, label=rec.label,
                method=f"{METHOD}+{reranker.model_id}")
    c = candidates(ctx, rec)
    if not c.explicit.any() and unpaired(ctx.docs.get(rec.doc_id), ctx.partners.get(rec.doc_id, [])):
        return Alignment(status="gap", response_text=None, match="unpaired", confidence=1.0, **base)
    prob = reranker.score(c.features)
    if c.explicit.any():
        keep = np.flatnonzero(c.explicit)
        match = "explicit"
    else:
        keep = np.flatnonzero(prob >= reranker.threshold)
        match = "retrieval"
    order = np.argsort(-prob, kind="stable")
    top = tuple({"seg_id": ctx.cands[c.sel[i]].seg_id, "probability": round(float(prob[i]), 4),
                 "dense": round(float(c.dense[i]), 4), "lexical": round(float(c.lexical[i]), 4)}
                for i in order[:TOP_K])
    if not len(keep):
        best = float(prob[order[0]]) if len(order) else 0.0
        return Alignment(status="gap", response_text=None, score=round(best, 4),
                         confidence=round(1.0 - best, 3), candidates=top, match="none", **base)
    keep = keep[np.argsort(-prob[keep], kind="stable")]
    block = None
    if match == "explicit":
        # The answer under a reprint: its block, and in it the sentence that decides, not the warm opening.
        run = _best_run(ctx, c, keep)
        block = answer_block(ctx.docs[ctx.cands[c.sel[run[0]]].doc_id], [ctx.cands[c.sel[i]] for i in run])
        whole = [i for i in run if not is_fragment(ctx.cands[c.sel[i]].text)] or run
        scores = decision_scores([ctx.cands[c.sel[i]].text for i in whole], c.lexical[whole], c.dense[whole])
        first = whole[int(np.argmax(scores))]
        ranked = [whole[j] for j in np.argsort(-scores, kind="stable")]
        keep = np.r_[first, [i for i in keep if i != first]].astype(np.int64)
    passages = [ctx.cands[c.sel[i]] for i in keep]
    resp = passages[0]
    responses = tuple({"seg_id": s.seg_id, "doc_id": s.doc_id, "page": s.page, "start": s.start, "end": s.end,
                       "probability": round(float(prob[i]), 4), "coverage": round(float(c.lexical[i]), 4)}
                      for s, i in zip(passages[:MAX_RESPONSES], keep[:MAX_RESPONSES]))
    if match == "explicit":
        also: list[Segment] = []
        context = [ctx.cands[c.sel[i]] for i in ranked if i != first]
    else:
        also = [ctx.cands[c.sel[i]] for i in keep[1:STATUS_PASSAGES] if ctx.pool.gov[c.sel[i]]]
        context = _context(ctx, resp)
    status, cue, how = _status(rec, resp, context, also)
    p = float(prob[keep[0]])
    evidence = {"text": resp.text, "doc_id": resp.doc_id, "page": resp.page, "start": resp.start, "end": resp.end,
                "cue": cue, "rule": how}
    return Alignment(status=status, response_text=resp.text, response_id=resp.seg_id,
                     response_doc_id=resp.doc_id, response_page=resp.page, response_start=resp.start,
                     response_end=resp.end, score=round(p, 4), confidence=round(p, 3), cue=cue, candidates=top,
                     match=match, responses=responses, status_method=how,
                     response_block=block.to_json() if block else None, status_evidence=evidence, **base)


def answer_passages(ctx: AlignContext, al: Alignment) -> list[Segment]:
    """The government passages the status classifier reads, in print order: every candidate passage inside
    the answer block, or, for a retrieved answer, the best passage with its neighbours."""
    if al.response_block:
        b = al.response_block
        # A document's segments are in print order: walk out from the block's first passage to its edges.
        every = ctx.segments
        i = j = ctx.index_of[b["segments"][0]]
        while i > 0 and every[i - 1].doc_id == b["doc_id"] and every[i - 1].end > b["start"]:
            i -= 1
        while j + 1 < len(every) and every[j + 1].doc_id == b["doc_id"] and every[j + 1].start < b["end"]:
            j += 1
        segs = every[i:j + 1]
    else:
        best = ctx.segments[ctx.index_of[al.response_id]]
        segs = [best, *_context(ctx, best)]
    return sorted({s.seg_id: s for s in segs if _is_candidate(s)}.values(), key=lambda s: s.start)


def decide_status(ctx: AlignContext, al: Alignment, rec_segs: Sequence[Segment], model: StatusClassifier) -> Alignment:
    """Set the row's status from the trained classifier over its whole answer (the cue rules are features).

    ``status_evidence`` becomes the passage that decides, with its cue; the
    rules' own reading is kept beside it as ``rules``.
    """
    passages = answer_passages(ctx, al)
    if not passages:
        return al
    rv = np.mean([ctx.vectors[ctx.row_of[s.seg_id]] for s in rec_segs], axis=0)
    pv = np.stack([ctx.vectors[ctx.row_of[s.seg_id]] for s in passages])
    verdict = (al.response_block or {}).get("verdict") or None
    x = StatusInput(al.recommendation_text, rv, tuple(s.text for s in passages), pv,
                    verdict["text"] if verdict else None)
    d = model.decide(x)
    ev = passages[d.evidence] if d.evidence is not None else None
    rules = {"status": al.status, "cue": al.cue, "rule": al.status_method}
    evidence = {"text": ev.text, "doc_id": ev.doc_id, "page": ev.page, "start": ev.start, "end": ev.end,
                "cue": d.cue, "rule": d.rule, "probabilities": d.proba, "rules": rules} if ev else al.status_evidence
    return replace(al, status=d.status, status_confidence=d.confidence, cue=d.cue or al.cue,
                   status_method=f"{d.rule}+{model.model_id}", status_evidence=evidence)


def _best_run(ctx: AlignContext, c: Candidates, keep: np.ndarray) -> list[int]:
    """The contiguous run of a scattered structural block that holds its answer.

    A number can be mentioned in an introduction and answered pages later,
    so the passages are split into runs of neighbours; the run that prints a
    verdict, else the one with the most passages (the earliest on a tie), is
    the answer block.
    """
    pos = {int(i): ctx.index_of[ctx.cands[c.sel[i]].seg_id] for i in keep}
    by_pos = {p: i for i, p in pos.items()}
    runs = contiguous_runs(list(by_pos), RUN_GAP)

    def verdict(run: list[int]) -> bool:
        return any(is_verdict(ctx.segments[p].text) for p in run)

    best = max(runs, key=lambda r: (verdict(r), len(r), -r[0]))
    return [by_pos[p] for p in best]


def _context(ctx: AlignContext, seg: Segment) -> list[Segment]:
    i = ctx.index_of[seg.seg_id]
    return [s for s in ctx.segments[max(0, i - 2): i + 3] if s.doc_id == seg.doc_id and s.seg_id != seg.seg_id]
