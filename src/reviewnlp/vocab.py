"""The project's vocabulary, each item defined once: recommendation labels, the verdict table and content words.

Segmentation, the kind classifier and every alignment stage read labels and
verdicts through these functions, so "Recommendation 4a) i)" means the same
thing everywhere and a verdict's wording lives in one table.  Stance and voice
cue phrases are in :mod:`reviewnlp.cues`.  Pure functions over strings.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable, Sequence

# ------------------------------------------------------------- labels

REC_PREFIX = "Recommendation"
RESPONSE_LABEL = "Response"
# A distinctive outline label ("4a i", "12c"): a printed recommendation's number.
OUTLINE_LABEL_RE = re.compile(r"\d{1,3}[a-z](?: [ivx]{1,4})?")
# A chapter paragraph number ("8.3"): matched across documents only as a recommendation number.
PARAGRAPH_NUMBER_RE = re.compile(r"\d{1,2}\.\d{1,2}")


def canonical_label(raw: str) -> str:
    """Normalise a recommendation number: "4a) i)", "4(a)(i)", "4 a i" -> "4a i"; "8.3" stays."""
    m = re.match(r"^\s*(\d{1,3}(?:\.\d{1,2})?)\)?\s*\(?([a-z])?\)?\s*\(?([ivx]{1,4})?\)?\s*$", raw.strip(), re.I)
    if not m:
        return raw.strip()
    top, sub, roman = m.groups()
    out = top + (sub.lower() if sub else "")
    return f"{out} {roman.lower()}" if roman else out


def is_rec_label(label: str | None) -> bool:
    """True for a recommendation label: a boxed "Recommendation" or a numbered "Recommendation 7"."""
    return bool(label) and (label == REC_PREFIX or label.startswith(REC_PREFIX + " "))


def printed_number(label: str | None) -> str | None:
    """The number of a "Recommendation N" label, or None (outline and paragraph numbers do not count)."""
    return label[len(REC_PREFIX) + 1:] if label and label.startswith(REC_PREFIX + " ") else None


def is_outline_label(label: str | None) -> bool:
    """True for a distinctive outline label ("4a", "6a ii")."""
    return bool(label) and bool(OUTLINE_LABEL_RE.fullmatch(label))


def is_formal_label(label: str | None) -> bool:
    """A recommendation's own number: "Recommendation N" or a distinctive outline label."""
    return printed_number(label) is not None or is_outline_label(label)


def label_key(label: str | None) -> str | None:
    """The recommendation number a label names, comparable across documents.

    "Recommendation 4a i" and an outline label "4a i" give "4a i", and a
    chapter paragraph number ("8.3") gives itself; a bare paragraph number
    ("16") is too common to match on and gives None.
    """
    if not label:
        return None
    number = printed_number(label)
    if number is not None:
        return number
    return label if is_outline_label(label) or PARAGRAPH_NUMBER_RE.fullmatch(label) else None


def parent_key(key: str) -> str | None:
    """The number one level up ("6a i" -> "6a" -> "6"), or None at the top."""
    parent = re.sub(r"(?: [ivx]+|[a-z])$", "", key)
    return parent if parent != key else None


# A report's own voice making a recommendation ("We recommend", "The Inquiry therefore recommends").
EXPLICIT_RECOMMEND_RE = re.compile(
    r"\b(?:we|I|the (?:committee|inquiry|panel|review|report|ombudsman|commission))\s+(?:therefore\s+|also\s+|"
    r"further\s+|strongly\s+)?(?:recommends?|urges?|invites? the)\b", re.I)

# ------------------------------------------------------------- verdicts

# A printed verdict on the recommendation itself: "Recommendation accepted", "This recommendation is
# accepted in full by ...", "Accepted in principle", "Not accepted".  Only the verdict's own words count:
# "the government accepts that ..." is an opinion, not a verdict.
VERDICT_LINE_RE = re.compile(
    r"(?i)^\s*(?:(?:government\s+)?response\s*[:.–-]\s*)?"
    r"(?:(?:this|the|these|that)\s+recommendations?\s+(?:is|are|was|were|has been|have been)\s+"
    r"(?:(?:fully|partly|partially|not|already)\s+)?(?:accepted|rejected|agreed|noted|implemented|not accepted)\b(?!\s+or\b)"
    r"|recommendations?\s*(?:\d{1,3}[a-z]?\s*)?(?:is\s+)?(?:accepted|rejected|agreed|noted|not accepted)\b"
    r"|(?:recommendations?\s*)?\(?\d{1,3}(?!\d)[0-9a-z()\s,–-]{0,16}?\s(?:is|are)\s+(?:(?:fully|partly|partially|not)\s+)?"
    r"(?:accepted|rejected|agreed|noted)\b"
    r"|(?:accepted|agreed|rejected|not accepted|noted|supported|not supported|partially supported|not agreed"
    r"|partially agreed)(?:\s+in[\s-]+(?:full|part|principle))?\s*[.:]?\s*$"
    # Other Westminster-style governments print the verdict as a sentence: "The Australian Government
    # supports this recommendation", "The Government accepts in principle this recommendation".
    r"|(?:the\s+)?(?:(?:uk|australian|scottish|welsh|new zealand|canadian|irish|northern ireland)\s+)?government"
    r"\s+(?:accepts|rejects|does not accept|supports|does not support|agrees to|agrees with|notes|partially supports"
    r"|partially accepts)(?:\s+in[\s-]+principle)?\s+(?:this|the|these)\s+recommendations?)")

