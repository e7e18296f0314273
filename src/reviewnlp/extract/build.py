"""Assemble cleaned paragraphs into a :class:`~reviewnlp.records.Document`.

Backends feed paragraphs in reading order with their page; the builder owns
offsets, so the page map, section spans and footnote references are exact by
construction.  Footnote markers travel inside paragraph text as
``MARK_OPEN + number + MARK_CLOSE`` (private-use characters) and are removed
here, leaving their offset behind.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..records import Document, Footnote, Page, Section
from .clean import continues, first_date, strip_illegal

MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"
MARK_RE = re.compile(f"{MARK_OPEN}([^{MARK_CLOSE}]*){MARK_CLOSE}")
# "Final Report, May 2022, p191", "pp11-12", "pp9 and 99", "para 26", "paras 31-58"
CITED_PAGE_RE = re.compile(r"\b(pp?|paras?)\.?\s?(\d+(?:\s?(?:-|–|and|,)\s?\d+)*)")


def strip_markers(text: str) -> tuple[str, list[tuple[int, str]]]:
    """Remove inline footnote markers; return the clean text and (offset, number) for each."""
    out, refs, pos = [], [], 0
    length = 0
    for m in MARK_RE.finditer(text):
        chunk = text[pos:m.start()]
        out.append(chunk)
        length += len(chunk)
        for num in re.split(r"\s*,\s*", m.group(1).strip()):
            if num:
                refs.append((length, num))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out), refs


def cited_pages(note: str) -> tuple[str | None, str | None]:
    """Return (source, pages) a footnote cites, e.g. ("The Independent Review ..., Final Report", "191")."""
    m = None
    for m in CITED_PAGE_RE.finditer(note):
        pass
    if not m:
        return None, None
    source = note[:m.start()].rstrip(" ,;")
    source = re.sub(r",?\s*\d{0,2}\s*(?:January|February|March|April|May|June|July|August|September|October"
                    r"|November|December)?\s*\d{4}$", "", source).strip(" ,") or None
    kind = "para" if m.group(1).startswith("para") else "p"
    return source, f"{kind}{m.group(2)}"


NUMBERED_TITLE_RE = re.compile(r"\d{1,3}[.)]\s")
# Longest paragraph that may be a heading.  A longer one (a 200 KB "# ..." line) is running text: it is
# segmented as such and titles no section, nor the document.
HEADING_MAX_CHARS = 1_000


def _nest_numbered(headings: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Numbered headings ("1. Compensation") that follow an unnumbered one of the same level
    ("The Recommendations") are its children: set them one level deeper."""
    out: list[tuple[str, int, int]] = []
    parent: tuple[str, int] | None = None
    for title, level, start in headings:
        numbered = bool(NUMBERED_TITLE_RE.match(title))
        if parent and numbered and level == parent[1]:
            out.append((title, level + 1, start))
            continue
        if not numbered:
            parent = (title, level)
        elif parent and level < parent[1]:
            parent = None
        out.append((title, level, start))
    return out


