"""Assemble cleaned paragraphs into a :class:`~reviewnlp.records.Document`.

Backends feed paragraphs in reading order with their page; the builder owns
offsets, so the page map and section spans are exact by construction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..records import Document, Page, Section
from .clean import continues, first_date


@dataclass
class DocumentBuilder:
    """Accumulates paragraphs and headings; ``build()`` returns a Document."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    page_starts: list[tuple[int, int, bool]] = field(default_factory=list)  # (offset, page, ocr)
    headings: list[tuple[str, int, int]] = field(default_factory=list)  # (title, level, offset)
    last_para: str = ""
    last_page: int | None = None

    def add(self, para: str, page: int | None = None, heading: int | None = None, ocr: bool = False,
            join_split: bool = True) -> None:
        """Append one paragraph; ``heading`` gives its level when the paragraph is a heading.

        A paragraph that carries on a sentence left open by the previous one
        (split by a page break or a footnote block) is joined with a space.
        """
        para = para.strip()
        if not para:
            return
        joined = join_split and heading is None and self.parts and continues(self.last_para, para)
        sep = " " if joined else ("\n" if self.parts else "")
        self.parts.append(sep)
        self.length += len(sep)
        if page is not None and (self.last_page != page):
            self.page_starts.append((self.length, page, ocr))
            self.last_page = page
        if heading is not None:
            self.headings.append((para, heading, self.length))
        self.parts.append(para)
        self.length += len(para)
        self.last_para = para if not joined else self.last_para + " " + para

    def build(self, doc_id: str, path: str, extractor: str, title: str | None = None,
              meta: dict[str, Any] | None = None) -> Document:
        """Return the Document with its page map and section spans."""
        text = "".join(self.parts)
        pages = []
        for i, (start, number, ocr) in enumerate(self.page_starts):
            end = self.page_starts[i + 1][0] if i + 1 < len(self.page_starts) else len(text)
            pages.append(Page(number=number, start=start, end=end, ocr=ocr))
        sections = []
        for i, (head, level, start) in enumerate(self.headings):
            end = len(text)
            for h2, l2, s2 in self.headings[i + 1:]:
                if l2 <= level:
                    end = s2
                    break
            sections.append(Section(title=head, level=level, start=start, end=end))
        if not title:
            title = next((h for h, _, _ in self.headings), None) or text[:80].split("\n")[0]
        return Document(doc_id=doc_id, path=path, title=title.strip(), text=text, pages=tuple(pages),
                        sections=tuple(sections), date=first_date(text[:3000]), extractor=extractor,
                        meta=meta or {})
