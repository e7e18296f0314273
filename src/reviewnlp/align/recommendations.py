"""recommendations: each report's canonical recommendations, one record each, with its other copies attached.

A recommendation is printed more than once: in a chapter and a summary, in a
closing list, and in the response that reprints it before answering.  Every
copy folds into one canonical record (:class:`~reviewnlp.records.Recommendation`);
a response's copies of report text become anchors for its answer blocks
(:func:`report_copies`, :func:`reprint_anchors`), never rows.  Passages a
response prints under a recommendation's number that answer it rather than
restate it are re-read as answers (:func:`numbered_answers`).  Pure functions
over records and vector arrays.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from ..cues import asks, bare_leadin
from ..evaluate import fold
from ..records import Document, Pairing, Recommendation, Role, Segment
from ..sections import recommendation_sections
from ..segment import ORG_RE, org_name
from ..vocab import content_words, is_formal_label, is_rec_label, is_verdict, label_key, printed_number
from .blocks import is_contents
from .extent import asks_below, drop_contained_leadins, items_below, lead_in_items
from .pair import holds_originals
from .roles import squash
from .settings import DEFAULT, RecommendationSettings


def numbered_answers(pairing: Pairing, by_doc: dict[str, list[Segment]], vectors: np.ndarray,
                     row_of: dict[str, int], settings: RecommendationSettings = DEFAULT.recommendations) -> set[str]:
    """Segments of an answering document that carry a recommendation's number but answer it rather than restate it."""
    out: set[str] = set()
    for d, partners in pairing.why.items():
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
                if best < settings.answer_cosine:
                    out.add(s.seg_id)
    return out


def find_quotes(recs: Sequence[Segment], vectors: np.ndarray, row_of: dict[str, int],
                partners: dict[str, Sequence[str]], roles: dict[str, Role], docs: dict[str, Document],
                threshold: float = DEFAULT.recommendations.quote_threshold) -> dict[str, str]:
    """Map recommendations that merely repeat another recommendation to the original.

    A report often repeats its recommendations in a closing list, and a
    response document reprints each one before answering it; a repeat is an
    anchor for the answer, not a second recommendation.  Repeats inside one
    document point to the first occurrence; reprints in a partner document
    point to that first occurrence too.  The original lives in the report
    (see :func:`.pair.holds_originals`).
    """
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
            if j == d or not by_doc.get(j) or not originals or not holds_originals(d, j, roles, docs, by_doc):
                continue
            orig = vectors[[row_of[r.seg_id] for r in originals]]
            copies = by_doc[j]
            sim = vectors[[row_of[r.seg_id] for r in copies]] @ orig.T
            for qi, q in enumerate(copies):
                oi = int(np.argmax(sim[qi]))
                if sim[qi, oi] >= threshold:
                    quotes[q.seg_id] = originals[oi].seg_id
    return quotes


