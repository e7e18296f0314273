"""Plain-text and Markdown backend (also the tail of the HTML backend).

Handles the shapes found in converted briefings and scraped web pages:
Markdown headings and links, ``<sup>N</sup>`` footnote markers, footnote
blocks fenced by ``---`` lines, and common site boilerplate.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from ..errors import ExtractionError
from ..records import Document
from .build import MARK_CLOSE, MARK_OPEN, DocumentBuilder
from .clean import first_date
from ..vocab import is_verdict

ENGINE = "reviewnlp-text-1"

MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*)$")
# [text](destination "title") leaves its text, whatever the URL scheme: a destination may hold balanced
# parentheses two deep, as "javascript:alert(1)" or a Wikipedia URL does, or be written <...>.
MD_LINK_RE = re.compile(r"!?\[([^\]]*)\]\(\s*(?:<[^<>\n]*>|(?:[^()\s]|\((?:[^()\s]|\([^()\s]*\))*\))*)"
                        r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)")
# Raw HTML in Markdown, as CommonMark reads it: comments, script and style blocks (content and all), and any
# opening or closing tag.  A renderer shows none of it but the text between tags; <sup> stays for footnotes.
HTML_ATTR = r"""\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?"""
HTML_TAG_RE = re.compile(rf"<(?!/?sup\b)/?([A-Za-z][A-Za-z0-9-]*)(?:{HTML_ATTR})*\s*/?>")
HTML_HIDDEN_START_RE = re.compile(r"<!--|<(script|style)\b", re.I)
HTML_HIDDEN_END = {None: re.compile(r"-->"), "script": re.compile(r"</script\s*>", re.I),
                   "style": re.compile(r"</style\s*>", re.I)}
# Tags inside a line of text: removed without a space ("<b>a</b>b" reads "ab"); any other tag separates words.
INLINE_TAGS = {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "del", "dfn", "em", "font", "i", "ins", "kbd",
               "mark", "q", "s", "samp", "small", "span", "strong", "sub", "time", "u", "var"}
SUP_RE = re.compile(r"<sup>\s*(\d+)\s*</sup>")
FOOTNOTE_DEF_RE = re.compile(r"^\s*<sup>\s*(\d+)\s*</sup>\s*(.*)$")
TAG_RE = re.compile(r"</?(?:b|i|em|strong|u|span|br|sub)\b[^>]*>", re.I)
RULE_RE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
EMPHASIS_RE = re.compile(r"(\*\*|__)(.+?)\1")

# Lines that belong to a web site's chrome, not to the page's content.
BOILERPLATE_RE = re.compile(
    r"^(?:thank you for visiting\b.*|share on (?:social media|facebook|twitter|linkedin).*|news and blogs"
    r"|this website will be closed down\b.*|skip to (?:main )?content|cookies? (?:policy|settings).*"
    r"|subscribe to (?:our|the) newsletter.*|back to top|print this page|related (?:posts|articles)"
    # GOV.UK page chrome: the feedback prompt and the metadata block ("From: <organisation>", "Published <date>").
    r"|is this page useful\??|report a problem with this page|(?:yes|no),? this page is (?:not )?useful"
    r"|maybe|thank you for your feedback|from:(?: [^.!?]{0,120})?|(?:first )?published:?(?: \d{1,2} \w+ \d{4})?"
    r"|last updated:?(?: \d{1,2} \w+ \d{4})?(?: - see all updates)?|(?:get|see) (?:all )?updates? (?:about|to) .{0,80})"
    r"\s*$", re.I)
# "Related content" opens GOV.UK's list of links to other pages; the list (and "Explore the topic") is chrome.
RELATED_START_RE = re.compile(r"^(?:#+\s*)?(?:related content|explore the topic)\s*$", re.I)
# A bare metadata label whose value is printed on the next line ("From:" / "Department for Education").
META_LABEL_RE = re.compile(r"^(?:from:|(?:first )?published:?|last updated:?)$", re.I)
PUBLISHED_RE = re.compile(r"^\s*(?:first )?published:?\s+(\d{1,2}\s+[A-Z][a-z]+\s+\d{4})\b", re.I | re.M)
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Once one of these starts a line, the rest of the page is comments or a comment form.
COMMENTS_START_RE = re.compile(
    r"^(?:(?:one|two|three|\d+) thoughts? on\b|leave a (?:reply|comment)\b|comments? can be added here"
    r"|fill in your details below\b|\d+ comments?\s*$)", re.I)


def clean_inline(line: str) -> str:
    """Drop Markdown links/emphasis and inline tags; footnote markers become inline sentinels."""
    line = SUP_RE.sub(lambda m: f"{MARK_OPEN}{m.group(1)}{MARK_CLOSE}", line)
    line = MD_LINK_RE.sub(r"\1", line)
    line = TAG_RE.sub("", line)
    line = EMPHASIS_RE.sub(r"\2", line)
    line = line.replace("\\(", "(").replace("\\)", ")").replace("\t", " ")
    return re.sub(r"[ \u00a0]+", " ", line).strip()


def parse_text(raw: str) -> tuple[list[tuple[str, int | None]], dict[str, str]]:
    """Split raw text into (paragraph, heading level or None) pairs and a footnote table.

    Footnote definitions are lifted out of the running text (kept by number);
    list items and blank-line-separated blocks become paragraphs.
    """
    paras: list[tuple[str, int | None]] = []
    footnotes: dict[str, str] = {}
    cur: list[str] = []

    def flush() -> None:
        if cur:
            text = " ".join(cur).strip()
            if text:
                paras.append((text, None))
            cur.clear()

    in_related = False
    label_pending = False
    for raw_line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw_line.strip()
        if COMMENTS_START_RE.match(clean_inline(line)):
            break
        if RELATED_START_RE.match(clean_inline(line)):
            flush()
            in_related = True
            continue
        if in_related:
            if not line or _is_link_line(line):
                continue
            in_related = False  # prose again: the link list is over
        if label_pending and line:
            label_pending = False
            if len(line.split()) <= 10 and not re.search(r"[.!?;]$", line):
                continue  # the label's value: an organisation or a date
        if META_LABEL_RE.match(clean_inline(line)):
            flush()
            label_pending = True
            continue
        fn = FOOTNOTE_DEF_RE.match(line)
        if fn:
            flush()
            footnotes[fn.group(1)] = clean_inline(fn.group(2))
            continue
        if not line or RULE_RE.match(line):
            flush()
            continue
        head = MD_HEADING_RE.match(line)
        if head:
            flush()
            title = clean_inline(head.group(2))
            if title:
                paras.append((title, len(head.group(1))))
            continue
        cleaned = clean_inline(line)
        if not cleaned or BOILERPLATE_RE.match(re.sub(r"^[-*+•]\s+", "", cleaned)):
            flush()
            continue
        if re.match(r"^(?:[-*+•]|\d{1,3}[a-z]?[.)])\s+", line) or _opens_paragraph(cleaned, cur):
            flush()
            # Bullets become "• " as in PDFs, so list structure survives into the text.
            cleaned = re.sub(r"^[-*+•]\s+", "• ", cleaned)
        cur.append(cleaned)
    flush()
    return paras, footnotes


# "Recommendation 11.2: ...", "Response:": a lead that opens a paragraph even in hard-wrapped text.
LEAD_LINE_RE = re.compile(r"^(?:recommendation\s+\d{1,3}(?:\.\d{1,2})?[a-z]?\b|(?:government\s+)?response\s*:)", re.I)


def _opens_paragraph(line: str, cur: list[str]) -> bool:
    """True when a hard-wrapped ``line`` starts a new paragraph though no blank line precedes it.

    A recommendation or response lead and a printed verdict ("The Government accepts this recommendation.")
    open one; so does a capitalised line after a list item's line that ended a sentence (an item's own
    continuation lines carry on in lower case).
    """
    if not cur:
        return False
    if LEAD_LINE_RE.match(line) or is_verdict(line):
        return True
    return cur[0].startswith("• ") and bool(re.search(r"[.;:]$", cur[-1])) and line[:1].isupper()


def _is_link_line(line: str) -> bool:
    """A line of a link list: a list item, a heading or a short title with no sentence ending."""
    text = clean_inline(re.sub(r"^(?:#+|[-*+•])\s+", "", line))
    return bool(re.match(r"^(?:#+|[-*+•])\s+", line)) and len(text.split()) <= 25 or (
        len(text.split()) <= 12 and not re.search(r"[.!?:;]$", text))


def strip_html(raw: str) -> str:
    """Markdown or text as a renderer shows it: raw HTML tags removed, the text between them kept.

    Comments and script/style blocks go with their content; an unclosed one stays as text, as in
    CommonMark.  A block tag becomes a space, so "a<br>b" stays two words.
    """
    out: list[str] = []
    pos = 0
    unclosed: set[str | None] = set()  # kinds with no closer after some point: never searched for again
    for m in HTML_HIDDEN_START_RE.finditer(raw):
        kind = m.group(1) and m.group(1).lower()
        if m.start() < pos or kind in unclosed:
            continue
        end = HTML_HIDDEN_END[kind].search(raw, m.end())
        if end is None:
            unclosed.add(kind)
            continue
        out.append(raw[pos:m.start()] + " ")
        pos = end.end()
    out.append(raw[pos:])
    return HTML_TAG_RE.sub(lambda t: "" if t.group(1).lower() in INLINE_TAGS else " ", "".join(out))


def published_date(raw: str) -> str | None:
    """The ISO date of a web page's "Published 15 December 2023" line, if it has one."""
    m = PUBLISHED_RE.search(raw)
    return first_date(m.group(1)) if m else None


