"""match: recommendation -> the passages that answer it.

Structure first: the passages of its answer block (printed under its reprint
or its number in a document that answers its report, see :mod:`.blocks`).
Retrieval only where there is no block: every passage of the partner
documents is a candidate, scored by the trained reranker (:mod:`.rerank`) on
pair features computed over arrays; below its calibrated threshold nothing
answers.  A response may not predate the recommendation when both dates are
known, and a near-copy of the recommendation is never its answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..cues import GOV_VOICE_RE
from ..records import UNPAIRED, AnswerBlock, Document, Match, Pairing, Recommendation, Segment
from ..vocab import content_words, idf as word_idf, idf_share, label_key, parent_key
from .blocks import answer_block, answer_labels, best_run, explicit_answers, is_candidate
from .pair import unpaired
from .recommendations import Folded
from .rerank import PoolText, Reranker, is_gov, pair_features, pool_text
from .settings import DEFAULT, AlignSettings

BULLET_START_RE = re.compile(r"\s*(?:[-•*▪◦●]|\(?[a-z0-9]{1,3}[.)])\s")
GOV_LEADIN_RE = re.compile(r"(?i)\b(?:government|department|minister|strategy)(?:'s|’s)?\b.*\b(?:proposals?|plans?|"
                           r"commitments?|actions?|reforms?|measures|will|would|include|includes|including)\b")


def section_words(title: str | None) -> set[str]:
    """Topic words of a section title; numbers are left out, since "Recommendation 5" would match by label."""
    return {w for w in content_words(title or "") if w[0].isalpha()}


def list_voice(docs: dict[str, Document], segments: Sequence[Segment]) -> list[bool]:
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


def _term_matrix(words: Sequence[list[str]], vocab: dict[str, int]):
    """Binary candidates x vocabulary matrix (CSR)."""
    from scipy.sparse import csr_matrix

    rows, cols = [], []
    for i, ws in enumerate(words):
        for j in sorted({vocab[w] for w in ws}):
            rows.append(i)
            cols.append(j)
    return csr_matrix((np.ones(len(rows), np.float64), (rows, cols)), shape=(len(words), len(vocab)))


@dataclass(frozen=True)
class Pool:
    """Every candidate passage of a run, with what retrieval and the features need, computed once."""

    segments: tuple[Segment, ...]
    index_of: dict[str, int]
    vectors: np.ndarray
    row_of: dict[str, int]
    dates: dict[str, str | None]
    pairing: Pairing
    explicit: dict[str, set[str]]       # canonical recommendation -> passages structure says answer it
    cands: tuple[Segment, ...]
    cand_rows: np.ndarray
    text: PoolText
    idf: dict[str, float]
    cand_date: np.ndarray               # running publication date, "" when unknown
    cand_index: dict[str, int]          # seg_id -> candidate row
    label_cands: dict[str, np.ndarray]  # recommendation number -> candidate rows printed under it
    label_docs: dict[str, set[str]]     # recommendation number -> documents that print answers under it
    terms: object                       # scipy CSR, candidates x vocabulary, 1 where the word occurs
    vocab: dict[str, int]


def build_pool(docs: dict[str, Document], folded: Folded, vectors: np.ndarray, row_of: dict[str, int],
               dates: dict[str, str | None], pairing: Pairing, settings: AlignSettings = DEFAULT) -> Pool:
    """The candidate passages and their arrays; the answer blocks by reprint and by number."""
    segments = list(folded.segments)
    gov = list_voice(docs, segments)
    keep = [i for i, s in enumerate(segments) if is_candidate(s, settings.blocks) and s.seg_id not in folded.copies]
    cands = [segments[i] for i in keep]
    words = [content_words(s.text) for s in cands]
    idf = word_idf(words)
    text = pool_text(cands, words, [section_words(s.section) for s in cands], [gov[i] for i in keep])
    labels = answer_labels(segments, settings.blocks)
    label_rows: dict[str, list[int]] = {}
    label_docs: dict[str, set[str]] = {}
    for i, s in enumerate(cands):
        for lab in labels.get(s.seg_id, ()):
            label_rows.setdefault(lab, []).append(i)
    for s in segments:
        for lab in labels.get(s.seg_id, ()):
            label_docs.setdefault(lab, set()).add(s.doc_id)
    vocab = {w: j for j, w in enumerate(sorted(idf))}
    answering = frozenset(d for d, r in pairing.roles.items() if r.role == "response")
    explicit = explicit_answers(segments, folded.quotes, answering, folded.anchors, settings.blocks)
    return Pool(tuple(segments), {s.seg_id: i for i, s in enumerate(segments)}, vectors, row_of, dates, pairing,
                explicit, tuple(cands), np.array([row_of[s.seg_id] for s in cands], dtype=np.int64), text, idf,
                np.array([dates.get(s.seg_id) or "" for s in cands], dtype=str),
                {s.seg_id: i for i, s in enumerate(cands)},
                {k: np.array(v, dtype=np.int64) for k, v in label_rows.items()}, label_docs,
                _term_matrix(words, vocab), vocab)


@dataclass(frozen=True)
class Candidates:
    """One recommendation's candidate passages: pool rows, scores and pair features."""

    sel: np.ndarray        # rows of pool.cands
    dense: np.ndarray
    lexical: np.ndarray
    explicit: np.ndarray   # bool: structure says this passage answers the recommendation
    features: np.ndarray