def label_quotes(recs: Sequence[Segment], quotes: dict[str, str],
                 answerers: dict[str, Sequence[str]]) -> dict[str, str]:
    """Fold a response document's numbered recommendations into the report's by number.

    A response reprints "Recommendation 7" in its own words (abridged or
    paraphrased), so cosine misses it; the number does not.  Only documents
    that answer the report (``answerers``, from pairing) fold, and only numbers that name exactly one original:
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
                     and r.doc_id in answerers.get(d, ()) for o in items]
        if len({o.doc_id for o in originals}) == 1 and len(originals) >= 1:
            out[r.seg_id] = originals[0].seg_id
    return out


def contained_copies(recs: Sequence[Segment], quotes: dict[str, str],
                     min_words: int = DEFAULT.recommendations.contained_min_words, later: bool = True) -> dict[str, str]:
    """Fold a recommendation whose words stand inside another one of the same document.

    A report that repeats its recommendations in a closing list splits them
    differently from the chapter: a list item's second sentence ("This
    should be put in place within 12 months") is a copy of part of the
    chapter's recommendation, not a recommendation of its own.  Repeats of
    at least ``min_words`` words fold into the earlier recommendation (or
    what it folds into); a sentence that a later, longer recommendation holds
    word for word (a summary chapter restating it) folds into that one.
    """
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
    if not later:
        return out
    # A chapter's sentence restated inside a later summary paragraph is a copy of part of it too; the
    # fuller statement stands for both.
    by_doc: dict[str, list[tuple[str, str]]] = {}
    for r in sorted(recs, key=lambda r: (r.doc_id, r.start)):
        by_doc.setdefault(r.doc_id, []).append((r.seg_id, squash(r.text)))
    for items in by_doc.values():
        for i, (sid, text) in enumerate(items):
            if sid in quotes or sid in out or len(text) < 8 * min_words:
                continue
            hit = next((c for c, t in items[i + 1:] if len(t) > len(text) and text in t and c not in quotes), None)
            if hit is not None:
                out[sid] = out.get(hit, hit)
    return out


def list_continuations(segments: Sequence[Segment], docs: dict[str, Document]) -> dict[str, str]:
    """Fold the later sentences of a numbered recommendation in a recommendations list into it.

    In a list of recommendations ("Appendix 4: List of recommendations"), an
    item's further sentences ("This should be put in place within 12
    months") finish the numbered recommendation above them; they are not
    recommendations of their own.  Outside such a section nothing folds.
    """
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


def restated_copies(recs: Sequence[Segment], quotes: dict[str, str], vectors: np.ndarray,
                    row_of: dict[str, int], prefer: set[str] = frozenset(),
                    settings: RecommendationSettings = DEFAULT.recommendations) -> dict[str, str]:
    """Fold a recommendation that a report states twice in other words; return the quotes to add or change.

    A restatement stands in another section (a summary chapter, a closing
    list); items of one section are siblings, however alike.

    The copy kept is the one a response reprints (``prefer``: the copy it
    answers), else the first.  Every recommendation that folded into a
    dropped copy follows it.
    """
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
                if items[i].seg_id in out or items[j].seg_id in out or sim[i, j] < settings.restated_cosine:
                    continue
                if items[i].section == items[j].section:
                    continue  # siblings of one list ("4a i", "4a iv") are worded alike but are two asks
                small = min(len(words[i]), len(words[j])) or 1
                if len(words[i] & words[j]) / small < settings.restated_overlap:
                    continue
                keep, drop = (j, i) if items[j].seg_id in prefer and items[i].seg_id not in prefer else (i, j)
                out[items[drop].seg_id] = items[keep].seg_id
    # Whatever pointed at a dropped copy now points at the kept one.
    for k, v in list(quotes.items()):
        if v in out:
            out[k] = out[v]
    return out


def informal_restatements(recs: Sequence[Segment], quotes: dict[str, str], vectors: np.ndarray,
                          row_of: dict[str, int],
                          settings: RecommendationSettings = DEFAULT.recommendations) -> dict[str, str]:
    """In a report that numbers its recommendations, fold an unnumbered ask into the numbered one it discusses.

    "The Inquiry therefore recommends the creation of a specialised,
    independent body" a page before "Recommendation 10: A UK-wide
    independent statutory body" is the discussion leading to it; the
    numbered recommendation is the formal one.  Only documents with at
    least ``min_numbered`` numbered recommendations fold; an unnumbered ask
    close to none of them stays a row.
    """
    by_doc: dict[str, list[Segment]] = {}
    for r in recs:
        if r.seg_id not in quotes:
            by_doc.setdefault(r.doc_id, []).append(r)
    out: dict[str, str] = {}
    for items in by_doc.values():
        numbered = [r for r in items if is_formal_label(r.label)]
        if len({r.label for r in numbered}) < settings.min_numbered:
            continue
        loose = [r for r in items if r not in numbered]
        if not loose:
            continue
        sim = vectors[[row_of[r.seg_id] for r in loose]] @ vectors[[row_of[r.seg_id] for r in numbered]].T
        for i, r in enumerate(loose):
            j = int(np.argmax(sim[i]))
            if sim[i, j] >= settings.restated_cosine:
                out[r.seg_id] = numbered[j].seg_id
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


def report_copies(pairing: Pairing, by_doc: dict[str, list[Segment]], row_of: dict[str, int], vectors: np.ndarray,
                  threshold: float = DEFAULT.recommendations.quote_threshold) -> dict[str, Segment]:
    """Each segment of a responding document that copies report text, mapped to the report segment it copies."""
    out: dict[str, Segment] = {}
    responders = pairing.responders
    for d, partners in sorted(pairing.why.items()):
        src = by_doc.get(d, [])
        for j in partners:
            if j == d or j not in responders or not src or not by_doc.get(j):
                continue
            segs = by_doc[j]
            sim = vectors[[row_of[s.seg_id] for s in segs]] @ vectors[[row_of[x.seg_id] for x in src]].T
            best = np.argmax(sim, axis=1)
            for k, s in enumerate(segs):
                if sim[k, best[k]] >= threshold and s.seg_id not in out:
                    out[s.seg_id] = src[int(best[k])]
    return out


def _presented_as_recommendation(s: Segment) -> bool:
    """A response's segment that presents itself as a recommendation: read as one, or under its label."""
    return s.kind == "recommendation" or label_key(s.label) is not None or s.label == "Recommendation"


