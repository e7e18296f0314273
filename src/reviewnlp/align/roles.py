"""roles: what each document is (report, response, briefing or other), decided before anything is paired.

The evidence, strongest first:
- **what it calls itself**: its title, file name and opening lines ("Government
  response to ...", "Research Briefing", "... final report");
- **which document copies which**: two documents that print the same
  recommendations are a report and its response; the later one, or the one
  speaking for the government, is the response;
- **voice**: the share of its passages in which the government speaks.

A response's copies of recommendations are anchors for its answers, never rows
(unless no report is among the inputs: then what it quotes is all there is).
A briefing reports both sides and answers its own reported recommendations.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np

from ..cues import is_gov_voice
from ..evaluate import fold
from ..records import Document, Role, Segment
from ..segment import ORG_RE, org_name
from .settings import DEFAULT, RoleSettings

# "Government response to ...", "Govt_response" (a file name), "Ministerial reply", "Response to the
# Committee's report": a document naming itself as an answer.
RESPONSE_NAME_RE = re.compile(
    r"(?i)\b(?:(?:uk|hm|australian|scottish|welsh|the)\s+)?(?:government|govt|gov|ministerial|departmental|department)"
    r"(?:'s|’s)?\s+(?:response|reply)\b")
BRIEFING_NAME_RE = re.compile(r"(?i)\b(?:research|library|standard|debate)\s+(?:briefing|pack|note)\b"
                              r"|\b(?:commons|lords)\s+library\b|\bbriefing\s+paper\b")
REPORT_NAME_RE = re.compile(r"(?i)\b(?:report|inquiry|review|committee|commission)\b")
OPENING_CHARS = 300


def named_role(doc: Document) -> tuple[str | None, str | None]:
    """(role, why) from what the document calls itself, or (None, None) when its name says nothing.

    The title and file name speak first; the opening lines only when they say
    nothing, and only to name a response or a briefing (a report's opening
    often names the review or response it follows).
    """
    stem = re.sub(r"[_\-]+", " ", Path(doc.path).stem)
    name = f"{doc.title or ''} \n {stem}"
    checks = ((name, "briefing", BRIEFING_NAME_RE), (name, "response", RESPONSE_NAME_RE),
              (name, "report", REPORT_NAME_RE), (doc.text[:OPENING_CHARS], "briefing", BRIEFING_NAME_RE),
              (doc.text[:OPENING_CHARS], "response", RESPONSE_NAME_RE))
    for text, role, rx in checks:
        m = rx.search(text)
        if m:
            return role, f"calls itself a {role} ('{' '.join(m.group(0).split())}')"
    return None, None


def gov_share(segs: Sequence[Segment]) -> float:
    """The share of a document's passages (five words or more) in which the government speaks."""
    long = [s for s in segs if len(s.text.split()) >= 5]
    return sum(1 for s in long if is_gov_voice(s.text)) / max(len(long), 1)


def squash(text: str) -> str:
    """Letters and digits only, folded: a print's split words ("W e urge") and hyphenation still compare."""
    return re.sub(r"[^a-z0-9]+", "", fold(text))


def copied_pairs(by_doc: dict[str, list[Segment]], vectors: np.ndarray, row_of: dict[str, int],
                 settings: RoleSettings = DEFAULT.roles) -> dict[tuple[str, str], int]:
    """For each ordered pair (d, j), how many of d's recommendations j prints.

    A recommendation is printed in j when one of j's segments is a near copy
    (cosine >= ``reprint_cosine``), or when one holds the other word for word
    (a reprint of a whole paragraph holds the report's sentences).  Any of j's
    segments counts: a response's quote may be classified as anything.
    """
    squashed = {d: [squash(s.text) if len(s.text.split()) >= settings.min_words else "" for s in segs]
                for d, segs in by_doc.items()}
    out: dict[tuple[str, str], int] = {}
    for d, segs in by_doc.items():
        recs = [i for i, s in enumerate(segs) if s.kind == "recommendation"]
        if not recs:
            continue
        for j, other in by_doc.items():
            if j == d or not other:
                continue
            best = np.max(vectors[[row_of[s.seg_id] for s in other]] @ vectors[[row_of[segs[i].seg_id] for i in recs]].T,
                          axis=0)
            n = 0
            for k, i in enumerate(recs):
                mine = squashed[d][i]
                if best[k] >= settings.reprint_cosine or (mine and any(
                        t and (t in mine or mine in t) for t in squashed[j])):
                    n += 1
            if n >= settings.min_reprints:
                out[(d, j)] = n
    return out