def answered_key(pool: Pool, key: str | None, rec_doc: str) -> str | None:
    """The recommendation number that another document answers under: the label itself or its parent.

    A response often answers "6a" as a whole where the report splits it into
    "6a i", "6a ii"; the items then share the parent's answer.
    """
    while key:
        if pool.label_docs.get(key, set()) - {rec_doc}:
            return key
        key = parent_key(key)
    return None


def candidates(pool: Pool, rec: Segment, settings: AlignSettings = DEFAULT) -> Candidates:
    """Passages of the recommendation's partner documents that may answer it, with their pair features.

    Retrieved passages dated before the recommendation are dropped (a
    response cannot predate what it answers); so are near-copies of it (a reprint is no
    answer).  Retrieval keeps the explicit matches and the ``pool_k`` best by
    ``dense_weight x cosine + (1 - dense_weight) x IDF word overlap``; only
    those get the full pair features the reranker reads.
    """
    ms = settings.match
    allowed = sorted(set(pool.pairing.partners.get(rec.doc_id, (rec.doc_id,))))
    n = len(pool.cands)
    cand_doc = pool.text.doc_ids
    mask = np.isin(cand_doc, allowed) if n else np.zeros(0, bool)
    exp = np.zeros(n, bool)
    for sid in pool.explicit.get(rec.seg_id, ()):
        if sid in pool.cand_index:
            exp[pool.cand_index[sid]] = True
    key = answered_key(pool, label_key(rec.label), rec.doc_id)
    if key is not None and key in pool.label_cands:
        rows = pool.label_cands[key]
        # Numbers are common to all numbered documents: only a document that answers this one by structure
        # (reprints, its numbers' content, a response to it) answers by number.
        rows = rows[np.isin(cand_doc[rows], sorted(pool.pairing.answerers.get(rec.doc_id, ())))]
        exp[rows] = True
    rec_date = pool.dates.get(rec.seg_id)
    mask |= exp
    if rec_date:
        # Dates filter retrieval only: a web print's "Updated" date is no publication date, and an answer
        # printed under the recommendation's reprint or number answers it whatever the dates say.
        early = (pool.cand_date != "") & (pool.cand_date < rec_date)
        mask &= ~early if ms.dates_filter_structure else ~(early & ~exp)
        exp = exp & mask
    idx = np.flatnonzero(mask)
    rec_vec = pool.vectors[pool.row_of[rec.seg_id]]
    dense = (pool.vectors[pool.cand_rows[idx]] @ rec_vec).astype(np.float32) if len(idx) else np.zeros(0, np.float32)
    # A passage that repeats the recommendation (a reprint's continuation) is not its answer.
    fresh = dense < settings.recommendations.quote_threshold
    idx, dense = idx[fresh], dense[fresh]
    rec_words = content_words(rec.text)
    lex = _lexical(pool, rec_words, idx)
    if len(idx) > ms.pool_k:
        first = ms.dense_weight * dense + (1 - ms.dense_weight) * lex
        top = np.argsort(-first, kind="stable")[:ms.pool_k]
        keep = np.zeros(len(idx), bool)
        keep[top] = True
        keep |= exp[idx]
        idx, dense, lex = idx[keep], dense[keep], lex[keep]
    rset = set(rec_words)
    lex_rev = np.array([idf_share(pool.text.word_sets[i], rset, pool.idf) for i in idx], dtype=np.float32)
    feats = pair_features(rec, rec_words, section_words(rec.section), dense, lex, lex_rev,
                          pool.text, idx, pool.idf, content_words(rec.action or ""))
    return Candidates(idx, dense, lex, exp[idx], feats)


