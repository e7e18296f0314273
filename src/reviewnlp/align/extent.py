"""extent: how far one recommendation runs in its document.

A recommendation is printed as a sentence, and often goes on: the list items
below a lead-in ("To this end, we recommend that the Government:" then its
bullets), or the further asking sentences of a "Recommendation N" block.  These
pure functions say which passages after a recommendation's first one are part
of it; the recommendations stage decides what is a recommendation at all.
"""
from __future__ import annotations

import re
from typing import Sequence

from ..cues import asks
from ..records import Document, Recommendation, Segment
from ..vocab import is_verdict
from .roles import squash

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


def lead_in_items(doc: Document, lead: Segment, after: Sequence[Segment]) -> list[Segment]:
    """The passages that finish a bare lead-in (:func:`~reviewnlp.cues.bare_leadin`): each passage printed
    straight after it as its list item or its next line (only white space or bullets between), up to the one
    that ends a sentence.  A heading ends the list (fewer than five words without closing punctuation)."""
    out, end = [], lead.end
    for x in after:
        text = x.text.rstrip()
        if x.doc_id != lead.doc_id or not ITEM_GAP_RE.fullmatch(doc.text[end:x.start]):
            break
        if len(text.split()) < 5 and not re.search(r"[.;:,]$", text):
            break
        out.append(x)
        end = x.end
        if re.search(r"[.!?][\"'”’)]*$", text):
            break
    return out


def asks_below(doc: Document, last: Segment, after: Sequence[Segment], quotes: dict[str, str],
               head: str) -> list[Segment]:
    """The asking sentences printed straight after a "Recommendation N" block's last passage, in its section and
    under no label of their own ("More work is needed ...", then "DHSC ... should convene ..."): the
    recommendation goes on while it asks."""
    out = []
    for x in after:
        if x.start < last.end:
            continue
        if (x.doc_id != last.doc_id or x.section != last.section or x.label or doc.text[last.end:x.start].strip()
                or quotes.get(x.seg_id, head) != head or is_verdict(x.text) or not asks(x.text)):
            break
        out.append(x)
        last = x
    return out


def drop_contained_leadins(recs: list[Recommendation], finished: set[str]) -> list[Recommendation]:
    """Leave out the bare lead-ins finished by their items (``finished``) that another recommendation of their
    document holds word for word (a chapter's ask that the closing summary restates whole)."""
    by_doc: dict[str, list[tuple[str, str]]] = {}
    for r in recs:
        by_doc.setdefault(r.doc_id, []).append((r.rec_id, squash(r.text)))
    out = []
    for r in recs:
        if r.rec_id in finished:
            mine = dict(by_doc[r.doc_id])[r.rec_id]
            if any(sid != r.rec_id and len(t) >= len(mine) and mine in t for sid, t in by_doc[r.doc_id]):
                continue
        out.append(r)
    return out