def _restates(x: Segment, rows: list[int] | None, vectors: np.ndarray, row_of: dict[str, int],
              threshold: float) -> bool:
    """True when ``x`` is as close to one of its report's recommendations (``rows``) as a restatement is."""
    return bool(rows) and float(np.max(vectors[rows] @ vectors[row_of[x.seg_id]])) >= threshold


def reprint_runs(segments: Sequence[Segment], copies: dict[str, Segment]) -> list[list[str]]:
    """A response's reprints: runs of consecutive copies of report text, one recommendation each.

    A run breaks at any segment that is not a copy (the government answering) and at each recommendation
    label.
    """
    runs: list[list[Segment]] = []
    current: list[Segment] = []
    for s in segments:
        if s.seg_id not in copies or (current and current[-1].doc_id != s.doc_id) or (
                current and label_key(s.label) is not None):
            if current:
                runs.append(current)
            current = []
        if s.seg_id in copies:
            current.append(s)
    if current:
        runs.append(current)
    return [[s.seg_id for s in run] for run in runs]


def reprinted_spans(pairing: Pairing, by_doc: dict[str, list[Segment]], copies: dict[str, Segment],
                    min_words: int = DEFAULT.recommendations.contained_min_words) -> dict[str, list[Segment]]:
    """A response's reprint of a whole recommendation, mapped to the report sentences it holds, in order.

    A response that reprints each recommendation as one paragraph ("Recommendation 3: Rather than producing
    a new strategy, ... It should ...") holds several of the report's sentences word for word; no one of them
    is as close in meaning to the whole as a copy is.  Only reprints the response presents as
    recommendations, and not already copies, count.
    """
    responders = pairing.responders
    out: dict[str, list[Segment]] = {}
    for d, partners in sorted(pairing.why.items()):
        src = [(x, squash(x.text)) for x in by_doc.get(d, []) if len(x.text.split()) >= min_words]
        for j in partners:
            if j == d or j not in responders:
                continue
            for s in by_doc.get(j, []):
                if s.seg_id in copies or not _presented_as_recommendation(s):
                    continue
                whole = squash(s.text)
                held = [x for x, t in src if t in whole]
                if held:
                    out[s.seg_id] = held
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