def _lexical(pool: Pool, rec_words: Sequence[str], idx: np.ndarray) -> np.ndarray:
    """IDF-weighted share of ``rec_words`` in candidate rows ``idx``, as one sparse product."""
    qset = set(rec_words)
    total = sum(pool.idf.get(w, 1.0) for w in qset) or 1.0
    q = np.zeros(len(pool.vocab))
    for w in qset:
        if w in pool.vocab:
            q[pool.vocab[w]] = pool.idf[w]
    if not len(idx):
        return np.zeros(0, np.float32)
    return (np.asarray(pool.terms[idx] @ q).ravel() / total).astype(np.float32)  # type: ignore[index]


def match(pool: Pool, docs: dict[str, Document], rec: Recommendation, reranker: Reranker,
          settings: AlignSettings = DEFAULT) -> Match:
    """The passages that answer one recommendation, best first, and how they were found.

    Its answer block when structure gives one (the run of it that prints a
    verdict, else the longest); otherwise the candidates the reranker puts
    at or above its threshold; otherwise nothing (``none``), or ``unpaired``
    when no document of the run answers its report.
    """
    seg = pool.segments[pool.index_of[rec.rec_id]]
    c = candidates(pool, seg, settings)
    pairing = pool.pairing
    if not c.explicit.any() and unpaired(rec.doc_id, pairing.roles, list(pairing.partners.get(rec.doc_id, ()))):
        return Match(rec.rec_id, UNPAIRED, score=0.0)
    prob = reranker.score(c.features)
    order = np.argsort(-prob, kind="stable")
    top = tuple({"seg_id": pool.cands[c.sel[i]].seg_id, "probability": round(float(prob[i]), 4),
                 "dense": round(float(c.dense[i]), 4), "lexical": round(float(c.lexical[i]), 4)}
                for i in order[:settings.match.top_k])
    if c.explicit.any():
        keep, method = np.flatnonzero(c.explicit), "explicit"
    else:
        keep, method = np.flatnonzero(prob >= reranker.threshold), "retrieval"
    if not len(keep):
        best = float(prob[order[0]]) if len(order) else 0.0
        return Match(rec.rec_id, "none", score=round(best, 4), candidates=top)
    keep = keep[np.argsort(-prob[keep], kind="stable")]
    block: AnswerBlock | None = None
    if method == "explicit":
        pos = {pool.index_of[pool.cands[c.sel[i]].seg_id]: int(i) for i in keep}
        run = [pos[p] for p in best_run(list(pos), pool.segments, settings.blocks)]
        first = pool.cands[c.sel[run[0]]]
        block = answer_block(docs[first.doc_id], [pool.cands[c.sel[i]] for i in run])
    return Match(rec.rec_id, method, passages=tuple(pool.cands[c.sel[i]].seg_id for i in keep),
                 probabilities=tuple(round(float(prob[i]), 4) for i in keep),
                 coverage=tuple(round(float(c.lexical[i]), 4) for i in keep), block=block,
                 score=round(float(prob[keep[0]]), 4), candidates=top)


def context(pool: Pool, seg: Segment) -> list[Segment]:
    """The passages around a retrieved answer in its document (two before, two after)."""
    i = pool.index_of[seg.seg_id]
    return [s for s in pool.segments[max(0, i - 2): i + 3] if s.doc_id == seg.doc_id and s.seg_id != seg.seg_id]
