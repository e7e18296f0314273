"""Which documents answer which, and which recommendations are reprints of others.

A document's recommendations are answered by partner documents (a response,
or the briefing itself); a recommendation repeated in a closing list, or
reprinted in a response (verbatim, or under the same number), is folded
into the original.  Pure functions over records and vector arrays.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np

from .extract.clean import DATE_RE, first_date
from .records import Document, Segment
from .segment import OUTLINE_LABEL_RE

# Document pairing (see document_partners) and near-verbatim reprint detection.
PARTNER_MARGIN = 0.05
PARTNER_LIFT = 0.05
QUOTE_THRESHOLD = 0.9

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


def label_key(label: str | None) -> str | None:
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
        responders = [j for j in close if j != d and responds_to(docs.get(j), docs.get(d))]
        out[d] = sorted(set(close) - ({d} if responders else set())) or [max(centred, key=centred.get)]
    return out


# A document printing at least this many of another's recommendations (cosine >= REPRINT_COSINE)
# answers it, whatever its title, date or page furniture says.
MIN_REPRINTS = 2
REPRINT_COSINE = 0.85


def reprint_partners(doc_ids: Sequence[str], rec_rows: dict[str, list[int]], all_rows: dict[str, list[int]],
                     vectors: np.ndarray) -> dict[str, dict[str, int]]:
    """For each document with recommendations, the other documents that reprint them, with how many.

    A response quotes the recommendations it answers; its quotes are near
    copies of the report's sentences, so they pair a report with its
    response when a web print's furniture, OCR or a bare title hides what
    the document is.  Any segment counts as a reprint, since the response's
    quote may be classified as anything.
    """
    out: dict[str, dict[str, int]] = {}
    for d in doc_ids:
        if not rec_rows.get(d):
            continue
        recs = vectors[rec_rows[d]]
        for j in doc_ids:
            if j == d or not all_rows.get(j):
                continue
            best = np.max(vectors[all_rows[j]] @ recs.T, axis=0)
            n = int((best >= REPRINT_COSINE).sum())
            if n >= MIN_REPRINTS:
                out.setdefault(d, {})[j] = n
    return out


RESPONSE_TITLE_RE = re.compile(r"\b(?:response|reply|responds|decision)\b", re.I)
RESPONSE_ONLY_RE = re.compile(r"\b(?:response|reply)\b", re.I)


def responds_to(j: Document | None, d: Document | None) -> bool:
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


def titled_response(doc: Document | None) -> bool:
    """True when the document's title or file name says it is a response or reply."""
    return doc is not None and bool(RESPONSE_ONLY_RE.search(f"{doc.title} {Path(doc.path).name}"))


def label_quotes(recs: Sequence[Segment], quotes: dict[str, str], docs: dict[str, Document],
                 answerers: dict[str, frozenset[str]] | None = None) -> dict[str, str]:
    """Fold a response document's numbered recommendations into the report's by number.

    A response reprints "Recommendation 7" in its own words (abridged or
    paraphrased), so cosine misses it; the number does not.  Only documents
    that answer the report (``answerers``, from pairing; without it, see
    ``responds_to``) fold, and only numbers that name exactly one original:
    in a mixed corpus every numbered response shares numbers with every report.
    """
    by_key: dict[tuple[str, str], list[Segment]] = {}
    for r in recs:
        key = label_key(r.label)
        if key and r.seg_id not in quotes:
            by_key.setdefault((r.doc_id, key), []).append(r)
    out: dict[str, str] = {}
    for r in recs:
        key = label_key(r.label)
        if not key or r.seg_id in quotes:
            continue
        originals = [o for (d, k), items in by_key.items() if k == key and d != r.doc_id
                     and (r.doc_id in answerers.get(d, ()) if answerers is not None
                          else responds_to(docs.get(r.doc_id), docs.get(d))) for o in items]
        if len({o.doc_id for o in originals}) == 1 and len(originals) >= 1:
            out[r.seg_id] = originals[0].seg_id
    return out