def _later(j: Document, d: Document) -> bool | None:
    """True when j is dated after d, False before, None when either date is unknown or they are the same."""
    if j.date and d.date and j.date != d.date:
        return j.date > d.date
    return None


def assign_roles(docs: Sequence[Document], by_doc: dict[str, list[Segment]], vectors: np.ndarray,
                 row_of: dict[str, int], settings: RoleSettings = DEFAULT.roles,
                 copies: dict[tuple[str, str], int] | None = None) -> dict[str, Role]:
    """Each document's role and the evidence for it.

    What a document calls itself decides first.  Then two documents that
    print the same recommendations are a report and its response: one that
    named itself fixes the other, else the later one is the response, else
    the one in which the government speaks more.  A document left undecided
    is a report when it makes recommendations in a voice other than the
    government's, a response when the government speaks in it, else other.
    """
    named = {d.doc_id: named_role(d) for d in docs}
    shares = {d.doc_id: gov_share(by_doc.get(d.doc_id, [])) for d in docs}
    if copies is None:
        copies = copied_pairs({d.doc_id: by_doc.get(d.doc_id, []) for d in docs}, vectors, row_of, settings)
    roles: dict[str, tuple[str, list[str]]] = {}
    for d in docs:
        role, why = named[d.doc_id]
        if role:
            roles[d.doc_id] = (role, [why])
    doc_by_id = {d.doc_id: d for d in docs}
    for (a, b), n in sorted(copies.items()):
        # Both directions count the same shared text; decide each unordered pair once.
        if a > b and (b, a) in copies:
            continue
        da, db = doc_by_id[a], doc_by_id[b]
        ra, rb = roles.get(a, (None, []))[0], roles.get(b, (None, []))[0]
        if ra == "response" and rb is None:
            roles[b] = ("report", [f"its recommendations are printed in {Path(da.path).name}, a response"])
            continue
        if rb == "response" and ra is None:
            roles[a] = ("report", [f"its recommendations are printed in {Path(db.path).name}, a response"])
            continue
        if ra is not None or rb is not None:
            continue
        later = _later(db, da)
        if later is None:
            later = shares[b] > shares[a]
            reason = "speaks for the government more often than the document it shares recommendations with"
        else:
            reason = "is dated after the document it shares recommendations with"
        resp, rep = (b, a) if later else (a, b)
        roles[resp] = ("response", [f"prints {n} recommendations of {Path(doc_by_id[rep].path).name} and {reason}"])
        roles[rep] = ("report", ["its recommendations are printed in a later or government document"])
    out: dict[str, Role] = {}
    for d in docs:
        if d.doc_id in roles:
            role, why = roles[d.doc_id]
        else:
            segs = by_doc.get(d.doc_id, [])
            has_recs = any(s.kind == "recommendation" for s in segs)
            share = shares[d.doc_id]
            if has_recs and share < settings.gov_share:
                role, why = "report", [f"makes recommendations; the government speaks in {share:.0%} of its passages"]
            elif share >= settings.gov_share:
                role, why = "response", [f"the government speaks in {share:.0%} of its passages"]
            else:
                role, why = "other", [f"makes no recommendations; the government speaks in {share:.0%} of its passages"]
        out[d.doc_id] = Role(d.doc_id, role, tuple(why), author_of(d))
    return out


AUTHOR_CHARS = 600


def author_of(doc: Document) -> str | None:
    """The body whose recommendations a document holds: the first review, inquiry, committee or commission
    its title and opening name (a report's own masthead; the committee a response answers), else its title."""
    head = f"{doc.title or ''}\n{doc.text[:AUTHOR_CHARS]}"
    names = [n for n in (org_name(m) for m in ORG_RE.findall(head)) if len(n.split()) >= 2]
    # A web print's title carries the site's name ("... - GOV.UK").
    title = re.sub(r"\s+[-–|]\s+\S+\.\S+\s*$", "", doc.title or "").strip()
    return names[0] if names else (title or None)