def decode_text(data: bytes, path: Path, binary_check: bool = True) -> str:
    """Decode a text file: by its BOM (UTF-8, UTF-16, UTF-32), else UTF-8, else cp1252.

    Without a BOM, NUL bytes near the start mean binary data; later NULs are
    removed with the other illegal characters when the document is built.
    """
    for bom, codec in BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    if binary_check and b"\x00" in data[:4096]:
        raise ExtractionError(str(path), "unsupported", "binary data in a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def build_from_paragraphs(paras: list[tuple[str, int | None]], footnotes: dict[str, str], path: Path,
                          doc_id: str, engine: str, meta: dict, date: str | None = None) -> Document:
    """Assemble parsed paragraphs into a Document (no page map: text has no pages)."""
    builder = DocumentBuilder()
    for text, level in paras:
        builder.add(text, page=None, heading=level)
    for num, note in footnotes.items():
        builder.add_footnote(num, note)
    doc = builder.build(doc_id, str(path), engine, meta=meta, date=date)
    if not doc.text.strip():
        raise ExtractionError(str(path), "empty", "no text after cleaning")
    return doc


def extract_text(path: Path, doc_id: str) -> Document:
    """Extract a .txt/.md file; raises :class:`ExtractionError` when it is empty or not text."""
    data = path.read_bytes()
    if not data.strip():
        raise ExtractionError(str(path), "empty", "zero-byte file" if not data else "only white space")
    raw = decode_text(data, path)
    if not raw.strip():
        raise ExtractionError(str(path), "empty", "only white space")
    raw = strip_html(raw)
    paras, footnotes = parse_text(raw)
    return build_from_paragraphs(paras, footnotes, path, doc_id, ENGINE, {}, date=published_date(raw))