def other_prints(copies: dict[str, Segment], anchors: dict[str, str | None], recs: Sequence[Segment],
                 vectors: np.ndarray, row_of: dict[str, int], quotes: dict[str, str],
                 threshold: float = DEFAULT.recommendations.quote_threshold) -> dict[str, str]:
    """Anchors for copies of another print of a recommendation.

    A report prints a recommendation more than once (in its chapter and again
    in its closing list, where the segmenter may not have read it as one); a
    response copying that print reprints the recommendation it folds into.
    """
    by_doc: dict[str, list[Segment]] = {}
    for r in recs:
        if r.seg_id not in quotes:
            by_doc.setdefault(r.doc_id, []).append(r)
    out: dict[str, str] = {}
    for sid, src in copies.items():
        if anchors.get(sid) is None and by_doc.get(src.doc_id):
            rows = by_doc[src.doc_id]
            sims = vectors[[row_of[r.seg_id] for r in rows]] @ vectors[row_of[src.seg_id]]
            k = int(np.argmax(sims))
            if sims[k] >= threshold:
                out[sid] = rows[k].seg_id
    return out


# "The Crisis Capabilities Review recommended that ...": a recommendation that says whose it is.
QUOTED_BODY_RE = re.compile(ORG_RE.pattern + r"\s+(?:has\s+|had\s+|also\s+|previously\s+)?"
                            r"(?:recommended|recommends|called for|proposed|urged)\b")


def body_of(s: Segment, text: str, role: Role | None) -> str | None:
    """Who recommends: the body the text says it quotes, else the author of the report (or of what a lone
    response answers), else (a briefing reporting several bodies) the body the segmenter found in context."""
    quoted = QUOTED_BODY_RE.search(text)
    if quoted and len(org_name(quoted.group(1)).split()) >= 2:  # "The Committee recommends" is the report itself
        return org_name(quoted.group(1))
    if role is not None and role.role in ("report", "response") and role.author:
        return role.author
    return s.body


def promoted_reprints(by_doc: dict[str, list[Segment]], segments: Sequence[Segment], copies: dict[str, Segment],
                      spans: dict[str, list[Segment]], vectors: np.ndarray, row_of: dict[str, int],
                      settings: RecommendationSettings = DEFAULT.recommendations) -> tuple[set[str], dict[str, str]]:
    """The report sentences a response reprints as recommendations that the report's segmentation missed, and
    the later sentences of each reprint mapped to its first: (promoted, continues).

    A report that labels its recommendations ("Recommendation 7", "4a") is the authority on what they are and
    promotes nothing; for one that does not, every asking passage its response reprints is a recommendation
    (a committee's summary paragraphs, a boxed list without "should"), unless the report already states it
    as one in other words.
    """
    if not settings.promote_reprints:
        return set(), {}
    formal = {d for d, segs in by_doc.items()
              if sum(1 for x in segs if x.kind == "recommendation" and (is_rec_label(x.label) or is_formal_label(x.label)))
              >= settings.min_numbered}
    own_recs = {d: [row_of[x.seg_id] for x in segs if x.kind == "recommendation"] for d, segs in by_doc.items()}
    promoted: set[str] = set()
    continues: dict[str, str] = {}
    index_of = {x.seg_id: i for i, x in enumerate(segments)}
    for run in reprint_runs(segments, copies):
        if copies[run[0]].doc_id in formal:
            continue
        held = sorted({x.seg_id: x for sid in run for x in spans.get(sid, [copies[sid]])}.values(),
                      key=lambda x: x.start)
        # Only what asks: a reprinted run also carries the report's discussion around the ask.
        fresh = [x for x in held if x.kind != "recommendation" and not is_contents(x) and asks(x.text)
                 and not _restates(x, own_recs.get(x.doc_id), vectors, row_of, settings.restated_cosine)]
        promoted |= {x.seg_id for x in fresh}
        # The run's later sentences finish its first one, unless the report already made them recommendations.
        head = next((x for x in held if x.kind == "recommendation" or x in fresh), None)
        if head is not None and settings.whole_reprint:
            # The response prints the whole passage as the recommendation ("We note that some clusters are
            # struggling. It should be a priority to ..."): its opening sentence heads it, and every sentence
            # it holds is part of it.
            whole = reprinted_passage(segments, index_of, {x.seg_id for x in held}, head)
            if whole[0].kind != "recommendation":
                promoted.add(whole[0].seg_id)
            continues.update({x.seg_id: whole[0].seg_id for x in whole[1:]})
        elif head is not None:
            continues.update({x.seg_id: head.seg_id for x in fresh if x.seg_id != head.seg_id})
    return promoted, continues


