"""HTML backend: a saved web page becomes Markdown-like lines, then follows the text path.

Navigation, headers, footers, forms, scripts and comment sections are dropped
at the tag level; what is left goes through :func:`text.parse_text` so web
pages and scraped text share one set of boilerplate rules.
"""
from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser
from pathlib import Path

from ..errors import ExtractionError
from ..records import Document
from .text import build_from_paragraphs, decode_text, parse_text, published_date

ENGINE = "reviewnlp-html-1"
SKIP_TAGS = {"script", "style", "nav", "header", "footer", "aside", "form", "noscript", "svg", "button",
             "iframe", "template"}
BLOCK_TAGS = {"p", "div", "section", "article", "main", "br", "tr", "table", "blockquote", "dd", "dt",
              "figcaption", "pre", "ul", "ol"}
SKIP_CLASSES = ("comment", "share", "social", "cookie", "breadcrumb", "sidebar", "menu", "navbar",
                # GOV.UK's chrome: feedback prompt, related links, metadata block, skip link
                "gem-c-feedback", "gem-c-related-navigation", "gem-c-contextual-sidebar", "gem-c-metadata",
                "govuk-skip-link", "gem-c-print-link", "gem-c-single-page-notification-button")
# A doctype with an internal subset: <!DOCTYPE html [ <!ENTITY x "y"> ]>.  The parser stops the declaration at
# the first ">", so the rest of the subset ("]>") would read as page text.
DOCTYPE_RE = re.compile(r"""<!doctype\b[^\[>]*\[(?:[^\]"']|"[^"]*"|'[^']*')*\]\s*>""", re.I)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.cur: list[str] = []
        self.skip_depth = 0
        self.stack: list[tuple[str, bool]] = []
        self.title = ""
        self.in_title = False
        self.subset_unclosed = False

    def parse_html_declaration(self, i: int) -> int:
        """A doctype's internal subset is part of the declaration, never text (see DOCTYPE_RE)."""
        if not self.subset_unclosed and self.rawdata[i:i + 9].lower() == "<!doctype":
            j = self.rawdata.find(">", i)
            if j > 0 and "[" in self.rawdata[i:j]:
                m = DOCTYPE_RE.match(self.rawdata, i)
                if m:
                    return m.end()
                # No end to the subset: the parser's own reading, and no rescans of the page for it.
                self.subset_unclosed = True
        return super().parse_html_declaration(i)

    def _flush(self, prefix: str = "") -> None:
        text = " ".join("".join(self.cur).split())
        if text:
            self.lines.append(prefix + text)
            self.lines.append("")
        self.cur = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "img", "hr", "meta", "link", "input"}:
            if tag == "br":
                self.cur.append(" ")
            return
        cls = " ".join(v or "" for k, v in attrs if k in ("class", "id")).lower()
        skip = tag in SKIP_TAGS or any(c in cls for c in SKIP_CLASSES)
        self.stack.append((tag, skip))
        if skip:
            self.skip_depth += 1
        if tag == "title":
            self.in_title = True
        if not self.skip_depth and (tag in BLOCK_TAGS or tag == "li" or tag[:1] == "h" and tag[1:].isdigit()):
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        while self.stack:
            t, skip = self.stack.pop()
            if skip:
                self.skip_depth -= 1
            if not self.skip_depth:
                if t[:1] == "h" and t[1:].isdigit():
                    self._flush("#" * int(t[1:]) + " ")
                elif t == "li":
                    self._flush("- ")
                elif t in BLOCK_TAGS:
                    self._flush()
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif not self.skip_depth:
            self.cur.append(data)


def html_to_markdown(markup: str) -> tuple[str, str]:
    """Return (Markdown-like text, page title) for an HTML string."""
    c = _Collector()
    c.feed(markup)
    c.close()
    c._flush()
    return "\n".join(c.lines), html_lib.unescape(c.title).strip()


def extract_html(path: Path, doc_id: str) -> Document:
    """Extract a saved HTML page; raises :class:`ExtractionError` when nothing readable is left."""
    data = path.read_bytes()
    if not data.strip():
        raise ExtractionError(str(path), "empty", "zero-byte file" if not data else "only white space")
    markup = decode_text(data, path, binary_check=False)
    text, title = html_to_markdown(markup)
    paras, footnotes = parse_text(text)
    # The "Published" line sits in the metadata block dropped above; the page's date comes from it.
    date = published_date(re.sub(r"<[^>]+>", "\n", markup))
    return build_from_paragraphs(paras, footnotes, path, doc_id, ENGINE, {"html_title": title}, date=date)