def contained_copies(recs: Sequence[Segment], quotes: dict[str, str], min_words: int = 5) -> dict[str, str]:
    """Fold a recommendation whose words stand inside an earlier one of the same document.

    A report that repeats its recommendations in a closing list splits them
    differently from the chapter: a list item's second sentence ("This
    should be put in place within 12 months") is a copy of part of the
    chapter's recommendation, not a recommendation of its own.  Repeats of
    at least ``min_words`` words fold into the earlier recommendation (or
    what it folds into).
    """
    from .evaluate import fold

    out: dict[str, str] = {}
    seen: dict[str, list[tuple[str, str]]] = {}
    for r in sorted(recs, key=lambda r: (r.doc_id, r.start)):
        text = fold(r.text)
        earlier = seen.setdefault(r.doc_id, [])
        if r.seg_id not in quotes and len(text.split()) >= min_words:
            hit = next((sid for sid, t in earlier if text in t), None)
            if hit is not None:
                out[r.seg_id] = quotes.get(hit, out.get(hit, hit))
        earlier.append((r.seg_id, text))
    return out


def list_continuations(segments: Sequence[Segment], docs: dict[str, Document]) -> dict[str, str]:
    """Fold the later sentences of a numbered recommendation in a recommendations list into it.

    In a list of recommendations ("Appendix 4: List of recommendations"), an
    item's further sentences ("This should be put in place within 12
    months") finish the numbered recommendation above them; they are not
    recommendations of their own.  Outside such a section nothing folds.
    """
    from .segment import recommendation_sections

    spans = {d: recommendation_sections(doc) for d, doc in docs.items()}
    out: dict[str, str] = {}
    head: Segment | None = None
    for s in segments:
        in_list = any(a <= s.start < b for a, b in spans.get(s.doc_id, ()))
        if not in_list or (head is not None and (head.doc_id != s.doc_id or head.section != s.section)):
            head = None
        if s.kind != "recommendation" or not in_list:
            continue
        if s.label:
            head = s
        elif head is not None:
            out[s.seg_id] = head.seg_id
    return out


REPORT_TITLE_RE = re.compile(r"\b(?:report|inquiry|review)\b", re.I)
NOT_REPORT_RE = re.compile(r"\b(?:briefing|response|reply|strategy|decision|consultation|white paper|plan)\b", re.I)


def unpaired(doc: Document | None, partners: Sequence[str]) -> bool:
    """True when a report was left without any document that answers it.

    A briefing or strategy answers its own reported recommendations, but a
    report that pairs only with itself has no answer in the run: its own
    mentions of the government are background, not responses.
    """
    if doc is None or list(partners) not in ([], [doc.doc_id]):
        return False
    name = f"{doc.title} {Path(doc.path).stem.replace('_', ' ')}"
    return bool(REPORT_TITLE_RE.search(name)) and not NOT_REPORT_RE.search(name)


# A recommendation restated in the same report (a summary chapter abridging the body's wording:
# "GCSA" for "Government Chief Scientific Adviser") is close in meaning and shares most words.
RESTATED_COSINE = 0.75
RESTATED_OVERLAP = 0.6


def restated_copies(recs: Sequence[Segment], quotes: dict[str, str], vectors: np.ndarray,
                    row_of: dict[str, int], prefer: set[str] = frozenset()) -> dict[str, str]:
    """Fold a recommendation that a report states twice in other words; return the quotes to add or change.

    A restatement stands in another section (a summary chapter, a closing
    list); items of one section are siblings, however alike.

    The copy kept is the one a response reprints (``prefer``: the copy it
    answers), else the first.  Every recommendation that folded into a
    dropped copy follows it.
    """
    from .align import content_words
    out: dict[str, str] = {}
    by_doc: dict[str, list[Segment]] = {}
    for r in recs:
        if r.seg_id not in quotes:
            by_doc.setdefault(r.doc_id, []).append(r)
    for d, items in by_doc.items():
        if len(items) < 2:
            continue
        words = [set(content_words(r.text)) for r in items]
        v = vectors[[row_of[r.seg_id] for r in items]]
        sim = v @ v.T
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                if items[i].seg_id in out or items[j].seg_id in out or sim[i, j] < RESTATED_COSINE:
                    continue
                if items[i].section == items[j].section:
                    continue  # siblings of one list ("4a i", "4a iv") are worded alike but are two asks
                small = min(len(words[i]), len(words[j])) or 1
                if len(words[i] & words[j]) / small < RESTATED_OVERLAP:
                    continue
                keep, drop = (j, i) if items[j].seg_id in prefer and items[i].seg_id not in prefer else (i, j)
                out[items[drop].seg_id] = items[keep].seg_id
    # Whatever pointed at a dropped copy now points at the kept one.
    for k, v in list(quotes.items()):
        if v in out:
            out[k] = out[v]
    return out


