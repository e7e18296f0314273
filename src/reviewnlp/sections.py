"""Where a document's sections are: the short title a segment carries, and the sections that hold its
recommendations.  Every lookup is by bisection, so a document with tens of thousands of headings
segments in linear time.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import Callable, Iterable

from .records import Document

# Most characters of a section title a segment carries.  Every segment repeats its section's title, so a
# 200 KB "heading" over 1,000 sentences once wrote 200 MB; cut, the output stays linear in the input.
SECTION_TITLE_MAX = 300


def short_title(title: str | None, limit: int = SECTION_TITLE_MAX) -> str | None:
    """``title`` in at most ``limit`` characters: a longer one is cut at a word and ends in "…"."""
    if title is None or len(title) <= limit:
        return title
    cut = title[:limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space >= limit // 2 else cut).rstrip() + "…"


def span_test(spans: Iterable[tuple[int, int]]) -> Callable[[int], bool]:
    """A test of whether an offset lies in any ``[start, end)`` of ``spans``, by bisection over their union.

    Asked for every paragraph and segment, a scan of the spans made a document of many
    "Recommendations" headings quadratic.
    """
    merged: list[list[int]] = []
    for a, b in sorted((a, b) for a, b in spans if a < b):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    starts = [a for a, _ in merged]
    return lambda offset: (i := bisect_right(starts, offset) - 1) >= 0 and offset < merged[i][1]


RECO_SECTION_RE = re.compile(r"(?i)^(?:[\d.]+\s+|appendix \w+:?\s+|annex \w+:?\s+|chapter \w+\s*[:.–-]?\s*)?(?:the\s+)?"
                             r"(?:summary of |list of )?(?:conclusions and )?recommendations\b")
# A committee's summary chapter printed as a plain line ("CHAPTER 8: CONCLUSIONS AND RECOMMENDATIONS"), and
# the line that ends it.
RECO_TITLE_LINE_RE = re.compile(r"(?im)^(?:chapter \w+\s*[:.–-]?\s*)?(?:the\s+)?(?:summary of |list of )?"
                                r"(?:conclusions and )?recommendations\s*$")
CHAPTER_LINE_RE = re.compile(r"(?im)^(?:chapter \w+|appendix \w+|annex \w+)\b")

def recommendation_sections(doc: Document) -> list[tuple[int, int]]:
    """Spans of the innermost sections titled as recommendations ("1.5 Recommendations" holds the
    discussion, "The Recommendations" inside it the list itself)."""
    titled = [(x.start, x.end) for x in doc.sections if RECO_SECTION_RE.match(x.title)]
    in_titled = span_test(titled)
    chapters = [n.start() for n in CHAPTER_LINE_RE.finditer(doc.text)]
    reach = -1  # the end of the furthest chapter added below; they start in order, so this is their union
    for m in RECO_TITLE_LINE_RE.finditer(doc.text):
        if in_titled(m.start()) or m.start() < reach:
            continue
        # A title line the extractor did not set as a heading: its chapter runs to the next chapter line.
        i = bisect_left(chapters, m.end())
        end = chapters[i] if i < len(chapters) else len(doc.text)
        titled.append((m.start(), end))
        reach = max(reach, end)
    return _innermost(titled)


def _innermost(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans that hold no other span (a copy of itself aside), in order.

    One pass over the distinct spans sorted by (start, end) from the last: a span holds another exactly
    when a later one ends no later than it does, or an earlier one shares its start.
    """
    uniq = sorted(set(spans))
    outer, least_end = set(), float("inf")  # the least end of the spans after the one at hand
    for i in range(len(uniq) - 1, -1, -1):
        if least_end <= uniq[i][1] or (i and uniq[i - 1][0] == uniq[i][0]):
            outer.add(uniq[i])
        least_end = min(least_end, uniq[i][1])
    return [s for s in spans if s not in outer]
