"""Alignment: each recommendation -> the passage that answers it, a status and its evidence.

The stages, in the order one recommendation passes through them; each owns
one decision and hands frozen records to the next, and imports run one way:

1. :mod:`.roles` -- what each document is: report, response, briefing or other.
2. :mod:`.pair` -- which response answers which report (a briefing answers itself).
3. :mod:`.recommendations` -- each report's canonical recommendations, their copies folded in.
4. :mod:`.blocks` -- a response's answer blocks, under each recommendation's reprint or number.
5. :mod:`.match` -- recommendation -> its block, or retrieval (:mod:`.rerank`) where there is none.
6. :mod:`.decide` -- the passage of the answer that carries the decision.
7. :mod:`.status` -- the status (the gap included), by the model :func:`align` is given.

Thresholds and weights live in :mod:`.settings`; vocabulary in :mod:`reviewnlp.vocab`
and :mod:`reviewnlp.cues`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..records import UNPAIRED, Alignment, Document, Match, Pairing, Recommendation, Segment
from .blocks import block_passages
from .decide import deciding_passage
from .match import Pool, build_pool, context, match
from .pair import pair_documents, pairing_report, segment_dates
from .recommendations import Folded, canonical_recommendations
from .rerank import Reranker, load as load_reranker
from .roles import assign_roles, copied_pairs
from .settings import DEFAULT, AlignSettings, settings_key
from .status import RulesBaseline, StatusModel, decide_status, default_model
from .status_model import StatusDecision, StatusInput

METHOD = "stages-v4"

__all__ = ["METHOD", "AlignSettings", "DEFAULT", "RulesBaseline", "StatusModel", "align", "prepare", "settings_key"]


def prepare(docs: Sequence[Document], segments: Sequence[Segment], vectors: np.ndarray, row_of: dict[str, int],
            settings: AlignSettings = DEFAULT) -> tuple[Pairing, Folded, Pool]:
    """Stages 1-4 for a whole run: roles, pairing, canonical recommendations, and the pool with its blocks."""
    doc_by_id = {d.doc_id: d for d in docs}
    by_doc: dict[str, list[Segment]] = {}
    for s in segments:
        by_doc.setdefault(s.doc_id, []).append(s)
    dates: dict[str, str | None] = {}
    for d in docs:
        dates.update(segment_dates(d, by_doc.get(d.doc_id, [])))
    copies = copied_pairs({d.doc_id: by_doc.get(d.doc_id, []) for d in docs}, vectors, row_of, settings.roles)
    roles = assign_roles(docs, by_doc, vectors, row_of, settings.roles, copies)
    paired = pair_documents(docs, by_doc, vectors, row_of, roles, copies, settings=settings.pair)
    folded = canonical_recommendations(doc_by_id, segments, vectors, row_of, paired, settings.recommendations)
    return paired, folded, build_pool(doc_by_id, folded, vectors, row_of, dates, paired, settings)


def align(docs: Sequence[Document], segments: Sequence[Segment], vectors: np.ndarray, row_of: dict[str, int],
          reranker: Reranker | None = None, status_model: StatusModel | None = None, pairing: dict | None = None,
          settings: AlignSettings = DEFAULT) -> list[Alignment]:
    """Align every recommendation to the passages that answer it; one Alignment per canonical recommendation.

    ``status_model`` decides the status of answered rows (the shipped
    classifier unless given; :class:`RulesBaseline` is the cue rules).
    ``pairing``, when given, receives each document's role and partners.
    """
    reranker = reranker or load_reranker()
    status_model = status_model or default_model()
    paired, folded, pool = prepare(docs, segments, vectors, row_of, settings)
    doc_by_id = {d.doc_id: d for d in docs}
    if pairing is not None:
        pairing.update(pairing_report(paired, doc_by_id))
    out = []
    for rec in folded.recommendations:
        m = match(pool, doc_by_id, rec, reranker, settings)
        passages, deciding = decide(pool, rec, m, folded.copies, settings)
        x = status_input(pool, rec, m, passages, deciding)
        status, rules = decide_status(m, x, status_model, settings.status)
        out.append(to_alignment(pool, doc_by_id[rec.doc_id], rec, m, passages, deciding, status, rules,
                                status_model.model_id, reranker.model_id, settings))
    return out


def rec_vector(pool: Pool, rec: Recommendation) -> np.ndarray:
    """The recommendation's vector: the mean of its segments' (the lead-in and its items)."""
    return np.mean([pool.vectors[pool.row_of[sid]] for sid in rec.segments], axis=0)


def decide(pool: Pool, rec: Recommendation, m: Match, copies: frozenset[str],
           settings: AlignSettings = DEFAULT) -> tuple[list[Segment], int | None]:
    """The answer's government passages in print order, and which of them decides (stage 6).

    An answer block's passages are every candidate inside it (copies of
    report text excluded), and :func:`.decide.deciding_passage` picks one.
    A retrieved answer is the reranker's best passage with its neighbours;
    the reranker's pick decides.
    """
    if m.method == "explicit" and m.block is not None:
        block = m.block.to_json()
        passages = [s for s in block_passages(list(pool.segments), pool.index_of, block, settings.blocks)
                    if s.seg_id not in copies]
        if not passages:
            passages = [pool.segments[pool.index_of[sid]] for sid in block["segments"]]
        vecs = np.stack([pool.vectors[pool.row_of[s.seg_id]] for s in passages])
        return passages, deciding_passage(rec.text, rec_vector(pool, rec), [s.text for s in passages], vecs,
                                          settings.decide, pool.idf)
    if m.method == "retrieval":
        best = pool.segments[pool.index_of[m.passages[0]]]
        return [best, *context(pool, best)], 0
    return [], None


def status_input(pool: Pool, rec: Recommendation, m: Match, passages: Sequence[Segment],
                 deciding: int | None) -> StatusInput | None:
    """What the status model reads for one row (None for no answer)."""
    if not passages:
        return None
    verdict = (m.block.verdict if m.block else None) or None
    return StatusInput(rec.text, rec_vector(pool, rec), tuple(s.text for s in passages),
                       np.stack([pool.vectors[pool.row_of[s.seg_id]] for s in passages]),
                       verdict["text"] if verdict else None, deciding)


def _span(s: Segment) -> dict:
    return {"text": s.text, "doc_id": s.doc_id, "page": s.page, "start": s.start, "end": s.end}


def to_alignment(pool: Pool, doc: Document, rec: Recommendation, m: Match, passages: Sequence[Segment],
                 deciding: int | None, status: StatusDecision, rules: StatusDecision | None, status_model_id: str,
                 reranker_id: str, settings: AlignSettings = DEFAULT) -> Alignment:
    """The row of ``alignments.jsonl`` for one recommendation, with its provenance."""
    seg = pool.segments[pool.index_of[rec.rec_id]]
    base = dict(recommendation_text=rec.text, rec_id=rec.rec_id, rec_doc_id=rec.doc_id, rec_page=seg.page,
                rec_start=rec.start, rec_end=rec.end, body=rec.body, label=seg.label,
                method=f"{METHOD}+{reranker_id}", rec_copies=rec.copies)
    if seg.footnotes:
        base["rec_sources"] = tuple({"footnote": f.number, "source": f.source, "cited_pages": f.cited_pages,
                                     "text": f.text} for f in doc.footnotes_in(rec.start, rec.end))
    if deciding is None:
        confidence = 1.0 if m.method == UNPAIRED else round(1.0 - m.score, 3)
        return Alignment(status=status.status, response_text=None, score=m.score, confidence=confidence,
                         candidates=m.candidates, match=m.method, status_method=f"{m.method}",
                         needs_review=m.method == "none", **base)
    resp = passages[deciding]
    prob = dict(zip(m.passages, m.probabilities))
    cover = dict(zip(m.passages, m.coverage))
    order = [resp.seg_id, *(sid for sid in m.passages if sid != resp.seg_id)][:settings.match.max_responses]
    responses = tuple({**{k: v for k, v in _span(s).items() if k != "text"}, "seg_id": s.seg_id,
                       "probability": prob.get(s.seg_id, m.score), "coverage": cover.get(s.seg_id, 0.0)}
                      for s in (pool.segments[pool.index_of[sid]] for sid in order))
    p = float(prob.get(resp.seg_id, m.score))
    rules_json = {"status": rules.status, "cue": rules.cue, "rule": rules.rule} if rules else None
    evidence = {**_span(resp), "cue": status.cue, "rule": status.rule, "probabilities": status.proba,
                "rules": rules_json}
    return Alignment(status=status.status, response_text=resp.text, response_id=resp.seg_id,
                     response_doc_id=resp.doc_id, response_page=resp.page, response_start=resp.start,
                     response_end=resp.end, score=round(p, 4), confidence=round(p, 3),
                     cue=status.cue or (rules.cue if rules else None), candidates=m.candidates, match=m.method,
                     responses=responses, status_confidence=status.confidence,
                     status_method=f"{status.rule}+{status_model_id}",
                     response_block=m.block.to_json() if m.block else None, status_evidence=evidence,
                     needs_review=status.confidence < settings.status.review_below, **base)