def reprinted_passage(segments: Sequence[Segment], index_of: dict[str, int], held: set[str],
                      head: Segment) -> list[Segment]:
    """The report's sentences around ``head`` that a reprint holds, one after another in print order (a
    sentence the report repeats elsewhere is held there too, but that is another passage)."""
    a = b = index_of[head.seg_id]
    while a > 0 and segments[a - 1].seg_id in held and not is_contents(segments[a - 1]):
        a -= 1
    while b + 1 < len(segments) and segments[b + 1].seg_id in held:
        b += 1
    return list(segments[a:b + 1])


def leads_in(s: Segment, after: Sequence[Segment]) -> bool:
    """An unnumbered lead-in ("Accordingly, I recommend that:") whose list items below (``after``: the
    next two segments) are the recommendations.

    A numbered one ("6a All patients ... should receive the following care:") is the parent of its items.
    """
    if s.label or not s.text.rstrip().endswith(":"):
        return False
    # The items may sit under a numbered title ("5 Ending a defensive culture"), so look two ahead.
    return any(x.doc_id == s.doc_id and x.kind == "recommendation" for x in after)


@dataclass(frozen=True)
class Folded:
    """What the recommendations stage hands on: the segments re-read (answers printed under a number
    are answers), the canonical recommendations, every copy's original, and the response's anchors."""

    segments: tuple[Segment, ...]
    recommendations: tuple[Recommendation, ...]
    quotes: dict[str, str]        # copy seg_id -> canonical recommendation seg_id
    anchors: dict[str, str | None]  # a response's copy of report text -> the recommendation it reprints
    copies: frozenset[str]        # seg_ids of a response's copies of report text (never answers)


