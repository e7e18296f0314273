"""Plain-text and Markdown backend (also the tail of the HTML backend).

Handles the shapes found in converted briefings and scraped web pages:
Markdown headings and links, ``<sup>N</sup>`` footnote markers, footnote
blocks fenced by ``---`` lines, and common site boilerplate.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import ExtractionError
from ..records import Document
from .build import MARK_CLOSE, MARK_OPEN, DocumentBuilder

ENGINE = "reviewnlp-text-1"

MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*)$")
MD_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")
SUP_RE = re.compile(r"<sup>\s*(\d+)\s*</sup>")
FOOTNOTE_DEF_RE = re.compile(r"^\s*<sup>\s*(\d+)\s*</sup>\s*(.*)$")
TAG_RE = re.compile(r"</?(?:b|i|em|strong|u|span|br|sub)\b[^>]*>", re.I)
RULE_RE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
EMPHASIS_RE = re.compile(r"(\*\*|__)(.+?)\1")

# Lines that belong to a web site's chrome, not to the page's content.
BOILERPLATE_RE = re.compile(
    r"^(?:thank you for visiting\b.*|share on (?:social media|facebook|twitter|linkedin).*|news and blogs"
    r"|this website will be closed down\b.*|skip to (?:main )?content|cookies? (?:policy|settings).*"
    r"|subscribe to (?:our|the) newsletter.*|back to top|print this page|related (?:posts|articles))\s*$", re.I)
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

    for raw_line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw_line.strip()
        if COMMENTS_START_RE.match(clean_inline(line)):
            break
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
        if not cleaned or BOILERPLATE_RE.match(cleaned):
            flush()
            continue
        if re.match(r"^(?:[-*+•]|\d{1,3}[.)])\s+", line):
            flush()
            # Bullets become "• " as in PDFs, so list structure survives into the text.
            cleaned = re.sub(r"^[-*+•]\s+", "• ", cleaned)
        cur.append(cleaned)
    flush()
    return paras, footnotes


def build_from_paragraphs(paras: list[tuple[str, int | None]], footnotes: dict[str, str], path: Path,
                          doc_id: str, engine: str, meta: dict) -> Document:
    """Assemble parsed paragraphs into a Document (no page map: text has no pages)."""
    builder = DocumentBuilder()
    for text, level in paras:
        builder.add(text, page=None, heading=level)
    for num, note in footnotes.items():
        builder.add_footnote(num, note)
    doc = builder.build(doc_id, str(path), engine, meta=meta)
    if not doc.text.strip():
        raise ExtractionError(str(path), "empty", "no text after cleaning")
    return doc


def extract_text(path: Path, doc_id: str) -> Document:
    """Extract a .txt/.md file; raises :class:`ExtractionError` when it is empty or not text."""
    data = path.read_bytes()
    if not data.strip():
        raise ExtractionError(str(path), "empty", "zero-byte file" if not data else "only white space")
    if b"\x00" in data[:4096]:
        raise ExtractionError(str(path), "unsupported", "binary data in a text file")
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raw = data.decode("cp1252", errors="replace")
    paras, footnotes = parse_text(raw)
    return build_from_paragraphs(paras, footnotes, path, doc_id, ENGINE, {})
