"""What a search shows a reader: which segments are passages worth a hit, which are the same text, what tags mean.

A run's segments include everything the extractor kept: headings on a line of
their own, contents-page entries, the labels of a diagram, list-item stubs.
They are right for segmentation (a heading gives its section to the sentences
below it) but a hit made of one tells a reader nothing, and a heading that
repeats the query's words outranks every sentence about it.  :func:`left_out`
names the segments search leaves out, by rules over the text's shape only
(never a document's wording), all set in :data:`READABLE`.  Exact copies (a
report quoted in its response, a paragraph repeated) are grouped by
:func:`same_text_key` and shown once.  The meanings of the kinds, stances and
statuses printed on a hit are here too, for ``reviewnlp search --help`` and the
page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .records import UNPAIRED
from .vocab import QUERY_STOPWORDS


@dataclass(frozen=True)
class ReadableSettings:
    """The rules that decide which segments are left out of search results (see :func:`left_out`)."""

    # A text this short with no sentence shape is a label, a heading or a stub ("Local authorities NHS").
    fragment_max_words: int = 8
    # Printed last, these make a sentence (closing quotes and brackets after them are looked through).
    sentence_ends: str = ".!?;"
    # Any of these words gives a text the shape of a sentence: a finite verb's helper or a subject pronoun.
    # Enough to tell "The Government should fund it" from "Funding for local authorities" without a parser.
    sentence_words: frozenset[str] = frozenset(
        "is are was were be been being am has have had having do does did will would shall should can could "
        "may might must ought i we you he she it they there".split())
    # Contents-page entries: dot leaders, or a verbless title that ends in its page number ("Introduction 7").
    dot_leader: str = r"\.{4,}|…{2,}|(?:\. ){3,}"
    page_number_end: str = r"\s(?:\d{1,3}(?:[-–]\d{1,3})?|(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3}))$"
    # Kinds whose segments are kept however short when they begin with their printed label
    # ("Recommendation 4: Red teams"): the label makes the title a recommendation's own words.
    labelled_kinds: frozenset[str] = frozenset({"recommendation", "commitment"})


READABLE = ReadableSettings()

_WORD_RE = re.compile(r"[^\W_]+")
_LETTER_RE = re.compile(r"[^\W\d_]")
# Case, white space and punctuation do not make a different text; currency signs and % do ("£9 million").
_NOT_TEXT_RE = re.compile(r"(?:[^\w£$€%]|_)+")
_TRAILING_CLOSERS = "\"'”’)]}»›*"


def same_text_key(text: str) -> str:
    """The text compared for exact copies: case-folded, punctuation and runs of white space as one space."""
    return _NOT_TEXT_RE.sub(" ", text.casefold()).strip()


def content_words(text: str) -> list[str]:
    """Words of ``text`` that are not query stop words ("the", "of", "what"), lower-cased."""
    return [w for w in _WORD_RE.findall(text.casefold()) if w not in QUERY_STOPWORDS]


def has_sentence_shape(text: str, settings: ReadableSettings = READABLE) -> bool:
    """True when ``text`` ends like a sentence or has a verb's helper or a subject pronoun in it."""
    end = text.rstrip().rstrip(_TRAILING_CLOSERS).rstrip()
    if end and end[-1] in settings.sentence_ends:
        return True
    return any(w in settings.sentence_words for w in _WORD_RE.findall(text.casefold()))


def left_out(text: str, kind: str, label: str | None, headings: frozenset[str] | set[str], quoted: bool = False,
             settings: ReadableSettings = READABLE) -> str | None:
    """Why a segment is not shown as a search hit, or None when it is a passage worth reading.

    ``headings`` are the :func:`same_text_key` of its document's section titles; ``quoted`` says the run's
    alignment table quotes the segment (a recommendation row, or the passage that answers one).  The reasons:
    ``no content`` (no word with a letter beyond stop words: ".", "*", "The", "100."), ``contents line``
    (dot leaders, or a verbless title ending in its page number), ``heading`` (the text is one of its
    document's section titles) and ``fragment`` (at most ``fragment_max_words`` words with no sentence shape:
    a diagram label, a heading the extractor did not mark).  A passage the table quotes, and a recommendation
    or commitment that starts with its printed label, are never headings or fragments, however short.
    """
    if not any(_LETTER_RE.search(w) for w in content_words(text)):
        return "no content"
    shaped = has_sentence_shape(text, settings)
    if re.search(settings.dot_leader, text) or (not shaped and re.search(settings.page_number_end, text.rstrip())):
        return "contents line"
    if quoted or (kind in settings.labelled_kinds and label
                  and same_text_key(text).startswith(same_text_key(label) + " ")):
        return None
    if same_text_key(text) in headings:
        return "heading"
    if not shaped and len(text.split()) <= settings.fragment_max_words:
        return "fragment"
    return None


def is_empty_query(query: str) -> bool:
    """True when a query has nothing to search for: empty, or only spaces, punctuation and stop words."""
    return not content_words(query or "")


EXAMPLE_QUERY = "financial support for kinship carers"
EMPTY_QUERY_LEAD = "the query is empty; type what you are looking for, e.g."
# The library's and the web API's words; the CLI gives the example as a command (cli.search).
EMPTY_QUERY = f'{EMPTY_QUERY_LEAD} "{EXAMPLE_QUERY}"'

# -------------------------------------------------------------- what the tags on a hit mean

# A kind as a reader says it: "commitment" alone does not say whose.
KIND_WORDS = {
    "recommendation": "recommendation",
    "commitment": "government commitment",
    "response": "government response",
    "commentary": "commentary",
    "other": "other text",
}
KIND_MEANINGS = {
    "recommendation": "an ask of the review, inquiry or committee (or a quote of one)",
    "commitment": "the government commits to act: accepts, pilots, funds, has acted",
    "response": "the government answers without committing: notes, defers, declines",
    "commentary": "findings, conclusions; reactions of MPs, stakeholders, charities",
    "other": "narrative, background, statistics, quoted evidence, boilerplate",
}
# The same words serve a government passage's stance (its own wording) and an alignment's status.
STATUS_MEANINGS = {
    "accepted": "commits to do substantially what was recommended",
    "partial": "commits to part of it, a smaller scale, a pilot, or another route",
    "deferred": "will consider, explore, consult or review first; no commitment yet",
    "rejected": "explicitly declines (\"does not intend\", \"does not agree\")",
    "gap": "nothing in the run answers the recommendation (status only)",
    UNPAIRED: "no document among the inputs answers its report, so no answer could be looked for (status only)",
}


def describe_tags(kind: str, stance: str | None, status: str | None) -> str:
    """A hit's tags in words: ``recommendation · status: accepted``, ``government response · stance: deferred``."""
    parts = [KIND_WORDS.get(kind, kind)]
    if stance:
        parts.append(f"stance: {stance}")
    if status:
        parts.append(f"status: {status}")
    return " · ".join(parts)