# An unnumbered ask as close to a numbered recommendation as a restatement is (RESTATED_COSINE) is its
# discussion rather than a recommendation of its own.
MIN_NUMBERED = 3


def informal_restatements(recs: Sequence[Segment], quotes: dict[str, str], vectors: np.ndarray,
                          row_of: dict[str, int]) -> dict[str, str]:
    """In a report that numbers its recommendations, fold an unnumbered ask into the numbered one it discusses.

    "The Inquiry therefore recommends the creation of a specialised,
    independent body" a page before "Recommendation 10: A UK-wide
    independent statutory body" is the discussion leading to it; the
    numbered recommendation is the formal one.  Only documents with at
    least ``MIN_NUMBERED`` numbered recommendations fold; an unnumbered ask
    close to none of them stays a row.
    """
    by_doc: dict[str, list[Segment]] = {}
    for r in recs:
        if r.seg_id not in quotes:
            by_doc.setdefault(r.doc_id, []).append(r)
    out: dict[str, str] = {}
    for items in by_doc.values():
        numbered = [r for r in items if r.label and (r.label.startswith("Recommendation ")
                                                     or OUTLINE_LABEL_RE.fullmatch(r.label))]
        if len({r.label for r in numbered}) < MIN_NUMBERED:
            continue
        loose = [r for r in items if r not in numbered]
        if not loose:
            continue
        sim = vectors[[row_of[r.seg_id] for r in loose]] @ vectors[[row_of[r.seg_id] for r in numbered]].T
        for i, r in enumerate(loose):
            j = int(np.argmax(sim[i]))
            if sim[i, j] >= RESTATED_COSINE:
                out[r.seg_id] = numbered[j].seg_id
    return out


def pair_documents(docs: Sequence[Document], by_doc: dict[str, list[Segment]], vectors: np.ndarray,
                   row_of: dict[str, int], gov_kinds: Sequence[str]) -> tuple[dict[str, list[str]], dict[str, dict[str, str]]]:
    """Which documents answer each document's recommendations, and why: (partners, {doc: {partner: why}}).

    Affinity of government statements first (:func:`document_partners`).
    Then structure, which wins over it, and d's own statements become
    background:
    - a document that reprints at least ``MIN_REPRINTS`` of d's
      recommendations answers d (the one holding the originals is dated
      earlier or, without dates, has more recommendations);
    - an affinity partner, or a later document titled as a response, that
      prints at least ``MIN_NUMBERS`` of d's recommendation numbers answers
      d when the passages under them are about the same-numbered
      recommendations (:func:`_numbers_match`) and speak for the government
      at least as often as d's own numbered passages do.
    """
    doc_by_id = {d.doc_id: d for d in docs}
    doc_ids = list(by_doc)
    rec_rows = {d: [row_of[s.seg_id] for s in by_doc[d] if s.kind == "recommendation"] for d in doc_ids}
    gov_rows = {d: [row_of[s.seg_id] for s in by_doc[d] if s.kind in gov_kinds] for d in doc_ids}
    partners = document_partners(doc_ids, rec_rows, gov_rows, vectors, doc_by_id)
    reprinted = reprint_partners(doc_ids, rec_rows, {d: [row_of[s.seg_id] for s in by_doc[d]] for d in doc_ids},
                                 vectors)
    numbered = number_partners(by_doc)
    doc_dates = {x.doc_id: x.date for x in docs}
    counts = {k: [None] * len(v) for k, v in rec_rows.items()}
    pairing: dict[str, dict[str, str]] = {}
    for d in sorted(partners):
        why = {j: "its own statements" if j == d else "closest government statements" for j in partners[d]}
        found = {j: f"reprints {n} of its recommendations" for j, n in reprinted.get(d, {}).items()
                 if _earlier(d, j, doc_dates, counts)}
        for j, n in numbered.get(d, {}).items():
            # Numbers are common to every numbered report, so they only confirm a partner that its statements or
            # its title already found, and only when the passages under them are about the same-numbered
            # recommendations; of two documents printing the same numbers, the one whose numbered passages speak
            # for the government answers, never one whose recommendations d itself reprints.
            reverse = d in reprinted.get(j, {}) and _earlier(j, d, doc_dates, counts)
            known = j in why or (titled_response(doc_by_id.get(j)) and responds_to(doc_by_id.get(j), doc_by_id.get(d)))
            if (known and j not in found and not reverse and _answering(by_doc[j]) >= _answering(by_doc[d])
                    and _numbers_match(by_doc[d], by_doc[j], vectors, row_of)):
                found[j] = f"answers {n} of its recommendation numbers"
        if found:
            why.pop(d, None)
            why.update(found)
        partners[d] = sorted(why)
        pairing[d] = {j: why[j] for j in partners[d]}
    return partners, pairing