@dataclass
class DocumentBuilder:
    """Accumulates paragraphs, headings and footnotes; ``build()`` returns a Document."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    page_starts: list[tuple[int, int, bool]] = field(default_factory=list)  # (offset, page, ocr)
    headings: list[tuple[str, int, int]] = field(default_factory=list)  # (title, level, offset)
    notes: list[tuple[str, str, int | None]] = field(default_factory=list)  # (number, text, page)
    refs: list[tuple[int, str, int | None]] = field(default_factory=list)  # (offset, number, page)
    last_para: str = ""
    last_page: int | None = None
    illegal_chars: int = 0  # XML-illegal characters removed; recorded in the document's meta

    def _clean(self, text: str) -> str:
        text, n = strip_illegal(text)
        self.illegal_chars += n
        return text

    def add_page(self, number: int, ocr: bool = False) -> None:
        """Start page ``number`` at the current offset (a page with no text keeps an empty span)."""
        if self.last_page != number:
            self.page_starts.append((self.length, number, ocr))
            self.last_page = number

    def add(self, para: str, page: int | None = None, heading: int | None = None, ocr: bool = False,
            join_split: bool = True) -> None:
        """Append one paragraph; ``heading`` gives its level when the paragraph is a heading.

        A paragraph that carries on a sentence left open by the previous one
        (split by a page break or a footnote block) is joined with a space.
        """
        para, markers = strip_markers(self._clean(para))
        lead = len(para) - len(para.lstrip())
        para = para.strip()
        if not para:
            return
        markers = [(max(0, min(len(para), off - lead)), num) for off, num in markers]
        if heading is not None and len(para) > HEADING_MAX_CHARS:
            heading, join_split = None, False  # set apart as a heading, so still a paragraph of its own
        if page is not None:
            self.add_page(page, ocr)
        joined = join_split and heading is None and self.parts and continues(self.last_para, para)
        sep = " " if joined else ("\n" if self.parts else "")
        self.parts.append(sep)
        self.length += len(sep)
        if heading is not None:
            self.headings.append((para, heading, self.length))
        for off, num in markers:
            self.refs.append((self.length + off, num, page))
        self.parts.append(para)
        self.length += len(para)
        self.last_para = para if not joined else self.last_para + " " + para

    def add_footnote(self, number: str, text: str, page: int | None = None) -> None:
        """Record footnote ``number`` (its text stays out of the running text)."""
        text, _ = strip_markers(self._clean(text))
        self.notes.append((self._clean(number), text.strip(), page))

    def _footnotes(self) -> tuple[Footnote, ...]:
        refs_by_note: dict[int, list[int]] = {}
        for off, num, page in self.refs:
            same = [i for i, (n, _, p) in enumerate(self.notes) if n == num]
            if not same:
                continue
            # Numbering can restart by chapter: prefer the note printed on the marker's own page.
            best = min(same, key=lambda i: (self.notes[i][2] != page, abs((self.notes[i][2] or 0) - (page or 0)), i))
            refs_by_note.setdefault(best, []).append(off)
        out = []
        for i, (num, text, page) in enumerate(self.notes):
            source, pages = cited_pages(text)
            out.append(Footnote(number=num, text=text, page=page, refs=tuple(sorted(refs_by_note.get(i, []))),
                                source=source, cited_pages=pages))
        return tuple(out)

    def build(self, doc_id: str, path: str, extractor: str, title: str | None = None,
              meta: dict[str, Any] | None = None, date: str | None = None) -> Document:
        """Return the Document with its page map, section spans and linked footnotes.

        ``date`` overrides the first date found in the opening text (a web page's "Published" line).
        XML-illegal characters are gone from every string; ``meta["illegal_chars_removed"]`` counts them.
        """
        text = "".join(self.parts)
        pages = []
        for i, (start, number, ocr) in enumerate(self.page_starts):
            end = self.page_starts[i + 1][0] if i + 1 < len(self.page_starts) else len(text)
            pages.append(Page(number=number, start=start, end=end, ocr=ocr))
        sections = []
        headings = _nest_numbered(self.headings)
        for i, (head, level, start) in enumerate(headings):
            end = len(text)
            for h2, l2, s2 in headings[i + 1:]:
                if l2 <= level:
                    end = s2
                    break
            sections.append(Section(title=head, level=level, start=start, end=end))
        if not title:
            title = next((h for h, _, _ in self.headings), None) or text[:80].split("\n")[0]
        title = self._clean(title)
        meta = dict(meta or {})
        if self.illegal_chars:
            meta["illegal_chars_removed"] = self.illegal_chars
        return Document(doc_id=doc_id, path=path, title=title.strip(), text=text, pages=tuple(pages),
                        sections=tuple(sections), footnotes=self._footnotes(), date=date or first_date(text[:3000]),
                        extractor=extractor, meta=meta)