def canonical_recommendations(docs: dict[str, Document], segments: Sequence[Segment], vectors: np.ndarray,
                              row_of: dict[str, int], pairing: Pairing,
                              settings: RecommendationSettings = DEFAULT.recommendations) -> Folded:
    """Fold every copy of every recommendation into one canonical record, and find a response's anchors.

    A response that answers a report of the run prints that report's
    recommendations to answer them: what it prints is an anchor, never a row.
    Contents-page entries and unnumbered lead-ins whose items are the
    recommendations are not rows either.
    """
    by_doc: dict[str, list[Segment]] = {}
    for s in segments:
        by_doc.setdefault(s.doc_id, []).append(s)
    # A numbered answer in a response ("Recommendation 2" over "Not accepted. We will keep ...") was read as
    # the recommendation it answers; once the documents are paired it is what it is, an answer.  So is a printed
    # verdict ("Recommendations 12) a-c) are accepted in full"), whatever its label made it.
    answers = numbered_answers(pairing, by_doc, vectors, row_of, settings)
    answers |= {s.seg_id for s in segments if s.kind == "recommendation" and is_verdict(s.text)}
    if answers:
        segments = [replace(s, kind="response") if s.seg_id in answers else s for s in segments]
        by_doc = {}
        for s in segments:
            by_doc.setdefault(s.doc_id, []).append(s)
    copies = report_copies(pairing, by_doc, row_of, vectors, settings.quote_threshold)
    spans = reprinted_spans(pairing, by_doc, copies, settings.contained_min_words)
    copies.update({sid: held[0] for sid, held in spans.items()})
    promoted, continues = promoted_reprints(by_doc, segments, copies, spans, vectors, row_of, settings)
    seg_doc = {s.seg_id: s.doc_id for s in segments}
    if promoted:
        segments = [replace(s, kind="recommendation", method=f"{s.method}+reprinted") if s.seg_id in promoted else s
                    for s in segments]
    recs = [s for s in segments if s.kind == "recommendation" and not is_contents(s)]
    quotes = find_quotes(recs, vectors, row_of, pairing.partners, pairing.roles, docs, settings.quote_threshold)
    quotes.update(label_quotes(recs, quotes, pairing.answerers))
    quotes.update(contained_copies(recs, quotes, settings.contained_min_words, settings.contained_later))
    anchors = reprint_anchors(copies, recs)
    reprinted = {r for r in anchors.values() if r}  # the copies a response answers
    quotes.update(restated_copies(recs, quotes, vectors, row_of, {quotes.get(r, r) for r in reprinted}, settings))
    quotes.update(informal_restatements(recs, quotes, vectors, row_of, settings))
    for cont, head in list_continuations(segments, docs).items():
        quotes.setdefault(cont, quotes.get(head, head))
    for cont, head in continues.items():
        target = quotes.get(head, head)
        prior = quotes.setdefault(cont, target)
        if prior != target and quotes.get(target) != prior and seg_doc[prior] == seg_doc[cont]:
            # The sentence was folded into its earlier statement in the report's chapter: that statement
            # folds into the whole passage too, so one row stands for them all.
            for k in [k for k, v in quotes.items() if v == prior]:
                quotes[k] = target
            quotes[prior] = target
    quotes = prefer_answered(quotes, reprinted, {s.seg_id: s.doc_id for s in recs})
    anchors = {sid: quotes.get(r, r) if r else None for sid, r in anchors.items()}
    anchors.update(other_prints(copies, anchors, recs, vectors, row_of, quotes, settings.quote_threshold))
    responders = pairing.responders
    index_of = {s.seg_id: i for i, s in enumerate(segments)}
    folded: dict[str, list[Segment]] = {}
    for sid, original in quotes.items():
        folded.setdefault(original, []).append(segments[index_of[sid]])
    out, finished = [], set()
    for s in recs:
        i = index_of[s.seg_id]
        if s.seg_id in quotes or s.doc_id in responders or leads_in(s, segments[i + 1:i + 3]):
            continue
        doc = docs[s.doc_id]
        items = items_below(doc, s, folded.get(s.seg_id, []))
        if not items and settings.finish_leadins and bare_leadin(s.text):
            # "To this end, we recommend that the Government:" asks nothing itself: its list items finish it,
            # and with none (a heading or a numbered list follows) it is no recommendation at all.
            items = lead_in_items(doc, s, segments[i + 1:i + 40])
            if not items or any(x.kind == "recommendation" for x in items):
                continue
            finished.add(s.seg_id)
        if settings.labelled_asks and printed_number(s.label):
            items += asks_below(doc, items[-1] if items else s, segments[i + 1:i + 40], quotes, s.seg_id)
        # A numbered lead-in and the list items that finish it are one recommendation, printed as one span.
        end = items[-1].end if items else s.end
        others = sorted((c for c in folded.get(s.seg_id, []) if c not in items), key=lambda c: (c.doc_id, c.start))
        out.append(Recommendation(
            rec_id=s.seg_id, doc_id=s.doc_id, start=s.start, end=end, text=doc.text[s.start:end],
            body=body_of(s, doc.text[s.start:end], pairing.roles.get(s.doc_id)),
            segments=(s.seg_id, *(c.seg_id for c in items)),
            copies=tuple({"seg_id": c.seg_id, "doc_id": c.doc_id, "page": c.page, "start": c.start, "end": c.end,
                          "label": c.label} for c in others)))
    out = drop_contained_leadins(out, finished)
    return Folded(tuple(segments), tuple(out), quotes, anchors, frozenset(copies))