# The printed verdict's class, checked in this order ("not accepted" before "accepted").
IN_PRINCIPLE = r"in[ -]principle"
VERDICT_CLASSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("not", re.compile(r"(?i)\b(?:not accepted|rejects?|rejected|does not accept|not agreed|do not accept|declines?"
                       r"|not supported|does not support)\b")),
    ("part", re.compile(r"(?i)\b(?:in part|partly|partially)\b")),
    ("principle", re.compile(rf"(?i)\b{IN_PRINCIPLE}\b")),
    ("noted", re.compile(r"(?i)\bnote[sd]?\b")),
    ("full", re.compile(r"(?i)\b(?:accept(?:s|ed)?|agree(?:s|d)?|implemented|support(?:s|ed)?)\b")),
)
VERDICT_NAMES = ("full", "principle", "part", "not", "noted")


def is_verdict(text: str) -> bool:
    """True when ``text`` is a printed verdict on a recommendation ("This recommendation is accepted in full")."""
    return bool(VERDICT_LINE_RE.search(text))


def verdict_class(text: str | None) -> str | None:
    """The class of a printed verdict line: full, principle, part, not or noted (None without one)."""
    if not text:
        return None
    for name, rx in VERDICT_CLASSES:
        if rx.search(text):
            return name
    return None


# ------------------------------------------------------------- content words

STOPWORDS = frozenset("""
a about above after again all also an and any are as at be been before being below between both but by can could
did do does doing down during each few for from further had has have having he her here hers him his how i if in
into is it its itself just me more most my no nor not now of off on once only or other our out over own same she
should so some such than that the their them then there these they this those through to too under until up very
was we were what when where which while who whom why will with would you your government report review recommended
recommendation recommendations said says strategy new national including include includes
""".split())
# What the status features leave out of an ask's words: the stop words of the ask's own grammar.
ASK_STOPWORDS = frozenset("""a about after all also an and any are as at be been being both but by can could do does
each for from had has have how if in into is it its may more most must need needs no not of on or other ought our
should so some such than that the their them then there these they this those through to under up was we were what
when where which while who will with would government recommend recommends recommended recommendation
ensure""".split())
# What a search query leaves out: question words as well as grammar.
QUERY_STOPWORDS = frozenset("a an the of to in on for and or by with is are was were be been what which who did do "
                            "does about any anyone say said".split())


def content_words(text: str) -> list[str]:
    """Lower-cased content words of ``text`` (stop words and short tokens removed), in order."""
    return [w for w in re.findall(r"[a-z][a-z'’-]+|\d[\d,.]*", text.lower()) if w not in STOPWORDS and len(w) > 2]


def stems(text: str) -> set[str]:
    """Content words of an ask, crudely stemmed so "publishes" meets "publish"."""
    words = re.findall(r"[a-z][a-z'’-]+", text.lower())
    return {re.sub(r"(?:ing|ed|es|s)$", "", w) for w in words if w not in ASK_STOPWORDS and len(w) > 3}


def idf(word_lists: Sequence[Iterable[str]]) -> dict[str, float]:
    """Inverse document frequency, log(1 + n / df), of every word over ``word_lists`` (one list per passage)."""
    df = Counter(w for ws in word_lists for w in set(ws))
    n = max(1, len(word_lists))
    return {w: math.log(1 + n / c) for w, c in df.items()}


def idf_share(words: Iterable[str], other: set[str], weights: dict[str, float]) -> float:
    """IDF-weighted share of ``words`` (as a set) that ``other`` contains; 0 for no words."""
    ws = set(words)
    total = sum(weights.get(w, 1.0) for w in ws)
    return sum(weights.get(w, 1.0) for w in ws & other) / total if total else 0.0
