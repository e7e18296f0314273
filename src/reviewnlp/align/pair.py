"""pair: which documents answer which report, given the roles.

A report's recommendations are answered by the responses (or other documents)
that print them, answer under their numbers, or, failing structure, whose
government statements are closest to them; a briefing answers its own
reported recommendations; a response with no report among the inputs answers
the recommendations it quotes.  A report never answers anything.  Pure
functions over records and vector arrays.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from ..cues import is_gov_voice
from ..extract.clean import DATE_RE, first_date
from ..records import Document, Pairing, Role, Segment
from ..vocab import is_verdict, printed_number
from .settings import DEFAULT, PairSettings

PUBLICATION_RE = re.compile(r"\b(?:publish|published|publication|statement|response|responded|report)\b", re.I)


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


def document_partners(doc_ids: Sequence[str], rec_rows: dict[str, list[int]], cand_rows: dict[str, list[int]],
                      vectors: np.ndarray, roles: dict[str, Role], docs: dict[str, Document],
                      settings: PairSettings = DEFAULT.pair) -> dict[str, list[str]]:
    """For each document with recommendations, the documents whose statements may answer them.

    Affinity of (d, j) is the mean, over d's recommendations, of the best cosine
    to j's government statements, minus j's mean affinity to the other
    documents: a long response full of generic government language is close to
    everything, and only what rises above that says j answers d.  Partners are
    within ``margin`` of d's best centred affinity and at least ``lift`` above
    zero.  Fewer than four documents with recommendations are compared raw.
    d's own statements count unless a partner is a response to d: then they
    are background.  A report's statements answer no other document.
    """
    margin, lift = settings.partner_margin, settings.partner_lift
    rec_docs = [d for d in doc_ids if rec_rows.get(d)]
    cand_docs = [j for j in doc_ids if cand_rows.get(j)]
    raw = {(d, j): float(np.mean(np.max(vectors[rec_rows[d]] @ vectors[cand_rows[j]].T, axis=1)))
           for d in rec_docs for j in cand_docs}
    out: dict[str, list[str]] = {}
    for d in rec_docs:
        centred = {}
        for j in cand_docs:
            if j != d and roles[j].role == "report":
                continue
            others = [raw[(e, j)] for e in rec_docs if e not in (d, j)]
            # Centring needs a few other documents to say what "generic" looks like; with fewer, raw
            # affinities compare fairly and centring one column but not another would not.
            centred[j] = raw[(d, j)] - (float(np.mean(others)) if len(rec_docs) >= 4 else 0.0)
        if not centred:
            out[d] = []
            continue
        best = max(centred.values())
        close = [j for j, a in centred.items() if a >= best - margin and a >= lift]
        responders = [j for j in close if j != d and responds_to(j, d, roles, docs)]
        out[d] = sorted(set(close) - ({d} if responders else set())) or [max(centred, key=centred.get)]
    return out


def responds_to(j: str, d: str, roles: dict[str, Role], docs: dict[str, Document]) -> bool:
    """True when document ``j`` may be a response to ``d``: by their roles, else by their dates.

    A report answers nothing; a response answers anything but another response.
    """
    rj, rd = roles[j].role, roles[d].role
    if rj == "report" or j == d:
        return False
    if rj == "response" and rd != "response":
        return True
    dj, dd = docs[j].date, docs[d].date
    return bool(dj and dd and dj > dd)


def holds_originals(d: str, j: str, roles: dict[str, Role], docs: dict[str, Document],
                    by_doc: dict[str, list[Segment]]) -> bool:
    """True when document ``d`` holds the originals of the recommendations that ``j`` reprints.

    Roles decide (a report or briefing over a response); between equals, the
    earlier document, and without dates the one with more recommendations.
    """
    rank = {"report": 0, "briefing": 1, "other": 2, "response": 3}
    rd, rj = rank[roles[d].role], rank[roles[j].role]
    if rd != rj:
        return rd < rj
    dd, dj = docs[d].date, docs[j].date
    if dd and dj and dd != dj:
        return dd < dj
    return (len(by_doc.get(d, [])), d) > (len(by_doc.get(j, [])), j)


def unpaired(d: str, roles: dict[str, Role], partners: Sequence[str]) -> bool:
    """True when a report was left without any document that answers it.

    A briefing or strategy answers its own reported recommendations, but a
    report that pairs only with itself has no answer in the run: its own
    mentions of the government are background, not responses.
    """
    return roles[d].role == "report" and list(partners) in ([], [d])


def pair_documents(docs: Sequence[Document], by_doc: dict[str, list[Segment]], vectors: np.ndarray,
                   row_of: dict[str, int], roles: dict[str, Role], copies: dict[tuple[str, str], int],
                   gov_kinds: Sequence[str] = ("commitment", "response"),
                   settings: PairSettings = DEFAULT.pair) -> Pairing:
    """Which documents answer each document's recommendations, and why.

    Affinity of government statements first (:func:`document_partners`).
    Then structure, which wins over it, and d's own statements become
    background:
    - a document that reprints at least ``min_reprints`` of d's
      recommendations (``copies``, from the roles stage) answers d, unless d
      is the one reprinting (:func:`holds_originals`);
    - an affinity partner, or a response, that prints at least
      ``min_numbers`` of d's recommendation numbers answers d when the
      passages under them are about the same-numbered recommendations
      (:func:`_numbers_match`) and speak for the government at least as
      often as d's own numbered passages do.
    A response that answers a report of the run is not paired itself (its
    copies are anchors); one alone answers what it quotes.
    """
    doc_by_id = {d.doc_id: d for d in docs}
    doc_ids = list(by_doc)
    rec_rows = {d: [row_of[s.seg_id] for s in by_doc[d] if s.kind == "recommendation"] for d in doc_ids}
    gov_rows = {d: [row_of[s.seg_id] for s in by_doc[d] if s.kind in gov_kinds] for d in doc_ids}
    partners = document_partners(doc_ids, rec_rows, gov_rows, vectors, roles, doc_by_id, settings)
    numbered = number_partners(by_doc, settings)
    why_of: dict[str, dict[str, str]] = {}
    for d in sorted(partners):
        why = {j: "its own statements" if j == d else "closest government statements" for j in partners[d]}
        found = {j: f"reprints {n} of its recommendations" for (a, j), n in sorted(copies.items())
                 if a == d and roles[j].role != "report" and holds_originals(d, j, roles, doc_by_id, by_doc)}
        for j, n in numbered.get(d, {}).items():
            # Numbers are common to every numbered report, so they only confirm a partner that its statements or
            # its role already found, and only when the passages under them are about the same-numbered
            # recommendations; of two documents printing the same numbers, the one whose numbered passages speak
            # for the government answers, never one whose recommendations d itself reprints.
            reverse = (j, d) in copies and holds_originals(j, d, roles, doc_by_id, by_doc)
            known = j in why or responds_to(j, d, roles, doc_by_id)
            if (known and j not in found and not reverse and roles[j].role != "report"
                    and _answering(by_doc[j]) >= _answering(by_doc[d])
                    and _numbers_match(by_doc[d], by_doc[j], vectors, row_of)):
                found[j] = f"answers {n} of its recommendation numbers"
        if found:
            why.pop(d, None)
            why.update(found)
        why_of[d] = {j: why[j] for j in sorted(why)}
    # A report whose own recommendations the segmenter missed (plain summary paragraphs) is still answered
    # by the response that reprints them as recommendations.
    for (a, b), n in sorted(copies.items()):
        if roles[a].role == "response" and roles[b].role == "report" and a not in why_of.get(b, {}):
            why = why_of.setdefault(b, {})
            why.pop(b, None)
            why[a] = f"reprints {n} of its recommendations"
            why_of[b] = {j: why[j] for j in sorted(why)}
    # Who answers a report by structure: a partner that reprints its recommendations or answers under its numbers
    # (a response that is only close in wording answers by retrieval).  A briefing answering itself is none.
    answerers = {d: tuple(sorted(j for j, w in js.items() if j != d and w.startswith(("reprints", "answers"))))
                 for d, js in why_of.items()}
    responders = {j for js in answerers.values() for j in js}  # Pairing.responders, before the Pairing exists
    for d in sorted(why_of):
        if d in responders and roles[d].role == "response":
            del why_of[d]  # it answers a report of the run: its quotes are anchors, not recommendations
            answerers.pop(d, None)
        elif roles[d].role == "response":
            why_of[d] = {d: "its own statements (a response with no report among the inputs)"}
            answerers[d] = ()
    return Pairing(partners={d: tuple(w) for d, w in why_of.items()}, why=why_of, answerers=answerers,
                   roles=dict(roles))


def _numbers_match(d_segs: Sequence[Segment], j_segs: Sequence[Segment], vectors: np.ndarray,
                   row_of: dict[str, int]) -> bool:
    """True when j's passages under d's numbers are about d's recommendations of those numbers.

    An answer printed under "Recommendation 2" is closer to recommendation 2
    than to the others: for at least half of the shared numbers, the
    passages' closest recommendation is the one with their number, and
    same-numbered pairs are closer on average than the rest.  Between
    unrelated numbered documents the numbers match and the content does not
    (on the bundled corpus: 100% for each true pair, at most 33% otherwise).
    """
    def by_key(segs: Sequence[Segment], block: bool) -> dict[str, list[int]]:
        # With ``block``, each number keeps the passages printed under it up to the next number:
        # "Recommendation 2" over "Not accepted." is answered in the sentences that follow.
        out: dict[str, list[int]] = {}
        key = None
        for s in segs:
            if printed_number(s.label):
                key = printed_number(s.label)
            elif not block:
                continue
            if key:
                out.setdefault(key, []).append(row_of[s.seg_id])
        return out

    kd, kj = by_key(d_segs, False), by_key(j_segs, True)
    keys = sorted(set(kd) & set(kj))
    if len(keys) < 2:
        return False
    sim = np.array([[float(np.max(vectors[kd[a]] @ vectors[kj[b]].T)) for b in keys] for a in keys])
    hits = float(np.mean(np.argmax(sim, axis=0) == np.arange(len(keys))))
    same, other = float(np.mean(np.diag(sim))), float((sim.sum() - np.trace(sim)) / (len(keys) * (len(keys) - 1)))
    return hits >= 0.5 and same > other


def _answering(segs: Sequence[Segment]) -> int:
    """How many of a document's numbered passages answer: a verdict ("Not accepted.") or the government's voice."""
    return sum(1 for s in segs if printed_number(s.label) and (is_verdict(s.text) or is_gov_voice(s.text)))


def _formal_keys(segs: Sequence[Segment]) -> set[str]:
    """The numbers a document prints as "Recommendation N" labels."""
    return {k for k in (printed_number(s.label) for s in segs) if k}


def number_partners(by_doc: dict[str, list[Segment]], settings: PairSettings = DEFAULT.pair) -> dict[str, dict[str, int]]:
    """For each document with numbered recommendations, the others that print at least ``min_numbers`` of its numbers.

    A scanned or bare response may answer "Recommendation 1", "Recommendation
    2", ... without reprinting them; the shared numbers pair it with the report.
    """
    keys = {d: _formal_keys(segs) for d, segs in by_doc.items()}
    out: dict[str, dict[str, int]] = {}
    for d, kd in keys.items():
        if len(kd) < settings.min_numbers:
            continue
        for j, kj in keys.items():
            n = len(kd & kj)
            if j != d and n >= settings.min_numbers:
                out.setdefault(d, {})[j] = n
    return out


def pairing_report(pairing: Pairing, docs: dict[str, Document]) -> dict[str, dict]:
    """Each document's role and why, and which documents answer its recommendations and why, keyed by document id."""
    out = {}
    for d in sorted(docs):
        doc, role = docs[d], pairing.roles.get(d)
        entry: dict = {"path": doc.path, "role": role.role if role else None, "role_why": list(role.why) if role else [],
                       "author": role.author if role else None}
        if d in pairing.why:
            entry["partners"] = [{"doc_id": j, "path": docs[j].path if j in docs else None, "why": w}
                                 for j, w in pairing.why[d].items()]
            entry["unpaired"] = unpaired(d, pairing.roles, list(pairing.partners.get(d, ())))
        out[d] = entry
    return out