MIN_NUMBERS = 2


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
            if _printed_number(s):
                key = _printed_number(s)
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
    from .cues import is_gov_voice
    from .structure import is_verdict

    return sum(1 for s in segs if _printed_number(s) and (is_verdict(s.text) or is_gov_voice(s.text)))


def _printed_number(s: Segment) -> str | None:
    """The number of a "Recommendation N" label, or None (outline and paragraph numbers do not count)."""
    return label_key(s.label) if (s.label or "").startswith("Recommendation ") else None


def _formal_keys(segs: Sequence[Segment]) -> set[str]:
    """The numbers a document prints as "Recommendation N" labels."""
    return {k for k in map(_printed_number, segs) if k}


def number_partners(by_doc: dict[str, list[Segment]]) -> dict[str, dict[str, int]]:
    """For each document with numbered recommendations, the others that print at least ``MIN_NUMBERS`` of its numbers.

    A scanned or bare response may answer "Recommendation 1", "Recommendation
    2", ... without reprinting them; the shared numbers pair it with the report.
    """
    keys = {d: _formal_keys(segs) for d, segs in by_doc.items()}
    out: dict[str, dict[str, int]] = {}
    for d, kd in keys.items():
        if len(kd) < MIN_NUMBERS:
            continue
        for j, kj in keys.items():
            n = len(kd & kj)
            if j != d and n >= MIN_NUMBERS:
                out.setdefault(d, {})[j] = n
    return out


# Below this cosine to the report's recommendation of the same number, a numbered passage in a
# response is not a reprint of it but the answer printed under its number.
ANSWER_COSINE = 0.5


def numbered_answers(pairing: dict[str, dict[str, str]], by_doc: dict[str, list[Segment]], vectors: np.ndarray,
                     row_of: dict[str, int]) -> set[str]:
    """Segments of an answering document that carry a recommendation's number but answer it rather than restate it."""
    out: set[str] = set()
    for d, partners in pairing.items():
        originals: dict[str, list[Segment]] = {}
        for s in by_doc.get(d, []):
            if s.kind == "recommendation" and label_key(s.label):
                originals.setdefault(label_key(s.label), []).append(s)
        for j, why in partners.items():
            if j == d or not why.startswith(("reprints", "answers")):
                continue
            for s in by_doc.get(j, []):
                key = label_key(s.label)
                if s.kind != "recommendation" or key not in originals:
                    continue
                best = max(float(vectors[row_of[s.seg_id]] @ vectors[row_of[o.seg_id]]) for o in originals[key])
                if best < ANSWER_COSINE:
                    out.add(s.seg_id)
    return out


def prefer_answered(quotes: dict[str, str], answered: set[str], doc_of: dict[str, str]) -> dict[str, str]:
    """Make the copy a response answers the canonical one of its document's copies; return the new quotes.

    A report states a recommendation in its chapter and again in its
    summary; folding keeps the first, but when the response reprints and
    answers only the other copy, that copy is the formal recommendation (a
    committee's numbered summary, with its list items).
    """
    members: dict[str, list[str]] = {}
    for sid, original in quotes.items():
        if doc_of.get(sid) == doc_of.get(original):
            members.setdefault(original, []).append(sid)
    out = dict(quotes)
    for original, ms in members.items():
        hits = [m for m in ms if m in answered]
        if original in answered or len(hits) != 1:
            continue
        new = hits[0]
        for sid, target in quotes.items():
            if target == original and sid != new:
                out[sid] = new
        out[original] = new
        del out[new]
    return out


def pairing_report(pairing: dict[str, dict[str, str]], docs: dict[str, Document],
                   partners: dict[str, list[str]]) -> dict[str, dict]:
    """Which documents answer each document's recommendations, and why, keyed by document id."""
    out = {}
    for d, why in sorted(pairing.items()):
        doc = docs.get(d)
        out[d] = {"path": doc.path if doc else None, "partners": [
            {"doc_id": j, "path": docs[j].path if j in docs else None, "why": w} for j, w in why.items()],
            "unpaired": unpaired(doc, partners.get(d, []))}
    return out
