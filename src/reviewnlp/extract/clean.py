"""Pure text-cleaning rules shared by the extractors.

Everything here works on strings and lists of lines so it can be tested
without a PDF.  The extractors assemble a document from *paragraphs*; a
paragraph is one line of the cleaned document text.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import date

# List markers and numbered paragraphs ("8.6. We recommend ...") start a paragraph of their own.
BULLET_RE = re.compile(r"^\s*(?:[•●▪■◦‣∙·\-–—*]|\(?\d{1,3}(?:\.\d{1,3})*[a-z]?[.)]|\(?[a-z][.)]|\(?[ivxl]{1,5}\))\s+")
RECO_HEAD_RE = re.compile(r"^\s*(?:recommendation|response|conclusion)s?\b", re.I)
TERMINAL_RE = re.compile(r"[.!?:;\"”’)\]]\s*$")
PAGE_NUMBER_RE = re.compile(r"^\s*(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?\s*$", re.I)
WS_RE = re.compile(r"[ \t\u00a0\u2009\u202f]+")

MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
DATE_RE = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(January|February|March|April|May|June|July|August|September|"
    r"October|November|December)\s+((?:19|20)\d\d)\b")


# Characters XML 1.0 forbids (so openpyxl refuses them in a workbook): C0 controls but tab/LF/CR, lone
# surrogates, U+FFFE/U+FFFF.  Vertical tab, form feed and the separators act as white space in text files.
XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPACE_LIKE = frozenset("\x0b\x0c\x1c\x1d\x1e\x1f")


def strip_illegal(text: str) -> tuple[str, int]:
    """Remove XML-illegal characters (NUL, BEL, lone surrogates ...); return the text and how many went.

    Done once at extraction, so the document, its segments and every export
    (JSONL, CSV, XLSX, HTML) hold the same text.  Separator-like controls
    become a space so the words around them stay apart.
    """
    n = 0

    def fix(m: re.Match) -> str:
        nonlocal n
        n += 1
        return " " if m.group(0) in _SPACE_LIKE else ""

    return XML_ILLEGAL_RE.sub(fix, text), n


def normalise_line(line: str) -> str:
    """Collapse runs of spaces and strip control characters from one line."""
    line = line.replace("\r", "").replace("\x00", "").replace("\ufffe", "").replace("\x02", "")
    return WS_RE.sub(" ", line).strip()


def _furniture_key(line: str) -> str:
    # Digits vary from page to page in running headers ("4 Police response", "5 Police response").
    return re.sub(r"\d+", "#", line.lower()).strip()


def find_furniture(pages: list[list[str]], edge: int = 3, min_share: float = 0.3) -> set[str]:
    """Return keys of lines that repeat at the top or bottom of many pages (headers/footers).

    A line counts as furniture when its digit-normalised form sits within ``edge``
    lines of a page edge on at least ``min_share`` of the pages (and on 3+ pages).
    """
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    numbers: dict[str, list[int]] = {}  # key -> (number on the line - page index), per page it sits on
    for i, lines in enumerate(pages):
        edges = {_furniture_key(l): l for l in lines[:edge] + lines[-edge:] if l.strip()}
        counts.update(edges.keys())
        for k, l in edges.items():
            nums = re.findall(r"\d+", l)
            if len(nums) == 1:
                numbers.setdefault(k, []).append(int(nums[0]) - i)
    need = max(3, int(min_share * len(pages)))
    # Running headers change by chapter ("Recommendations 285", "286 Recommendations"), so a short
    # edge line carrying a page number counts on fewer pages -- when its number is the page's: it keeps
    # one offset from the page index.  A heading that happens to open or close pages ("Recommendation 4"
    # on page 15, "Recommendation 8" on page 16) numbers something else.
    paged = {k for k, c in counts.items() if c >= 3 and len(k) < 80 and re.match(r"^#\s+\S|.*\S\s+#$", k)
             and _tracks_pages(numbers.get(k, []))}
    return {k for k, c in counts.items() if c >= need and len(k) < 120} | paged


def _tracks_pages(offsets: list[int]) -> bool:
    """True when a line's numbers sit at one offset from the page index (a page number) on three pages or
    more, and on four in five of the pages it is on."""
    same = Counter(offsets).most_common(1)[0][1] if offsets else 0
    return same >= 3 and same >= 0.8 * len(offsets)


def strip_furniture(lines: list[str], furniture: set[str], edge: int = 3) -> list[str]:
    """Drop header/footer lines and bare page numbers near the edges of one page."""
    out = []
    n = len(lines)
    for i, line in enumerate(lines):
        near_edge = i < edge or i >= n - edge
        if near_edge and (_furniture_key(line) in furniture or PAGE_NUMBER_RE.match(line)):
            continue
        out.append(line)
    return out


# Browser print headers/footers: "20/06/2023, 14:32  Title", a bare URL, "1/12".
PRINT_FURNITURE_RE = re.compile(
    r"^(?:\d{1,2}/\d{1,2}/\d{2,4},?\s+\d{1,2}:\d{2}(?:\s?[ap]m)?\b.*|https?://\S+(?:\s+\d+/\d+)?|\d+\s?/\s?\d+)$", re.I)
# Hyphens after these stay when a word is rejoined across a line break ("co-\nworked" -> "co-worked").
KEEP_HYPHEN_PREFIXES = frozenset(
    "anti co counter cross ex inter long low high mid multi non post pre pro re self semi short sub well "
    "over under cost time decision evidence family place data place-based child".split())
MARK_CHARS_RE = re.compile("\ue000[^\ue001]*\ue001")


def is_print_furniture(line: str) -> bool:
    """True for a browser-print header/footer line (date and time, a bare URL, "page/of")."""
    return bool(PRINT_FURNITURE_RE.match(line.strip()))


def _plain(line: str) -> str:
    return MARK_CHARS_RE.sub("", line)


def _is_heading_like(line: str, width: int) -> bool:
    return (len(line) < 0.6 * width and not TERMINAL_RE.search(line) and len(line.split()) <= 12
            and line[:1].isupper())


def reflow(lines: list[str]) -> list[str]:
    """Join hard-wrapped lines of one page into paragraphs.

    A new paragraph starts at a blank line, a list marker, a "Recommendation"/
    "Response" lead, after a heading-like short line, or after a short line that
    ends a sentence.  Words hyphenated across a line break are rejoined.
    """
    width = max((len(_plain(l)) for l in lines), default=0) or 1
    paras: list[str] = []
    cur = ""
    prev = ""
    for raw in lines + [""]:
        line = normalise_line(raw)
        prev = _plain(prev)
        starts_new = (
            not line
            or not cur
            or BULLET_RE.match(line)
            or RECO_HEAD_RE.match(line)
            or _is_heading_like(prev, width) and line[:1].isupper()
            or (TERMINAL_RE.search(prev) and len(prev) < 0.7 * width and line[:1].isupper())
        )
        if starts_new:
            if cur:
                paras.append(cur)
            cur = line
        elif re.search(r"[A-Za-z]-$", cur) and line[:1].islower():
            stem = re.search(r"([A-Za-z]+)-$", cur).group(1).lower()
            # "recom-\nmendation" -> "recommendation", but "co-\nworked" keeps its hyphen.
            cur = cur + line if stem in KEEP_HYPHEN_PREFIXES else cur[:-1] + line
        else:
            cur = f"{cur} {line}"
        prev = line
    return [p for p in paras if p]


def continues(prev_para: str, next_para: str) -> bool:
    """True when ``next_para`` carries on the sentence ``prev_para`` left open (page/footnote split)."""
    prev_para, next_para = _plain(prev_para), _plain(next_para)
    if not prev_para or not next_para:
        return False
    if TERMINAL_RE.search(prev_para) or BULLET_RE.match(next_para):
        return False
    return next_para[:1].islower()


def first_date(text: str) -> str | None:
    """Return the first full date ("20 June 2023") in ``text`` as ISO, or None."""
    m = DATE_RE.search(text)
    if not m:
        return None
    try:
        return date(int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1))).isoformat()
    except ValueError:
        return None
